//! The one place ebhook starts other programs (the handler build and the checks before it).
//! Every child gets ebhook's environment less the variables that hold a signing secret: a
//! dependency's build script has no business reading it. `clippy.toml` forbids
//! `Command::new` everywhere else, so no child can be started without this.

use std::ffi::OsStr;
use std::sync::{Mutex, PoisonError};

/// Variables that hold a signing secret whatever the command line says: the handler's own,
/// which `ebhook dev` and local runs may have set.
const ALWAYS_HIDDEN: &[&str] = &["EBHOOK_SECRET"];

/// Variables named on the command line as holding a secret (`--secret-env NAME`).
static HIDDEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Keep the variable `name` out of every child's environment from now on.
pub fn hide_variable(name: &str) {
    HIDDEN
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(name.to_owned());
}

/// The variables no child gets.
fn hidden() -> Vec<String> {
    let named = HIDDEN.lock().unwrap_or_else(PoisonError::into_inner);
    ALWAYS_HIDDEN
        .iter()
        .map(|name| (*name).to_owned())
        .chain(named.iter().cloned())
        .collect()
}

/// A command for `program` with the secret variables removed from its environment.
#[allow(
    clippy::disallowed_methods,
    reason = "the one constructor of child processes: it clears the secret variables"
)]
pub fn command(program: impl AsRef<OsStr>) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(program);
    for name in hidden() {
        command.env_remove(name);
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_and_handler_secret_variables_are_removed() {
        hide_variable("SOME_SECRET_VARIABLE");
        let command = command("true");
        let removed: Vec<String> = command
            .as_std()
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        assert!(
            removed.contains(&"SOME_SECRET_VARIABLE".to_owned()),
            "{removed:?}"
        );
        assert!(removed.contains(&"EBHOOK_SECRET".to_owned()), "{removed:?}");
    }
}
