//! The artifacts bucket: one small stack per account and region (like SAM's managed bucket)
//! holding zipped handlers under content-hash keys.

use aws_sdk_s3::primitives::ByteStream;

use crate::aws::{Aws, AwsError, aws_error};
use crate::deploy::{self, Outcome, StackChange};
use crate::error::Error;
use crate::package::Artifact;
use crate::stack::{self, ARTIFACTS_OUTPUT_BUCKET, ARTIFACTS_TEMPLATE};
use crate::ui::Ui;

pub const STACK_NAME: &str = "ebhook-artifacts";

/// The bucket's name, creating its stack the first time.
pub async fn ensure_bucket(aws: &Aws, ui: &Ui) -> Result<String, Error> {
    if let Some(stack) = stack::describe(aws, STACK_NAME).await?
        && let Some(bucket) = stack.outputs.get(ARTIFACTS_OUTPUT_BUCKET)
        && matches!(stack.status.as_str(), "CREATE_COMPLETE" | "UPDATE_COMPLETE")
    {
        return Ok(bucket.clone());
    }
    ui.step(format!(
        "Creating the artifacts bucket for {} (stack {STACK_NAME}, once per account and region)",
        aws.region()
    ));
    let change = StackChange {
        stack_name: STACK_NAME,
        template: Some(ARTIFACTS_TEMPLATE),
        parameters: Vec::new(),
        tags: vec![("ebhook:role", "artifacts".to_owned())],
        description: "ebhook artifacts bucket",
        ask: false,
    };
    let (outcome, stack) = deploy::apply(aws, ui, &change).await?;
    if outcome == Outcome::Unchanged {
        ui.note("artifacts stack already up to date");
    }
    Ok(stack.output(ARTIFACTS_OUTPUT_BUCKET)?.to_owned())
}

/// Upload unless an object with this content hash is already there.
pub async fn upload(
    aws: &Aws,
    ui: &Ui,
    bucket: &str,
    artifact: &Artifact,
) -> Result<bool, AwsError> {
    let key = artifact.key();
    if exists(aws, bucket, &key).await? {
        ui.note(format!(
            "handler {} already uploaded",
            short(&artifact.sha256)
        ));
        return Ok(false);
    }
    aws.s3
        .put_object()
        .bucket(bucket)
        .key(&key)
        .content_type("application/zip")
        .body(ByteStream::from(artifact.zip.clone()))
        .send()
        .await
        .map_err(|e| aws_error(&format!("uploading the handler to s3://{bucket}/{key}"), &e))?;
    ui.note(format!(
        "uploaded handler {} ({} KiB)",
        short(&artifact.sha256),
        artifact.zip.len() / 1024
    ));
    Ok(true)
}

pub async fn exists(aws: &Aws, bucket: &str, key: &str) -> Result<bool, AwsError> {
    match aws.s3.head_object().bucket(bucket).key(key).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(false),
        Err(e) => Err(aws_error(&format!("checking s3://{bucket}/{key}"), &e)),
    }
}

pub async fn remove(aws: &Aws, bucket: &str, key: &str) -> Result<(), AwsError> {
    aws.s3
        .delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| aws_error(&format!("deleting s3://{bucket}/{key}"), &e))?;
    Ok(())
}

pub fn short(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
}
