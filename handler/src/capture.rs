//! Where a verified delivery goes when it cannot go straight to the bus: an oversized body to
//! the payload bucket (with a pointer event on the bus), and a delivery EventBridge would not
//! take to the dead-letter queue, so nothing that was verified is lost.

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sqs::config::retry::RetryConfig;
use aws_sdk_sqs::config::timeout::TimeoutConfig;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::dead_letter::{MAX_MESSAGE_BYTES, Message, Record, record_message, spill_key};

/// One attempt and one retry, each short: the provider is waiting, and a forward budget has
/// usually been spent already when a record is written.
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);
const OPERATION_TIMEOUT: Duration = Duration::from_millis(2500);

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(
        "no payload bucket is configured (EBHOOK_PAYLOAD_BUCKET): redeploy the stack with `ebhook init` to add one"
    )]
    NoBucket,
    #[error(
        "no dead-letter queue is configured (EBHOOK_DEAD_LETTER_QUEUE_URL): redeploy the stack with `ebhook init` to add one"
    )]
    NoQueue,
    #[error("S3 PutObject to {bucket} failed: {message}")]
    Store { bucket: String, message: String },
    #[error("SQS SendMessage failed: {0}")]
    Send(String),
}

pub struct Capture {
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    bucket: Option<String>,
    bucket_owner: Option<String>,
    queue_url: Option<String>,
}

/// Lower-case hex SHA-256, and its base64 form for S3's integrity check.
pub fn sha256(bytes: &[u8]) -> (String, String) {
    let digest = Sha256::digest(bytes);
    (hex::encode(digest), B64.encode(digest))
}

impl Capture {
    pub fn new(config: &Config, sdk: &aws_config::SdkConfig) -> Self {
        let retry = RetryConfig::standard().with_max_attempts(2);
        let timeouts = TimeoutConfig::builder()
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .operation_timeout(OPERATION_TIMEOUT)
            .connect_timeout(Duration::from_secs(1))
            .build();
        let sqs = aws_sdk_sqs::config::Builder::from(sdk)
            .retry_config(retry.clone())
            .timeout_config(timeouts.clone())
            .build();
        // A body of up to 6 MB takes longer than a message: give S3 twice the time.
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            // A custom endpoint (a local emulator) serves buckets by path, not by subdomain.
            .force_path_style(sdk.endpoint_url().is_some())
            .retry_config(retry)
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT * 2)
                    .operation_timeout(OPERATION_TIMEOUT * 2)
                    .connect_timeout(Duration::from_secs(1))
                    .build(),
            )
            .build();
        Self {
            s3: aws_sdk_s3::Client::from_conf(s3),
            sqs: aws_sdk_sqs::Client::from_conf(sqs),
            bucket: config.payload_bucket.clone(),
            bucket_owner: config.payload_bucket_owner.clone(),
            queue_url: config.dead_letter_queue_url.clone(),
        }
    }

    pub fn bucket(&self) -> Option<&str> {
        self.bucket.as_deref()
    }

    pub fn has_queue(&self) -> bool {
        self.queue_url.is_some()
    }

    /// Store `body` as `key` in the payload bucket; S3 checks it against `sha256_base64`.
    pub async fn store(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: Option<&str>,
        sha256_base64: &str,
    ) -> Result<(), CaptureError> {
        let bucket = self.bucket.as_deref().ok_or(CaptureError::NoBucket)?;
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .set_expected_bucket_owner(self.bucket_owner.clone())
            .set_content_type(content_type.map(str::to_owned))
            .checksum_sha256(sha256_base64)
            .body(ByteStream::from(body))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CaptureError::Store {
                bucket: bucket.to_owned(),
                message: crate::forward::describe_sdk_error(&e),
            })
    }

    /// Keep `record` in the dead-letter queue: in the message itself when it fits, else in the
    /// payload bucket with the message pointing to it.
    pub async fn dead_letter(&self, record: Record) -> Result<(), CaptureError> {
        let queue_url = self.queue_url.as_deref().ok_or(CaptureError::NoQueue)?;
        let json = record.to_json();
        let mut message = record_message(&json);
        if message.len() > MAX_MESSAGE_BYTES {
            let bucket = self.bucket.clone().ok_or(CaptureError::NoBucket)?;
            let (hex, base64) = sha256(json.as_bytes());
            let key = spill_key(&record.provider, &record.received_at, &hex);
            let size = json.len();
            self.store(&key, json.into_bytes(), Some("application/json"), &base64)
                .await?;
            message = Message::Spilled { bucket, key, size }.to_json();
        }
        self.sqs
            .send_message()
            .queue_url(queue_url)
            .message_body(message)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CaptureError::Send(crate::forward::describe_sdk_error(&e)))
    }
}
