//! Where a signing secret comes from. Never argv: only standard input, a named environment
//! variable, a hidden prompt, or generated here.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use clap::Args;
use ebhook_handler::SecretSet;

use ebhook_handler::secrets::SecretFormatError;

/// A signing secret that could not be read, or is not one.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "could not read the secret from standard input: {0}; pipe it in as one line of UTF-8 text"
    )]
    Stdin(std::io::Error),
    #[error(
        "--secret-env {0}: the environment variable {0} is not set (or not UTF-8); set it, or use \
         --secret-stdin"
    )]
    EnvNotSet(String),
    #[error("the signing secret is empty; give the secret itself")]
    Empty,
    #[error("the signing secret contains control characters; paste it as one line")]
    ControlCharacters,
    #[error("no signing secret was given: give it with {0}")]
    NotGiven(&'static str),
    #[error(
        "{provider} signs with a secret it holds ({what}), which ebhook needs to verify: pass it \
         with --secret-stdin or --secret-env NAME"
    )]
    FromProvider {
        provider: &'static str,
        what: &'static str,
    },
    #[error("the signing secret is not valid: {0}")]
    Format(SecretFormatError),
    #[error(
        "the signing secret has no current value; give {{\"current\": \"...\"}} or the bare secret"
    )]
    NoCurrent,
    #[error(
        "the hidden prompt failed: {0}; give the secret with --secret-stdin or --secret-env NAME"
    )]
    Prompt(dialoguer::Error),
    #[error("the OS random number generator failed: {0}; try again")]
    Random(getrandom::Error),
    #[error(
        "ebhook generates this signing secret and {stream} is not a terminal, so it is not \
         printed where a log could keep it; nothing was changed: pass --secret-out FILE to write \
         it to a new file only you can read, or --print-secret to print it on standard output"
    )]
    NowhereToShow { stream: &'static str },
    #[error(
        "--secret-out {0}: a file (or symbolic link) is already there, and ebhook never \
         overwrites one; nothing was changed: give a new path, or move that file away"
    )]
    OutExists(PathBuf),
    #[error(
        "--secret-out {path}: could not create the file: {source}; nothing was changed: give a \
         path in a directory you can write"
    )]
    OutWrite {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "--secret-out and --print-secret say where a secret ebhook generates goes: pass \
         --generate, or leave them out"
    )]
    RevealWithoutGenerate,
}

impl SecretError {
    /// Whether asking differently fixes it (a local failure does not).
    pub fn is_usage(&self) -> bool {
        !matches!(
            self,
            Self::Prompt(_) | Self::Random(_) | Self::OutWrite { .. }
        )
    }
}

#[derive(Clone, Debug, Default, Args)]
pub struct SecretArgs {
    /// Read the signing secret from standard input (one line; surrounding whitespace trimmed).
    #[arg(long, conflicts_with = "secret_env")]
    pub secret_stdin: bool,
    /// Read the signing secret from this environment variable.
    #[arg(long, value_name = "NAME")]
    pub secret_env: Option<String>,
}

impl SecretArgs {
    pub fn given(&self) -> bool {
        self.secret_stdin || self.secret_env.is_some()
    }

    /// The secret from stdin or the environment, if either was asked for.
    pub fn read(&self) -> Result<Option<String>, SecretError> {
        let secret = if self.secret_stdin {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(SecretError::Stdin)?;
            text.trim().to_owned()
        } else if let Some(name) = &self.secret_env {
            std::env::var(name)
                .map_err(|_| SecretError::EnvNotSet(name.clone()))?
                .trim()
                .to_owned()
        } else {
            return Ok(None);
        };
        check(&secret)?;
        Ok(Some(secret))
    }
}

/// Where a secret ebhook generates is shown: on a terminal by default, elsewhere only where the
/// user said, so a CI log never keeps it by accident.
#[derive(Clone, Debug, Default, Args)]
pub struct RevealArgs {
    /// Write a secret ebhook generates to FILE, a new file only you can read (mode 0600). An
    /// existing file or symbolic link is never overwritten.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["print_secret", "secret_stdin", "secret_env"]
    )]
    pub secret_out: Option<PathBuf>,
    /// Print a secret ebhook generates on standard output even when it is not a terminal.
    #[arg(long, conflicts_with_all = ["secret_stdin", "secret_env"])]
    pub print_secret: bool,
}

/// Where a generated secret goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reveal {
    /// Shown on the terminal the command's text goes to.
    Terminal,
    /// Printed on stdout, as asked with `--print-secret`.
    Stdout,
    /// Written to a new file, as asked with `--secret-out`.
    File(PathBuf),
}

impl RevealArgs {
    pub fn given(&self) -> bool {
        self.secret_out.is_some() || self.print_secret
    }

    /// Where to put a generated secret. `stream` is where it would be shown (stdout or stderr)
    /// and `terminal` whether that is a terminal; anywhere else the user must say.
    pub fn destination(&self, stream: &'static str, terminal: bool) -> Result<Reveal, SecretError> {
        if let Some(path) = &self.secret_out {
            Ok(Reveal::File(path.clone()))
        } else if self.print_secret {
            Ok(Reveal::Stdout)
        } else if terminal {
            Ok(Reveal::Terminal)
        } else {
            Err(SecretError::NowhereToShow { stream })
        }
    }
}

/// Write `secret` to a file that must not exist yet, readable and writable by its owner only.
/// `create_new` is O_CREAT|O_EXCL, which also refuses a symbolic link, dangling or not, so the
/// secret cannot be sent through a link someone else planted.
pub fn write_new_file(path: &Path, secret: &str) -> Result<(), SecretError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(path).and_then(|mut file| {
        file.write_all(secret.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()
    });
    written.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            SecretError::OutExists(path.to_owned())
        } else {
            SecretError::OutWrite {
                path: path.to_owned(),
                source,
            }
        }
    })
}

/// The secret set a secret given on the command line stands for (the handler's format, or the
/// bare secret).
pub fn secret_set(secret: &str) -> Result<SecretSet, SecretError> {
    SecretSet::parse(secret).map_err(SecretError::Format)
}

/// A hidden prompt; empty input means "not now".
pub fn prompt(message: &str) -> Result<Option<String>, SecretError> {
    let secret = dialoguer::Password::new()
        .with_prompt(message)
        .allow_empty_password(true)
        .interact()
        .map_err(SecretError::Prompt)?;
    let secret = secret.trim().to_owned();
    if secret.is_empty() {
        return Ok(None);
    }
    check(&secret)?;
    Ok(Some(secret))
}

fn check(secret: &str) -> Result<(), SecretError> {
    if secret.is_empty() {
        return Err(SecretError::Empty);
    }
    if secret.chars().any(char::is_control) {
        return Err(SecretError::ControlCharacters);
    }
    Ok(())
}

/// 32 random bytes from the OS, URL-safe base64: 256 bits, safe to paste anywhere.
pub fn generate() -> Result<String, SecretError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(SecretError::Random)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_long_and_distinct() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }

    #[test]
    fn a_secret_file_is_new_and_private() {
        let dir = std::env::temp_dir().join(format!("ebhook-secret-out-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secret");
        let _ = std::fs::remove_file(&path);
        write_new_file(&path, "s3cret").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "s3cret\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            write_new_file(&path, "other"),
            Err(SecretError::OutExists(_))
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "s3cret\n");
        #[cfg(unix)]
        {
            let link = dir.join("link");
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(dir.join("nowhere"), &link).unwrap();
            assert!(matches!(
                write_new_file(&link, "other"),
                Err(SecretError::OutExists(_))
            ));
            assert!(!dir.join("nowhere").exists(), "the link was not followed");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_generated_secret_goes_to_a_terminal_or_where_asked() {
        let none = RevealArgs::default();
        assert_eq!(none.destination("stdout", true).unwrap(), Reveal::Terminal);
        assert!(matches!(
            none.destination("stdout", false),
            Err(SecretError::NowhereToShow { stream: "stdout" })
        ));
        let print = RevealArgs {
            print_secret: true,
            ..RevealArgs::default()
        };
        assert_eq!(print.destination("stdout", false).unwrap(), Reveal::Stdout);
        let file = RevealArgs {
            secret_out: Some("f".into()),
            ..RevealArgs::default()
        };
        assert_eq!(
            file.destination("stdout", true).unwrap(),
            Reveal::File("f".into())
        );
    }

    #[test]
    fn bad_secrets_are_refused() {
        assert!(check("").is_err());
        assert!(check("a\nb").is_err());
        assert!(check("fine-secret").is_ok());
    }
}
