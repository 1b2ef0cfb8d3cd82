//! What runs is what ebhook built: an artifact planted under the key of a build is refused
//! before anything is deployed, every S3 call names the account the bucket must belong to, and
//! code changed behind ebhook's back is reported by `status` and `init` and put back by
//! `update-function`.

use serde_json::Value;

use crate::support::cli::{Run, ebhook};
use crate::support::moto::s3_client;
use crate::support::process::prebuilt;
use crate::support::{Moto, workspace_root};

const STACK: &str = "it-code";

fn init(moto: &Moto, stack: &str) -> Run {
    ebhook(
        moto,
        &[
            "init",
            "--provider",
            "github",
            "--stack-name",
            stack,
            "--bootstrap",
            prebuilt(),
            "--secret-env",
            "IT_SECRET",
            "--yes",
            "--output",
            "json",
        ],
        &[("IT_SECRET", "code-secret")],
        None,
    )
}

fn status(moto: &Moto) -> Value {
    let run = ebhook(
        moto,
        &["status", "--stack-name", STACK, "--output", "json"],
        &[],
        None,
    );
    run.assert_ok();
    run.json()
}

fn update_function(moto: &Moto) -> Run {
    ebhook(
        moto,
        &[
            "update-function",
            "--stack-name",
            STACK,
            "--bootstrap",
            prebuilt(),
            "--yes",
            "--output",
            "json",
        ],
        &[],
        None,
    )
}

/// A zip that is not ebhook's handler (any file will do for moto).
fn other_zip() -> Vec<u8> {
    let readme = std::fs::read(workspace_root().join("README.md")).unwrap();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("bootstrap", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut zip, &readme).unwrap();
    zip.finish().unwrap().into_inner()
}

async fn stack_exists(moto: &Moto, stack: &str) -> bool {
    let conf = moto.sdk_config().await;
    aws_sdk_cloudformation::Client::new(&conf)
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn code_changed_behind_ebhooks_back_is_reported_and_restored() {
    let moto = Moto::start();
    let first = init(&moto, STACK);
    first.assert_ok();
    assert_eq!(
        first.json()["codeMatchesArtifact"],
        true,
        "{}",
        first.stdout
    );
    let before = status(&moto);
    assert_eq!(before["codeMatchesArtifact"], true, "{before}");
    assert_eq!(
        before["artifactSha256"],
        first.json()["artifactSha256"],
        "{before}"
    );

    // Someone uploads other code straight to the function.
    let conf = moto.sdk_config().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);
    let function = before["function"].as_str().unwrap();
    lambda
        .update_function_code()
        .function_name(function)
        .zip_file(other_zip().into())
        .send()
        .await
        .unwrap();

    let drifted = status(&moto);
    assert_eq!(drifted["codeMatchesArtifact"], false, "{drifted}");
    assert_ne!(
        drifted["codeSha256"], drifted["artifactSha256"],
        "{drifted}"
    );
    let text = ebhook(&moto, &["status", "--stack-name", STACK], &[], None);
    text.assert_ok();
    assert!(
        text.stdout.contains("NOT the handler ebhook deployed")
            && text.stdout.contains("ebhook update-function"),
        "{}",
        text.stdout
    );

    // init changes nothing in the stack, but says the function runs other code.
    let again = init(&moto, STACK);
    again.assert_ok();
    assert_eq!(again.json()["outcome"], "unchanged", "{}", again.stderr);
    assert_eq!(
        again.json()["codeMatchesArtifact"],
        false,
        "{}",
        again.stdout
    );
    assert!(
        again.stderr.contains("runs other code") && again.stderr.contains("update-function"),
        "{}",
        again.stderr
    );

    // update-function puts the build back, even though the stack has not changed.
    let restored = update_function(&moto);
    restored.assert_ok();
    assert_eq!(restored.json()["codeRestored"], true, "{}", restored.stdout);
    let after = status(&moto);
    assert_eq!(after["codeMatchesArtifact"], true, "{after}");
    assert_eq!(after["codeSha256"], before["codeSha256"], "{after}");
    let unchanged = update_function(&moto);
    unchanged.assert_ok();
    assert_eq!(
        unchanged.json()["codeRestored"],
        false,
        "{}",
        unchanged.stdout
    );
    assert_eq!(
        unchanged.json()["outcome"],
        "unchanged",
        "{}",
        unchanged.stdout
    );
}

/// The artifacts bucket's name, from its stack.
async fn artifacts_bucket(moto: &Moto) -> String {
    let conf = moto.sdk_config().await;
    aws_sdk_cloudformation::Client::new(&conf)
        .describe_stacks()
        .stack_name("ebhook-artifacts")
        .send()
        .await
        .unwrap()
        .stacks()[0]
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some("BucketName"))
        .and_then(|o| o.output_value())
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_planted_artifact_is_refused_before_deploying() {
    let moto = Moto::start();
    let first = init(&moto, STACK);
    first.assert_ok();
    let sha256 = first.json()["artifactSha256"].as_str().unwrap().to_owned();
    let key = format!("ebhook/handler-{sha256}.zip");
    let conf = moto.sdk_config().await;
    let s3 = s3_client(&conf);
    let bucket = artifacts_bucket(&moto).await;

    // Other bytes under the key of this build: neither a new stack nor an update deploys them.
    s3.put_object()
        .bucket(&bucket)
        .key(&key)
        .body(other_zip().into())
        .send()
        .await
        .unwrap();
    let planted = init(&moto, "it-code-planted");
    assert_eq!(planted.status, Some(3), "{}", planted.stderr);
    assert!(
        planted.stderr.contains(&format!("s3://{bucket}/{key}"))
            && planted.stderr.contains("delete that object"),
        "{}",
        planted.stderr
    );
    assert!(!stack_exists(&moto, "it-code-planted").await);
    let update = update_function(&moto);
    assert_eq!(update.status, Some(3), "{}", update.stderr);
    assert!(
        update.stderr.contains("delete that object"),
        "{}",
        update.stderr
    );

    // Once the object is gone, the build is uploaded again and deployed.
    s3.delete_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    init(&moto, "it-code-planted").assert_ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_artifacts_bucket_of_another_account_is_refused_before_deploying() {
    let moto = Moto::start();
    init(&moto, STACK).assert_ok();
    let conf = moto.sdk_config().await;
    let s3 = s3_client(&conf);
    let bucket = artifacts_bucket(&moto).await;

    // The artifacts bucket now stands for a bucket of that name in another account (the
    // emulator's owner tag): S3 refuses every call that names this account as the owner.
    s3.put_bucket_tagging()
        .bucket(&bucket)
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(
                    aws_sdk_s3::types::Tag::builder()
                        .key("ebhook-emulator:owner")
                        .value("111111111111")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let foreign = init(&moto, "it-code-foreign");
    assert_eq!(foreign.status, Some(3), "{}", foreign.stderr);
    assert!(
        foreign.stderr.contains("403") && foreign.stderr.contains("not in account 123456789012"),
        "{}",
        foreign.stderr
    );
    assert!(!stack_exists(&moto, "it-code-foreign").await);
}
