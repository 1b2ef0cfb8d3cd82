//! The command line: clap's definitions of the commands and their arguments, nothing else.
//! Each subcommand's own arguments live with it in `commands/`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use ebhook_handler::Provider;

use crate::stack;

#[derive(Debug, Parser)]
#[command(
    name = "ebhook",
    version,
    about = "SaaS webhooks onto Amazon EventBridge, in one command"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the handler, deploy the stack, and print the URL and the provider's steps.
    Init(crate::commands::InitArgs),
    /// Switch to a new signing secret with zero downtime (the old one keeps working for --grace).
    RotateSecret(crate::commands::RotateSecretArgs),
    /// Rebuild the handler and deploy it through the stack (no drift); unchanged builds are no-ops.
    UpdateFunction(crate::commands::UpdateFunctionArgs),
    /// Put the deliveries kept in the dead-letter queue on the bus; safe to interrupt and rerun.
    Replay(crate::commands::ReplayArgs),
    /// Show what is deployed: provider, URL, bus, stack status, code hash, secret age.
    Status(crate::commands::StatusArgs),
    /// Show what happened to each delivery: one line each from the function's log group.
    Logs(crate::commands::LogsArgs),
    /// Delete the stack and its artifact, and confirm nothing of it is left.
    Teardown(crate::commands::TeardownArgs),
    /// Print the stack's CloudFormation template, exactly as ebhook deploys it.
    ///
    /// The template is the same for every provider and option: each is a parameter. Options are
    /// therefore optional here (--provider too); those given are checked as `init` checks them
    /// and printed on stderr as the parameter overrides to deploy with. stdout is the template
    /// only.
    Template(TemplateArgs),
    /// Run the handler locally as an HTTP server; print (or put) the events it would send.
    Dev(crate::commands::DevArgs),
    /// Send a correctly signed sample delivery to a stack's URL (or any URL) and show the answer.
    SendTest(crate::commands::SendTestArgs),
    /// List the providers ebhook verifies, with how each signs.
    Providers(crate::commands::ProvidersArgs),
    /// Build the handler and write its Lambda zip and checksum to a directory, without AWS.
    Build(crate::commands::BuildArgs),
    /// Print shell completions: `ebhook completions bash > ~/.local/share/bash-completion/completions/ebhook`.
    Completions(crate::commands::CompletionsArgs),
    /// Print the manual pages (roff): `ebhook man | man -l -`.
    Man(crate::commands::ManArgs),
}

impl Command {
    /// The environment variable `--secret-env` names, for the commands that take one.
    pub fn secret_env(&self) -> Option<&str> {
        let secret = match self {
            Self::Init(args) => &args.secret,
            Self::RotateSecret(args) => &args.secret,
            Self::Dev(args) => &args.secret,
            Self::SendTest(args) => &args.secret,
            _ => return None,
        };
        secret.secret_env.as_deref()
    }
}

/// A provider as `--provider` takes it: any name in the handler's list, each shown in `--help`
/// with how it signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProviderArg(pub Provider);

impl ValueEnum for ProviderArg {
    fn value_variants<'a>() -> &'a [Self] {
        static ALL: std::sync::LazyLock<Vec<ProviderArg>> =
            std::sync::LazyLock::new(|| Provider::all().map(ProviderArg).collect());
        &ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.0.as_str()).help(self.0.signing()))
    }
}

impl From<ProviderArg> for Provider {
    fn from(p: ProviderArg) -> Self {
        p.0
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Arch {
    #[default]
    #[value(name = "x86_64")]
    X86_64,
    Arm64,
}

/// Which controls the stack meets beyond its defaults (parameter Compliance).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Compliance {
    /// AWS Control Tower's controls that cost nothing.
    #[default]
    None,
    /// Also those that cost money or retention: a customer managed KMS key, logs kept at least
    /// 365 days, S3 server access logs and Object Lock (README, Compliance).
    ControlTower,
}

impl Compliance {
    /// The template's value.
    pub fn parameter_value(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ControlTower => "control-tower",
        }
    }
}

impl Arch {
    /// The name CloudFormation and Lambda use.
    pub fn lambda_name(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::Arm64 => "arm64",
        }
    }

    /// The Rust target Lambda's `provided.al2023` runs, for this architecture.
    pub fn rust_triple(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64-unknown-linux-gnu",
            Self::Arm64 => "aarch64-unknown-linux-gnu",
        }
    }
}

/// The stack's options: each becomes one of the template's parameters. Shared by `init` (which
/// deploys with them) and `template` (which shows them as parameter overrides).
#[derive(Clone, Debug, Default, Args)]
pub struct StackArgs {
    /// The webhook provider (parameter Provider).
    #[arg(long, value_enum)]
    pub provider: Option<ProviderArg>,
    /// Forward to this existing event bus (name) instead of creating one; teardown never deletes
    /// it (parameter EventBusName).
    #[arg(long)]
    pub event_bus: Option<String>,
    /// Lambda architecture (parameter Architecture).
    #[arg(long, value_enum, default_value_t = Arch::X86_64)]
    pub arch: Arch,
    /// Days to keep the function's logs (parameter LogRetentionInDays).
    #[arg(long, default_value_t = stack::DEFAULT_LOG_RETENTION_DAYS)]
    pub log_retention_days: u32,
    /// Reserve this many concurrent executions for the function (parameter ReservedConcurrency).
    #[arg(long)]
    pub reserved_concurrency: Option<u32>,
    /// The function's memory, in MB, 128 to 10240 (parameter MemorySize).
    #[arg(long, default_value_t = stack::DEFAULT_MEMORY_SIZE)]
    pub memory_size: u32,
    /// The base URL (https://host[/prefix]) the provider calls when the function URL is behind a
    /// custom domain; Twilio signs the URL it called (parameter PublicBaseUrl).
    #[arg(long)]
    pub public_base_url: Option<String>,
    /// Meet AWS Control Tower's controls that cost money or retention too (parameter
    /// Compliance): a customer managed KMS key, logs kept at least 365 days, S3 access logs.
    #[arg(long, value_enum, default_value_t = Compliance::None)]
    pub compliance: Compliance,
    /// With --compliance control-tower, this customer managed KMS key (ARN) instead of a new one
    /// (parameter KmsKeyArn).
    #[arg(long, value_name = "ARN")]
    pub kms_key: Option<String>,
    /// Put each delivery on the bus once: a provider's retry or redelivery of one already on
    /// the bus (or in the dead-letter queue) is answered as a success and not put again. Adds
    /// a DynamoDB table (parameter DedupeWindow).
    #[arg(long)]
    pub dedupe: bool,
    /// How long --dedupe remembers a delivery (1m to 365d, e.g. 24h, 3d); default 24h.
    #[arg(long, requires = "dedupe", value_parser = humantime::parse_duration)]
    pub dedupe_window: Option<std::time::Duration>,
    /// E-mail this address when an alarm goes off and when it clears; repeat for up to 3
    /// (parameters AlarmEmail1..3). The stack creates an encrypted SNS topic for them (its KMS
    /// key costs 1 USD a month), and SNS e-mails each address a link to confirm first.
    #[arg(long = "alarm-email", value_name = "ADDR")]
    pub alarm_email: Vec<String>,
    /// Notify this existing SNS topic (ARN) when an alarm goes off and when it clears, instead
    /// of e-mail addresses (parameter AlarmTopicArn).
    #[arg(long, value_name = "ARN")]
    pub alarm_topic: Option<String>,
    #[command(flatten)]
    pub scheme: SchemeArgs,
}

/// How a provider described at `init` (`--provider generic`) signs: an HMAC, a static token or
/// basic auth, and where the event name and delivery id are (parameter ProviderScheme).
#[derive(Clone, Debug, Default, Args)]
#[command(next_help_heading = "Describing a generic provider")]
pub struct SchemeArgs {
    /// The header carrying an HMAC signature (e.g. X-Signature).
    #[arg(long, conflicts_with_all = ["token_header", "basic_auth"])]
    pub signature_header: Option<String>,
    /// Text before the signature in that header (e.g. sha256=).
    #[arg(long, requires = "signature_header")]
    pub signature_prefix: Option<String>,
    /// The HMAC's hash: sha1, sha256 (default) or sha512.
    #[arg(long, requires = "signature_header")]
    pub signature_algorithm: Option<String>,
    /// How the signature is written: hex (default) or base64.
    #[arg(long, requires = "signature_header")]
    pub signature_encoding: Option<String>,
    /// What is signed: body (default), timestamp-body or id-timestamp-body.
    #[arg(long, requires = "signature_header")]
    pub signed: Option<String>,
    /// Put between the signed parts (e.g. `.`).
    #[arg(long, requires = "signature_header")]
    pub signed_delimiter: Option<String>,
    /// The header with the signed Unix timestamp, checked against the tolerance.
    #[arg(long, requires = "signature_header")]
    pub timestamp_header: Option<String>,
    /// The header with the signed message id.
    #[arg(long, requires = "signature_header")]
    pub id_header: Option<String>,
    /// The character between several signatures in the header (e.g. a space).
    #[arg(long, requires = "signature_header")]
    pub signature_separator: Option<String>,
    /// The header carrying a static token (the secret itself).
    #[arg(long, conflicts_with = "basic_auth")]
    pub token_header: Option<String>,
    /// HTTP basic auth; the secret is user:password.
    #[arg(long)]
    pub basic_auth: bool,
    /// Where the event name is: header:<Name> or json:<top-level field>.
    #[arg(long)]
    pub event_type: Option<String>,
    /// Where the delivery id (the dedupe key) is: header:<Name> or json:<top-level field>.
    #[arg(long)]
    pub delivery_id: Option<String>,
}

impl SchemeArgs {
    /// The description as the handler reads it (URL query pairs), or `None` when no option
    /// describes a scheme. The handler checks it ([`stack::Settings::described`]).
    pub fn description(&self) -> Option<String> {
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        if let Some(header) = &self.signature_header {
            pairs
                .append_pair("auth", "hmac")
                .append_pair("header", header);
            for (key, value) in [
                ("prefix", &self.signature_prefix),
                ("algorithm", &self.signature_algorithm),
                ("encoding", &self.signature_encoding),
                ("signed", &self.signed),
                ("delimiter", &self.signed_delimiter),
                ("timestamp-header", &self.timestamp_header),
                ("id-header", &self.id_header),
                ("separator", &self.signature_separator),
            ] {
                if let Some(value) = value {
                    pairs.append_pair(key, value);
                }
            }
        } else if let Some(header) = &self.token_header {
            pairs
                .append_pair("auth", "token")
                .append_pair("header", header);
        } else if self.basic_auth {
            pairs.append_pair("auth", "basic");
        } else if self.event_type.is_none() && self.delivery_id.is_none() {
            return None;
        }
        for (key, value) in [
            ("event", &self.event_type),
            ("delivery-id", &self.delivery_id),
        ] {
            if let Some(value) = value {
                pairs.append_pair(key, value);
            }
        }
        Some(pairs.finish())
    }
}

#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// Options given are checked and shown on stderr as the parameter overrides to deploy with.
    #[command(flatten)]
    pub stack: StackArgs,
    /// Print the artifacts bucket stack's template instead (it takes no options).
    #[arg(long, exclusive = true)]
    pub artifacts: bool,
}
