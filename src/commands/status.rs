//! `ebhook status`: what is deployed, and whether it is healthy.

use base64::Engine;
use clap::Args;
use serde_json::json;

use crate::artifacts;
use crate::aws::aws_error;
use crate::commands::common::{AwsArgs, OutputFormat, no_such_stack};
use crate::error::Error;
use crate::health;
use crate::stack;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The stack `ebhook init` created.
    #[arg(long)]
    pub stack_name: String,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Lambda reports CodeSha256 as base64; ebhook names artifacts by hex.
fn hex_sha256(base64_digest: &str) -> Option<String> {
    base64::engine::general_purpose::STANDARD
        .decode(base64_digest)
        .ok()
        .map(hex::encode)
}

fn rfc3339(t: &aws_smithy_types::DateTime) -> String {
    time::OffsetDateTime::from_unix_timestamp(t.secs())
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

pub async fn run(args: StatusArgs) -> Result<(), Error> {
    let aws = args.aws.connect().await?;
    let stack = stack::describe(&aws, &args.stack_name)
        .await?
        .ok_or_else(|| no_such_stack(&aws, &args.stack_name))?;
    let function = stack.outputs.get(stack::OUTPUT_FUNCTION_NAME).cloned();
    let code = match &function {
        Some(name) => {
            let conf = aws
                .lambda
                .get_function_configuration()
                .function_name(name)
                .send()
                .await
                .map_err(|e| aws_error(&format!("reading function {name}"), &e))?;
            conf.code_sha256().and_then(hex_sha256)
        }
        None => None,
    };
    let secret_changed = match stack.outputs.get(stack::OUTPUT_SECRET_ARN) {
        Some(arn) => {
            let secret = aws
                .secrets
                .describe_secret()
                .secret_id(arn)
                .send()
                .await
                .map_err(|e| aws_error("reading the signing secret's metadata", &e))?;
            secret
                .last_changed_date()
                .or(secret.created_date())
                .map(rfc3339)
        }
        None => None,
    };
    let artifact_key = stack.parameters.get(stack::PARAM_CODE_KEY).cloned();
    let artifact_sha256 = artifact_key
        .as_deref()
        .and_then(artifacts::key_sha256)
        .map(str::to_owned);
    // Whether the function runs the artifact the stack names; code changed behind ebhook's
    // back shows here. Unknown when either hash is.
    let code_matches = match (&code, &artifact_sha256) {
        (Some(code), Some(artifact)) => Some(code.eq_ignore_ascii_case(artifact)),
        _ => None,
    };
    let dead_letters = match stack.outputs.get(stack::OUTPUT_DEAD_LETTER_QUEUE_URL) {
        Some(url) => Some(super::replay::queue_depth(&aws, url).await?),
        None => None,
    };
    let get = |k: &str| stack.outputs.get(k).cloned();
    let deliveries = match get(stack::OUTPUT_PROVIDER) {
        Some(provider) => Some(health::deliveries_last_day(&aws, &stack.name, &provider).await?),
        None => None,
    };
    let alarms = match stack.outputs.get(stack::OUTPUT_ALARM_NAMES) {
        Some(names) => Some(health::alarms(&aws, names).await?),
        None => None,
    };
    match args.output {
        OutputFormat::Json => println!(
            "{}",
            json!({
                "stack": stack.name,
                "stackStatus": stack.status,
                "lastChanged": stack.last_changed.as_ref().map(rfc3339),
                "region": aws.region(),
                "provider": get(stack::OUTPUT_PROVIDER),
                "url": get(stack::OUTPUT_WEBHOOK_URL),
                "eventBus": get(stack::OUTPUT_EVENT_BUS_NAME),
                "eventBusArn": get(stack::OUTPUT_EVENT_BUS_ARN),
                "function": function,
                "codeSha256": code,
                "artifactKey": artifact_key,
                "artifactSha256": artifact_sha256,
                "codeMatchesArtifact": code_matches,
                "secretArn": get(stack::OUTPUT_SECRET_ARN),
                "secretLastChanged": secret_changed,
                "payloadBucket": get(stack::OUTPUT_PAYLOAD_BUCKET),
                "deadLetterQueueUrl": get(stack::OUTPUT_DEAD_LETTER_QUEUE_URL),
                "deadLetters": dead_letters.map(|(waiting, in_flight)| json!({
                    "waiting": waiting,
                    "inFlight": in_flight,
                })),
                "deliveriesLast24h": deliveries.as_ref().map(|counts| counts
                    .iter()
                    .map(|(outcome, n)| (outcome.as_str().to_owned(), json!(n)))
                    .collect::<serde_json::Map<_, _>>()),
                "alarms": alarms.as_ref().map(|alarms| alarms
                    .iter()
                    .map(|a| json!({"name": a.name, "state": a.state, "reason": a.reason}))
                    .collect::<Vec<_>>()),
                "dashboardUrl": get(stack::OUTPUT_DASHBOARD_URL),
            })
        ),
        OutputFormat::Text => {
            let show = |label: &str, value: Option<String>| {
                println!("{label:<20} {}", value.unwrap_or_else(|| "-".into()));
            };
            show("Stack", Some(format!("{} ({})", stack.name, stack.status)));
            show("Last changed", stack.last_changed.as_ref().map(rfc3339));
            show("Provider", get(stack::OUTPUT_PROVIDER));
            show("Webhook URL", get(stack::OUTPUT_WEBHOOK_URL));
            show("Event bus", get(stack::OUTPUT_EVENT_BUS_NAME));
            show("Function", function);
            show(
                "Deployed code",
                code.map(|c| match code_matches {
                    Some(false) => format!(
                        "sha256 {}, NOT the handler ebhook deployed (sha256 {}): run `ebhook \
                         update-function --stack-name {}` to restore it",
                        artifacts::short(&c),
                        artifact_sha256
                            .as_deref()
                            .map(artifacts::short)
                            .unwrap_or("?"),
                        stack.name
                    ),
                    _ => format!("sha256 {}", artifacts::short(&c)),
                }),
            );
            show("Secret changed", secret_changed);
            show(
                "Dead letters",
                dead_letters.map(|(waiting, in_flight)| match (waiting, in_flight) {
                    (0, 0) => "none waiting".to_owned(),
                    (w, 0) => format!(
                        "{w} waiting: run `ebhook replay --stack-name {}`",
                        stack.name
                    ),
                    (w, f) => format!("{w} waiting, {f} being replayed"),
                }),
            );
            show(
                "Deliveries (24 h)",
                deliveries.as_deref().map(health::describe_counts),
            );
            show("Alarms", alarms.as_deref().map(health::describe_alarms));
            show("Dashboard", get(stack::OUTPUT_DASHBOARD_URL));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn lambda_code_hash_becomes_hex() {
        // SHA-256 of the empty string, as Lambda would report it.
        let b64 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        assert_eq!(
            super::hex_sha256(b64).as_deref(),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
    }
}
