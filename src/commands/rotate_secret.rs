//! `ebhook rotate-secret`: a new signing secret with zero downtime. The new secret is live
//! within a minute; the old one keeps verifying for a grace period so the provider can be
//! updated at leisure. The stack stays the source of truth: the secret is changed through it.

use std::time::Duration;

use clap::Args;
use ebhook_handler::{Provider, Secret, SecretSet};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::commands::common::{AwsArgs, OutputFormat, no_such_stack, stored_secret};
use crate::deploy::{self, Outcome, ParamValue, StackChange};
use crate::error::Error;
use crate::secret_input::{self, Reveal, RevealArgs, SecretArgs, SecretError};
use crate::stack;
use crate::ui::Ui;

#[derive(Debug, Args)]
pub struct RotateSecretArgs {
    /// The stack `ebhook init` created.
    #[arg(long)]
    pub stack_name: String,
    #[command(flatten)]
    pub secret: SecretArgs,
    /// Generate a strong random secret (shown once), e.g. for GitHub.
    #[arg(long, conflicts_with_all = ["secret_stdin", "secret_env", "finish"])]
    pub generate: bool,
    #[command(flatten)]
    pub reveal: RevealArgs,
    /// How long the previous secret keeps verifying (e.g. 24h, 90m, 2d).
    #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
    pub grace: Duration,
    /// End the grace period now: only the current secret verifies afterwards.
    #[arg(long, conflicts_with_all = ["secret_stdin", "secret_env"])]
    pub finish: bool,
    /// Apply without asking.
    #[arg(long, short)]
    pub yes: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Where a new secret can come from.
const NEW_SECRET_FROM: &str = "--secret-stdin, --secret-env NAME or --generate; nothing changed";

/// The secret set after rotating to `new`: the old current secret becomes the previous one
/// until `now + grace`. With no current secret yet (Zendesk's first), there is no previous.
pub fn rotated(old: &SecretSet, new: Secret, now: OffsetDateTime, grace: Duration) -> SecretSet {
    let previous = old.current().filter(|s| *s != &new).cloned();
    let expires = previous.as_ref().map(|_| now + grace);
    SecretSet::new(Some(new), previous, expires)
}

/// The secret set once the grace period is ended early.
pub fn finished(old: &SecretSet) -> SecretSet {
    SecretSet::new(old.current().cloned(), None, None)
}

/// Where a generated secret goes, decided before anything is read or changed.
fn reveal(args: &RotateSecretArgs) -> Result<Option<Reveal>, SecretError> {
    if !args.generate {
        return match args.reveal.given() {
            true => Err(SecretError::RevealWithoutGenerate),
            false => Ok(None),
        };
    }
    Ok(Some(args.output.reveal(&args.reveal)?))
}

pub async fn run(args: RotateSecretArgs) -> Result<(), Error> {
    let ui = Ui::new(args.yes);
    let reveal = reveal(&args)?;
    let aws = args.aws.connect().await?;
    let stack = deploy::settle(&aws, &ui, &args.stack_name)
        .await?
        .ok_or_else(|| no_such_stack(&aws, &args.stack_name))?;
    let provider = stack.provider()?;
    let secret_arn = stack.output(stack::OUTPUT_SECRET_ARN)?.to_owned();
    let old = stored_secret(&aws, &stack.name, &secret_arn).await?;

    let now = OffsetDateTime::now_utc();
    let mut generated = None;
    let new_set = if args.finish {
        if old.previous().is_none() {
            ui.step("No previous secret is active: nothing to finish.");
            return Ok(());
        }
        finished(&old)
    } else {
        let secret = if args.generate {
            let s = secret_input::generate()?;
            // Written before the stack holds it, so it cannot be lost.
            if let Some(Reveal::File(path)) = &reveal {
                secret_input::write_new_file(path, &s)?;
            }
            generated = Some(s.clone());
            s
        } else if let Some(s) = args.secret.read()? {
            s
        } else if ui.interactive() {
            secret_input::prompt(&format!("New {provider} signing secret (hidden)"))?
                .ok_or(SecretError::NotGiven(NEW_SECRET_FROM))?
        } else {
            return Err(SecretError::NotGiven(NEW_SECRET_FROM).into());
        };
        rotated(&old, Secret::new(secret), now, args.grace)
    };

    let change = StackChange {
        stack_name: &stack.name,
        template: None,
        parameters: deploy::keep_parameters(
            &stack,
            vec![(
                stack::PARAM_SIGNING_SECRET,
                ParamValue::Value(new_set.to_json()),
            )],
        ),
        tags: stack
            .tags
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect(),
        description: "ebhook secret rotation",
        ask: true,
    };
    let (outcome, _) = deploy::apply(&aws, &ui, &change).await?;
    if outcome == Outcome::Unchanged {
        ui.step("The secret is already set to that: nothing changed.");
    }
    let expires = new_set
        .previous()
        .and_then(|(_, t)| t)
        .and_then(|t| t.format(&Rfc3339).ok());
    match args.output {
        OutputFormat::Json => {
            let mut out = json!({
                "stack": stack.name,
                "provider": provider.as_str(),
                "finished": args.finish,
                "previousValidUntil": expires,
            });
            if let (Some(secret), Some(Reveal::Stdout)) = (&generated, &reveal) {
                out["signingSecret"] = json!(secret);
            }
            println!("{out}");
        }
        OutputFormat::Text => {
            match (&generated, &reveal) {
                (Some(secret), Some(Reveal::Terminal | Reveal::Stdout)) => {
                    println!("New signing secret (shown once):\n\n    {secret}\n");
                }
                (Some(_), Some(Reveal::File(path))) => println!(
                    "New signing secret: in {} (readable by you only).\n",
                    path.display()
                ),
                _ => {}
            }
            println!(
                "{}",
                next_steps(provider, &stack.name, args.finish, expires.as_deref())
            );
        }
    }
    if let OutputFormat::Json = args.output {
        match (&generated, &reveal) {
            (Some(secret), Some(Reveal::Terminal)) => {
                eprintln!("New signing secret (shown once): {secret}");
            }
            (Some(_), Some(Reveal::File(path))) => ui.note(format!(
                "New signing secret: in {} (readable by you only).",
                path.display()
            )),
            _ => {}
        }
    }
    Ok(())
}

fn next_steps(provider: Provider, stack: &str, finished: bool, expires: Option<&str>) -> String {
    if finished {
        return "Grace period ended: only the current secret verifies now (within a minute)."
            .to_owned();
    }
    let at_provider = provider.after_rotation();
    let grace = match expires {
        Some(t) => format!(
            "The previous secret keeps verifying until {t}, so no delivery is rejected meanwhile. After that it is refused;\n\
             end it sooner with: ebhook rotate-secret --stack-name {stack} --finish"
        ),
        None => "There was no previous secret, so there is no grace period.".to_owned(),
    };
    format!("The new secret is active within a minute.\n{at_provider}\n{grace}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn rotation_keeps_the_old_secret_for_the_grace_period() {
        let now = datetime!(2026-11-22 12:00 UTC);
        let old = SecretSet::single("old");
        let new = rotated(&old, Secret::new("new"), now, Duration::from_secs(3600));
        assert_eq!(new.current().unwrap().as_bytes(), b"new");
        let (prev, until) = new.previous().unwrap();
        assert_eq!(prev.as_bytes(), b"old");
        assert_eq!(until, Some(datetime!(2026-11-22 13:00 UTC)));
        assert_eq!(new.active(now).count(), 2);
        assert_eq!(new.active(datetime!(2026-11-22 13:00 UTC)).count(), 1);
        assert_eq!(finished(&new).active(now).count(), 1);
    }

    #[test]
    fn first_secret_and_same_secret_have_no_previous() {
        let now = datetime!(2026-11-22 12:00 UTC);
        let unset = SecretSet::parse(r#"{"current":""}"#).unwrap();
        assert!(
            rotated(&unset, Secret::new("first"), now, Duration::from_secs(60))
                .previous()
                .is_none()
        );
        let same = rotated(
            &SecretSet::single("x"),
            Secret::new("x"),
            now,
            Duration::from_secs(60),
        );
        assert!(same.previous().is_none());
    }
}
