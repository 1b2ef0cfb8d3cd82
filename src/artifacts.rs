//! The artifacts bucket: one small stack per account and region (like SAM's managed bucket)
//! holding zipped handlers under content-hash keys.

use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, ChecksumType};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};

use crate::aws::{Aws, AwsError, aws_error, s3_error};
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

/// Upload unless an object of this key is already there, and then only if it holds exactly
/// this zip: the key names the content, but S3 does not enforce that, so anyone who can write to
/// the bucket could have put other code under it.
pub async fn upload(aws: &Aws, ui: &Ui, bucket: &str, artifact: &Artifact) -> Result<bool, Error> {
    let key = artifact.key();
    let owner = aws.account_id().await?;
    let checksum = artifact.sha256_base64();
    let stored = match head(aws, bucket, &key, &owner, true).await? {
        Some(stored) => stored,
        None => {
            let put = aws
                .s3
                .put_object()
                .bucket(bucket)
                .key(&key)
                .expected_bucket_owner(&owner)
                .content_type("application/zip")
                // S3 refuses the upload if the bytes it got are not these, and keeps the
                // checksum for HeadObject to give back when the key is reused.
                .checksum_algorithm(ChecksumAlgorithm::Sha256)
                .checksum_sha256(&checksum)
                // Never replace an object that appeared since the check above.
                .if_none_match("*")
                .body(ByteStream::from(artifact.zip.clone()))
                .send()
                .await;
            match put {
                Ok(_) => {
                    ui.note(format!(
                        "uploaded handler {} ({} KiB)",
                        short(&artifact.sha256),
                        artifact.zip.len() / 1024
                    ));
                    return Ok(true);
                }
                // Someone uploaded the same key meanwhile: checked below like any existing
                // object.
                Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 412) => {
                    head(aws, bucket, &key, &owner, true).await?.ok_or_else(|| AwsError {
                        action: format!("uploading the handler to s3://{bucket}/{key}"),
                        detail: "S3 said the key was taken, then that it was not; run the                                  command again"
                            .to_owned(),
                    })?
                }
                Err(e) => {
                    return Err(s3_error(
                        &format!("uploading the handler to s3://{bucket}/{key}"),
                        &e,
                        &owner,
                    )
                    .into());
                }
            }
        }
    };
    verify(aws, bucket, &key, artifact, &owner, &stored).await?;
    ui.note(format!(
        "handler {} already uploaded (content checked)",
        short(&artifact.sha256)
    ));
    Ok(false)
}

/// The object at `key` holds exactly `artifact`'s zip: by the SHA-256 checksum S3 keeps for it
/// (`stored`, its HeadObject), or, for an object stored without one, by hashing what S3 sends
/// back.
async fn verify(
    aws: &Aws,
    bucket: &str,
    key: &str,
    artifact: &Artifact,
    owner: &str,
    stored: &HeadObjectOutput,
) -> Result<(), Error> {
    // A whole-object checksum only: a multipart upload's is a checksum of checksums.
    let whole = stored
        .checksum_sha256()
        .filter(|c| !c.contains('-'))
        .filter(|_| stored.checksum_type() != Some(&ChecksumType::Composite));
    let found = match whole {
        Some(checksum) => checksum.to_owned(),
        None => {
            let object = aws
                .s3
                .get_object()
                .bucket(bucket)
                .key(key)
                .expected_bucket_owner(owner)
                .send()
                .await
                .map_err(|e| s3_error(&format!("reading s3://{bucket}/{key}"), &e, owner))?;
            let bytes = object
                .body
                .collect()
                .await
                .map_err(|e| AwsError {
                    action: format!("reading s3://{bucket}/{key}"),
                    detail: format!("{e}; check your network and try again"),
                })?
                .into_bytes();
            B64.encode(Sha256::digest(&bytes))
        }
    };
    if found != artifact.sha256_base64() {
        return Err(Error::ArtifactMismatch {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        });
    }
    Ok(())
}

pub async fn exists(aws: &Aws, bucket: &str, key: &str) -> Result<bool, AwsError> {
    let owner = aws.account_id().await?;
    Ok(head(aws, bucket, key, &owner, false).await?.is_some())
}

/// The object at `key` (with its stored checksum when `checksum`); `None` when there is none.
async fn head(
    aws: &Aws,
    bucket: &str,
    key: &str,
    owner: &str,
    checksum: bool,
) -> Result<Option<HeadObjectOutput>, AwsError> {
    match aws
        .s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .expected_bucket_owner(owner)
        .set_checksum_mode(checksum.then_some(ChecksumMode::Enabled))
        .send()
        .await
    {
        Ok(head) => Ok(Some(head)),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
        Err(e) => Err(s3_error(
            &format!("checking s3://{bucket}/{key}"),
            &e,
            owner,
        )),
    }
}

pub async fn remove(aws: &Aws, bucket: &str, key: &str) -> Result<(), AwsError> {
    let owner = aws.account_id().await?;
    aws.s3
        .delete_object()
        .bucket(bucket)
        .key(key)
        .expected_bucket_owner(&owner)
        .send()
        .await
        .map_err(|e| s3_error(&format!("deleting s3://{bucket}/{key}"), &e, &owner))?;
    Ok(())
}

pub fn short(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
}

/// The SHA-256 of the code a function runs (Lambda's `CodeSha256`, base64), to hold it to the
/// artifact ebhook deployed: code changed behind ebhook's back shows up here.
pub async fn deployed_code(aws: &Aws, function: &str) -> Result<Option<String>, AwsError> {
    let conf = aws
        .lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .map_err(|e| aws_error(&format!("reading function {function}"), &e))?;
    Ok(conf.code_sha256().map(str::to_owned))
}

/// Put the artifact's code back on a function whose code no longer matches it.
pub async fn restore_code(
    aws: &Aws,
    function: &str,
    bucket: &str,
    key: &str,
) -> Result<(), AwsError> {
    aws.lambda
        .update_function_code()
        .function_name(function)
        .s3_bucket(bucket)
        .s3_key(key)
        .send()
        .await
        .map_err(|e| aws_error(&format!("restoring the code of function {function}"), &e))?;
    Ok(())
}

/// A code hash as Lambda gives it (base64), shown as ebhook names artifacts: short hex.
pub fn describe_code(base64_digest: Option<&str>) -> String {
    base64_digest.and_then(|d| B64.decode(d).ok()).map_or_else(
        || "no code hash".to_owned(),
        |d| format!("sha256 {}", short(&hex::encode(d))),
    )
}

/// The hex SHA-256 an artifact key names (`ebhook/handler-<sha256>.zip`).
pub fn key_sha256(key: &str) -> Option<&str> {
    key.strip_prefix("ebhook/handler-")?
        .strip_suffix(".zip")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn artifact_keys_name_their_hash() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            super::key_sha256(&format!("ebhook/handler-{hex}.zip")),
            Some(hex)
        );
        assert_eq!(super::key_sha256("ebhook/handler-xyz.zip"), None);
        assert_eq!(super::key_sha256("other/handler.zip"), None);
        assert_eq!(
            super::describe_code(Some("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")),
            "sha256 e3b0c44298fc"
        );
        assert_eq!(super::describe_code(None), "no code hash");
    }
}
