//! Talking to the person at the terminal: steps, live progress (indicatif), questions
//! (dialoguer). Everything goes to stderr, so stdout stays clean for `--output json`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::error::Error;

pub struct Ui {
    interactive: bool,
    assume_yes: bool,
}

impl Ui {
    pub fn new(assume_yes: bool) -> Self {
        Self {
            interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
            assume_yes,
        }
    }

    pub fn interactive(&self) -> bool {
        self.interactive
    }

    /// A major step, e.g. "Building the handler".
    pub fn step(&self, message: impl AsRef<str>) {
        eprintln!("==> {}", message.as_ref());
    }

    pub fn note(&self, message: impl AsRef<str>) {
        eprintln!("    {}", message.as_ref());
    }

    /// A spinner with a message; lines printed through it appear above it. Hidden (and
    /// replaced by plain lines) when stderr is not a terminal.
    pub fn spinner(&self, message: impl Into<String>) -> Spinner {
        let message = message.into();
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar.set_message(message);
            Some(bar)
        } else {
            eprintln!("    {message}");
            None
        };
        Spinner { bar }
    }

    /// Ask before changing anything. `--yes` answers for the user; without a terminal and
    /// without `--yes` nothing is changed.
    pub fn confirm(&self, prompt: &str) -> Result<bool, Error> {
        if self.assume_yes {
            return Ok(true);
        }
        if !self.interactive {
            return Err(Error::NotATerminal {
                prompt: prompt.to_owned(),
            });
        }
        Ok(dialoguer::Confirm::new()
            .with_prompt(prompt)
            .default(false)
            .interact()?)
    }
}

pub struct Spinner {
    bar: Option<ProgressBar>,
}

impl Spinner {
    pub fn println(&self, line: impl AsRef<str>) {
        match &self.bar {
            Some(bar) => bar.println(line.as_ref()),
            None => eprintln!("{}", line.as_ref()),
        }
    }

    pub fn set_message(&self, message: impl Into<String>) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.into());
        }
    }

    pub fn finish(self, line: impl AsRef<str>) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        eprintln!("    {}", line.as_ref());
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
