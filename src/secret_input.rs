//! Where a signing secret comes from. Never argv: only standard input, a named environment
//! variable, a hidden prompt, or generated here.

use std::io::Read;

use base64::Engine;
use clap::Args;

use crate::cli::UsageError;

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
    pub fn read(&self) -> anyhow::Result<Option<String>> {
        let secret = if self.secret_stdin {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| {
                UsageError(format!(
                    "could not read the secret from standard input: {e}"
                ))
            })?;
            text.trim().to_owned()
        } else if let Some(name) = &self.secret_env {
            std::env::var(name).map_err(|_| {
                UsageError(format!("--secret-env {name}: the environment variable {name} is not set (or not UTF-8)"))
            })?
            .trim()
            .to_owned()
        } else {
            return Ok(None);
        };
        check(&secret)?;
        Ok(Some(secret))
    }
}

/// A hidden prompt; empty input means "not now".
pub fn prompt(message: &str) -> anyhow::Result<Option<String>> {
    let secret = dialoguer::Password::new()
        .with_prompt(message)
        .allow_empty_password(true)
        .interact()?;
    let secret = secret.trim().to_owned();
    if secret.is_empty() {
        return Ok(None);
    }
    check(&secret)?;
    Ok(Some(secret))
}

fn check(secret: &str) -> anyhow::Result<()> {
    if secret.is_empty() {
        return Err(UsageError("the signing secret is empty".into()).into());
    }
    if secret.chars().any(char::is_control) {
        return Err(UsageError(
            "the signing secret contains control characters; paste it as one line".into(),
        )
        .into());
    }
    Ok(())
}

/// 32 random bytes from the OS, URL-safe base64: 256 bits, safe to paste anywhere.
pub fn generate() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("the OS random generator failed: {e}"))?;
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
