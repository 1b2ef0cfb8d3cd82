//! The CLI's one error type, built from the modules' own errors. Every message says what went
//! wrong and what to do next, and every error has an exit code a script can act on: 2 when the
//! command asked for something that cannot be done as asked (fix the command), 3 when AWS
//! reported a failure or a stack is not as ebhook left it, 1 for anything else.

use std::time::Duration;

use ebhook_handler::Provider;
use ebhook_handler::config::ConfigError;

use crate::aws::AwsError;
use crate::deploy::DeployError;
use crate::package::PackageError;
use crate::secret_input::SecretError;
use crate::stack::{OptionError, StackError};

/// Anything else: a local failure (I/O, a build, the network outside AWS) or a bug.
pub const EXIT_OTHER: u8 = 1;
/// A mistake in what was asked: fix the command.
pub const EXIT_USAGE: u8 = 2;
/// A failure reported by AWS.
pub const EXIT_AWS: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // What was asked cannot be done as asked (2).
    #[error(transparent)]
    Option(#[from] OptionError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("--provider is required when ebhook cannot ask: give zendesk, github or twilio")]
    MissingProvider,
    #[error("no stack named {name} in {region}; check --stack-name and --region")]
    NoSuchStack { name: String, region: String },
    #[error("stack {stack} serves {deployed}, not {asked}; choose another --stack-name")]
    ProviderMismatch {
        stack: String,
        deployed: String,
        asked: Provider,
    },
    #[error(
        "stack {0} was not made by ebhook (it has no Provider output or ebhook:provider tag); \
         not touching it: check --stack-name"
    )]
    NotEbhookStack(String),
    #[error(
        "stack {0} has no dead-letter queue (it was deployed by an older ebhook): run `ebhook \
         update-function --stack-name {0}` to bring it up to date"
    )]
    NoDeadLetterQueue(String),
    #[error(
        "no signing secret is set for stack {stack} yet, so every delivery is rejected; set one \
         with `ebhook rotate-secret --stack-name {stack}` (or `ebhook init --stack-name {stack} \
         --provider {provider} --secret-stdin`)"
    )]
    NoSecretSet { stack: String, provider: Provider },
    #[error(
        "no AWS region is configured: pass --region, set AWS_REGION, or set a region in your AWS \
         profile"
    )]
    NoRegion,
    #[error("{prompt} Not a terminal, so not asking: pass --yes to go ahead without a prompt.")]
    NotATerminal { prompt: String },
    #[error("cancelled; nothing was {0}")]
    Cancelled(&'static str),
    #[error("{url} is not a URL send-test can use: {reason}; give an http:// or https:// URL")]
    InvalidUrl { url: String, reason: String },
    #[error("the handler's configuration is not valid: {0}; fix the flag or the EBHOOK_ variable")]
    HandlerConfig(ConfigError),
    #[error("cannot listen on {address}: {source}; choose another --port or --bind")]
    Listen {
        address: String,
        source: std::io::Error,
    },

    // AWS reported a failure, or a stack is not as ebhook left it (3).
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Deploy(#[from] DeployError),
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error(
        "{failed} deliveries could not be put on the bus ({last}); they stay in the queue: run \
         `ebhook replay` again once the bus accepts events"
    )]
    ReplayIncomplete { failed: u64, last: String },
    #[error(
        "s3://{bucket}/{key} is not the handler this ebhook built (its SHA-256 differs from the \
         one its key names), so it was not deployed: delete that object (someone or something \
         else wrote it) and run the command again, or use an artifacts bucket only ebhook \
         writes to"
    )]
    ArtifactMismatch { bucket: String, key: String },
    #[error(
        "{refused} dead-letter messages were refused and not put on the bus ({last}); they stay \
         in the queue: look at them in the SQS console, and delete any you did not expect"
    )]
    ReplayRefused { refused: u64, last: String },
    #[error(
        "teardown finished but these remain: {}; delete them in the AWS console, or run \
         `ebhook teardown` again",
        .0.join(", ")
    )]
    LeftBehind(Vec<String>),

    // Anything else (1).
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error("{action} failed: {source}")]
    Io {
        action: String,
        source: std::io::Error,
    },
    #[error("the terminal prompt failed: {0}; pass the values as flags instead")]
    Prompt(#[from] dialoguer::Error),
    #[error("the OS random number generator failed: {0}; try again")]
    Random(getrandom::Error),
    #[error("sending to {url} failed: {reason}; check the URL and that the endpoint is up")]
    Send { url: String, reason: String },
    #[error("no answer from {url} within {after:?}; check that the endpoint is up")]
    Timeout { url: String, after: Duration },
    #[error(
        "the endpoint answered {status}, not 2xx: see its answer above (401 means the signing \
         secret does not match)"
    )]
    Refused { status: u16 },
    #[error(
        "interrupted: CloudFormation carries on with the change; run the same command again to \
         wait for it and continue"
    )]
    Interrupted,
    #[error("{0}: a bug in ebhook, please report it")]
    Bug(String),
}

impl Error {
    /// The process's exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Option(_)
            | Self::MissingProvider
            | Self::NoSuchStack { .. }
            | Self::ProviderMismatch { .. }
            | Self::NotEbhookStack(_)
            | Self::NoDeadLetterQueue(_)
            | Self::NoSecretSet { .. }
            | Self::NoRegion
            | Self::NotATerminal { .. }
            | Self::Cancelled(_)
            | Self::InvalidUrl { .. }
            | Self::HandlerConfig(_)
            | Self::Listen { .. } => EXIT_USAGE,
            Self::Secret(e) if e.is_usage() => EXIT_USAGE,
            Self::Package(e) if e.is_usage() => EXIT_USAGE,
            Self::Aws(_)
            | Self::Deploy(_)
            | Self::Stack(_)
            | Self::ReplayIncomplete { .. }
            | Self::ArtifactMismatch { .. }
            | Self::ReplayRefused { .. }
            | Self::LeftBehind(_) => EXIT_AWS,
            Self::Secret(_)
            | Self::Package(_)
            | Self::Io { .. }
            | Self::Prompt(_)
            | Self::Random(_)
            | Self::Send { .. }
            | Self::Timeout { .. }
            | Self::Refused { .. }
            | Self::Interrupted
            | Self::Bug(_) => EXIT_OTHER,
        }
    }

    /// An I/O failure while doing `action` ("writing the template to stdout").
    pub fn io(action: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            action: action.into(),
            source,
        }
    }
}

/// An error and its causes, as one line ("client error (Connect): connection refused").
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn io() -> std::io::Error {
        std::io::Error::other("disk on fire")
    }

    #[test]
    fn usage_errors_exit_2() {
        for error in [
            Error::Option(OptionError::MemorySize(64)),
            Error::Secret(SecretError::Empty),
            Error::Secret(SecretError::EnvNotSet("S".into())),
            Error::Secret(SecretError::NotGiven("--secret-env NAME")),
            Error::Secret(SecretError::Stdin(io())),
            Error::Secret(SecretError::NowhereToShow {
                stream: "standard output",
            }),
            Error::Secret(SecretError::OutExists(PathBuf::from("secret"))),
            Error::Secret(SecretError::RevealWithoutGenerate),
            Error::MissingProvider,
            Error::NoSuchStack {
                name: "s".into(),
                region: "us-east-1".into(),
            },
            Error::ProviderMismatch {
                stack: "s".into(),
                deployed: "github".into(),
                asked: "twilio".parse().unwrap(),
            },
            Error::NotEbhookStack("s".into()),
            Error::NoDeadLetterQueue("s".into()),
            Error::NoSecretSet {
                stack: "s".into(),
                provider: "zendesk".parse().unwrap(),
            },
            Error::NoRegion,
            Error::NotATerminal {
                prompt: "Apply?".into(),
            },
            Error::Cancelled("changed"),
            Error::InvalidUrl {
                url: "x".into(),
                reason: "no scheme".into(),
            },
            Error::HandlerConfig(ConfigError::MissingProvider("EBHOOK_PROVIDER")),
            Error::Listen {
                address: "127.0.0.1:80".into(),
                source: io(),
            },
            Error::Package(PackageError::ArchUnavailable("no target".into())),
            Error::Package(PackageError::NoBootstrap(PathBuf::from("no/such/file"))),
            Error::Package(PackageError::NoCacheDir),
        ] {
            assert_eq!(error.exit_code(), EXIT_USAGE, "{error}");
        }
    }

    #[test]
    fn aws_failures_exit_3() {
        for error in [
            Error::Aws(AwsError {
                action: "reading stack s".into(),
                detail: "Throttling: slow down".into(),
            }),
            Error::Deploy(DeployError::Rejected {
                stack: "s".into(),
                reason: "bad".into(),
            }),
            Error::Deploy(DeployError::CreateFailed {
                stack: "s".into(),
                cause: "Function: exists".into(),
            }),
            Error::Stack(StackError::MissingOutput {
                stack: "s".into(),
                output: "WebhookUrl".into(),
                status: "CREATE_COMPLETE".into(),
            }),
            Error::ReplayIncomplete {
                failed: 2,
                last: "ResourceNotFoundException".into(),
            },
            Error::LeftBehind(vec!["stack s".into()]),
            Error::ArtifactMismatch {
                bucket: "b".into(),
                key: "ebhook/handler-00.zip".into(),
            },
            Error::ReplayRefused {
                refused: 1,
                last: "another bucket".into(),
            },
        ] {
            assert_eq!(error.exit_code(), EXIT_AWS, "{error}");
        }
    }

    #[test]
    fn everything_else_exits_1() {
        for error in [
            Error::Package(PackageError::BuildFailed("error[E0308]".into())),
            Error::Package(PackageError::GlibcTooNew {
                needed: crate::package::GlibcVersion(2, 38),
            }),
            Error::Secret(SecretError::Random(getrandom::Error::UNSUPPORTED)),
            Error::Secret(SecretError::OutWrite {
                path: PathBuf::from("no/such/dir/secret"),
                source: io(),
            }),
            Error::io("writing the template to stdout", io()),
            Error::Send {
                url: "http://127.0.0.1:1/".into(),
                reason: "connection refused".into(),
            },
            Error::Timeout {
                url: "http://127.0.0.1:1/".into(),
                after: Duration::from_secs(30),
            },
            Error::Refused { status: 401 },
            Error::Interrupted,
            Error::Bug("the time could not be formatted".into()),
        ] {
            assert_eq!(error.exit_code(), EXIT_OTHER, "{error}");
        }
    }

    #[test]
    fn messages_say_what_to_do_next() {
        let shown = [
            Error::MissingProvider.to_string(),
            Error::NoRegion.to_string(),
            Error::Interrupted.to_string(),
            Error::Bug("x".into()).to_string(),
            Error::Refused { status: 401 }.to_string(),
            SecretError::NowhereToShow {
                stream: "standard output",
            }
            .to_string(),
            SecretError::OutExists(PathBuf::from("secret")).to_string(),
            SecretError::OutWrite {
                path: PathBuf::from("secret"),
                source: io(),
            }
            .to_string(),
            SecretError::RevealWithoutGenerate.to_string(),
        ];
        for message in shown {
            assert!(
                [
                    "give", "pass", "run", "report", "see", "choose", "check", "set", "fix", "try"
                ]
                .iter()
                .any(|verb| message.contains(verb)),
                "{message}"
            );
        }
    }
}
