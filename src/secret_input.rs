//! Where a signing secret comes from. Never argv: only standard input, a named environment
//! variable, a hidden prompt, or generated here.

use std::io::Read;

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
}

impl SecretError {
    /// Whether asking differently fixes it (a local failure does not).
    pub fn is_usage(&self) -> bool {
        !matches!(self, Self::Prompt(_) | Self::Random(_))
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
    fn bad_secrets_are_refused() {
        assert!(check("").is_err());
        assert!(check("a\nb").is_err());
        assert!(check("fine-secret").is_ok());
    }
}
