//! One module per subcommand, each reading top to bottom like the steps the README lists.

pub mod build;
pub mod common;
pub mod completions;
pub mod dev;
pub mod init;
pub mod logs;
pub mod providers;
pub mod replay;
pub mod rotate_secret;
pub mod send_test;
pub mod status;
pub mod teardown;
pub mod template;
pub mod update_function;

pub use build::BuildArgs;
pub use completions::{CompletionsArgs, ManArgs};
pub use dev::DevArgs;
pub use init::InitArgs;
pub use logs::LogsArgs;
pub use providers::ProvidersArgs;
pub use replay::ReplayArgs;
pub use rotate_secret::RotateSecretArgs;
pub use send_test::SendTestArgs;
pub use status::StatusArgs;
pub use teardown::TeardownArgs;
pub use update_function::UpdateFunctionArgs;
