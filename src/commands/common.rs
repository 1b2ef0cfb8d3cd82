//! Arguments and helpers shared by the subcommands.

use clap::{Args, ValueEnum};

/// Which AWS account and region to work in; the standard chain (environment, profiles, SSO)
/// supplies the rest.
#[derive(Clone, Debug, Default, Args)]
pub struct AwsArgs {
    /// AWS region (default: from AWS_REGION or your profile).
    #[arg(long)]
    pub region: Option<String>,
    /// AWS profile from your AWS config (default: AWS_PROFILE or `default`).
    #[arg(long)]
    pub profile: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people.
    #[default]
    Text,
    /// One JSON object on stdout, for scripts.
    Json,
}

impl AwsArgs {
    pub async fn connect(&self) -> anyhow::Result<crate::aws::Aws> {
        crate::aws::Aws::connect(self.region.as_deref(), self.profile.as_deref()).await
    }
}
