//! Running the real `ebhook` binary against moto.

use std::process::{Command, Output, Stdio};

use super::Moto;

pub struct Run {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n--- stderr ---\n{}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(
            self.status,
            Some(0),
            "ebhook failed:\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// `ebhook ARGS` with moto's environment, extra variables, and optional standard input.
pub fn ebhook(moto: &Moto, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
    ebhook_with(moto, args, env, &[], stdin)
}

/// [`ebhook`], then without the variables in `remove` (even moto's own, such as its credentials).
pub fn ebhook_with(
    moto: &Moto,
    args: &[&str],
    env: &[(&str, &str)],
    remove: &[&str],
    stdin: Option<&str>,
) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ebhook"));
    command
        .args(args)
        .current_dir(super::workspace_root())
        .env_remove("AWS_PROFILE")
        .envs(moto.env())
        .envs(env.iter().copied());
    for name in remove {
        command.env_remove(name);
    }
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run ebhook");
    if let Some(input) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("wait for ebhook");
    Run {
        status: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// `ebhook init` of the prebuilt handler for GitHub as stack `stack`, answering every question
/// (`--yes`, the generated secret printed), in JSON, with `extra` options.
pub fn init_args<'a>(stack: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "init",
        "--bootstrap",
        super::process::prebuilt(),
        "--provider",
        "github",
        "--stack-name",
        stack,
        "--print-secret",
        "--yes",
        "--output",
        "json",
    ];
    args.extend_from_slice(extra);
    args
}
