//! `ebhook teardown`: remove a stack and its artifact, and confirm nothing of it is left.

use aws_sdk_lambda::error::ProvideErrorMetadata;
use clap::Args;

use crate::artifacts;
use crate::aws::AwsError;
use crate::aws::aws_error;
use crate::commands::common::{AwsArgs, no_such_stack};
use crate::deploy;
use crate::error::Error;
use crate::stack;
use crate::ui::Ui;

#[derive(Debug, Args)]
pub struct TeardownArgs {
    /// The stack `ebhook init` created.
    #[arg(long)]
    pub stack_name: String,
    /// Delete without asking.
    #[arg(long, short)]
    pub yes: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

pub async fn run(args: TeardownArgs) -> Result<(), Error> {
    let ui = Ui::new(args.yes);
    let aws = args.aws.connect().await?;
    let Some(stack) = stack::describe(&aws, &args.stack_name).await? else {
        return Err(no_such_stack(&aws, &args.stack_name));
    };
    if !stack.outputs.contains_key(stack::OUTPUT_PROVIDER)
        && !stack.tags.contains_key(stack::TAG_PROVIDER)
    {
        return Err(Error::NotEbhookStack(stack.name.clone()));
    }
    let function = stack.outputs.get(stack::OUTPUT_FUNCTION_NAME).cloned();
    let secret = stack.outputs.get(stack::OUTPUT_SECRET_ARN).cloned();
    let bucket = stack.parameters.get(stack::PARAM_CODE_BUCKET).cloned();
    let key = stack.parameters.get(stack::PARAM_CODE_KEY).cloned();
    let bus = stack.outputs.get(stack::OUTPUT_EVENT_BUS_NAME).cloned();
    let payloads = stack.outputs.get(stack::OUTPUT_PAYLOAD_BUCKET).cloned();
    // Best effort: a stack half-made may have no queue to count.
    let waiting = match stack.outputs.get(stack::OUTPUT_DEAD_LETTER_QUEUE_URL) {
        Some(url) => super::replay::queue_depth(&aws, url)
            .await
            .unwrap_or_else(|e| {
                ui.note(format!("could not count its dead letters: {e}"));
                (0, 0)
            }),
        None => (0, 0),
    };

    ui.step(format!(
        "This deletes stack {} in {}: its function, URL, role, secret, log group{}.",
        stack.name,
        aws.region(),
        if stack
            .parameters
            .get(stack::PARAM_EVENT_BUS_NAME)
            .is_some_and(|b| !b.is_empty())
        {
            " (the existing bus it forwards to is kept)"
        } else {
            " and the event bus it created"
        }
    ));
    if payloads.is_some() {
        ui.note("Its dead-letter queue and payload bucket (with what is stored in it) go too.");
    }
    if waiting.0 + waiting.1 > 0 {
        ui.note(format!(
            "{} deliveries are waiting in its dead-letter queue and would be lost: run `ebhook replay --stack-name {}` first to put them on the bus.",
            waiting.0 + waiting.1,
            stack.name
        ));
    }
    if !ui.confirm("Delete it?")? {
        return Err(Error::Cancelled("deleted"));
    }
    // A stack mid-change is waited for first; then deleted with live progress.
    let stack = deploy::settle(&aws, &ui, &stack.name)
        .await?
        .unwrap_or(stack);
    if stack::describe(&aws, &stack.name).await?.is_some() {
        // CloudFormation cannot delete a bucket that still holds objects.
        if let Some(bucket) = &payloads {
            let removed = empty_bucket(&aws, bucket).await?;
            if removed > 0 {
                ui.note(format!("removed {removed} stored payloads from {bucket}"));
            }
        }
        deploy::delete(&aws, &ui, &stack).await?;
    }

    if let (Some(bucket), Some(key)) = (&bucket, &key)
        && !key_used_elsewhere(&aws, &stack.name, key).await?
        && artifacts::exists(&aws, bucket, key).await?
    {
        artifacts::remove(&aws, bucket, key).await?;
        ui.note(format!("removed artifact s3://{bucket}/{key}"));
    }

    // Confirm, rather than assume, that nothing is left.
    let mut left = Vec::new();
    if stack::describe(&aws, &stack.name).await?.is_some() {
        left.push(format!("stack {}", stack.name));
    }
    if let Some(name) = &function {
        match aws.lambda.get_function().function_name(name).send().await {
            Ok(_) => left.push(format!("function {name}")),
            Err(e) if e.code() == Some("ResourceNotFoundException") => {}
            Err(e) => return Err(aws_error("checking the function is gone", &e).into()),
        }
    }
    if let Some(arn) = &secret {
        match aws.secrets.describe_secret().secret_id(arn).send().await {
            Ok(s) if s.deleted_date().is_none() => left.push(format!("secret {arn}")),
            Ok(_) => {}
            Err(e) if e.code() == Some("ResourceNotFoundException") => {}
            Err(e) => return Err(aws_error("checking the secret is gone", &e).into()),
        }
    }
    if let (Some(bucket), Some(key)) = (&bucket, &key)
        && !key_used_elsewhere(&aws, &stack.name, key).await?
        && artifacts::exists(&aws, bucket, key).await?
    {
        left.push(format!("artifact s3://{bucket}/{key}"));
    }
    if let Some(bucket) = &payloads {
        let owner = aws.account_id().await?;
        match aws
            .s3
            .head_bucket()
            .bucket(bucket)
            .expected_bucket_owner(owner)
            .send()
            .await
        {
            Ok(_) => left.push(format!("bucket {bucket}")),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {}
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {}
            Err(e) => return Err(aws_error("checking the payload bucket is gone", &e).into()),
        }
    }
    if !left.is_empty() {
        return Err(Error::LeftBehind(left));
    }
    ui.step(format!(
        "Removed {}; nothing of it is left{}.",
        stack.name,
        bus.map(|b| format!(" (bus {b} handled as above)"))
            .unwrap_or_default()
    ));
    Ok(())
}

/// Delete every object version and delete marker in `bucket` (it is versioned, and S3 deletes
/// only an empty bucket); how many objects there were.
async fn empty_bucket(aws: &crate::aws::Aws, bucket: &str) -> Result<usize, Error> {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    let listing = format!("listing s3://{bucket}");
    let mut removed = 0;
    let owner = aws.account_id().await?;
    let (mut key_marker, mut version_marker) = (None, None);
    loop {
        let page = aws
            .s3
            .list_object_versions()
            .bucket(bucket)
            .expected_bucket_owner(&owner)
            .set_key_marker(key_marker.take())
            .set_version_id_marker(version_marker.take())
            .send()
            .await
            .map_err(|e| aws_error(&listing, &e))?;
        removed += page
            .versions()
            .iter()
            .filter(|v| v.is_latest() == Some(true))
            .count();
        let versions = page
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                page.delete_markers()
                    .iter()
                    .map(|m| (m.key(), m.version_id())),
            )
            .map(|(key, version)| {
                ObjectIdentifier::builder()
                    .set_key(key.map(str::to_owned))
                    .set_version_id(version.map(str::to_owned))
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AwsError {
                action: listing.clone(),
                detail: format!("S3 listed an object without a key ({e}); run teardown again"),
            })?;
        if !versions.is_empty() {
            let delete = Delete::builder()
                .set_objects(Some(versions))
                .quiet(true)
                .build()
                .map_err(|e| {
                    Error::Bug(format!("building the request to empty s3://{bucket}: {e}"))
                })?;
            aws.s3
                .delete_objects()
                .bucket(bucket)
                .expected_bucket_owner(&owner)
                .delete(delete)
                .send()
                .await
                .map_err(|e| aws_error(&format!("emptying s3://{bucket}"), &e))?;
        }
        if page.is_truncated() != Some(true) {
            return Ok(removed);
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        version_marker = page.next_version_id_marker().map(str::to_owned);
        if key_marker.is_none() {
            return Err(AwsError {
                action: listing,
                detail: "S3 said there were more versions but gave no marker; run teardown again"
                    .to_owned(),
            }
            .into());
        }
    }
}

/// Another ebhook stack deployed from the same artifact keeps it.
async fn key_used_elsewhere(
    aws: &crate::aws::Aws,
    stack_name: &str,
    key: &str,
) -> Result<bool, AwsError> {
    let mut pages = aws.cloudformation.describe_stacks().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("listing stacks", &e))?;
        let used = page.stacks().iter().any(|s| {
            s.stack_name() != Some(stack_name)
                && s.parameters().iter().any(|p| {
                    p.parameter_key() == Some(stack::PARAM_CODE_KEY)
                        && p.parameter_value() == Some(key)
                })
        });
        if used {
            return Ok(true);
        }
    }
    Ok(false)
}
