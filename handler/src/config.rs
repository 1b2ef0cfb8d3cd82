//! The handler's configuration, read from environment variables (the Lambda configuration the
//! stack sets). Parsed from any key/value source so it is tested without touching the process
//! environment. See the README's "Handler configuration" table.

use std::collections::HashMap;
use std::time::Duration;

use crate::event::{DEFAULT_MAX_ENTRY_BYTES, EventSettings};
use crate::providers::{Provider, UnknownProvider};
use crate::secrets::{SecretFormatError, SecretSet};
use crate::verify::VerifyOptions;

/// A function URL accepts at most 6 MB of request; nothing larger can arrive.
pub const DEFAULT_MAX_BODY_BYTES: usize = 6 * 1024 * 1024;

/// Where the signing secrets come from.
#[derive(Clone, Debug)]
pub enum SecretSource {
    /// AWS Secrets Manager: the function is given only the ARN (the deployed form).
    SecretsManager { arn: String },
    /// `EBHOOK_SECRET`, for local runs and tests only: it puts the secret in plain configuration.
    Inline(SecretSet),
    /// Nothing configured: every request is rejected (fail closed).
    Missing,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub provider: Provider,
    pub event_bus: Option<String>,
    pub secret: SecretSource,
    pub events: EventSettings,
    pub verify: VerifyOptions,
    /// Replaces `https://<host>` when rebuilding the URL Twilio signed (custom domains).
    pub public_base_url: Option<String>,
    pub max_body_bytes: usize,
    pub secret_refresh: Duration,
    pub secret_retry_after_failure: Duration,
    pub forward_budget: Duration,
    /// The SQS queue that keeps deliveries EventBridge would not take (`ebhook replay`).
    pub dead_letter_queue_url: Option<String>,
    /// The S3 bucket for bodies too large for one PutEvents entry, and for dead-letter records
    /// too large for one SQS message.
    pub payload_bucket: Option<String>,
    /// The account the payload bucket must belong to (S3's `ExpectedBucketOwner`), so that a
    /// bucket of that name in another account is never written to.
    pub payload_bucket_owner: Option<String>,
    /// The DynamoDB table that puts each delivery on the bus once (`dedupe`), and how long a
    /// delivery is remembered; `None` when the stack has no dedupe.
    pub dedupe: Option<(String, Duration)>,
    /// The stack the function belongs to: the `Stack` dimension of its metrics.
    pub stack: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} is not set: set it to a provider's name (`ebhook providers` lists them)")]
    MissingProvider(&'static str),
    /// The provider's own description (the generic provider's scheme) is missing or wrong.
    #[error("{0}")]
    Described(String),
    #[error("{var}: {source}")]
    UnknownProvider {
        var: &'static str,
        source: UnknownProvider,
    },
    #[error("{var}={value:?} is not valid: {expected}")]
    Invalid {
        var: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("EBHOOK_SECRET is not valid: {0}")]
    Secret(#[from] SecretFormatError),
}

pub const PROVIDER: &str = "EBHOOK_PROVIDER";
pub const EVENT_BUS: &str = "EBHOOK_EVENT_BUS";
pub const SECRET_ARN: &str = "EBHOOK_SECRET_ARN";
pub const SECRET: &str = "EBHOOK_SECRET";
pub const SOURCE: &str = "EBHOOK_SOURCE";
pub const DETAIL_TYPE: &str = "EBHOOK_DETAIL_TYPE";
pub const TOLERANCE: &str = "EBHOOK_TIMESTAMP_TOLERANCE_SECONDS";
/// Accept the secret a provider publishes for its own test sends (Zendesk's webhook builder).
pub const ACCEPT_TEST_SECRET: &str = "EBHOOK_ACCEPT_TEST_SECRET";
pub const PUBLIC_BASE_URL: &str = "EBHOOK_PUBLIC_BASE_URL";
/// How the provider signs, for a provider described at `init` (generic); empty for the others.
pub const PROVIDER_SCHEME: &str = "EBHOOK_PROVIDER_SCHEME";
pub const MAX_BODY: &str = "EBHOOK_MAX_BODY_BYTES";
pub const MAX_ENTRY: &str = "EBHOOK_MAX_ENTRY_BYTES";
pub const SECRET_REFRESH: &str = "EBHOOK_SECRET_REFRESH_SECONDS";
pub const SECRET_RETRY: &str = "EBHOOK_SECRET_MIN_REFETCH_SECONDS";
pub const FORWARD_BUDGET: &str = "EBHOOK_FORWARD_BUDGET_MS";
pub const DEAD_LETTER_QUEUE_URL: &str = "EBHOOK_DEAD_LETTER_QUEUE_URL";
pub const PAYLOAD_BUCKET: &str = "EBHOOK_PAYLOAD_BUCKET";
pub const PAYLOAD_BUCKET_OWNER: &str = "EBHOOK_PAYLOAD_BUCKET_OWNER";
pub const DEDUPE_TABLE: &str = "EBHOOK_DEDUPE_TABLE";
pub const DEDUPE_WINDOW: &str = "EBHOOK_DEDUPE_WINDOW_SECONDS";
/// The CloudFormation stack's name, set by the template; the metrics' `Stack` dimension.
pub const STACK_NAME: &str = "EBHOOK_STACK_NAME";
/// Set by Lambda; names the stack when [`STACK_NAME`] is not set (a function deployed before
/// the template set it).
pub const FUNCTION_NAME: &str = "AWS_LAMBDA_FUNCTION_NAME";
/// The stack of a handler run outside Lambda (`ebhook dev`, tests).
pub const LOCAL_STACK: &str = "local";
/// How long a delivery is remembered when the window is not given: a day.
pub const DEFAULT_DEDUPE_WINDOW_SECONDS: u64 = 86_400;

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_map(&std::env::vars().collect())
    }

    pub fn from_map(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |k: &str| vars.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let invalid = |var: &'static str, expected: &'static str| ConfigError::Invalid {
            var,
            value: get(var).unwrap_or_default().to_owned(),
            expected,
        };
        let number = |var: &'static str, default: u64, expected: &'static str| match get(var) {
            None => Ok(default),
            Some(v) => v.parse::<u64>().map_err(|_| invalid(var, expected)),
        };

        let provider: Provider = get(PROVIDER)
            .ok_or(ConfigError::MissingProvider(PROVIDER))?
            .parse::<Provider>()
            .map_err(|source| ConfigError::UnknownProvider {
                var: PROVIDER,
                source,
            })?
            .configure(get(PROVIDER_SCHEME))
            .map_err(ConfigError::Described)?;

        let secret = match (get(SECRET_ARN), vars.get(SECRET)) {
            (Some(arn), _) => SecretSource::SecretsManager {
                arn: arn.to_owned(),
            },
            // The inline secret is used exactly as given: no trimming of a secret's bytes.
            (None, Some(value)) if !value.is_empty() => {
                SecretSource::Inline(SecretSet::parse(value)?)
            }
            _ => SecretSource::Missing,
        };

        let source = get(SOURCE).map_or_else(|| provider.default_source(), str::to_owned);
        if source.starts_with("aws.") || source.chars().count() > 256 {
            return Err(invalid(
                SOURCE,
                "at most 256 characters, not starting with `aws.`",
            ));
        }
        let detail_type = get(DETAIL_TYPE).map(str::to_owned);
        if detail_type
            .as_ref()
            .is_some_and(|d| d.chars().count() > 128)
        {
            return Err(invalid(DETAIL_TYPE, "at most 128 characters"));
        }

        let accept_test = match get(ACCEPT_TEST_SECRET)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("false" | "0" | "no") => false,
            Some("true" | "1" | "yes") => true,
            Some(_) => return Err(invalid(ACCEPT_TEST_SECRET, "true or false")),
        };

        let public_base_url = get(PUBLIC_BASE_URL).map(|u| u.trim_end_matches('/').to_owned());
        if public_base_url
            .as_ref()
            .is_some_and(|u| !(u.starts_with("https://") || u.starts_with("http://")))
        {
            return Err(invalid(
                PUBLIC_BASE_URL,
                "a URL such as https://hooks.example.com",
            ));
        }

        let tolerance = number(TOLERANCE, 300, "a number of seconds")?;
        let max_body = number(MAX_BODY, DEFAULT_MAX_BODY_BYTES as u64, "a number of bytes")?;
        let max_entry = number(
            MAX_ENTRY,
            DEFAULT_MAX_ENTRY_BYTES as u64,
            "a number of bytes",
        )?;
        let refresh = number(SECRET_REFRESH, 60, "a number of seconds")?;
        let retry = number(SECRET_RETRY, 5, "a number of seconds")?;
        let budget = number(FORWARD_BUDGET, 3000, "a number of milliseconds")?;
        if budget == 0 {
            return Err(invalid(FORWARD_BUDGET, "a positive number of milliseconds"));
        }

        let window = number(
            DEDUPE_WINDOW,
            DEFAULT_DEDUPE_WINDOW_SECONDS,
            "a number of seconds",
        )?;
        // A window of 0 turns dedupe off, as the stack's DedupeWindow parameter does.
        let dedupe = get(DEDUPE_TABLE)
            .filter(|_| window > 0)
            .map(|table| (table.to_owned(), Duration::from_secs(window)));

        Ok(Self {
            provider,
            event_bus: get(EVENT_BUS).map(str::to_owned),
            secret,
            events: EventSettings {
                source,
                detail_type,
                max_entry_bytes: usize::try_from(max_entry).unwrap_or(usize::MAX),
            },
            verify: VerifyOptions {
                tolerance: time::Duration::seconds(i64::try_from(tolerance).unwrap_or(i64::MAX)),
                accept_test_secret: accept_test,
            },
            public_base_url,
            max_body_bytes: usize::try_from(max_body).unwrap_or(usize::MAX),
            secret_refresh: Duration::from_secs(refresh),
            secret_retry_after_failure: Duration::from_secs(retry),
            forward_budget: Duration::from_millis(budget),
            dead_letter_queue_url: get(DEAD_LETTER_QUEUE_URL).map(str::to_owned),
            payload_bucket: get(PAYLOAD_BUCKET).map(str::to_owned),
            payload_bucket_owner: get(PAYLOAD_BUCKET_OWNER).map(str::to_owned),
            dedupe,
            stack: stack_name(get(STACK_NAME), get(FUNCTION_NAME)),
        })
    }
}

/// The stack's name: as the template sets it, else the function's name without the
/// `-handler` the template gives it, else [`LOCAL_STACK`].
fn stack_name(stack: Option<&str>, function: Option<&str>) -> String {
    stack
        .or_else(|| function.map(|f| f.strip_suffix("-handler").unwrap_or(f)))
        .filter(|s| !s.is_empty())
        .unwrap_or(LOCAL_STACK)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults() {
        let c = Config::from_map(&vars(&[
            (PROVIDER, "GitHub"),
            (SECRET_ARN, "arn:aws:secretsmanager:x"),
        ]))
        .unwrap();
        assert_eq!(c.provider.as_str(), "github");
        assert_eq!(c.events.source, "ebhook.github");
        assert_eq!(c.events.max_entry_bytes, 1_048_576);
        assert_eq!(c.max_body_bytes, 6 * 1024 * 1024);
        assert_eq!(c.verify.tolerance, time::Duration::minutes(5));
        assert!(!c.verify.accept_test_secret);
        assert_eq!(c.secret_refresh, Duration::from_secs(60));
        assert!(matches!(c.secret, SecretSource::SecretsManager { .. }));
        assert_eq!(c.dead_letter_queue_url, None);
        assert_eq!(c.payload_bucket, None);
        assert_eq!(c.payload_bucket_owner, None);
        assert_eq!(c.dedupe, None);
        let c = Config::from_map(&vars(&[
            (PROVIDER, "zendesk"),
            (
                DEAD_LETTER_QUEUE_URL,
                "https://sqs.us-east-1.amazonaws.com/1/q",
            ),
            (PAYLOAD_BUCKET, " b "),
            (PAYLOAD_BUCKET_OWNER, "123456789012"),
        ]))
        .unwrap();
        assert_eq!(
            c.dead_letter_queue_url.as_deref(),
            Some("https://sqs.us-east-1.amazonaws.com/1/q")
        );
        assert_eq!(c.payload_bucket.as_deref(), Some("b"));
        assert_eq!(c.payload_bucket_owner.as_deref(), Some("123456789012"));
    }

    #[test]
    fn dedupe_needs_a_table_and_a_window() {
        let with = |extra: &[(&str, &str)]| {
            let mut pairs = vec![(PROVIDER, "github")];
            pairs.extend_from_slice(extra);
            Config::from_map(&vars(&pairs)).map(|c| c.dedupe)
        };
        assert_eq!(
            with(&[(DEDUPE_TABLE, "t")]),
            Ok(Some(("t".into(), Duration::from_secs(86_400))))
        );
        assert_eq!(
            with(&[(DEDUPE_TABLE, "t"), (DEDUPE_WINDOW, "3600")]),
            Ok(Some(("t".into(), Duration::from_secs(3600))))
        );
        assert_eq!(with(&[(DEDUPE_TABLE, "t"), (DEDUPE_WINDOW, "0")]), Ok(None));
        assert_eq!(with(&[(DEDUPE_TABLE, ""), (DEDUPE_WINDOW, "60")]), Ok(None));
        let e = with(&[(DEDUPE_TABLE, "t"), (DEDUPE_WINDOW, "1d")]).unwrap_err();
        assert!(e.to_string().contains(DEDUPE_WINDOW), "{e}");
    }

    #[test]
    fn the_stack_is_named_by_the_template_else_by_the_function() {
        let stack = |pairs: &[(&str, &str)]| {
            let mut all = vec![(PROVIDER, "github")];
            all.extend_from_slice(pairs);
            Config::from_map(&vars(&all)).unwrap().stack
        };
        assert_eq!(stack(&[]), "local");
        assert_eq!(stack(&[(FUNCTION_NAME, "orders-handler")]), "orders");
        assert_eq!(stack(&[(FUNCTION_NAME, "my-function")]), "my-function");
        assert_eq!(
            stack(&[(STACK_NAME, " orders "), (FUNCTION_NAME, "x-handler")]),
            "orders"
        );
        assert_eq!(
            stack(&[(STACK_NAME, ""), (FUNCTION_NAME, "a-handler")]),
            "a"
        );
        // A function named only `-handler` leaves nothing to name the stack by.
        assert_eq!(stack(&[(FUNCTION_NAME, "-handler")]), "local");
    }

    #[test]
    fn missing_secret_is_fail_closed_not_an_error() {
        let c = Config::from_map(&vars(&[(PROVIDER, "twilio")])).unwrap();
        assert!(matches!(c.secret, SecretSource::Missing));
    }

    #[test]
    fn errors_name_the_variable_and_never_echo_the_secret() {
        assert_eq!(
            Config::from_map(&vars(&[])).unwrap_err(),
            ConfigError::MissingProvider(PROVIDER)
        );
        let e = Config::from_map(&vars(&[(PROVIDER, "mailchimp")])).unwrap_err();
        assert!(e.to_string().contains("EBHOOK_PROVIDER"), "{e}");
        let e =
            Config::from_map(&vars(&[(PROVIDER, "github"), (SOURCE, "aws.events")])).unwrap_err();
        assert!(e.to_string().contains("aws."), "{e}");
        let e = Config::from_map(&vars(&[(PROVIDER, "github"), (TOLERANCE, "5m")])).unwrap_err();
        assert!(e.to_string().contains(TOLERANCE), "{e}");
        let e = Config::from_map(&vars(&[
            (PROVIDER, "github"),
            (SECRET, "{\"curent\":\"hunter2\"}"),
        ]))
        .unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let e = Config::from_map(&vars(&[
            (PROVIDER, "zendesk"),
            (ACCEPT_TEST_SECRET, "maybe"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains(ACCEPT_TEST_SECRET), "{e}");
    }
}
