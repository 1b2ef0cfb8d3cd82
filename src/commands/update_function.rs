//! `ebhook update-function`: rebuild the handler and deploy it through the stack, so the
//! deployed code and the stack always agree (no drift). An unchanged build changes nothing.

use clap::Args;
use serde_json::json;

use crate::artifacts;
use crate::cli::Arch;
use crate::commands::common::{
    AwsArgs, HandlerArgs, OutputFormat, no_such_stack, package_and_upload,
};
use crate::deploy::{self, Outcome, ParamValue, StackChange};
use crate::template;
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

pub async fn run(args: UpdateFunctionArgs) -> anyhow::Result<()> {
    let ui = Ui::new(args.yes);
    args.handler.check()?;
    let aws = args.aws.connect().await?;
    let stack = deploy::settle(&aws, &ui, &args.stack_name)
        .await?
        .ok_or_else(|| no_such_stack(&aws, &args.stack_name))?;
    stack.output(template::OUTPUT_FUNCTION_NAME)?;
    let arch = match stack
        .parameters
        .get(template::PARAM_ARCHITECTURE)
        .map(String::as_str)
    {
        Some("arm64") => Arch::Arm64,
        _ => Arch::X86_64,
    };
    let (bucket, artifact) = package_and_upload(&aws, &ui, &args.handler, arch).await?;
    let key = artifact.key();
    let deployed = stack.parameters.get(template::PARAM_CODE_KEY);
    let outcome = if deployed == Some(&key) {
        ui.step(format!(
            "The deployed handler is already this build ({}): nothing to do",
            artifacts::short(&artifact.sha256)
        ));
        Outcome::Unchanged
    } else {
        let change = StackChange {
            stack_name: &stack.name,
            template: None,
            parameters: deploy::keep_parameters(
                &stack,
                vec![
                    (template::PARAM_CODE_BUCKET, ParamValue::Value(bucket)),
                    (template::PARAM_CODE_KEY, ParamValue::Value(key.clone())),
                ],
            ),
            tags: stack
                .tags
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect(),
            description: "ebhook handler update",
            ask: true,
        };
        let (outcome, _) = deploy::apply(&aws, &ui, &change).await?;
        ui.step(format!(
            "Handler {} deployed to {}",
            artifacts::short(&artifact.sha256),
            stack.name
        ));
        outcome
    };
    if args.output == OutputFormat::Json {
        println!(
            "{}",
            json!({
                "stack": stack.name,
                "outcome": if outcome == Outcome::Unchanged { "unchanged" } else { "updated" },
                "artifactSha256": artifact.sha256,
                "artifactKey": key,
            })
        );
    }
    Ok(())
}
