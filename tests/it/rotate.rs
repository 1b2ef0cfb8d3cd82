//! `ebhook rotate-secret` and `ebhook update-function` against moto, with the real handler
//! binary reading the stack's secret: zero-downtime rotation and drift-free code updates.

use std::time::Duration;

use ebhook_handler::providers::github;
use serde_json::Value;

use crate::support::cli::ebhook;
use crate::support::function_url::{HttpRequest, status};
use crate::support::moto::s3_client;
use crate::support::process::{prebuilt, rebuilt};
use crate::support::{Bootstrap, Moto, RuntimeApi};

fn ping(secret: &str) -> HttpRequest {
    let body = br#"{"zen":"Keep it logically awesome.","hook_id":7}"#;
    HttpRequest::post(
        &[
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "ping"),
            ("X-GitHub-Delivery", "d-1"),
        ],
        body.to_vec(),
    )
    .header(
        "X-Hub-Signature-256",
        &github::sign(secret.as_bytes(), body),
    )
}

async fn stored_secret(moto: &Moto, arn: &str) -> Value {
    let conf = moto.sdk_config().await;
    let out = aws_sdk_secretsmanager::Client::new(&conf)
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .unwrap();
    serde_json::from_str(out.secret_string().unwrap()).unwrap()
}

#[tokio::test]
async fn rotation_keeps_the_old_secret_for_the_grace_period_then_finish_ends_it() {
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
            "rot",
            "--yes",
            "--output",
            "json",
            "--secret-env",
            "S",
        ],
        &[("S", "one")],
        None,
    );
    init.assert_ok();
    let d = init.json();
    let secret_arn = d["secretArn"].as_str().unwrap().to_owned();

    // The deployed configuration, run as Lambda runs it; a 1 s refresh window keeps the test short.
    let runtime = RuntimeApi::start().await;
    let mut env = moto.env();
    for (k, v) in [
        ("EBHOOK_PROVIDER", "github"),
        ("EBHOOK_EVENT_BUS", d["eventBus"].as_str().unwrap()),
        ("EBHOOK_SECRET_ARN", secret_arn.as_str()),
        ("EBHOOK_SECRET_REFRESH_SECONDS", "1"),
        ("EBHOOK_SECRET_MIN_REFETCH_SECONDS", "600"),
    ] {
        env.push((k.to_owned(), v.to_owned()));
    }
    let handler = Bootstrap::spawn(&runtime.address(), &env);
    let send = |secret: &'static str| {
        let runtime = &runtime;
        async move { status(&runtime.invoke(ping(secret).to_event()).await.unwrap()) }
    };
    assert_eq!(send("one").await, 200, "{}", handler.output());

    let rotate = ebhook(
        &moto,
        &[
            "rotate-secret",
            "--stack-name",
            "rot",
            "--secret-env",
            "NEW",
            "--yes",
        ],
        &[("NEW", "two")],
        None,
    );
    rotate.assert_ok();
    assert!(
        rotate.stdout.contains("keeps verifying until"),
        "{}",
        rotate.stdout
    );
    assert!(
        !rotate.stdout.contains("two") && !rotate.stderr.contains("two"),
        "secret printed"
    );
    let stored = stored_secret(&moto, &secret_arn).await;
    assert_eq!(stored["current"], "two");
    assert_eq!(stored["previous"], "one");
    assert!(stored["previousExpiresAt"].is_string(), "{stored}");

    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        send("two").await,
        200,
        "new secret live within the refresh window"
    );
    assert_eq!(
        send("one").await,
        200,
        "old secret still verifies during the grace period"
    );

    let finish = ebhook(
        &moto,
        &["rotate-secret", "--stack-name", "rot", "--finish", "--yes"],
        &[],
        None,
    );
    finish.assert_ok();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(send("one").await, 401, "old secret refused after --finish");
    assert_eq!(send("two").await, 200);
    assert_eq!(
        stored_secret(&moto, &secret_arn).await,
        serde_json::json!({"current": "two"})
    );

    // init afterwards keeps the rotated secret.
    let again = ebhook(
        &moto,
        &[
            "init",
            "--bootstrap",
            prebuilt(),
            "--provider",
            "github",
            "--stack-name",
            "rot",
            "--yes",
            "--output",
            "json",
        ],
        &[],
        None,
    );
    again.assert_ok();
    assert_eq!(again.json()["outcome"], "unchanged");
    assert_eq!(
        stored_secret(&moto, &secret_arn).await,
        serde_json::json!({"current": "two"})
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(send("two").await, 200);
}

#[tokio::test]
async fn zendesk_first_secret_is_set_with_rotate_secret() {
    let moto = Moto::start();
    let init = ebhook(
        &moto,
        &[
            "init",
            "--bootstrap",
            prebuilt(),
            "--provider",
            "zendesk",
            "--stack-name",
            "zd",
            "--yes",
            "--output",
            "json",
        ],
        &[],
        None,
    );
    init.assert_ok();
    let arn = init.json()["secretArn"].as_str().unwrap().to_owned();
    let run = ebhook(
        &moto,
        &[
            "rotate-secret",
            "--stack-name",
            "zd",
            "--secret-stdin",
            "--yes",
        ],
        &[],
        Some("zd-secret\n"),
    );
    run.assert_ok();
    assert!(run.stdout.contains("no grace period"), "{}", run.stdout);
    assert_eq!(
        stored_secret(&moto, &arn).await,
        serde_json::json!({"current": "zd-secret"})
    );
    let refused = ebhook(&moto, &["rotate-secret", "--stack-name", "zd"], &[], None);
    assert_eq!(refused.status, Some(2), "{}", refused.stderr);
}

#[tokio::test]
async fn update_function_deploys_a_changed_handler_and_skips_an_unchanged_one() {
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
            "upd",
            "--yes",
            "--output",
            "json",
            "--secret-env",
            "S",
        ],
        &[("S", "s")],
        None,
    );
    init.assert_ok();
    let function = init.json()["function"].as_str().unwrap().to_owned();

    let same = ebhook(
        &moto,
        &[
            "update-function",
            "--bootstrap",
            prebuilt(),
            "--stack-name",
            "upd",
            "--yes",
            "--output",
            "json",
        ],
        &[],
        None,
    );
    same.assert_ok();
    assert_eq!(same.json()["outcome"], "unchanged", "{}", same.stderr);

    // Another build of the handler.
    let changed = ebhook(
        &moto,
        &[
            "update-function",
            "--bootstrap",
            rebuilt(),
            "--stack-name",
            "upd",
            "--yes",
            "--output",
            "json",
        ],
        &[],
        None,
    );
    changed.assert_ok();
    let out = changed.json();
    assert_eq!(out["outcome"], "updated", "{}", changed.stderr);
    let sha = out["artifactSha256"].as_str().unwrap().to_owned();

    // No drift: the stack names the new artifact and the function runs exactly that zip.
    let conf = moto.sdk_config().await;
    let stack = aws_sdk_cloudformation::Client::new(&conf)
        .describe_stacks()
        .stack_name("upd")
        .send()
        .await
        .unwrap();
    let key = stack.stacks()[0]
        .parameters()
        .iter()
        .find(|p| p.parameter_key() == Some("CodeS3Key"))
        .and_then(|p| p.parameter_value())
        .unwrap()
        .to_owned();
    assert_eq!(key, out["artifactKey"].as_str().unwrap());
    let code = aws_sdk_lambda::Client::new(&conf)
        .get_function_configuration()
        .function_name(&function)
        .send()
        .await
        .unwrap();
    let deployed = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        code.code_sha256().unwrap(),
    )
    .unwrap();
    let zip = s3_client(&conf);
    let bucket = stack.stacks()[0]
        .parameters()
        .iter()
        .find(|p| p.parameter_key() == Some("CodeS3Bucket"))
        .and_then(|p| p.parameter_value())
        .unwrap()
        .to_owned();
    let object = zip
        .get_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    let bytes = object.body.collect().await.unwrap().into_bytes();
    use sha2::Digest;
    assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), sha);
    assert_eq!(
        hex::encode(deployed),
        sha,
        "the function runs the artifact the stack names"
    );

    let again = ebhook(
        &moto,
        &[
            "update-function",
            "--bootstrap",
            rebuilt(),
            "--stack-name",
            "upd",
            "--yes",
            "--output",
            "json",
        ],
        &[],
        None,
    );
    again.assert_ok();
    assert_eq!(again.json()["outcome"], "unchanged");
}

#[tokio::test]
async fn every_new_provider_rotates_with_a_grace_period_and_says_what_to_do_there() {
    let moto = Moto::start();
    for provider in ebhook_handler::Provider::all() {
        let name = provider.as_str();
        if ["zendesk", "github", "twilio"].contains(&name) {
            continue; // The tests above.
        }
        let stack = format!("rot-{name}");
        let mut init_args = vec![
            "init",
            "--bootstrap",
            prebuilt(),
            "--provider",
            name,
            "--stack-name",
            &stack,
            "--yes",
            "--output",
            "json",
            "--secret-env",
            "S",
        ];
        if name == "generic" {
            init_args.extend(["--token-header", "X-Key"]);
        }
        let init = ebhook(
            &moto,
            &init_args,
            &[("S", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")],
            None,
        );
        init.assert_ok();
        let arn = init.json()["secretArn"].as_str().unwrap().to_owned();
        let rotate = ebhook(
            &moto,
            &[
                "rotate-secret",
                "--stack-name",
                &stack,
                "--secret-env",
                "NEW",
                "--yes",
            ],
            &[("NEW", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")],
            None,
        );
        rotate.assert_ok();
        assert!(
            rotate.stdout.contains("keeps verifying until"),
            "{name}: {}",
            rotate.stdout
        );
        assert!(
            rotate.stdout.contains(provider.after_rotation()),
            "{name}: {}",
            rotate.stdout
        );
        let stored = stored_secret(&moto, &arn).await;
        assert_eq!(
            stored["current"], "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "{name}"
        );
        assert_eq!(
            stored["previous"], "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "{name}"
        );
        assert!(stored["previousExpiresAt"].is_string(), "{name}: {stored}");
    }
}
