//! `ebhook`: SaaS webhooks onto Amazon EventBridge in one command.
//!
//! Parse the command line, run the subcommand, and map its error to the exit code:
//! 2 for a usage error, 3 for a failure AWS reported, 1 for anything else.

mod artifacts;
mod aws;
mod child;
mod cli;
mod commands;
mod delivery_log;
mod deploy;
mod embedded;
mod error;
mod health;
mod lambda_build;
mod package;
mod secret_input;
mod stack;
mod ui;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::Error;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before anything runs: no child may inherit the variable that holds the secret.
    if let Some(name) = cli.command.secret_env() {
        child::hide_variable(name);
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn run(cli: Cli) -> Result<(), Error> {
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| Error::io("starting the async runtime", e))?;
    runtime.block_on(async {
        match cli.command {
            Command::Build(args) => commands::build::run(args).await,
            Command::Completions(args) => commands::completions::completions(&args),
            Command::Dev(args) => commands::dev::run(args).await,
            Command::Init(args) => commands::init::run(args).await,
            Command::Logs(args) => commands::logs::run(args).await,
            Command::Man(args) => commands::completions::man(&args),
            Command::Providers(args) => {
                commands::providers::run(&args);
                Ok(())
            }
            Command::Replay(args) => commands::replay::run(args).await,
            Command::RotateSecret(args) => commands::rotate_secret::run(args).await,
            Command::SendTest(args) => commands::send_test::run(args).await,
            Command::Status(args) => commands::status::run(args).await,
            Command::Teardown(args) => commands::teardown::run(args).await,
            Command::Template(args) => commands::template::run(&args),
            Command::UpdateFunction(args) => commands::update_function::run(args).await,
        }
    })
}
