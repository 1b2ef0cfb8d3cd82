//! Creating, updating and deleting stacks the way a careful person would: through a change set
//! that is shown before it is applied, with stack events streamed as they happen, and with
//! nothing left half-made when something fails.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::primitives::DateTime;
use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Parameter, StackEvent};

use crate::aws::{Aws, AwsError, aws_error, is_missing_stack};
use crate::error::Error;
use crate::stack::{Stack, describe};
use crate::ui::{Spinner, Ui};

/// A change CloudFormation did not make, or a stack it left where ebhook cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("CloudFormation rejected the change to {stack}: {reason}; fix the cause and run again")]
    Rejected { stack: String, reason: String },
    #[error(
        "deploying {stack} failed: {cause}. The stack was rolled back and removed; fix the cause \
         and run again."
    )]
    CreateFailed { stack: String, cause: String },
    #[error(
        "updating {stack} failed: {cause}. CloudFormation rolled back; the previous version keeps \
         serving. Fix the cause and run again."
    )]
    UpdateFailed { stack: String, cause: String },
    #[error(
        "deleting {stack} ended in {status}: {reason}. Look at its events in the CloudFormation \
         console, then run `ebhook teardown --stack-name {stack}` again"
    )]
    DeleteFailed {
        stack: String,
        status: String,
        reason: String,
    },
    #[error(
        "stack {0} is DELETE_FAILED: run `ebhook teardown --stack-name {0}` to retry the delete, or \
         look at its events in the CloudFormation console"
    )]
    StuckDeleting(String),
    #[error(
        "stack {0} is UPDATE_ROLLBACK_FAILED: continue the rollback in the CloudFormation console \
         (or `aws cloudformation continue-update-rollback --stack-name {0}`), then run again"
    )]
    StuckRollingBack(String),
    #[error(
        "CloudFormation said nothing changed for stack {0}, which does not exist; run the command \
         again"
    )]
    VanishedStack(String),
}

/// CloudFormation's own waiters poll every 30 s or more; progress wants faster.
const POLL: Duration = Duration::from_millis(1000);

/// A parameter's value for a change set: a new value, or "keep what the stack has" (used for
/// the secret, so re-running `init` never changes it).
#[derive(Clone, Debug)]
pub enum ParamValue {
    Value(String),
    Previous,
}

pub struct StackChange<'a> {
    pub stack_name: &'a str,
    /// The template to deploy; `None` keeps the stack's current one (code or secret changes).
    pub template: Option<&'a str>,
    pub parameters: Vec<(&'a str, ParamValue)>,
    pub tags: Vec<(&'a str, String)>,
    pub description: &'a str,
    /// Ask before applying (the person's own stack); infrastructure ebhook manages for itself,
    /// like the artifacts bucket, is shown but not asked about.
    pub ask: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

fn in_progress(status: &str) -> bool {
    status.ends_with("_IN_PROGRESS") && status != "REVIEW_IN_PROGRESS"
}

/// Bring a stack to a state a change can start from: wait out an operation still running (a
/// deploy interrupted with Ctrl-C, say), and remove a stack whose first create failed.
pub async fn settle(aws: &Aws, ui: &Ui, name: &str) -> Result<Option<Stack>, Error> {
    let Some(mut stack) = describe(aws, name).await? else {
        return Ok(None);
    };
    if in_progress(&stack.status) {
        ui.step(format!(
            "Stack {name} is busy ({}); waiting for it to finish",
            stack.status
        ));
        watch(aws, ui, &stack.id, None).await?;
        stack = match describe(aws, name).await? {
            Some(s) => s,
            None => return Ok(None),
        };
    }
    match stack.status.as_str() {
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "REVIEW_IN_PROGRESS" => {
            ui.step(format!(
                "Stack {name} never finished its first create ({}); removing it before starting again",
                stack.status
            ));
            delete(aws, ui, &stack).await?;
            Ok(None)
        }
        "DELETE_FAILED" => Err(DeployError::StuckDeleting(name.to_owned()).into()),
        "UPDATE_ROLLBACK_FAILED" => Err(DeployError::StuckRollingBack(name.to_owned()).into()),
        _ => Ok(Some(stack)),
    }
}

/// One line of a change set, for the person to read before it is applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeLine {
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    pub replacement: Option<String>,
}

impl std::fmt::Display for ChangeLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<8} {:<24} {}",
            self.action, self.logical_id, self.resource_type
        )?;
        match self.replacement.as_deref() {
            Some("True") => write!(f, " (replaced)"),
            Some("Conditional") => write!(f, " (may be replaced)"),
            _ => Ok(()),
        }
    }
}

/// Whether a failed change set only says there was nothing to change.
fn no_changes(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}

/// Every parameter of `stack` kept as it is, except those in `changed`: an update with the
/// previous template must list them all, or CloudFormation falls back to the defaults.
pub fn keep_parameters<'a>(
    stack: &'a Stack,
    changed: Vec<(&'a str, ParamValue)>,
) -> Vec<(&'a str, ParamValue)> {
    let mut parameters: Vec<(&str, ParamValue)> = stack
        .parameters
        .keys()
        .filter(|k| !changed.iter().any(|(c, _)| c == k))
        .map(|k| (k.as_str(), ParamValue::Previous))
        .collect();
    parameters.extend(changed);
    parameters
}

/// Create or update `change.stack_name` through a change set; shows it, asks (unless --yes),
/// applies it with live events. A failed create is rolled back and removed.
pub async fn apply(
    aws: &Aws,
    ui: &Ui,
    change: &StackChange<'_>,
) -> Result<(Outcome, Stack), Error> {
    let existing = settle(aws, ui, change.stack_name).await?;
    let kind = if existing.is_some() {
        ChangeSetType::Update
    } else {
        ChangeSetType::Create
    };
    let set_name = format!(
        "ebhook-{}",
        time::OffsetDateTime::now_utc().unix_timestamp()
    );
    let parameters: Vec<Parameter> = change
        .parameters
        .iter()
        .map(|(key, value)| match value {
            ParamValue::Value(v) => Parameter::builder()
                .parameter_key(*key)
                .parameter_value(v)
                .build(),
            ParamValue::Previous => Parameter::builder()
                .parameter_key(*key)
                .use_previous_value(true)
                .build(),
        })
        .collect();
    let tags = change
        .tags
        .iter()
        .map(|(k, v)| {
            aws_sdk_cloudformation::types::Tag::builder()
                .key(*k)
                .value(v)
                .build()
        })
        .collect();
    let created = aws
        .cloudformation
        .create_change_set()
        .stack_name(change.stack_name)
        .change_set_name(&set_name)
        .change_set_type(kind.clone())
        .set_template_body(change.template.map(str::to_owned))
        .set_use_previous_template(change.template.is_none().then_some(true))
        .set_parameters(Some(parameters))
        .set_tags(Some(tags))
        .capabilities(Capability::CapabilityIam)
        .description(change.description)
        .send()
        .await;
    let created = match created {
        Ok(out) => out,
        // Older CloudFormation behaviour (and moto): an error instead of a FAILED change set.
        Err(e) if e.message().is_some_and(no_changes) => {
            let stack =
                existing.ok_or_else(|| DeployError::VanishedStack(change.stack_name.to_owned()))?;
            return Ok((Outcome::Unchanged, stack));
        }
        Err(e) => {
            return Err(aws_error(
                &format!("creating a change set for {}", change.stack_name),
                &e,
            )
            .into());
        }
    };
    let set_id = created.id().unwrap_or(&set_name).to_owned();
    let stack_id = created.stack_id().unwrap_or(change.stack_name).to_owned();

    let spinner = ui.spinner("Working out what will change");
    let (lines, status, reason) = loop {
        let out = aws
            .cloudformation
            .describe_change_set()
            .change_set_name(&set_id)
            .stack_name(&stack_id)
            .send()
            .await
            .map_err(|e| aws_error("reading the change set", &e))?;
        let status = out
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        if status != "CREATE_PENDING" && status != "CREATE_IN_PROGRESS" {
            let lines = out
                .changes()
                .iter()
                .filter_map(|c| c.resource_change())
                .map(|r| ChangeLine {
                    action: r
                        .action()
                        .map(|a| a.as_str().to_owned())
                        .unwrap_or_default(),
                    logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                    resource_type: r.resource_type().unwrap_or_default().to_owned(),
                    replacement: r.replacement().map(|x| x.as_str().to_owned()),
                })
                .collect::<Vec<_>>();
            break (
                lines,
                status,
                out.status_reason().unwrap_or_default().to_owned(),
            );
        }
        tokio::time::sleep(POLL).await;
    };
    drop(spinner);

    if status == "FAILED" {
        discard(aws, &set_id, &stack_id, existing.is_none()).await;
        if no_changes(&reason) {
            let stack =
                existing.ok_or_else(|| DeployError::VanishedStack(change.stack_name.to_owned()))?;
            return Ok((Outcome::Unchanged, stack));
        }
        return Err(DeployError::Rejected {
            stack: change.stack_name.to_owned(),
            reason,
        }
        .into());
    }

    ui.step(format!(
        "Changes to stack {} ({}):",
        change.stack_name,
        if existing.is_some() {
            "update"
        } else {
            "create"
        }
    ));
    for line in &lines {
        ui.note(line.to_string());
    }
    if change.ask && !ui.confirm("Apply these changes?")? {
        discard(aws, &set_id, &stack_id, existing.is_none()).await;
        return Err(Error::Cancelled("changed"));
    }

    let started = DateTime::from_secs(time::OffsetDateTime::now_utc().unix_timestamp() - 1);
    aws.cloudformation
        .execute_change_set()
        .change_set_name(&set_id)
        .stack_name(&stack_id)
        .send()
        .await
        .map_err(|e| aws_error("applying the change set", &e))?;
    ui.step(format!("Applying changes to {}", change.stack_name));
    let result = watch(aws, ui, &stack_id, Some(started)).await?;
    let stack = describe(aws, change.stack_name).await?;
    match (result.status.as_str(), stack) {
        ("CREATE_COMPLETE", Some(stack)) => Ok((Outcome::Created, stack)),
        ("UPDATE_COMPLETE", Some(stack)) => Ok((Outcome::Updated, stack)),
        (status, stack) => {
            let cause = result
                .failure
                .unwrap_or_else(|| format!("the stack ended in {status}"));
            if let Some(stack) =
                stack.filter(|s| s.status == "ROLLBACK_COMPLETE" || s.status == "ROLLBACK_FAILED")
            {
                ui.step("Removing the failed stack so nothing is left half-made");
                delete(aws, ui, &stack).await?;
                return Err(DeployError::CreateFailed {
                    stack: change.stack_name.to_owned(),
                    cause,
                }
                .into());
            }
            Err(DeployError::UpdateFailed {
                stack: change.stack_name.to_owned(),
                cause,
            }
            .into())
        }
    }
}

/// Throw away an unused change set, and the empty stack a CREATE change set makes.
async fn discard(aws: &Aws, set_id: &str, stack_id: &str, created_stack: bool) {
    let _ = aws
        .cloudformation
        .delete_change_set()
        .change_set_name(set_id)
        .stack_name(stack_id)
        .send()
        .await;
    if created_stack {
        let _ = aws
            .cloudformation
            .delete_stack()
            .stack_name(stack_id)
            .send()
            .await;
    }
}

/// Delete a stack and wait for it to be gone, showing its events.
pub async fn delete(aws: &Aws, ui: &Ui, stack: &Stack) -> Result<(), Error> {
    let started = DateTime::from_secs(time::OffsetDateTime::now_utc().unix_timestamp() - 1);
    aws.cloudformation
        .delete_stack()
        .stack_name(&stack.id)
        .send()
        .await
        .map_err(|e| aws_error(&format!("deleting stack {}", stack.name), &e))?;
    let result = watch(aws, ui, &stack.id, Some(started)).await?;
    match result.status.as_str() {
        "DELETE_COMPLETE" => Ok(()),
        status => Err(DeployError::DeleteFailed {
            stack: stack.name.clone(),
            status: status.to_owned(),
            reason: result.failure.unwrap_or_else(|| "no reason given".into()),
        }
        .into()),
    }
}

pub struct WatchResult {
    pub status: String,
    /// The first resource failure: "Resource (Type): reason".
    pub failure: Option<String>,
}

/// Stream the stack's events until it reaches a settled status. Ctrl-C stops watching, not the
/// change: CloudFormation carries on, and the next run waits for it (see [`settle`]).
pub async fn watch(
    aws: &Aws,
    ui: &Ui,
    stack_id: &str,
    since: Option<DateTime>,
) -> Result<WatchResult, Error> {
    let spinner = ui.spinner("Waiting for CloudFormation");
    let mut seen = HashSet::new();
    let mut failure = None;
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        let events = recent_events(aws, stack_id, since.as_ref()).await?;
        for event in events.iter().rev() {
            let id = event.event_id().unwrap_or_default().to_owned();
            if !seen.insert(id) {
                continue;
            }
            show_event(&spinner, event);
            let status = event
                .resource_status()
                .map(|s| s.as_str())
                .unwrap_or_default();
            let reason = event.resource_status_reason().unwrap_or_default();
            if failure.is_none() && status.ends_with("_FAILED") && !reason.contains("cancelled") {
                failure = Some(format!(
                    "{} ({}): {}",
                    event.logical_resource_id().unwrap_or_default(),
                    event.resource_type().unwrap_or_default(),
                    if reason.is_empty() {
                        "no reason given"
                    } else {
                        reason
                    }
                ));
            }
        }
        let status = stack_status(aws, stack_id).await?;
        spinner.set_message(format!("Stack {status}"));
        if !in_progress(&status) {
            return Ok(WatchResult { status, failure });
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            _ = &mut interrupted => {
                return Err(Error::Interrupted);
            }
        }
    }
}

async fn stack_status(aws: &Aws, stack_id: &str) -> Result<String, AwsError> {
    match aws
        .cloudformation
        .describe_stacks()
        .stack_name(stack_id)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .stacks()
            .first()
            .and_then(|s| s.stack_status())
            .map_or_else(|| "DELETE_COMPLETE".to_owned(), |s| s.as_str().to_owned())),
        Err(e) if is_missing_stack(&e) => Ok("DELETE_COMPLETE".into()),
        Err(e) => Err(aws_error("reading the stack's status", &e)),
    }
}

async fn recent_events(
    aws: &Aws,
    stack_id: &str,
    since: Option<&DateTime>,
) -> Result<Vec<StackEvent>, AwsError> {
    match aws
        .cloudformation
        .describe_stack_events()
        .stack_name(stack_id)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .stack_events()
            .iter()
            .filter(|e| match (since, e.timestamp()) {
                (Some(since), Some(t)) => t.secs() >= since.secs(),
                _ => true,
            })
            .cloned()
            .collect()),
        Err(e) if is_missing_stack(&e) => Ok(Vec::new()),
        Err(e) => Err(aws_error("reading stack events", &e)),
    }
}

fn show_event(spinner: &Spinner, event: &StackEvent) {
    let time = event
        .timestamp()
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t.secs()).ok())
        .map(|t| format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()))
        .unwrap_or_default();
    let reason = event
        .resource_status_reason()
        .filter(|r| !r.is_empty())
        .map(|r| format!("  {r}"))
        .unwrap_or_default();
    spinner.println(format!(
        "    {time}  {:<22} {:<28} {}{reason}",
        event
            .resource_status()
            .map(|s| s.as_str())
            .unwrap_or_default(),
        event.logical_resource_id().unwrap_or_default(),
        event.resource_type().unwrap_or_default(),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert!(in_progress("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"));
        assert!(in_progress("CREATE_IN_PROGRESS"));
        assert!(!in_progress("REVIEW_IN_PROGRESS"));
        assert!(!in_progress("ROLLBACK_COMPLETE"));
    }

    #[test]
    fn recognises_no_change_reasons() {
        assert!(no_changes(
            "The submitted information didn't contain changes. Submit different information to create a change set."
        ));
        assert!(no_changes("No updates are to be performed."));
        assert!(!no_changes("Template format error"));
    }

    #[test]
    fn change_lines_read_well() {
        let line = ChangeLine {
            action: "Modify".into(),
            logical_id: "Function".into(),
            resource_type: "AWS::Lambda::Function".into(),
            replacement: Some("True".into()),
        };
        assert!(
            line.to_string()
                .ends_with("AWS::Lambda::Function (replaced)")
        );
    }
}
