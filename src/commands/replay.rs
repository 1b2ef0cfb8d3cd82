//! `ebhook replay`: put the deliveries kept in the stack's dead-letter queue on the bus. Each
//! message is deleted only after EventBridge accepted every entry of it, so an interrupted run
//! loses nothing: what it did not finish becomes visible again after the visibility timeout and
//! the next run picks it up. A delivery may then reach the bus twice; consumers dedupe on
//! `detail.ebhook.deliveryId`.

use std::time::Duration;

use aws_sdk_sqs::types::{Message as SqsMessage, QueueAttributeName};
use clap::Args;
use ebhook_handler::dead_letter::{Message, Record, spill_key_sha256};
use ebhook_handler::forward::Attempts;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::aws::{Aws, AwsError, aws_error, s3_error};
use crate::commands::common::{AwsArgs, OutputFormat, no_such_stack};
use crate::error::Error;
use crate::stack;
use crate::ui::Ui;

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The stack `ebhook init` created.
    #[arg(long)]
    pub stack_name: String,
    /// How long a message being replayed stays hidden from other readers; a run that is
    /// interrupted leaves its messages to the next run after this long.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub visibility: Duration,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Where a stack keeps what its handler could not forward.
pub struct DeadLetters {
    pub queue_url: String,
    pub bus: String,
    /// The only bucket a spilled record may be read from.
    pub payload_bucket: Option<String>,
}

/// The stack's dead-letter queue, bus and payload bucket, from its outputs.
pub async fn dead_letters(aws: &Aws, stack_name: &str) -> Result<DeadLetters, Error> {
    let stack = stack::describe(aws, stack_name)
        .await?
        .ok_or_else(|| no_such_stack(aws, stack_name))?;
    let output = |k: &str| stack.outputs.get(k).cloned();
    let (Some(queue_url), Some(bus)) = (
        output(stack::OUTPUT_DEAD_LETTER_QUEUE_URL),
        output(stack::OUTPUT_EVENT_BUS_NAME),
    ) else {
        return Err(Error::NoDeadLetterQueue(stack_name.to_owned()));
    };
    Ok(DeadLetters {
        queue_url,
        bus,
        payload_bucket: output(stack::OUTPUT_PAYLOAD_BUCKET),
    })
}

/// Messages waiting, and messages being read by someone right now.
pub async fn queue_depth(aws: &Aws, queue_url: &str) -> Result<(u64, u64), AwsError> {
    let out = aws
        .sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .map_err(|e| aws_error("reading the dead-letter queue's size", &e))?;
    let count = |name: QueueAttributeName| {
        out.attributes()
            .and_then(|a| a.get(&name))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Ok((
        count(QueueAttributeName::ApproximateNumberOfMessages),
        count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    ))
}

#[derive(Debug, Default)]
struct Tally {
    deliveries: u64,
    events: u64,
    failed: u64,
    unreadable: u64,
    refused: u64,
    last_failure: Option<String>,
    last_refusal: Option<String>,
}

pub async fn run(args: ReplayArgs) -> Result<(), Error> {
    let ui = Ui::new(false);
    let aws = args.aws.connect().await?;
    let dl = dead_letters(&aws, &args.stack_name).await?;
    let (waiting, _) = queue_depth(&aws, &dl.queue_url).await?;
    // A generous budget: nobody is waiting on a reply, unlike in the handler.
    let forwarder =
        ebhook_handler::handler::forwarder(&aws.config, dl.bus.clone(), Duration::from_secs(20));
    let visibility = i32::try_from(args.visibility.as_secs().max(1)).unwrap_or(i32::MAX);

    let spinner = ui.spinner(format!(
        "Replaying about {waiting} deliveries onto {}",
        dl.bus
    ));
    let mut tally = Tally::default();
    loop {
        let received = aws
            .sqs
            .receive_message()
            .queue_url(&dl.queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(visibility)
            .wait_time_seconds(1)
            .send()
            .await
            .map_err(|e| aws_error("reading the dead-letter queue", &e))?;
        let messages = received.messages();
        if messages.is_empty() {
            break;
        }
        for message in messages {
            match replay_one(&aws, &forwarder, dl.payload_bucket.as_deref(), message).await {
                Ok((events, spilled)) => {
                    delete(&aws, &dl.queue_url, message, spilled.as_ref()).await?;
                    tally.deliveries += 1;
                    tally.events += events;
                }
                Err(Failure::Unreadable(why)) => {
                    tally.unreadable += 1;
                    spinner.println(format!(
                        "    skipped message {}: {why}",
                        message.message_id().unwrap_or("?")
                    ));
                }
                Err(Failure::Refused(why)) => {
                    tally.refused += 1;
                    spinner.println(format!(
                        "    refused message {}: {why}",
                        message.message_id().unwrap_or("?")
                    ));
                    tally.last_refusal = Some(why);
                }
                Err(Failure::Bus(why)) => {
                    tally.failed += 1;
                    tally.last_failure = Some(why);
                }
            }
            spinner.set_message(format!(
                "Replayed {} of about {waiting} deliveries ({} failed)",
                tally.deliveries, tally.failed
            ));
        }
    }
    let (left, in_flight) = queue_depth(&aws, &dl.queue_url).await?;
    spinner.finish(format!(
        "Replayed {} deliveries ({} events); {} failed, {} unreadable, {} refused; {} waiting, {} \
         in flight",
        tally.deliveries,
        tally.events,
        tally.failed,
        tally.unreadable,
        tally.refused,
        left,
        in_flight
    ));
    if args.output == OutputFormat::Json {
        println!(
            "{}",
            json!({
                "replayed": tally.deliveries,
                "events": tally.events,
                "failed": tally.failed,
                "unreadable": tally.unreadable,
                "refused": tally.refused,
                "waiting": left,
                "inFlight": in_flight,
            })
        );
    }
    if tally.failed > 0 {
        return Err(Error::ReplayIncomplete {
            failed: tally.failed,
            last: tally.last_failure.unwrap_or_default(),
        });
    }
    if tally.refused > 0 {
        return Err(Error::ReplayRefused {
            refused: tally.refused,
            last: tally.last_refusal.unwrap_or_default(),
        });
    }
    Ok(())
}

enum Failure {
    /// Not an ebhook record: left in the queue for a person to look at.
    Unreadable(String),
    /// It points somewhere ebhook never writes, or its content is not what its key names: not
    /// put on the bus, left in the queue for a person to look at.
    Refused(String),
    /// EventBridge did not take it (this time).
    Bus(String),
}

/// Where a spilled record is, to delete it with its message.
struct Spilled {
    bucket: String,
    key: String,
}

async fn replay_one(
    aws: &Aws,
    forwarder: &ebhook_handler::forward::Forwarder,
    payload_bucket: Option<&str>,
    message: &SqsMessage,
) -> Result<(u64, Option<Spilled>), Failure> {
    let text = message.body().unwrap_or_default();
    let (record, spilled) = match Message::parse(text) {
        Ok(Message::Record(record)) => (record, None),
        Ok(Message::Spilled { bucket, key, .. }) => {
            // Anyone who can send to the queue could name any object: only the stack's own
            // bucket, and only a key of the shape the handler writes, naming its hash.
            if payload_bucket != Some(bucket.as_str()) {
                return Err(Failure::Refused(format!(
                    "it points to s3://{bucket}/{key}, not to the stack's payload bucket"
                )));
            }
            let Some(sha256) = spill_key_sha256(&key) else {
                return Err(Failure::Refused(format!(
                    "s3://{bucket}/{key} is not a key the handler writes dead letters to"
                )));
            };
            let record = fetch_spilled(aws, &bucket, &key, sha256).await?;
            (record, Some(Spilled { bucket, key }))
        }
        Err(e) => return Err(Failure::Unreadable(e.to_string())),
    };
    let entries = record.entries();
    forwarder
        .put(&entries, &mut Attempts::default())
        .await
        .map_err(|u| Failure::Bus(u.error.to_string()))?;
    Ok((entries.len() as u64, spilled))
}

async fn fetch_spilled(
    aws: &Aws,
    bucket: &str,
    key: &str,
    sha256: &str,
) -> Result<Record, Failure> {
    let owner = aws
        .account_id()
        .await
        .map_err(|e| Failure::Bus(e.to_string()))?;
    let object = aws
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .expected_bucket_owner(&owner)
        .send()
        .await
        .map_err(|e| {
            Failure::Bus(s3_error(&format!("reading s3://{bucket}/{key}"), &e, &owner).to_string())
        })?;
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|e| Failure::Bus(format!("reading s3://{bucket}/{key}: {e}")))?
        .into_bytes();
    // The handler names the object by its record's hash: other bytes were put there by
    // someone else.
    if hex::encode(Sha256::digest(&bytes)) != sha256 {
        return Err(Failure::Refused(format!(
            "s3://{bucket}/{key} does not hold the record its key names (its SHA-256 differs)"
        )));
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::Unreadable(format!("s3://{bucket}/{key} is not UTF-8")))?;
    Record::parse(text).map_err(|e| Failure::Unreadable(format!("s3://{bucket}/{key}: {e}")))
}

async fn delete(
    aws: &Aws,
    queue_url: &str,
    message: &SqsMessage,
    spilled: Option<&Spilled>,
) -> Result<(), AwsError> {
    let handle = message.receipt_handle().ok_or_else(|| AwsError {
        action: "deleting a replayed message".to_owned(),
        detail: "SQS returned it without a receipt handle; run `ebhook replay` again".to_owned(),
    })?;
    aws.sqs
        .delete_message()
        .queue_url(queue_url)
        .receipt_handle(handle)
        .send()
        .await
        .map_err(|e| aws_error("deleting a replayed message", &e))?;
    // The record's copy in S3 goes after its message: a failure here leaves only an object
    // that the bucket's lifecycle rule expires.
    if let Some(s) = spilled {
        let owner = aws.account_id().await?;
        aws.s3
            .delete_object()
            .bucket(&s.bucket)
            .key(&s.key)
            .expected_bucket_owner(&owner)
            .send()
            .await
            .map_err(|e| s3_error("deleting a replayed record from S3", &e, &owner))?;
    }
    Ok(())
}
