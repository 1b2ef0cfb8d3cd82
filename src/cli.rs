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

impl Arch {
    /// The name CloudFormation and Lambda use.
    pub fn lambda_name(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::Arm64 => "arm64",
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
