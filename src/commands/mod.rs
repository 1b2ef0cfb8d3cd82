//! One module per subcommand.

pub mod common;
mod init;
mod status;
mod teardown;
mod template;

use crate::cli::{Cli, Command};

pub use init::InitArgs;
pub use status::StatusArgs;
pub use teardown::TeardownArgs;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Init(args) => init::run(args).await,
        Command::Status(args) => status::run(args).await,
        Command::Teardown(args) => teardown::run(args).await,
        Command::Template(args) => template::run(&args),
    }
}
