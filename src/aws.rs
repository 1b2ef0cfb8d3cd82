//! AWS access: one place that loads the configuration (standard chain: environment, profiles,
//! SSO) and turns SDK errors into messages that say what to do.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::error::{Error, chain};

/// A failed AWS call: what was being done, then AWS's code and message and what to do about it.
#[derive(Debug, thiserror::Error)]
#[error("{action} failed: {detail}")]
pub struct AwsError {
    /// What ebhook was doing, e.g. "reading stack hooks".
    pub action: String,
    /// AWS's error code and message, and the next step.
    pub detail: String,
}

/// Clients for one account and region.
pub struct Aws {
    pub config: SdkConfig,
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub sts: aws_sdk_sts::Client,
    /// The caller's account, read once: every S3 call names it as the bucket's expected owner.
    account: std::sync::OnceLock<String>,
}

#[derive(Debug, Clone)]
pub struct Identity {
    pub account: String,
    pub arn: String,
}

impl Aws {
    pub async fn connect(region: Option<&str>, profile: Option<&str>) -> Result<Self, Error> {
        // The handler's HTTPS client, for AWS calls and the credential providers alike: one TLS
        // stack (rustls with ring) in the CLI as in the handler.
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(ebhook_handler::http_client());
        if let Some(profile) = profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = region {
            loader = loader.region(Region::new(region.to_owned()));
        }
        let config = loader.load().await;
        if config.region().is_none() {
            return Err(Error::NoRegion);
        }
        // A custom endpoint (LocalStack, moto) serves buckets by path, not by subdomain.
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(config.endpoint_url().is_some())
            .build();
        Ok(Self {
            cloudformation: aws_sdk_cloudformation::Client::new(&config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            sqs: aws_sdk_sqs::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            secrets: aws_sdk_secretsmanager::Client::new(&config),
            sts: aws_sdk_sts::Client::new(&config),
            account: std::sync::OnceLock::new(),
            config,
        })
    }

    pub fn region(&self) -> String {
        self.config
            .region()
            .map(ToString::to_string)
            .unwrap_or_default()
    }

    /// Who we are; the first call, so a missing or expired credential is reported plainly.
    pub async fn identity(&self) -> Result<Identity, AwsError> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| aws_error("checking your AWS credentials", &e))?;
        let account = out.account().unwrap_or_default().to_owned();
        if !account.is_empty() {
            let _ = self.account.set(account.clone());
        }
        Ok(Identity {
            account,
            arn: out.arn().unwrap_or_default().to_owned(),
        })
    }

    /// The account every bucket ebhook touches must belong to, for S3's `ExpectedBucketOwner`:
    /// a bucket of the same name in another account is then refused by S3 instead of being
    /// written to or read from.
    pub async fn account_id(&self) -> Result<String, AwsError> {
        if let Some(account) = self.account.get() {
            return Ok(account.clone());
        }
        let account = self.identity().await?.account;
        if account.is_empty() {
            return Err(AwsError {
                action: "checking your AWS credentials".to_owned(),
                detail: "STS named no account for them; check AWS_PROFILE or `aws configure`"
                    .to_owned(),
            });
        }
        Ok(account)
    }
}

/// An SDK error as one line that names the action, AWS's code and message, and a next step
/// where there is an obvious one.
pub fn aws_error<E>(action: &str, error: &SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = match error {
        SdkError::ServiceError(s) => {
            // Some errors (HEAD requests, bare 403s) carry no code: the status says what happened.
            let status = s.raw().status().as_u16();
            let fallback = format!("HTTP {status}");
            let code = s.err().code().unwrap_or(&fallback);
            let message = s.err().message().unwrap_or("no message");
            let hint = match code {
                "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
                    " (your AWS session has expired: run `aws sso login` or refresh your credentials)"
                }
                "InvalidClientTokenId"
                | "UnrecognizedClientException"
                | "SignatureDoesNotMatch" => {
                    " (the AWS credentials are not valid: check AWS_PROFILE or `aws configure`)"
                }
                "AccessDenied" | "AccessDeniedException" | "HTTP 403" => {
                    " (your AWS identity lacks a permission this needs)"
                }
                _ => "; fix what AWS reports, then run the command again",
            };
            format!("{code}: {message}{hint}")
        }
        SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => {
            "could not reach AWS (network error); check your connection or AWS_ENDPOINT_URL".into()
        }
        SdkError::TimeoutError(_) => "AWS did not answer in time; try again".into(),
        other => {
            let text = chain(other);
            if text.contains("credentials") {
                "no AWS credentials were found: run `aws configure` or `aws sso login`, or set AWS_PROFILE".into()
            } else {
                format!("{text}; check your network and AWS configuration, then try again")
            }
        }
    };
    AwsError {
        action: action.to_owned(),
        detail,
    }
}

/// Whether an error is CloudFormation's "stack does not exist".
pub fn is_missing_stack<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    matches!(error, SdkError::ServiceError(s)
        if s.err().message().is_some_and(|m| m.contains("does not exist")))
}

/// [`aws_error`] for an S3 call that names the bucket's expected owner: S3 answers 403 (with no
/// message to a HEAD) when the bucket is another account's, so say that too.
pub fn s3_error<E>(action: &str, error: &SdkError<E, HttpResponse>, owner: &str) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let mut e = aws_error(action, error);
    if error
        .raw_response()
        .is_some_and(|r| r.status().as_u16() == 403)
    {
        e.detail = format!(
            "{}, or the bucket is not in account {owner} (S3 then refuses every request that \
             expects it there): check that the bucket is yours",
            e.detail
        );
    }
    e
}
