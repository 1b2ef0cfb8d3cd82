//! A secret ebhook generates (GitHub's at `init`, any at `rotate-secret --generate`) goes only
//! where a person sees it or where they said: a terminal, a new private file (`--secret-out`),
//! or stdout when asked (`--print-secret`). Never into a pipe or a log by default. And the
//! handler build ebhook starts never sees the variable that holds a given secret.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::cli::{Run, ebhook};
use crate::support::moto::python;
use crate::support::process::prebuilt;
use crate::support::stack::stack_outputs;
use crate::support::{Moto, workspace_root};

/// A fresh directory for one test's files.
fn scratch(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ebhook-it-{label}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The stacks moto holds that are not deleted.
async fn live_stacks(moto: &Moto) -> Vec<String> {
    let conf = moto.sdk_config().await;
    aws_sdk_cloudformation::Client::new(&conf)
        .describe_stacks()
        .send()
        .await
        .unwrap()
        .stacks()
        .iter()
        .filter(|s| s.stack_status().map(|x| x.as_str()) != Some("DELETE_COMPLETE"))
        .filter_map(|s| s.stack_name().map(str::to_owned))
        .collect()
}

/// The current secret stored for a stack's endpoint.
async fn stored_current(moto: &Moto, secret_arn: &str) -> String {
    let conf = moto.sdk_config().await;
    let out = aws_sdk_secretsmanager::Client::new(&conf)
        .get_secret_value()
        .secret_id(secret_arn)
        .send()
        .await
        .unwrap();
    let set: Value = serde_json::from_str(out.secret_string().unwrap()).unwrap();
    set["current"].as_str().unwrap().to_owned()
}

async fn secret_arn(moto: &Moto, stack: &str) -> String {
    stack_outputs(moto, stack).await["SecretArn"].clone()
}

fn init_github(moto: &Moto, stack: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "init",
        "--bootstrap",
        prebuilt(),
        "--provider",
        "github",
        "--stack-name",
        stack,
        "--yes",
    ];
    args.extend_from_slice(extra);
    ebhook(moto, &args, &[], None)
}

/// A generated secret looks like this: 43 characters of URL-safe base64.
fn has_a_secret_like_token(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .any(|word| word.len() == 43)
}

#[tokio::test]
async fn a_generated_secret_off_a_terminal_needs_a_destination_and_nothing_is_deployed() {
    let moto = Moto::start();
    for output in ["text", "json"] {
        let run = init_github(&moto, "nowhere", &["--output", output]);
        assert_eq!(
            run.status,
            Some(2),
            "{output}: {}\n{}",
            run.stdout,
            run.stderr
        );
        assert!(
            run.stderr.contains("--secret-out FILE") && run.stderr.contains("--print-secret"),
            "{output}: the error says which flag to add: {}",
            run.stderr
        );
        assert!(
            !has_a_secret_like_token(&run.stdout) && !has_a_secret_like_token(&run.stderr),
            "{output}: no secret shown anywhere:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    assert_eq!(
        live_stacks(&moto).await,
        Vec::<String>::new(),
        "nothing deployed, not even the artifacts stack"
    );
}

#[tokio::test]
async fn secret_out_writes_a_new_private_file_and_never_overwrites_one() {
    let moto = Moto::start();
    let dir = scratch("secret-out");
    let file = dir.join("github-secret");
    let file_arg = file.to_str().unwrap();
    let run = init_github(&moto, "to-file", &["--secret-out", file_arg]);
    run.assert_ok();
    let stored = stored_current(&moto, &secret_arn(&moto, "to-file").await).await;
    assert_eq!(stored.len(), 43);
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim_end(), stored);
    assert_mode_600(&file);
    assert!(
        !run.stdout.contains(&stored) && !run.stderr.contains(&stored),
        "the secret is in the file only:\n{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(run.stdout.contains(file_arg), "{}", run.stdout);

    // The same file again: refused before anything is deployed, the file as it was.
    let again = init_github(&moto, "to-file-again", &["--secret-out", file_arg]);
    assert_eq!(again.status, Some(2), "{}", again.stderr);
    assert!(again.stderr.contains("already there"), "{}", again.stderr);
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim_end(), stored);
    assert!(
        !live_stacks(&moto)
            .await
            .contains(&"to-file-again".to_owned())
    );

    // A symbolic link is refused too, even one that points nowhere yet.
    #[cfg(unix)]
    {
        let link = dir.join("link");
        let target = dir.join("planted");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let linked = init_github(&moto, "to-link", &["--secret-out", link.to_str().unwrap()]);
        assert_eq!(linked.status, Some(2), "{}", linked.stderr);
        assert!(!target.exists(), "the link was not followed");
        assert!(!live_stacks(&moto).await.contains(&"to-link".to_owned()));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[track_caller]
fn assert_mode_600(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{} has mode {mode:o}", path.display());
}

#[cfg(not(unix))]
fn assert_mode_600(_: &Path) {}

#[tokio::test]
async fn print_secret_puts_it_on_stdout_only() {
    let moto = Moto::start();
    let text = init_github(&moto, "printed", &["--print-secret"]);
    text.assert_ok();
    let stored = stored_current(&moto, &secret_arn(&moto, "printed").await).await;
    assert!(text.stdout.contains(&stored), "{}", text.stdout);
    assert!(!text.stderr.contains(&stored), "{}", text.stderr);
}

#[tokio::test]
async fn on_a_terminal_the_generated_secret_is_shown() {
    let moto = Moto::start();
    let out = Command::new(python())
        .arg(workspace_root().join("tests").join("pty_run.py"))
        .arg(env!("CARGO_BIN_EXE_ebhook"))
        .args(["init", "--bootstrap", prebuilt(), "--provider", "github"])
        .args(["--stack-name", "on-a-terminal", "--yes"])
        .current_dir(workspace_root())
        .env_remove("AWS_PROFILE")
        .envs(moto.env())
        .env("TERM", "xterm")
        .output()
        .expect("run tests/pty_run.py");
    let terminal = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{terminal}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stored = stored_current(&moto, &secret_arn(&moto, "on-a-terminal").await).await;
    assert!(
        terminal.contains("Signing secret (shown once"),
        "{terminal}"
    );
    assert!(terminal.contains(&stored), "{terminal}");
}

#[tokio::test]
async fn rotate_generate_shows_the_secret_only_where_asked() {
    let moto = Moto::start();
    let init = ebhook(
        &moto,
        &[
            "init",
            "--bootstrap",
            prebuilt(),
            "--provider",
            "github",
            "--stack-name",
            "rotgen",
            "--yes",
            "--secret-env",
            "S",
        ],
        &[("S", "first-secret")],
        None,
    );
    init.assert_ok();
    let arn = secret_arn(&moto, "rotgen").await;
    let rotate = |extra: &[&str]| {
        let mut args = vec![
            "rotate-secret",
            "--stack-name",
            "rotgen",
            "--yes",
            "--generate",
        ];
        args.extend_from_slice(extra);
        ebhook(&moto, &args, &[], None)
    };

    // Off a terminal, without a destination: refused, the secret unchanged.
    let refused = rotate(&[]);
    assert_eq!(refused.status, Some(2), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("--secret-out FILE"),
        "{}",
        refused.stderr
    );
    assert!(!has_a_secret_like_token(&refused.stdout) && !has_a_secret_like_token(&refused.stderr));
    assert_eq!(stored_current(&moto, &arn).await, "first-secret");

    // --secret-out: in the file only.
    let dir = scratch("rotate-secret-out");
    let file = dir.join("new-secret");
    let to_file = rotate(&["--secret-out", file.to_str().unwrap()]);
    to_file.assert_ok();
    let second = stored_current(&moto, &arn).await;
    assert_ne!(second, "first-secret");
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim_end(), second);
    assert_mode_600(&file);
    assert!(!to_file.stdout.contains(&second) && !to_file.stderr.contains(&second));

    // --print-secret with JSON: in the JSON on stdout, not on stderr.
    let printed = rotate(&["--print-secret", "--output", "json"]);
    printed.assert_ok();
    let third = stored_current(&moto, &arn).await;
    assert_ne!(third, second);
    assert_eq!(printed.json()["signingSecret"], third.as_str());
    assert!(!printed.stderr.contains(&third), "{}", printed.stderr);

    // The flags mean nothing without --generate.
    let without = ebhook(
        &moto,
        &[
            "rotate-secret",
            "--stack-name",
            "rotgen",
            "--yes",
            "--finish",
            "--print-secret",
        ],
        &[],
        None,
    );
    assert_eq!(without.status, Some(2), "{}", without.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_handler_build_never_sees_the_secret_variable() {
    let moto = Moto::start();
    // A `cargo` first on PATH that records the environment it was started with and fails, so
    // init stops after the build step.
    let dir = scratch("fake-cargo");
    let record = dir.join("environment");
    let fake = dir.join("cargo");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\nenv >> '{}'\nexit 1\n", record.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let secret = "given-secret-the-build-must-not-see";
    let run = ebhook(
        &moto,
        &[
            "init",
            "--provider",
            "github",
            "--stack-name",
            "fake-build",
            "--yes",
            "--secret-env",
            "EBHOOK_IT_GIVEN_SECRET",
        ],
        &[
            ("EBHOOK_IT_GIVEN_SECRET", secret),
            ("EBHOOK_SECRET", "handler-secret-the-build-must-not-see"),
            ("PATH", &path),
        ],
        None,
    );
    assert_eq!(run.status, Some(1), "the fake build fails: {}", run.stderr);
    let seen = std::fs::read_to_string(&record).expect("the fake cargo ran");
    assert!(seen.contains("PATH="), "{seen}");
    assert!(!seen.contains("EBHOOK_IT_GIVEN_SECRET"), "{seen}");
    assert!(!seen.contains(secret), "{seen}");
    assert!(!seen.contains("EBHOOK_SECRET="), "{seen}");
    assert!(!seen.contains("handler-secret"), "{seen}");
    std::fs::remove_dir_all(&dir).unwrap();
}
