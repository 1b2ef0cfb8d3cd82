//! The ebhook stack: its template, the names of its parameters and outputs, the options that
//! become parameters, and reading a deployed stack back.
//!
//! `templates/ebhook.yaml` is deployed exactly as it is, and `ebhook template` prints it byte for
//! byte: the provider and every option are parameters, and CloudFormation evaluates its
//! conditions. ebhook only chooses the parameters' values.

mod deployed;
mod options;

pub use deployed::{Stack, StackError, describe, template_body};
pub use options::{
    DEFAULT_LOG_RETENTION_DAYS, DEFAULT_MEMORY_SIZE, OptionError, Settings, check_stack_name,
};

/// The stack's template, as `ebhook init` and `update-function` deploy it.
pub const TEMPLATE: &str = include_str!("../../templates/ebhook.yaml");
/// The artifacts bucket stack (one per account and region): parameter [`PARAM_COMPLIANCE`], one output
/// ([`ARTIFACTS_OUTPUT_BUCKET`]).
pub const ARTIFACTS_TEMPLATE: &str = include_str!("../../templates/artifacts.yaml");
/// The artifacts stack's output: the bucket's name.
pub const ARTIFACTS_OUTPUT_BUCKET: &str = "BucketName";

// Parameters of the ebhook stack.
/// A provider's name (`ebhook providers`); no default.
pub const PARAM_PROVIDER: &str = "Provider";
/// How a provider described at `init` signs (generic); empty (the default) for the others.
pub const PARAM_PROVIDER_SCHEME: &str = "ProviderScheme";
/// An existing bus to forward to; empty (the default) creates a bus named after the stack.
pub const PARAM_EVENT_BUS_NAME: &str = "EventBusName";
/// Concurrent executions reserved for the function; 0 (the default) reserves none.
pub const PARAM_RESERVED_CONCURRENCY: &str = "ReservedConcurrency";
/// `x86_64` (the default) or `arm64` ([`crate::cli::Arch::lambda_name`]).
pub const PARAM_ARCHITECTURE: &str = "Architecture";
/// Days to keep the function's logs; default 30.
pub const PARAM_LOG_RETENTION_DAYS: &str = "LogRetentionInDays";
/// The function's memory in MB; default 128.
pub const PARAM_MEMORY_SIZE: &str = "MemorySize";
/// `https://host[/prefix]` in front of the function URL, or empty (the default).
pub const PARAM_PUBLIC_BASE_URL: &str = "PublicBaseUrl";
/// `none` (the default) or `control-tower` ([`crate::cli::Compliance::parameter_value`]).
pub const PARAM_COMPLIANCE: &str = "Compliance";
/// With `control-tower`, an existing KMS key's ARN; empty (the default) creates a key.
pub const PARAM_KMS_KEY_ARN: &str = "KmsKeyArn";
/// Seconds to remember each delivery for dedupe (`--dedupe`); 0 (the default) turns it off.
pub const PARAM_DEDUPE_WINDOW: &str = "DedupeWindow";
/// The secret's JSON (`{"current": ...}`); NoEcho. Pass it on every create; on updates pass it
/// again or use the previous value, or its default (`{"current":""}`) replaces the secret.
pub const PARAM_SIGNING_SECRET: &str = "SigningSecret";
/// An existing SNS topic (ARN) the alarms notify, or empty (the default).
pub const PARAM_ALARM_TOPIC_ARN: &str = "AlarmTopicArn";
/// Addresses subscribed to the alarm topic the stack creates (`--alarm-email`), each empty by
/// default: CloudFormation cannot make one subscription per item of a list (not without the
/// AWS::LanguageExtensions transform), so there is a fixed number of them.
pub const PARAM_ALARM_EMAILS: [&str; MAX_ALARM_EMAILS] =
    ["AlarmEmail1", "AlarmEmail2", "AlarmEmail3"];
/// How many `--alarm-email` the template takes.
pub const MAX_ALARM_EMAILS: usize = 3;
/// The S3 bucket holding the handler's zip.
pub const PARAM_CODE_BUCKET: &str = "CodeS3Bucket";
/// The S3 key of the handler's zip.
pub const PARAM_CODE_KEY: &str = "CodeS3Key";

/// Every parameter of the template.
pub const PARAMETERS: [&str; 18] = [
    PARAM_PROVIDER,
    PARAM_PROVIDER_SCHEME,
    PARAM_EVENT_BUS_NAME,
    PARAM_RESERVED_CONCURRENCY,
    PARAM_ARCHITECTURE,
    PARAM_LOG_RETENTION_DAYS,
    PARAM_MEMORY_SIZE,
    PARAM_PUBLIC_BASE_URL,
    PARAM_COMPLIANCE,
    PARAM_KMS_KEY_ARN,
    PARAM_DEDUPE_WINDOW,
    PARAM_ALARM_TOPIC_ARN,
    PARAM_ALARM_EMAILS[0],
    PARAM_ALARM_EMAILS[1],
    PARAM_ALARM_EMAILS[2],
    PARAM_SIGNING_SECRET,
    PARAM_CODE_BUCKET,
    PARAM_CODE_KEY,
];

// Outputs of the ebhook stack.
pub const OUTPUT_WEBHOOK_URL: &str = "WebhookUrl";
pub const OUTPUT_EVENT_BUS_NAME: &str = "EventBusName";
pub const OUTPUT_EVENT_BUS_ARN: &str = "EventBusArn";
pub const OUTPUT_FUNCTION_NAME: &str = "FunctionName";
pub const OUTPUT_SECRET_ARN: &str = "SecretArn";
pub const OUTPUT_PROVIDER: &str = "Provider";
pub const OUTPUT_DEAD_LETTER_QUEUE_URL: &str = "DeadLetterQueueUrl";
pub const OUTPUT_PAYLOAD_BUCKET: &str = "PayloadBucketName";
/// The stack's alarms, comma-separated.
pub const OUTPUT_ALARM_NAMES: &str = "AlarmNames";
/// The stack's CloudWatch dashboard in the console.
pub const OUTPUT_DASHBOARD_URL: &str = "DashboardUrl";
/// The SNS topic the alarms notify; only when there is one.
pub const OUTPUT_ALARM_TOPIC_ARN: &str = "AlarmTopicArn";

/// The tag ebhook puts on its stacks, naming the provider.
pub const TAG_PROVIDER: &str = "ebhook:provider";

/// The [`PARAM_SIGNING_SECRET`] value meaning "no secret yet" (the handler rejects every
/// delivery until one is set); the parameter's default.
pub const UNSET_SIGNING_SECRET: &str = r#"{"current":""}"#;

/// The function is named `<stack name>` + this (its log group is named before it exists).
pub const FUNCTION_NAME_SUFFIX: &str = "-handler";
/// Lambda function names are at most 64 characters, so stack names at most this.
pub const MAX_STACK_NAME_LEN: usize = 64 - FUNCTION_NAME_SUFFIX.len();

#[cfg(test)]
mod tests;
