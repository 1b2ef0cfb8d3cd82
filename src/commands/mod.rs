//! One module per subcommand.

pub mod common;
mod dev;
mod init;
mod replay;
mod rotate_secret;
mod send_test;
mod status;
mod teardown;
mod template;
mod update_function;

use crate::cli::{Cli, Command};

pub use dev::DevArgs;
pub use init::InitArgs;
pub use replay::ReplayArgs;
pub use rotate_secret::RotateSecretArgs;
pub use send_test::SendTestArgs;
pub use status::StatusArgs;
pub use teardown::TeardownArgs;
pub use update_function::UpdateFunctionArgs;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Dev(args) => dev::run(args).await,
        Command::Init(args) => init::run(args).await,
        Command::Replay(args) => replay::run(args).await,
        Command::RotateSecret(args) => rotate_secret::run(args).await,
        Command::SendTest(args) => send_test::run(args).await,
        Command::Status(args) => status::run(args).await,
        Command::Teardown(args) => teardown::run(args).await,
        Command::Template(args) => template::run(&args),
        Command::UpdateFunction(args) => update_function::run(args).await,
    }
}
