//! The artifacts bucket: one small stack per account and region (like SAM's managed bucket)
//! holding zipped handlers under content-hash keys.

use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, ChecksumType};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};

use crate::aws::{Aws, AwsError, aws_error, s3_error};
use crate::cli::Compliance;
use crate::deploy::{self, Outcome, ParamValue, StackChange};
use crate::error::Error;
use crate::package::Artifact;
use crate::stack::{self, ARTIFACTS_OUTPUT_BUCKET, ARTIFACTS_TEMPLATE, PARAM_COMPLIANCE, Stack};
use crate::ui::Ui;

pub const STACK_NAME: &str = "ebhook-artifacts";

/// The artifacts stack's tag holding the SHA-256 of the template it was deployed from: a newer
/// ebhook brings the stack up to date, an unchanged one skips the change set.
const TAG_TEMPLATE: &str = "ebhook:template-sha256";

/// What the artifacts stack needs before use.
#[derive(Debug, PartialEq, Eq)]
enum Deploy<'a> {
    /// Nothing: it is current; its bucket.
    Ready(&'a str),
    /// No stack yet, or one that never finished creating.
    Create,
    /// The stack is from another template (an older ebhook) or lacks the compliance asked for.
    Update,
}

/// The compliance the artifacts stack must have: the one asked for, but never lowered, since
/// the bucket serves every stack of the account and region and Object Lock cannot be undone.
fn wanted_compliance(stack: Option<&Stack>, asked: Compliance) -> Compliance {
    let deployed = stack.and_then(|s| s.parameters.get(PARAM_COMPLIANCE));
    if deployed.map(String::as_str) == Some(Compliance::ControlTower.parameter_value()) {
        Compliance::ControlTower
    } else {
        asked
    }
}

fn decide<'a>(stack: Option<&'a Stack>, template_sha256: &str, wanted: Compliance) -> Deploy<'a> {
    let Some((stack, bucket)) =
        stack.and_then(|s| Some((s, s.outputs.get(ARTIFACTS_OUTPUT_BUCKET)?)))
    else {
        return Deploy::Create;
    };
    let settled = matches!(
        stack.status.as_str(),
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE"
    );
    let same_template = stack.tags.get(TAG_TEMPLATE).map(String::as_str) == Some(template_sha256);
    let compliance = stack
        .parameters
        .get(PARAM_COMPLIANCE)
        .map_or(Compliance::None.parameter_value(), String::as_str);
    if settled && same_template && compliance == wanted.parameter_value() {
        Deploy::Ready(bucket)
    } else {
        Deploy::Update
    }
}

/// The bucket's name, creating its stack the first time and bringing it up to date (a newer
/// template, or `--compliance control-tower` on a stack made without it).
pub async fn ensure_bucket(aws: &Aws, ui: &Ui, asked: Compliance) -> Result<String, Error> {
    let template_sha256 = hex::encode(Sha256::digest(ARTIFACTS_TEMPLATE.as_bytes()));
    let deployed = stack::describe(aws, STACK_NAME).await?;
    let wanted = wanted_compliance(deployed.as_ref(), asked);
    match decide(deployed.as_ref(), &template_sha256, wanted) {
        Deploy::Ready(bucket) => return Ok(bucket.to_owned()),
        Deploy::Create => ui.step(format!(
            "Creating the artifacts bucket for {} (stack {STACK_NAME}, once per account and region)",
            aws.region()
        )),
        Deploy::Update => ui.step(format!(
            "Bringing the artifacts bucket's stack {STACK_NAME} up to date (compliance {})",
            wanted.parameter_value()
        )),
    }
    let change = StackChange {
        stack_name: STACK_NAME,
        template: Some(ARTIFACTS_TEMPLATE),
        parameters: vec![(
            PARAM_COMPLIANCE,
            ParamValue::Value(wanted.parameter_value().to_owned()),
        )],
        tags: vec![
            ("ebhook:role", "artifacts".to_owned()),
            (TAG_TEMPLATE, template_sha256),
        ],
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
    use super::*;

    fn deployed(compliance: Option<&str>, template: Option<&str>) -> Stack {
        let mut stack = Stack {
            status: "CREATE_COMPLETE".to_owned(),
            ..Stack::default()
        };
        stack
            .outputs
            .insert(ARTIFACTS_OUTPUT_BUCKET.to_owned(), "bucket".to_owned());
        if let Some(c) = compliance {
            stack
                .parameters
                .insert(PARAM_COMPLIANCE.to_owned(), c.to_owned());
        }
        if let Some(t) = template {
            stack.tags.insert(TAG_TEMPLATE.to_owned(), t.to_owned());
        }
        stack
    }

    #[test]
    fn the_artifacts_stack_is_deployed_only_when_behind() {
        let none = Compliance::None;
        let tower = Compliance::ControlTower;
        assert_eq!(decide(None, "t1", none), Deploy::Create);
        let current = deployed(Some("none"), Some("t1"));
        assert_eq!(decide(Some(&current), "t1", none), Deploy::Ready("bucket"));
        // A newer template, or a stack from before the tag existed.
        assert_eq!(decide(Some(&current), "t2", none), Deploy::Update);
        let untagged = deployed(None, None);
        assert_eq!(decide(Some(&untagged), "t1", none), Deploy::Update);
        // Compliance asked of a stack without it.
        assert_eq!(decide(Some(&current), "t1", tower), Deploy::Update);
        // A creation that failed, and one still running: no bucket output.
        let failed = Stack {
            status: "ROLLBACK_COMPLETE".to_owned(),
            ..Stack::default()
        };
        assert_eq!(decide(Some(&failed), "t1", none), Deploy::Create);
        let mut rolled_back = deployed(Some("none"), Some("t1"));
        rolled_back.status = "UPDATE_ROLLBACK_COMPLETE".to_owned();
        assert_eq!(
            decide(Some(&rolled_back), "t1", none),
            Deploy::Ready("bucket")
        );
    }

    #[test]
    fn compliance_of_the_artifacts_stack_is_never_lowered() {
        let tower = deployed(Some("control-tower"), Some("t1"));
        let plain = deployed(Some("none"), Some("t1"));
        assert_eq!(
            wanted_compliance(Some(&tower), Compliance::None),
            Compliance::ControlTower
        );
        assert_eq!(
            wanted_compliance(Some(&plain), Compliance::ControlTower),
            Compliance::ControlTower
        );
        assert_eq!(
            wanted_compliance(Some(&plain), Compliance::None),
            Compliance::None
        );
        assert_eq!(wanted_compliance(None, Compliance::None), Compliance::None);
        let kept = wanted_compliance(Some(&tower), Compliance::None);
        assert_eq!(decide(Some(&tower), "t1", kept), Deploy::Ready("bucket"));
    }

    #[test]
    fn artifact_keys_name_their_hash() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(key_sha256(&format!("ebhook/handler-{hex}.zip")), Some(hex));
        assert_eq!(key_sha256("ebhook/handler-xyz.zip"), None);
        assert_eq!(key_sha256("other/handler.zip"), None);
        assert_eq!(
            describe_code(Some("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")),
            "sha256 e3b0c44298fc"
        );
        assert_eq!(describe_code(None), "no code hash");
    }
}
