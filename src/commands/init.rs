//! `ebhook init`: from nothing to a verified endpoint and the exact steps to connect it.

use clap::Args;
use ebhook_handler::providers::SecretOrigin;
use ebhook_handler::{Provider, SecretSet};
use serde_json::json;

use crate::artifacts;
use crate::cli::StackArgs;
use crate::commands::common::{AwsArgs, HandlerArgs, OutputFormat, package_and_upload};
use crate::deploy::{self, Outcome, ParamValue, StackChange};
use crate::error::Error;
use crate::secret_input::{self, Reveal, RevealArgs, SecretArgs, SecretError};
use crate::stack::{self, Settings};
use crate::ui::Ui;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The stack's options; --provider and --event-bus are asked for on a terminal when not
    /// given.
    #[command(flatten)]
    pub stack: StackArgs,
    /// CloudFormation stack name (default: ebhook-<provider>).
    #[arg(long)]
    pub stack_name: Option<String>,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub reveal: RevealArgs,
    #[command(flatten)]
    pub handler: HandlerArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Apply changes without asking.
    #[arg(long, short)]
    pub yes: bool,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

struct Choices {
    provider: Provider,
    stack_name: String,
    settings: Settings,
}

impl Choices {
    /// Every parameter of the template: the options', the code's and the secret's.
    fn parameters(
        &self,
        code: [ParamValue; 2],
        secret: ParamValue,
    ) -> Vec<(&'static str, ParamValue)> {
        let [bucket, key] = code;
        let mut parameters: Vec<(&'static str, ParamValue)> = self
            .settings
            .parameters(self.provider)
            .into_iter()
            .map(|(name, value)| (name, ParamValue::Value(value)))
            .collect();
        parameters.extend([
            (stack::PARAM_CODE_BUCKET, bucket),
            (stack::PARAM_CODE_KEY, key),
            (stack::PARAM_SIGNING_SECRET, secret),
        ]);
        parameters
    }
}

fn choose(args: &InitArgs, ui: &Ui) -> Result<Choices, Error> {
    let provider: Provider = match args.stack.provider {
        Some(p) => p.into(),
        None if ui.interactive() && !args.yes => {
            let names: Vec<String> = Provider::all()
                .map(|p| format!("{p:<10} {}", p.signing()))
                .collect();
            let i = dialoguer::Select::new()
                .with_prompt("Which provider sends the webhooks?")
                .items(&names)
                .default(0)
                .interact()?;
            Provider::all()
                .nth(i)
                .ok_or_else(|| Error::Bug(format!("menu choice {i} is not a provider")))?
        }
        None => return Err(Error::MissingProvider),
    };
    let default_name = format!("ebhook-{provider}");
    let stack_name = match &args.stack_name {
        Some(name) => name.clone(),
        None if ui.interactive() && !args.yes => dialoguer::Input::new()
            .with_prompt("Stack name")
            .default(default_name)
            .interact_text()?,
        None => default_name,
    };
    let mut settings = Settings::from(&args.stack);
    if args.stack.event_bus.is_none() && ui.interactive() && !args.yes {
        let i = dialoguer::Select::new()
            .with_prompt("Event bus")
            .items(["Create a new bus for this stack", "Use an existing bus"])
            .default(0)
            .interact()?;
        settings.existing_bus = (i == 1)
            .then(|| {
                dialoguer::Input::<String>::new()
                    .with_prompt("Existing bus name")
                    .interact_text()
            })
            .transpose()?;
    }
    stack::check_stack_name(&stack_name, &settings)?;
    settings.validate()?;
    let provider = settings.described(provider)?;
    Ok(Choices {
        provider,
        stack_name,
        settings,
    })
}

/// What to do with the secret parameter, and a generated secret to show once.
fn secret_plan(
    args: &InitArgs,
    ui: &Ui,
    provider: Provider,
    stack_exists: bool,
) -> Result<(ParamValue, Option<String>), SecretError> {
    if let Some(secret) = args.secret.read()? {
        return Ok((ParamValue::Value(SecretSet::single(secret).to_json()), None));
    }
    if stack_exists {
        // Re-running init never changes the secret (a rotation stays in place).
        return Ok((ParamValue::Previous, None));
    }
    match provider.secret_origin() {
        SecretOrigin::Generated => {
            let secret = secret_input::generate()?;
            Ok((
                ParamValue::Value(SecretSet::single(secret.clone()).to_json()),
                Some(secret),
            ))
        }
        SecretOrigin::Provider { prompt } => {
            let missing = SecretError::FromProvider {
                provider: provider.as_str(),
                what: prompt,
            };
            if !ui.interactive() {
                return Err(missing);
            }
            let secret = secret_input::prompt(prompt)?.ok_or(missing)?;
            Ok((ParamValue::Value(SecretSet::single(secret).to_json()), None))
        }
        // The provider creates the secret only once the webhook exists: deploy first.
        SecretOrigin::AfterWebhook { .. } => Ok((
            ParamValue::Value(stack::UNSET_SIGNING_SECRET.to_owned()),
            None,
        )),
    }
}

/// Whether the function runs this build. An unchanged stack is not redeployed, so code changed
/// behind ebhook's back would stay unnoticed: say so, and how to put the build back.
async fn check_code(
    aws: &crate::aws::Aws,
    ui: &Ui,
    stack: &stack::Stack,
    artifact: &crate::package::Artifact,
) -> Result<bool, Error> {
    let function = stack.output(stack::OUTPUT_FUNCTION_NAME)?;
    let running = artifacts::deployed_code(aws, function).await?;
    let matches = running.as_deref() == Some(artifact.sha256_base64().as_str());
    if !matches {
        ui.step(format!(
            "WARNING: function {function} runs other code ({}) than this build (sha256 {}): run `ebhook \
             update-function --stack-name {}` to restore it",
            artifacts::describe_code(running.as_deref()),
            artifacts::short(&artifact.sha256),
            stack.name
        ));
    }
    Ok(matches)
}

pub async fn run(args: InitArgs) -> Result<(), Error> {
    let ui = Ui::new(args.yes);
    let choices = choose(&args, &ui)?;
    args.handler.check()?;

    let aws = args.aws.connect().await?;
    let who = aws.identity().await?;
    ui.step(format!(
        "Deploying {} for {} to account {} in {} as {}",
        choices.stack_name,
        choices.provider,
        who.account,
        aws.region(),
        who.arn
    ));
    let existing = stack::describe(&aws, &choices.stack_name).await?;
    if let Some(stack) = &existing
        && let Some(p) = stack.outputs.get(stack::OUTPUT_PROVIDER)
        && p != choices.provider.as_str()
    {
        return Err(Error::ProviderMismatch {
            stack: choices.stack_name.clone(),
            deployed: p.clone(),
            asked: choices.provider,
        });
    }
    let stack_exists = existing.as_ref().is_some_and(|s| {
        !matches!(
            s.status.as_str(),
            "ROLLBACK_COMPLETE" | "REVIEW_IN_PROGRESS"
        )
    });
    let (secret, generated) = secret_plan(&args, &ui, choices.provider, stack_exists)?;
    let reveal = match &generated {
        Some(generated) => Some(reveal_generated(&args, generated)?),
        None => {
            if args.reveal.given() {
                ui.note(
                    "No secret was generated (one was given, or the stack keeps its own), so \
                     none is shown or written.",
                );
            }
            None
        }
    };

    let (bucket, artifact) = package_and_upload(
        &aws,
        &ui,
        &args.handler,
        choices.settings.arch,
        choices.settings.dedupe_window.is_some(),
        choices.settings.compliance,
    )
    .await?;
    let change = StackChange {
        stack_name: &choices.stack_name,
        template: Some(stack::TEMPLATE),
        parameters: choices.parameters(
            [ParamValue::Value(bucket), ParamValue::Value(artifact.key())],
            secret,
        ),
        tags: vec![(stack::TAG_PROVIDER, choices.provider.as_str().to_owned())],
        description: "ebhook webhook endpoint",
        ask: true,
    };
    let (mut outcome, mut stack) = deploy::apply(&aws, &ui, &change).await?;
    match outcome {
        Outcome::Created => ui.step(format!("Created {}", choices.stack_name)),
        Outcome::Updated => ui.step(format!("Updated {}", choices.stack_name)),
        Outcome::Unchanged => ui.step(format!(
            "{} is up to date: nothing to change",
            choices.stack_name
        )),
    }
    let url = stack.output(stack::OUTPUT_WEBHOOK_URL)?.to_owned();

    if !choices.settings.alarm_emails.is_empty() {
        ui.note(
            "SNS e-mails each --alarm-email address a link to confirm: alarms reach an address \
             only once it is confirmed.",
        );
    }
    if args.output == OutputFormat::Text {
        println!("\nWebhook URL: {url}");
        if let Some(dashboard) = stack.outputs.get(stack::OUTPUT_DASHBOARD_URL) {
            println!("Dashboard:   {dashboard}");
        }
        println!();
        println!(
            "{}",
            choices.provider.setup_steps(&url, &choices.stack_name)
        );
        match (&generated, &reveal) {
            (Some(secret), Some(Reveal::Terminal | Reveal::Stdout)) => println!(
                "Signing secret (shown once; paste it where the steps above say):\n\n    {secret}\n"
            ),
            (Some(_), Some(Reveal::File(path))) => println!(
                "Signing secret: in {} (readable by you only); paste it where the steps above \
                 say.\n",
                path.display()
            ),
            _ => {}
        }
    } else {
        // stdout is for the JSON (which carries the secret only with --print-secret).
        match (&generated, &reveal) {
            (Some(secret), Some(Reveal::Terminal)) => eprintln!(
                "Signing secret (shown once; paste it where {} asks for it): {secret}",
                choices.provider
            ),
            (Some(_), Some(Reveal::File(path))) => ui.note(format!(
                "Signing secret: in {} (readable by you only); paste it where {} asks for it.",
                path.display(),
                choices.provider
            )),
            _ => {}
        }
    }

    // A secret the provider creates with the webhook: the URL now exists, so it can be set
    // right away.
    if let SecretOrigin::AfterWebhook { prompt } = choices.provider.secret_origin()
        && !stack_exists
        && !args.secret.given()
        && ui.interactive()
    {
        if let Some(secret) = secret_input::prompt(prompt)? {
            let change = StackChange {
                parameters: choices.parameters(
                    [ParamValue::Previous, ParamValue::Previous],
                    ParamValue::Value(SecretSet::single(secret).to_json()),
                ),
                ..change
            };
            (outcome, stack) = deploy::apply(&aws, &ui, &change).await?;
            ui.step(format!(
                "Signing secret set: the endpoint now accepts {}'s deliveries",
                choices.provider
            ));
        } else {
            ui.note("No secret yet: the endpoint rejects every request until one is set.");
        }
    }

    let code_matches = check_code(&aws, &ui, &stack, &artifact).await?;

    if args.output == OutputFormat::Json {
        let get = |k: &str| stack.outputs.get(k).cloned();
        let mut out = json!({
            "outcome": match outcome { Outcome::Created => "created", Outcome::Updated => "updated", Outcome::Unchanged => "unchanged" },
            "url": url,
            "stack": stack.name,
            "stackId": stack.id,
            "region": aws.region(),
            "provider": choices.provider.as_str(),
            "eventBus": get(stack::OUTPUT_EVENT_BUS_NAME),
            "eventBusArn": get(stack::OUTPUT_EVENT_BUS_ARN),
            "function": get(stack::OUTPUT_FUNCTION_NAME),
            "secretArn": get(stack::OUTPUT_SECRET_ARN),
            "dashboardUrl": get(stack::OUTPUT_DASHBOARD_URL),
            "alarmNames": stack.outputs.get(stack::OUTPUT_ALARM_NAMES).map(|names| names.split(',').collect::<Vec<_>>()),
            "alarmTopicArn": get(stack::OUTPUT_ALARM_TOPIC_ARN),
            "artifactSha256": artifact.sha256,
            "codeMatchesArtifact": code_matches,
        });
        if let (Some(secret), Some(Reveal::Stdout)) = (&generated, &reveal) {
            out["signingSecret"] = json!(secret);
        }
        println!("{out}");
    }
    Ok(())
}

/// Decide where the secret ebhook generated goes, before anything is deployed, and write it to
/// its file now: the secret is then safe before the stack holds it.
fn reveal_generated(args: &InitArgs, secret: &str) -> Result<Reveal, SecretError> {
    let reveal = args.output.reveal(&args.reveal)?;
    if let Reveal::File(path) = &reveal {
        secret_input::write_new_file(path, secret)?;
    }
    Ok(reveal)
}
