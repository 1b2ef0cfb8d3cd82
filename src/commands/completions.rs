//! `ebhook completions SHELL` and `ebhook man`: shell completions and the manual page, generated
//! from the same clap definitions as the commands, so they never fall behind.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::Error;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for: bash, zsh, fish, powershell or elvish.
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command (`ebhook.1`, `ebhook-init.1`, ...) into this directory, as
    /// `man` finds them under a `man1` folder, instead of printing them all.
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
}

pub fn completions(args: &CompletionsArgs) -> Result<(), Error> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "ebhook", &mut out);
    write_stdout(&out)
}

/// The manual page for `ebhook` and each subcommand, as roff: printed one after another
/// (`ebhook man | man -l -`), or one file each with `--out-dir`.
pub fn man(args: &ManArgs) -> Result<(), Error> {
    let command = Cli::command();
    let mut pages = vec![("ebhook".to_owned(), command.clone())];
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("ebhook-{}", sub.get_name());
        let page = sub
            .clone()
            .display_name(name.clone())
            .bin_name(format!("ebhook {}", sub.get_name()))
            .version(env!("CARGO_PKG_VERSION"));
        pages.push((name, page));
    }
    match &args.out_dir {
        None => {
            let mut out = Vec::new();
            for (_, page) in &pages {
                render(page, &mut out)?;
            }
            write_stdout(&out)
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
            for (name, page) in &pages {
                let mut out = Vec::new();
                render(page, &mut out)?;
                let path = dir.join(format!("{name}.1"));
                std::fs::write(&path, out)
                    .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
            }
            eprintln!("wrote {} manual pages to {}", pages.len(), dir.display());
            Ok(())
        }
    }
}

fn render(command: &clap::Command, out: &mut Vec<u8>) -> Result<(), Error> {
    clap_mangen::Man::new(command.clone())
        .render(out)
        .map_err(|e| Error::io("rendering the manual page", e))
}

fn write_stdout(bytes: &[u8]) -> Result<(), Error> {
    std::io::stdout()
        .lock()
        .write_all(bytes)
        .map_err(|e| Error::io("writing to standard output", e))
}
