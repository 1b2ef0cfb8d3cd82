//! Reading a deployed stack back: its status, outputs, parameters, tags and template, and the
//! parameters that bring it up to date with the current template.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::primitives::DateTime;
use ebhook_handler::Provider;

use super::{
    OUTPUT_EVENT_BUS_NAME, OUTPUT_PROVIDER, PARAM_EVENT_BUS_NAME, PARAM_PROVIDER,
    PARAM_RESERVED_CONCURRENCY, PARAMETERS, TAG_PROVIDER,
};
use crate::aws::{Aws, AwsError, aws_error, is_missing_stack};
use crate::deploy::ParamValue;

/// A deployed stack that is not as ebhook left it.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error(
        "stack {stack} has no output {output} (status {status}); was it deployed by ebhook? Check \
         --stack-name, or run `ebhook update-function --stack-name {stack}` to bring it up to date"
    )]
    MissingOutput {
        stack: String,
        output: String,
        status: String,
    },
    #[error(
        "stack {stack} names no provider (no {OUTPUT_PROVIDER} output, no {TAG_PROVIDER} tag; \
         status {status}); was it deployed by ebhook? Check --stack-name"
    )]
    NoProvider { stack: String, status: String },
    #[error("stack {stack}: {source}; was it deployed by ebhook? Check --stack-name")]
    UnknownProvider {
        stack: String,
        source: ebhook_handler::providers::UnknownProvider,
    },
    #[error(
        "the signing secret of stack {stack} is not in ebhook's format: {source}; set a new one \
         with `ebhook rotate-secret --stack-name {stack}`"
    )]
    StoredSecret {
        stack: String,
        source: ebhook_handler::secrets::SecretFormatError,
    },
}

/// A stack as ebhook reads it back.
#[derive(Clone, Debug, Default)]
pub struct Stack {
    pub id: String,
    pub name: String,
    pub status: String,
    pub outputs: BTreeMap<String, String>,
    pub parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub last_changed: Option<DateTime>,
}

impl Stack {
    pub fn output(&self, key: &str) -> Result<&str, StackError> {
        self.outputs
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| StackError::MissingOutput {
                stack: self.name.clone(),
                output: key.to_owned(),
                status: self.status.clone(),
            })
    }

    /// The provider the stack serves: its `Provider` output, else the tag ebhook gave it.
    pub fn provider(&self) -> Result<Provider, StackError> {
        let name = self
            .outputs
            .get(OUTPUT_PROVIDER)
            .or_else(|| self.tags.get(TAG_PROVIDER))
            .ok_or_else(|| StackError::NoProvider {
                stack: self.name.clone(),
                status: self.status.clone(),
            })?;
        name.parse().map_err(|source| StackError::UnknownProvider {
            stack: self.name.clone(),
            source,
        })
    }

    /// Every parameter of the current template for an update of this stack, `changed` aside:
    /// the stack's own value where it has the parameter, so nothing but `changed` moves.
    ///
    /// A stack made by ebhook 0.1.0 runs a template rendered for its provider and options, which
    /// lacks some parameters; they get the value that rendering fixed:
    /// - `Provider`: the stack's `Provider` output (or tag);
    /// - `EventBusName`: 0.1.0 kept it only for an existing bus, so its absence means the stack
    ///   created its own bus (empty), unless the `EventBusName` output names another bus;
    /// - `ReservedConcurrency`: 0.1.0 kept it only when concurrency was reserved, so 0 (none).
    ///
    /// A parameter with a template default that the stack lacks otherwise is left out, so the
    /// default applies.
    pub fn parameters_for_template(
        &self,
        changed: Vec<(&'static str, ParamValue)>,
    ) -> Result<Vec<(&'static str, ParamValue)>, StackError> {
        let mut parameters = Vec::new();
        for name in PARAMETERS {
            if changed.iter().any(|(c, _)| *c == name) {
                continue;
            }
            let value = if self.parameters.contains_key(name) {
                ParamValue::Previous
            } else {
                match name {
                    PARAM_PROVIDER => ParamValue::Value(self.provider()?.as_str().to_owned()),
                    PARAM_EVENT_BUS_NAME => ParamValue::Value(
                        self.outputs
                            .get(OUTPUT_EVENT_BUS_NAME)
                            .filter(|bus| **bus != self.name)
                            .cloned()
                            .unwrap_or_default(),
                    ),
                    PARAM_RESERVED_CONCURRENCY => ParamValue::Value("0".to_owned()),
                    _ => continue,
                }
            };
            parameters.push((name, value));
        }
        parameters.extend(changed);
        Ok(parameters)
    }
}

pub async fn describe(aws: &Aws, name: &str) -> Result<Option<Stack>, AwsError> {
    let out = match aws
        .cloudformation
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if is_missing_stack(&e) => return Ok(None),
        Err(e) => return Err(aws_error(&format!("reading stack {name}"), &e)),
    };
    let Some(s) = out.stacks().first() else {
        return Ok(None);
    };
    let status = s
        .stack_status()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    if status == "DELETE_COMPLETE" {
        return Ok(None);
    }
    Ok(Some(Stack {
        id: s.stack_id().unwrap_or_default().to_owned(),
        name: s.stack_name().unwrap_or(name).to_owned(),
        status,
        outputs: s
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
            .collect(),
        parameters: s
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_owned(),
                    p.parameter_value()?.to_owned(),
                ))
            })
            .collect(),
        tags: s
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
            .collect(),
        last_changed: s.last_updated_time().or(s.creation_time()).copied(),
    }))
}

/// The template the stack runs, as it was submitted.
pub async fn template_body(aws: &Aws, stack: &Stack) -> Result<String, AwsError> {
    let out = aws
        .cloudformation
        .get_template()
        .stack_name(&stack.id)
        .send()
        .await
        .map_err(|e| aws_error(&format!("reading stack {}'s template", stack.name), &e))?;
    Ok(out.template_body().unwrap_or_default().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::{
        PARAM_ALARM_EMAILS, PARAM_ALARM_TOPIC_ARN, PARAM_ARCHITECTURE, PARAM_CODE_BUCKET,
        PARAM_CODE_KEY, PARAM_COMPLIANCE, PARAM_DEDUPE_WINDOW, PARAM_KMS_KEY_ARN,
        PARAM_LOG_RETENTION_DAYS, PARAM_MEMORY_SIZE, PARAM_PROVIDER_SCHEME, PARAM_PUBLIC_BASE_URL,
        PARAM_SIGNING_SECRET,
    };

    /// A stack made by ebhook 0.1.0: its parameters are what that rendering kept.
    fn old_stack(name: &str, extra: &[(&str, &str)], bus: &str) -> Stack {
        let mut parameters: BTreeMap<String, String> = [
            (PARAM_SIGNING_SECRET, "****"),
            (PARAM_CODE_BUCKET, "b"),
            (PARAM_CODE_KEY, "k"),
            (PARAM_ARCHITECTURE, "arm64"),
            (PARAM_LOG_RETENTION_DAYS, "14"),
            (PARAM_MEMORY_SIZE, "256"),
            (PARAM_PUBLIC_BASE_URL, ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        parameters.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        Stack {
            name: name.to_owned(),
            parameters,
            outputs: [(OUTPUT_PROVIDER, "twilio"), (OUTPUT_EVENT_BUS_NAME, bus)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            ..Stack::default()
        }
    }

    fn shown(parameters: &[(&str, ParamValue)]) -> Vec<String> {
        parameters
            .iter()
            .map(|(k, v)| match v {
                ParamValue::Value(v) => format!("{k}={v}"),
                ParamValue::Previous => format!("{k} kept"),
            })
            .collect()
    }

    fn changed_code() -> Vec<(&'static str, ParamValue)> {
        vec![
            (PARAM_CODE_BUCKET, ParamValue::Value("b2".into())),
            (PARAM_CODE_KEY, ParamValue::Value("k2".into())),
        ]
    }

    #[test]
    fn an_old_stack_with_its_own_bus_gets_the_values_its_rendering_fixed() {
        let stack = old_stack("hooks", &[], "hooks");
        let parameters = stack.parameters_for_template(changed_code()).unwrap();
        assert_eq!(
            shown(&parameters),
            [
                "Provider=twilio",
                "EventBusName=",
                "ReservedConcurrency=0",
                "Architecture kept",
                "LogRetentionInDays kept",
                "MemorySize kept",
                "PublicBaseUrl kept",
                "SigningSecret kept",
                "CodeS3Bucket=b2",
                "CodeS3Key=k2",
            ]
        );
    }

    #[test]
    fn an_old_stack_on_an_existing_bus_keeps_its_bus_and_concurrency() {
        let stack = old_stack(
            "hooks",
            &[
                (PARAM_EVENT_BUS_NAME, "team-bus"),
                (PARAM_RESERVED_CONCURRENCY, "3"),
            ],
            "team-bus",
        );
        let parameters = stack.parameters_for_template(changed_code()).unwrap();
        assert_eq!(
            &shown(&parameters)[..3],
            [
                "Provider=twilio",
                "EventBusName kept",
                "ReservedConcurrency kept"
            ]
        );
        // Without the parameter but with another bus in its outputs: that bus.
        let odd = old_stack("hooks", &[], "elsewhere");
        let parameters = odd.parameters_for_template(changed_code()).unwrap();
        assert_eq!(shown(&parameters)[1], "EventBusName=elsewhere");
    }

    #[test]
    fn a_current_stack_keeps_every_parameter() {
        let mut stack = old_stack(
            "hooks",
            &[
                (PARAM_PROVIDER, "github"),
                (PARAM_PROVIDER_SCHEME, ""),
                (PARAM_EVENT_BUS_NAME, ""),
                (PARAM_RESERVED_CONCURRENCY, "0"),
                (PARAM_COMPLIANCE, "none"),
                (PARAM_KMS_KEY_ARN, ""),
                (PARAM_DEDUPE_WINDOW, "3600"),
                (PARAM_ALARM_TOPIC_ARN, ""),
                (PARAM_ALARM_EMAILS[0], "ops@example.com"),
                (PARAM_ALARM_EMAILS[1], ""),
                (PARAM_ALARM_EMAILS[2], ""),
            ],
            "hooks",
        );
        stack.outputs.clear();
        let parameters = stack.parameters_for_template(changed_code()).unwrap();
        assert_eq!(parameters.len(), PARAMETERS.len());
        assert!(
            parameters[..PARAMETERS.len() - 2]
                .iter()
                .all(|(_, v)| matches!(v, ParamValue::Previous))
        );
    }

    #[test]
    fn a_stack_that_names_no_provider_is_refused() {
        let mut stack = old_stack("hooks", &[], "hooks");
        stack.outputs.clear();
        assert!(stack.parameters_for_template(changed_code()).is_err());
        stack
            .tags
            .insert(TAG_PROVIDER.to_owned(), "zendesk".to_owned());
        assert_eq!(stack.provider().unwrap().as_str(), "zendesk");
        stack
            .tags
            .insert(TAG_PROVIDER.to_owned(), "mailchimp".to_owned());
        assert!(stack.provider().is_err());
    }
}
