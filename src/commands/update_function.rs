//! `ebhook update-function`: rebuild the handler and deploy it through the stack, so the
//! deployed code and the stack always agree (no drift), with the current template: a stack made
//! by an earlier ebhook is brought up to date, its settings kept. An unchanged build on a stack
//! that already runs the current template changes nothing.

use clap::{Args, ValueEnum};
use serde_json::json;

use crate::artifacts;
use crate::cli::{Arch, Compliance};
use crate::commands::common::{
    AwsArgs, HandlerArgs, OutputFormat, no_such_stack, package_and_upload,
};
use crate::deploy::{self, Outcome, ParamValue, StackChange};
use crate::error::Error;
use crate::stack;
use crate::ui::Ui;

#[derive(Debug, Args)]
pub struct UpdateFunctionArgs {
    /// The stack `ebhook init` created.
    #[arg(long)]
    pub stack_name: String,
    #[command(flatten)]
    pub handler: HandlerArgs,
    /// Apply without asking.
    #[arg(long, short)]
    pub yes: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

pub async fn run(args: UpdateFunctionArgs) -> Result<(), Error> {
    let ui = Ui::new(args.yes);
    args.handler.check()?;
    let aws = args.aws.connect().await?;
    let stack = deploy::settle(&aws, &ui, &args.stack_name)
        .await?
        .ok_or_else(|| no_such_stack(&aws, &args.stack_name))?;
    // Made by ebhook, and so serving a provider: checked before anything is built.
    stack.output(stack::OUTPUT_FUNCTION_NAME)?;
    stack.provider()?;
    let arch = match stack
        .parameters
        .get(stack::PARAM_ARCHITECTURE)
        .map(String::as_str)
    {
        Some("arm64") => Arch::Arm64,
        _ => Arch::X86_64,
    };
    // The stack keeps its dedupe: its handler needs the build with the DynamoDB client.
    let dedupe = stack
        .parameters
        .get(stack::PARAM_DEDUPE_WINDOW)
        .is_some_and(|window| window != "0");
    // And its compliance, which the artifacts bucket it is deployed from must meet too.
    let compliance = stack
        .parameters
        .get(stack::PARAM_COMPLIANCE)
        .and_then(|value| Compliance::from_str(value, false).ok())
        .unwrap_or_default();
    let (bucket, artifact) =
        package_and_upload(&aws, &ui, &args.handler, arch, dedupe, compliance).await?;
    let key = artifact.key();
    let same_code = stack.parameters.get(stack::PARAM_CODE_KEY) == Some(&key);
    // A stack made by an earlier ebhook runs an older template: deploying this build brings it
    // up to date too.
    let same_template = stack::template_body(&aws, &stack).await? == stack::TEMPLATE;
    let mut outcome = if same_code && same_template {
        ui.step(format!(
            "The deployed handler is already this build ({}) and the stack's template is current: nothing to do",
            artifacts::short(&artifact.sha256)
        ));
        Outcome::Unchanged
    } else {
        if !same_template {
            ui.step(format!(
                "{} runs an older template: deploying the current one with its settings kept",
                stack.name
            ));
        }
        let change = StackChange {
            stack_name: &stack.name,
            template: Some(stack::TEMPLATE),
            parameters: stack.parameters_for_template(vec![
                (stack::PARAM_CODE_BUCKET, ParamValue::Value(bucket.clone())),
                (stack::PARAM_CODE_KEY, ParamValue::Value(key.clone())),
            ])?,
            tags: stack
                .tags
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect(),
            description: "ebhook handler update",
            ask: true,
        };
        let (outcome, _) = deploy::apply(&aws, &ui, &change).await?;
        if outcome == Outcome::Unchanged {
            ui.step(format!("{} is up to date: nothing to change", stack.name));
        } else {
            ui.step(format!(
                "Handler {} deployed to {}",
                artifacts::short(&artifact.sha256),
                stack.name
            ));
        }
        outcome
    };
    // Code changed behind the stack's back (a console upload, UpdateFunctionCode) leaves the
    // stack unchanged, so CloudFormation would not notice: compare the function's own hash.
    let function = stack.output(stack::OUTPUT_FUNCTION_NAME)?.to_owned();
    let running = artifacts::deployed_code(&aws, &function).await?;
    let restored = running.as_deref() != Some(artifact.sha256_base64().as_str());
    if restored {
        ui.step(format!(
            "Function {function} ran other code than the handler ebhook deployed ({}): \
             restoring handler {}",
            artifacts::describe_code(running.as_deref()),
            artifacts::short(&artifact.sha256)
        ));
        artifacts::restore_code(&aws, &function, &bucket, &key).await?;
        outcome = Outcome::Updated;
    }
    if args.output == OutputFormat::Json {
        println!(
            "{}",
            json!({
                "stack": stack.name,
                "outcome": if outcome == Outcome::Unchanged { "unchanged" } else { "updated" },
                "codeRestored": restored,
                "artifactSha256": artifact.sha256,
                "artifactKey": key,
            })
        );
    }
    Ok(())
}
