//! The artifacts stack that every `init` shares: an older one is brought up to date, and
//! `--compliance control-tower` turns on Object Lock and access logs on it, in place, for good.

use std::collections::BTreeMap;

use crate::support::Moto;
use crate::support::cli::{ebhook, init_args};
use crate::support::moto::{assert_locked_and_logged, s3_client};
use crate::support::workspace_root;

const STACK: &str = "ebhook-artifacts";

struct Artifacts {
    bucket: String,
    parameters: BTreeMap<String, String>,
    tags: BTreeMap<String, String>,
    log_bucket: Option<String>,
}

async fn artifacts(conf: &aws_config::SdkConfig) -> Artifacts {
    let cfn = aws_sdk_cloudformation::Client::new(conf);
    let described = cfn
        .describe_stacks()
        .stack_name(STACK)
        .send()
        .await
        .unwrap();
    let stack = &described.stacks()[0];
    let bucket = stack
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some("BucketName"))
        .and_then(|o| o.output_value())
        .expect("the BucketName output")
        .to_owned();
    let parameters = stack
        .parameters()
        .iter()
        .filter_map(|p| {
            Some((
                p.parameter_key()?.to_owned(),
                p.parameter_value()?.to_owned(),
            ))
        })
        .collect();
    let tags = stack
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
        .collect();
    let resources = cfn
        .list_stack_resources()
        .stack_name(STACK)
        .send()
        .await
        .unwrap();
    let log_bucket = resources
        .stack_resource_summaries()
        .iter()
        .find(|r| r.logical_resource_id() == Some("AccessLogBucket"))
        .and_then(|r| r.physical_resource_id())
        .map(str::to_owned);
    Artifacts {
        bucket,
        parameters,
        tags,
        log_bucket,
    }
}

#[tokio::test]
async fn the_artifacts_stack_is_updated_in_place_and_compliance_is_never_lowered() {
    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    // An artifacts stack as an earlier ebhook left it: no template tag, and a zip in it.
    let template = std::fs::read_to_string(workspace_root().join("templates/artifacts.yaml"))
        .expect("the artifacts template");
    aws_sdk_cloudformation::Client::new(&conf)
        .create_stack()
        .stack_name(STACK)
        .template_body(template)
        .send()
        .await
        .unwrap();
    let before = artifacts(&conf).await;
    assert!(!before.tags.contains_key("ebhook:template-sha256"));
    let s3 = s3_client(&conf);
    s3.put_object()
        .bucket(&before.bucket)
        .key("ebhook/handler-old.zip")
        .body(b"old".to_vec().into())
        .send()
        .await
        .unwrap();

    let plain = ebhook(&moto, &init_args("it-art-plain", &[]), &[], None);
    plain.assert_ok();
    assert!(
        plain.stderr.contains("up to date"),
        "the old artifacts stack was not updated:\n{}",
        plain.stderr
    );
    let updated = artifacts(&conf).await;
    assert_eq!(updated.bucket, before.bucket, "the bucket was replaced");
    assert_eq!(updated.parameters["Compliance"], "none");
    assert!(
        updated.tags.contains_key("ebhook:template-sha256"),
        "{:?}",
        updated.tags
    );
    assert_eq!(updated.log_bucket, None);

    let strict = ebhook(
        &moto,
        &init_args("it-art-strict", &["--compliance", "control-tower"]),
        &[],
        None,
    );
    strict.assert_ok();
    let compliant = artifacts(&conf).await;
    assert_eq!(compliant.bucket, before.bucket, "the bucket was replaced");
    assert_eq!(compliant.parameters["Compliance"], "control-tower");
    let log_bucket = compliant.log_bucket.expect("the access log bucket");
    assert_locked_and_logged(&s3, &compliant.bucket, &log_bucket).await;
    // The old zip is still there: nothing was emptied or replaced.
    s3.head_object()
        .bucket(&compliant.bucket)
        .key("ebhook/handler-old.zip")
        .send()
        .await
        .expect("the zip from before the update");

    // Another stack without --compliance leaves the shared bucket as it is, with no update.
    let later = ebhook(&moto, &init_args("it-art-later", &[]), &[], None);
    later.assert_ok();
    assert!(
        !later.stderr.contains("artifacts bucket"),
        "the artifacts stack was deployed again:\n{}",
        later.stderr
    );
    assert_eq!(
        artifacts(&conf).await.parameters["Compliance"],
        "control-tower"
    );
}
