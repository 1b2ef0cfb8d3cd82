//! `ebhook init` as people meet it: on a terminal, after an earlier failure, with their own bus,
//! on a machine that cannot build arm64, without credentials, and run a second time.

use std::path::PathBuf;
use std::process::Command;

use aws_sdk_lambda::error::ProvideErrorMetadata;
use serde_json::Value;

use crate::support::cli::{ebhook, ebhook_with};
use crate::support::process::prebuilt;
use crate::support::stack::{artifacts, stack_outputs};
use crate::support::{Moto, moto, workspace_root};

/// The stacks moto holds that are not deleted.
async fn live_stacks(moto: &Moto) -> Vec<(String, String)> {
    let conf = moto.sdk_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&conf);
    cfn.describe_stacks()
        .send()
        .await
        .unwrap()
        .stacks()
        .iter()
        .map(|s| {
            (
                s.stack_name().unwrap_or_default().to_owned(),
                s.stack_status()
                    .map(|x| x.as_str().to_owned())
                    .unwrap_or_default(),
            )
        })
        .filter(|(_, status)| status != "DELETE_COMPLETE")
        .collect()
}

async fn stack_output(moto: &Moto, stack: &str, key: &str) -> String {
    stack_outputs(moto, stack)
        .await
        .remove(key)
        .unwrap_or_else(|| panic!("stack {stack} has no output {key}"))
}

/// The handler's zips in every bucket.
async fn artifact_keys(moto: &Moto) -> Vec<String> {
    artifacts(moto)
        .await
        .into_iter()
        .map(|(key, _)| key)
        .collect()
}

/// The size of the artifact `key` in moto's buckets.
async fn artifact_bytes(moto: &Moto, key: &str) -> i64 {
    artifacts(moto)
        .await
        .into_iter()
        .find_map(|(k, size)| (k == key).then_some(size))
        .unwrap_or_else(|| panic!("no artifact {key}"))
}

/// Drops escape sequences and carriage returns, so terminal output reads as plain lines.
fn plain(terminal: &str) -> String {
    let mut out = String::with_capacity(terminal.len());
    let mut chars = terminal.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                if chars.peek() == Some(&'[') {
                    chars.next();
                    // Parameters and intermediates, then one final byte in @..=~.
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                } else {
                    chars.next();
                }
            }
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

#[tokio::test]
async fn interactive_zendesk_init_on_a_terminal_sets_the_typed_secret() {
    let moto = Moto::start();
    let stack = "pty-zendesk";
    let secret = "typed-on-the-terminal-0123";
    let script = workspace_root().join("tests").join("pty_init.py");
    let out = Command::new(moto::python())
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_ebhook"))
        .args(["--stack-name", stack, "--secret-env", "PTY_INIT_SECRET"])
        .args(["--bootstrap", prebuilt(), "--timeout", "180"])
        .current_dir(workspace_root())
        .env_remove("AWS_PROFILE")
        .envs(moto.env())
        .env("PTY_INIT_SECRET", secret)
        .env("PYTHONUNBUFFERED", "1")
        .output()
        .expect("run tests/pty_init.py");
    let terminal = String::from_utf8_lossy(&out.stdout);
    let text = plain(&terminal);
    let log = String::from_utf8_lossy(&out.stderr);
    let tail = |s: &str| {
        s.chars()
            .rev()
            .take(6000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<String>()
    };
    assert_eq!(
        out.status.code(),
        Some(0),
        "interactive init failed\n--- script ---\n{log}\n--- terminal (end) ---\n{}\n--- moto ---\n{}",
        tail(&text),
        tail(&moto.logs())
    );

    // The terminal showed the endpoint and what to do in Zendesk, never the typed secret.
    let url = stack_output(&moto, stack, "WebhookUrl").await;
    assert!(
        text.contains(&format!("Webhook URL: {url}")),
        "{}",
        tail(&text)
    );
    assert!(text.contains("Create webhook"), "{}", tail(&text));
    assert!(
        text.contains(&format!("Endpoint URL: {url}")),
        "{}",
        tail(&text)
    );
    assert!(
        !terminal.contains(secret),
        "the hidden prompt echoed the secret"
    );
    // The person chose zendesk and a new bus; the artifacts stack was made without asking.
    let stacks = live_stacks(&moto).await;
    assert!(
        stacks.contains(&(stack.to_owned(), "UPDATE_COMPLETE".to_owned())),
        "{stacks:?}"
    );
    assert!(
        stacks.iter().any(|(name, _)| name == "ebhook-artifacts"),
        "{stacks:?}"
    );
    assert_eq!(stack_output(&moto, stack, "Provider").await, "zendesk");
    // Asked twice (create, then the secret's update); the artifacts stack was not asked about.
    assert_eq!(
        text.matches("Apply these changes? yes").count(),
        2,
        "{}",
        tail(&text)
    );
    let artifacts = text
        .split("Changes to stack ebhook-artifacts (create)")
        .nth(1)
        .and_then(|rest| rest.split("Applying changes to ebhook-artifacts").next())
        .unwrap_or_else(|| panic!("the artifacts stack's changes are shown:\n{}", tail(&text)));
    assert!(!artifacts.contains("Apply these changes?"), "{artifacts}");

    // The second change set stored exactly what was typed.
    let arn = stack_output(&moto, stack, "SecretArn").await;
    let conf = moto.sdk_config().await;
    let stored = aws_sdk_secretsmanager::Client::new(&conf)
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .unwrap();
    let stored: Value = serde_json::from_str(stored.secret_string().unwrap()).unwrap();
    assert_eq!(stored, serde_json::json!({ "current": secret }));
}

#[tokio::test]
async fn init_removes_a_stack_left_in_rollback_complete_and_creates_it() {
    let moto = Moto::start();
    let stack = "recover";
    let conf = moto.sdk_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&conf);
    let lambda = aws_sdk_lambda::Client::new(&conf);

    // An earlier create failed: a function already held the name the stack's function wanted.
    let role = aws_sdk_iam::Client::new(&conf)
        .create_role()
        .role_name("squatter")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();
    let role_arn = role.role().unwrap().arn().to_owned();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("bootstrap", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut zip, b"#!/bin/sh\n").unwrap();
    let code = zip.finish().unwrap().into_inner();
    let function = format!("{stack}-handler");
    lambda
        .create_function()
        .function_name(&function)
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .role(&role_arn)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(code.into())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let template = serde_json::json!({
        "Resources": {
            "Function": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": function,
                    "Runtime": "provided.al2023",
                    "Handler": "bootstrap",
                    "Role": role_arn,
                    "Code": {"ZipFile": "exit 1"}
                }
            }
        }
    });
    let failed_id = cfn
        .create_stack()
        .stack_name(stack)
        .template_body(template.to_string())
        .on_failure(aws_sdk_cloudformation::types::OnFailure::Rollback)
        .send()
        .await
        .unwrap()
        .stack_id()
        .unwrap()
        .to_owned();
    let mut status = String::new();
    for _ in 0..60 {
        status = cfn
            .describe_stacks()
            .stack_name(stack)
            .send()
            .await
            .unwrap()
            .stacks()[0]
            .stack_status()
            .unwrap()
            .as_str()
            .to_owned();
        if !status.ends_with("_IN_PROGRESS") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert_eq!(status, "ROLLBACK_COMPLETE");

    // The cause is removed; init finds the dead stack, removes it and creates the stack anew.
    lambda
        .delete_function()
        .function_name(&function)
        .send()
        .await
        .unwrap();
    let run = ebhook(
        &moto,
        &[
            "init",
            "--bootstrap",
            prebuilt(),
            "--provider",
            "github",
            "--stack-name",
            stack,
            "--yes",
            "--secret-env",
            "RECOVER_SECRET",
            "--output",
            "json",
        ],
        &[("RECOVER_SECRET", "recover-secret")],
        None,
    );
    run.assert_ok();
    let json = run.json();
    assert_eq!(json["outcome"], "created", "{json}\n{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "Stack {stack} never finished its first create (ROLLBACK_COMPLETE); removing it"
        )),
        "{}",
        run.stderr
    );
    let now = cfn
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    let now = &now.stacks()[0];
    assert_eq!(
        now.stack_status().map(|s| s.as_str()),
        Some("CREATE_COMPLETE")
    );
    assert_ne!(now.stack_id(), Some(failed_id.as_str()), "a new stack");
    assert_eq!(json["stackId"].as_str(), now.stack_id());
    let f = lambda
        .get_function_configuration()
        .function_name(&function)
        .send()
        .await
        .unwrap();
    assert_ne!(
        f.role(),
        Some(role_arn.as_str()),
        "the stack's own function"
    );
}

#[tokio::test]
async fn an_existing_bus_is_used_and_never_deleted() {
    let moto = Moto::start();
    let bus = "team-bus";
    let conf = moto.sdk_config().await;
    let events = aws_sdk_eventbridge::Client::new(&conf);
    let bus_arn = events
        .create_event_bus()
        .name(bus)
        .send()
        .await
        .unwrap()
        .event_bus_arn()
        .unwrap()
        .to_owned();

    let stack = "own-bus";
    let run = ebhook(
        &moto,
        &[
            "init",
            "--bootstrap",
            prebuilt(),
            "--provider",
            "github",
            "--stack-name",
            stack,
            "--event-bus",
            bus,
            "--yes",
            "--secret-env",
            "BUS_SECRET",
            "--output",
            "json",
        ],
        &[("BUS_SECRET", "bus-secret")],
        None,
    );
    run.assert_ok();
    let json = run.json();
    assert_eq!(json["outcome"], "created", "{json}");
    assert_eq!(json["eventBus"], bus, "{json}");
    assert_eq!(json["eventBusArn"], bus_arn.as_str(), "{json}");

    let function = json["function"].as_str().unwrap().to_owned();
    let f = aws_sdk_lambda::Client::new(&conf)
        .get_function_configuration()
        .function_name(&function)
        .send()
        .await
        .unwrap();
    let vars = f.environment().and_then(|e| e.variables()).unwrap();
    assert_eq!(
        vars.get("EBHOOK_EVENT_BUS").map(String::as_str),
        Some(bus),
        "{vars:?}"
    );

    // The stack made no bus of its own: none in its resources, and none beside default and B.
    let cfn = aws_sdk_cloudformation::Client::new(&conf);
    let resources = cfn
        .list_stack_resources()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    let types: Vec<&str> = resources
        .stack_resource_summaries()
        .iter()
        .map(|r| r.resource_type().unwrap_or_default())
        .collect();
    assert!(types.contains(&"AWS::Lambda::Function"), "{types:?}");
    assert!(!types.contains(&"AWS::Events::EventBus"), "{types:?}");
    let buses = |list: aws_sdk_eventbridge::operation::list_event_buses::ListEventBusesOutput| {
        let mut names: Vec<String> = list
            .event_buses()
            .iter()
            .filter_map(|b| b.name())
            .map(str::to_owned)
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        buses(events.list_event_buses().send().await.unwrap()),
        ["default", bus]
    );

    let down = ebhook(
        &moto,
        &["teardown", "--stack-name", stack, "--yes"],
        &[],
        None,
    );
    down.assert_ok();
    assert!(
        down.stderr
            .contains("(the existing bus it forwards to is kept)"),
        "{}",
        down.stderr
    );
    assert!(
        live_stacks(&moto)
            .await
            .iter()
            .all(|(name, _)| name != stack),
        "the stack is gone"
    );
    let err = aws_sdk_lambda::Client::new(&conf)
        .get_function()
        .function_name(&function)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    let kept = events.describe_event_bus().name(bus).send().await.unwrap();
    assert_eq!(kept.arn(), Some(bus_arn.as_str()));
    assert_eq!(
        buses(events.list_event_buses().send().await.unwrap()),
        ["default", bus]
    );
}

/// Whether this machine has what arm64 builds need: the Rust target and cargo-zigbuild.
fn can_build_arm64() -> bool {
    let zigbuild = Command::new("cargo")
        .args(["zigbuild", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let libdir = Command::new("rustc")
        .args([
            "--print",
            "target-libdir",
            "--target",
            "aarch64-unknown-linux-gnu",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let target = libdir.is_some_and(|dir| {
        std::fs::read_dir(dir).is_ok_and(|mut d| {
            d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("libstd-")))
        })
    });
    zigbuild && target
}

#[tokio::test]
async fn arm64_that_cannot_be_built_here_fails_before_deploying() {
    if can_build_arm64() {
        eprintln!("skipped: this machine can build arm64 (aarch64 target and cargo-zigbuild)");
        return;
    }
    let moto = Moto::start();
    let run = ebhook(
        &moto,
        &[
            "init",
            "--provider",
            "github",
            "--stack-name",
            "arm",
            "--arch",
            "arm64",
            "--yes",
            "--secret-env",
            "ARM_SECRET",
        ],
        &[("ARM_SECRET", "arm-secret")],
        None,
    );
    assert!(
        run.status.is_some_and(|c| c != 0),
        "exit {:?}\n{}",
        run.status,
        run.stderr
    );
    assert!(
        run.stderr.contains("arm64 cannot be built on this machine"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--arch x86_64"), "{}", run.stderr);
    // Nothing deployed: no stack (not even the artifacts bucket's), no bucket, no function.
    assert_eq!(live_stacks(&moto).await, Vec::<(String, String)>::new());
    assert!(artifact_keys(&moto).await.is_empty());
    let conf = moto.sdk_config().await;
    let functions = aws_sdk_lambda::Client::new(&conf)
        .list_functions()
        .send()
        .await
        .unwrap();
    assert!(functions.functions().is_empty(), "{functions:?}");
}

#[tokio::test]
async fn missing_credentials_exit_3_with_a_short_message() {
    let moto = Moto::start();
    let home =
        std::env::temp_dir().join(format!("ebhook-it-no-credentials-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let config = home.join("no-such-config");
    let credentials = home.join("no-such-credentials");
    let run = ebhook_with(
        &moto,
        &["status", "--stack-name", "x"],
        &[
            ("HOME", home.to_str().unwrap()),
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
        &[
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_ROLE_ARN",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        ],
        None,
    );
    let _ = std::fs::remove_dir_all(&home);
    assert_eq!(run.status, Some(3), "{}", run.stderr);
    let message = run.stderr.trim();
    assert!(message.contains("AWS credentials"), "{message}");
    assert!(
        message.lines().count() <= 2,
        "one or two lines, not an SDK dump:\n{message}"
    );
    for dump in ["DispatchFailure", "ConnectorError", "source:", "{ "] {
        assert!(!message.contains(dump), "{message}");
    }
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[tokio::test]
async fn init_again_reuses_the_uploaded_handler() {
    let moto = Moto::start();
    let args = [
        "init",
        "--bootstrap",
        prebuilt(),
        "--provider",
        "github",
        "--stack-name",
        "again",
        "--yes",
        "--output",
        "json",
    ];
    let first = ebhook(
        &moto,
        &[&args[..], &["--secret-env", "AGAIN_SECRET"]].concat(),
        &[("AGAIN_SECRET", "again-secret")],
        None,
    );
    first.assert_ok();
    let json = first.json();
    assert_eq!(json["outcome"], "created", "{json}");
    let sha = json["artifactSha256"].as_str().unwrap().to_owned();
    let short = &sha[..12];
    assert!(
        first
            .stderr
            .contains(&format!("uploaded handler {short} (")),
        "{}",
        first.stderr
    );
    assert_eq!(
        artifact_keys(&moto).await,
        [format!("ebhook/handler-{sha}.zip")]
    );

    let again = ebhook(&moto, &args, &[], None);
    again.assert_ok();
    let json = again.json();
    assert_eq!(json["outcome"], "unchanged", "{json}\n{}", again.stderr);
    assert_eq!(json["artifactSha256"], sha.as_str());
    assert!(
        again
            .stderr
            .contains(&format!("handler {short} already uploaded")),
        "{}",
        again.stderr
    );
    assert!(
        !again.stderr.contains("uploaded handler"),
        "{}",
        again.stderr
    );
    assert_eq!(
        artifact_keys(&moto).await,
        [format!("ebhook/handler-{sha}.zip")]
    );
    // The secret given the first time is kept.
    let conf = moto.sdk_config().await;
    let stored = aws_sdk_secretsmanager::Client::new(&conf)
        .get_secret_value()
        .secret_id(json["secretArn"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(stored.secret_string().unwrap()).unwrap(),
        serde_json::json!({ "current": "again-secret" })
    );
}

/// `ebhook init` as a user first runs it: it builds the release handler itself (minutes on a
/// cold target/), refuses it if Lambda's glibc could not run it, zips and deploys it. The other
/// tests deploy this run's build of `bootstrap` with `--bootstrap`, which takes ebhook through
/// the same packaging; this one is left out of the test command for its build time and run by
/// CI (`.ci/run`) with `cargo test --test it -- --ignored`.
#[tokio::test]
#[ignore = "builds the release handler (minutes); CI runs it with --ignored"]
async fn the_release_handler_is_built_checked_and_deployed() {
    let moto = Moto::start();
    let run = ebhook(
        &moto,
        &[
            "init",
            "--provider",
            "github",
            "--stack-name",
            "release",
            "--yes",
            "--output",
            "json",
            "--secret-env",
            "RELEASE_SECRET",
        ],
        &[("RELEASE_SECRET", "release-secret")],
        None,
    );
    run.assert_ok();
    let json = run.json();
    assert_eq!(json["outcome"], "created", "{json}");
    assert!(run.stderr.contains("--profile lambda"), "{}", run.stderr);
    // The note after the build: "zip N KiB, sha256 S, needs glibc 2.x".
    let note = run
        .stderr
        .lines()
        .find(|l| l.contains("needs glibc"))
        .unwrap_or_else(|| panic!("no packaging note:\n{}", run.stderr));
    // The figure BENCHMARKS.md records, in CI's log too.
    eprintln!("the release handler without dedupe: {note}");
    let glibc: Vec<u32> = note
        .rsplit("needs glibc ")
        .next()
        .unwrap()
        .trim()
        .split('.')
        .map(|n| n.parse().unwrap())
        .collect();
    assert!(
        glibc <= vec![2, 34],
        "Lambda's provided.al2023 has 2.34: {note}"
    );
    let sha = json["artifactSha256"].as_str().unwrap();
    let key = format!("ebhook/handler-{sha}.zip");
    assert_eq!(artifact_keys(&moto).await, std::slice::from_ref(&key));
    // The bytes uploaded, not the note's rounded KiB.
    let bytes = artifact_bytes(&moto, &key).await;
    eprintln!("the release handler without dedupe: {bytes} bytes zipped");
    assert!(bytes <= 3_000_000, "the zip is over 3 MB: {bytes} bytes");
    // Without --dedupe the DynamoDB client is left out (it is what would take the zip over
    // 3 MB); a stack with dedupe gets the build with it, a second artifact.
    assert!(
        run.stderr.contains("--no-default-features"),
        "{}",
        run.stderr
    );
    let dedupe = ebhook(
        &moto,
        &[
            "init",
            "--provider",
            "github",
            "--stack-name",
            "release-dedupe",
            "--dedupe",
            "--yes",
            "--output",
            "json",
            "--secret-env",
            "RELEASE_SECRET",
        ],
        &[("RELEASE_SECRET", "release-secret")],
        None,
    );
    dedupe.assert_ok();
    assert!(
        !dedupe.stderr.contains("--no-default-features"),
        "{}",
        dedupe.stderr
    );
    let with_client = dedupe.json()["artifactSha256"].as_str().unwrap().to_owned();
    assert_ne!(with_client, sha);
    assert_eq!(artifact_keys(&moto).await.len(), 2);
}

#[tokio::test]
async fn a_profile_with_credential_process_is_used() {
    // The CLI builds aws-config without its default features; `credentials-process` (and `sso`)
    // are asked for by name, and a profile that gets its keys from a program must still work.
    let moto = Moto::start();
    let env = moto.env();
    let value = |name: &str| {
        env.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("moto's environment has no {name}"))
    };
    let home = std::env::temp_dir().join(format!(
        "ebhook-it-credential-process-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&home).unwrap();
    let config = home.join("config");
    let keys = serde_json::json!({
        "Version": 1,
        "AccessKeyId": value("AWS_ACCESS_KEY_ID"),
        "SecretAccessKey": value("AWS_SECRET_ACCESS_KEY"),
    });
    std::fs::write(
        &config,
        format!("[profile from-a-program]\ncredential_process = echo '{keys}'\n"),
    )
    .unwrap();
    let run = ebhook_with(
        &moto,
        &[
            "status",
            "--stack-name",
            "nope",
            "--profile",
            "from-a-program",
        ],
        &[
            ("HOME", home.to_str().unwrap()),
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                home.join("none").to_str().unwrap(),
            ),
        ],
        &[
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
        ],
        None,
    );
    let _ = std::fs::remove_dir_all(&home);
    // Past the credentials: CloudFormation itself answered that there is no such stack.
    assert_eq!(run.status, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("no stack named nope"), "{}", run.stderr);
}
