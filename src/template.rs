//! The CloudFormation templates: the ebhook stack, rendered per provider and options, and the
//! per-account/region artifacts bucket stack. Pure: no I/O, no AWS.
//!
//! `templates/ebhook.yaml` is a complete template written with long-form intrinsics and two
//! conditions (whether to create a bus, whether to reserve concurrency). [`render`] parses it as
//! YAML, decides those conditions from the options (dropping what they leave out: resources,
//! `Fn::If` branches, `AWS::NoValue` properties, parameters nothing uses any more), fixes the
//! provider, sets the parameters' defaults to the options, and emits YAML again. What is left to
//! give at deploy time are the signing secret and the code's S3 location.
#![allow(
    dead_code,
    reason = "the parameter and output names are for the commands that deploy and read stacks"
)]

use ebhook_handler::Provider;
use ebhook_handler::config as env;
use yaml_serde::{Mapping, Value};

use crate::cli::{Arch, TemplateOptions};

const STACK_TEMPLATE: &str = include_str!("../templates/ebhook.yaml");
const ARTIFACTS_TEMPLATE: &str = include_str!("../templates/artifacts.yaml");

// Parameters of the ebhook stack.
/// The secret's JSON (`{"current": ...}`); NoEcho. Pass it on every create; on updates pass it
/// again or use the previous value, or its default (`{"current":""}`) replaces the secret.
pub const PARAM_SIGNING_SECRET: &str = "SigningSecret";
/// The S3 bucket holding the handler's zip.
pub const PARAM_CODE_BUCKET: &str = "CodeS3Bucket";
/// The S3 key of the handler's zip.
pub const PARAM_CODE_KEY: &str = "CodeS3Key";
/// `x86_64` or `arm64` ([`Arch::lambda_name`]); default: the rendered `--arch`.
pub const PARAM_ARCHITECTURE: &str = "Architecture";
/// Default: the rendered `--log-retention-days`.
pub const PARAM_LOG_RETENTION_DAYS: &str = "LogRetentionInDays";
/// Default: the rendered `--memory-size`.
pub const PARAM_MEMORY_SIZE: &str = "MemorySize";
/// Default: the rendered `--public-base-url`, or empty.
pub const PARAM_PUBLIC_BASE_URL: &str = "PublicBaseUrl";
/// Only in templates rendered with `--event-bus`; default: that bus.
pub const PARAM_EVENT_BUS_NAME: &str = "EventBusName";
/// Only in templates rendered with `--reserved-concurrency`; default: that number.
pub const PARAM_RESERVED_CONCURRENCY: &str = "ReservedConcurrency";

// Outputs of the ebhook stack.
pub const OUTPUT_WEBHOOK_URL: &str = "WebhookUrl";
pub const OUTPUT_EVENT_BUS_NAME: &str = "EventBusName";
pub const OUTPUT_EVENT_BUS_ARN: &str = "EventBusArn";
pub const OUTPUT_FUNCTION_NAME: &str = "FunctionName";
pub const OUTPUT_SECRET_ARN: &str = "SecretArn";
pub const OUTPUT_PROVIDER: &str = "Provider";
pub const OUTPUT_DEAD_LETTER_QUEUE_URL: &str = "DeadLetterQueueUrl";
pub const OUTPUT_PAYLOAD_BUCKET: &str = "PayloadBucketName";

/// The artifacts stack's output: the bucket's name.
pub const ARTIFACTS_OUTPUT_BUCKET: &str = "BucketName";

/// The [`PARAM_SIGNING_SECRET`] value meaning "no secret yet" (the handler rejects every
/// delivery until one is set); the parameter's default.
pub const UNSET_SIGNING_SECRET: &str = r#"{"current":""}"#;

/// The function is named `<stack name>` + this (its log group is named before it exists).
pub const FUNCTION_NAME_SUFFIX: &str = "-handler";
/// Lambda function names are at most 64 characters, so stack names at most this.
pub const MAX_STACK_NAME_LEN: usize = 64 - FUNCTION_NAME_SUFFIX.len();

pub const DEFAULT_LOG_RETENTION_DAYS: u32 = 30;
pub const DEFAULT_MEMORY_SIZE: u32 = 128;
/// Lambda's memory range, in MB.
pub const MEMORY_SIZE_RANGE: std::ops::RangeInclusive<u32> = 128..=10240;
/// The retention periods CloudWatch Logs accepts, in days.
pub const LOG_RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];
/// EventBridge bus names are at most this long.
const MAX_BUS_NAME_LEN: usize = 256;

const COND_CREATE_EVENT_BUS: &str = "CreateEventBus";
const COND_HAS_RESERVED_CONCURRENCY: &str = "HasReservedConcurrency";
const PROVIDER_PLACEHOLDER: &str = "@PROVIDER@";
const VERSION_PLACEHOLDER: &str = "@VERSION@";

/// What a rendered template is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateSpec {
    pub provider: Provider,
    /// Forward to this existing bus (name, same account and region) instead of creating one.
    pub existing_bus: Option<String>,
    pub arch: Arch,
    pub log_retention_days: u32,
    pub reserved_concurrency: Option<u32>,
    /// In MB.
    pub memory_size: u32,
    /// `https://host[/prefix]` the provider calls when the function URL is behind a custom
    /// domain (Twilio signs the URL it called).
    pub public_base_url: Option<String>,
}

impl TemplateSpec {
    /// The defaults: a new bus, x86_64, 30 days of logs, 128 MB, no reserved concurrency.
    pub fn new(provider: Provider) -> Self {
        Self {
            provider,
            existing_bus: None,
            arch: Arch::X86_64,
            log_retention_days: DEFAULT_LOG_RETENTION_DAYS,
            reserved_concurrency: None,
            memory_size: DEFAULT_MEMORY_SIZE,
            public_base_url: None,
        }
    }

    /// Checks every option, naming the flag that is wrong.
    pub fn validate(&self) -> Result<(), TemplateError> {
        if !LOG_RETENTION_DAYS.contains(&self.log_retention_days) {
            return Err(TemplateError::LogRetention(self.log_retention_days));
        }
        if !MEMORY_SIZE_RANGE.contains(&self.memory_size) {
            return Err(TemplateError::MemorySize(self.memory_size));
        }
        if self.reserved_concurrency == Some(0) {
            return Err(TemplateError::ReservedConcurrency);
        }
        if let Some(name) = &self.existing_bus {
            check_bus_name(name).map_err(|reason| TemplateError::EventBus {
                name: name.clone(),
                reason,
            })?;
        }
        if let Some(url) = &self.public_base_url {
            check_public_base_url(url).map_err(|reason| TemplateError::PublicBaseUrl {
                url: url.clone(),
                reason,
            })?;
        }
        Ok(())
    }
}

impl From<&TemplateOptions> for TemplateSpec {
    fn from(o: &TemplateOptions) -> Self {
        let non_empty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        Self {
            provider: o.provider.into(),
            existing_bus: non_empty(&o.event_bus),
            arch: o.arch,
            log_retention_days: o.log_retention_days,
            reserved_concurrency: o.reserved_concurrency,
            memory_size: o.memory_size,
            public_base_url: non_empty(&o.public_base_url),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error(
        "--log-retention-days {0} is not a retention CloudWatch Logs allows: use one of 1, 3, 5, \
         7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, \
         3288, 3653"
    )]
    LogRetention(u32),
    #[error("--memory-size {0} is out of range: Lambda allows 128 to 10240 (MB)")]
    MemorySize(u32),
    #[error(
        "--reserved-concurrency 0 would stop every delivery: reserve at least 1, or leave the \
         option out"
    )]
    ReservedConcurrency,
    #[error("--event-bus {name:?} is not an event bus name ebhook can use: {reason}")]
    EventBus { name: String, reason: &'static str },
    #[error("--public-base-url {url:?} is not valid: {reason}")]
    PublicBaseUrl { url: String, reason: &'static str },
    #[error("stack name {name:?} cannot be used: {reason}")]
    StackName { name: String, reason: String },
    /// The embedded template is not what the renderer expects: a bug, not a usage error.
    #[error("the embedded stack template is malformed: {0}")]
    Malformed(String),
}

impl TemplateError {
    /// Whether the user can fix it by asking differently (a bad option value).
    pub fn is_usage(&self) -> bool {
        !matches!(self, Self::Malformed(_))
    }
}

/// EventBridge: 1-256 of `[.\-_A-Za-z0-9]`; `/` only in partner buses, which ebhook does not put
/// events on. `default` (the account's default bus) is an existing bus and so is allowed here.
fn check_bus_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    if name.starts_with("arn:") {
        return Err(
            "give the bus's name, not its ARN (the bus must be in the stack's account and region)",
        );
    }
    if name.len() > MAX_BUS_NAME_LEN {
        return Err("event bus names are at most 256 characters");
    }
    if name.contains('/') {
        return Err(
            "ebhook forwards to custom event buses (or `default`), whose names have no `/`",
        );
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err("event bus names have only letters, digits, `.`, `-` and `_`");
    }
    Ok(())
}

/// The same rule as the PublicBaseUrl parameter's AllowedPattern, which the handler also accepts.
fn check_public_base_url(url: &str) -> Result<(), &'static str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("it must start with https:// (or http://)")?;
    if rest
        .chars()
        .any(|c| c.is_whitespace() || c == '?' || c == '#')
    {
        return Err("it must have no spaces, query (?) or fragment (#)");
    }
    if rest.split('/').next().unwrap_or_default().is_empty() {
        return Err("it has no host");
    }
    Ok(())
}

/// Checks that a stack of this name can be deployed from a template rendered with `spec`: the
/// function is named after the stack, and so is the bus the stack creates.
pub fn check_stack_name(name: &str, spec: &TemplateSpec) -> Result<(), TemplateError> {
    let problem = |reason: String| TemplateError::StackName {
        name: name.to_owned(),
        reason,
    };
    if name.len() > MAX_STACK_NAME_LEN {
        return Err(problem(format!(
            "at most {MAX_STACK_NAME_LEN} characters (the function is named <stack>{FUNCTION_NAME_SUFFIX})"
        )));
    }
    let mut chars = name.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        || !chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(problem(
            "stack names start with a letter and have only letters, digits and `-`".to_owned(),
        ));
    }
    if spec.existing_bus.is_none() && name == "default" {
        return Err(problem(
            "the stack creates a bus named after itself, and `default` is the account's default bus"
                .to_owned(),
        ));
    }
    Ok(())
}

/// The handler function's name in a stack of this name.
pub fn function_name(stack_name: &str) -> String {
    format!("{stack_name}{FUNCTION_NAME_SUFFIX}")
}

/// The artifacts bucket stack (output [`ARTIFACTS_OUTPUT_BUCKET`]); it has no parameters.
pub fn artifacts_template() -> &'static str {
    ARTIFACTS_TEMPLATE
}

/// Renders the ebhook stack's template for `spec`, as YAML.
pub fn render(spec: &TemplateSpec) -> Result<String, TemplateError> {
    spec.validate()?;
    let mut doc: Value = yaml_serde::from_str(STACK_TEMPLATE)
        .map_err(|e| TemplateError::Malformed(format!("not YAML: {e}")))?;

    specialise(
        &mut doc,
        &[
            (COND_CREATE_EVENT_BUS, spec.existing_bus.is_none()),
            (
                COND_HAS_RESERVED_CONCURRENCY,
                spec.reserved_concurrency.is_some(),
            ),
        ],
    )?;

    let params = mapping_mut(&mut doc, &["Parameters"])?;
    set_param(
        params,
        PARAM_ARCHITECTURE,
        "Default",
        spec.arch.lambda_name(),
    )?;
    set_param(
        params,
        PARAM_LOG_RETENTION_DAYS,
        "Default",
        spec.log_retention_days,
    )?;
    set_param(params, PARAM_MEMORY_SIZE, "Default", spec.memory_size)?;
    set_param(
        params,
        PARAM_PUBLIC_BASE_URL,
        "Default",
        spec.public_base_url.as_deref().unwrap_or_default(),
    )?;
    match &spec.existing_bus {
        Some(name) => {
            set_param(params, PARAM_EVENT_BUS_NAME, "Default", name.as_str())?;
            set_param(params, PARAM_EVENT_BUS_NAME, "MinLength", 1)?;
            set_param(
                params,
                PARAM_EVENT_BUS_NAME,
                "Description",
                "The existing event bus (name) in this account and region to forward to.",
            )?;
        }
        None => remove_param(params, PARAM_EVENT_BUS_NAME)?,
    }
    match spec.reserved_concurrency {
        Some(n) => {
            set_param(params, PARAM_RESERVED_CONCURRENCY, "Default", n)?;
            set_param(params, PARAM_RESERVED_CONCURRENCY, "MinValue", 1)?;
            set_param(
                params,
                PARAM_RESERVED_CONCURRENCY,
                "Description",
                "Concurrent executions reserved for the function.",
            )?;
        }
        None => remove_param(params, PARAM_RESERVED_CONCURRENCY)?,
    }

    // The handler's variables, by the names it reads them (the template spells them out).
    let vars = mapping_mut(
        &mut doc,
        &[
            "Resources",
            "Function",
            "Properties",
            "Environment",
            "Variables",
        ],
    )?;
    for var in [
        env::PROVIDER,
        env::EVENT_BUS,
        env::SECRET_ARN,
        env::PUBLIC_BASE_URL,
        env::FORWARD_BUDGET,
        env::DEAD_LETTER_QUEUE_URL,
        env::PAYLOAD_BUCKET,
    ] {
        if !vars.contains_key(var) {
            return Err(TemplateError::Malformed(format!(
                "the function does not set {var}"
            )));
        }
    }

    replace_in_strings(
        &mut doc,
        &[
            (PROVIDER_PLACEHOLDER, spec.provider.as_str()),
            (VERSION_PLACEHOLDER, env!("CARGO_PKG_VERSION")),
        ],
    );

    let body = to_yaml(&doc)?;
    // The emitter is ours (see to_yaml): check that it reads back as what it was given.
    let read_back: Value = yaml_serde::from_str(&body).map_err(|e| {
        TemplateError::Malformed(format!("the emitted YAML does not read back: {e}"))
    })?;
    if read_back != doc {
        return Err(TemplateError::Malformed(
            "the emitted YAML reads back differently".to_owned(),
        ));
    }
    Ok(format!(
        "# Rendered by ebhook {} for {}: the parameters' defaults are the options it was rendered with.\n{body}",
        env!("CARGO_PKG_VERSION"),
        spec.provider,
    ))
}

/// Decides the `known` conditions: drops resources and outputs whose condition is false,
/// replaces `Fn::If` on them with the branch taken (removing properties and list items that
/// become `AWS::NoValue`), and removes those conditions. Other conditions are left alone.
fn specialise(doc: &mut Value, known: &[(&str, bool)]) -> Result<(), TemplateError> {
    let decided = |name: &str| known.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);

    for section in ["Resources", "Outputs"] {
        let entries = mapping_mut(doc, &[section])?;
        entries.retain(|_, entry| {
            let condition = entry.get("Condition").and_then(Value::as_str);
            condition.and_then(decided) != Some(false)
        });
        for (_, entry) in entries.iter_mut() {
            let Some(entry) = entry.as_mapping_mut() else {
                continue;
            };
            let condition = entry.get("Condition").and_then(Value::as_str);
            if condition.and_then(decided) == Some(true) {
                entry.shift_remove("Condition");
            }
        }
    }

    resolve_ifs(doc, &decided)?;

    if let Some(conditions) = doc.get_mut("Conditions").and_then(Value::as_mapping_mut) {
        conditions.retain(|name, _| name.as_str().and_then(decided).is_none());
        if conditions.is_empty() {
            doc.as_mapping_mut()
                .expect("a template with Conditions is a mapping")
                .shift_remove("Conditions");
        }
    }
    Ok(())
}

/// Resolves `Fn::If` on decided conditions in `value`, recursively. Returns false when `value`
/// itself became `AWS::NoValue` (the caller drops it).
fn resolve_ifs(
    value: &mut Value,
    decided: &impl Fn(&str) -> Option<bool>,
) -> Result<bool, TemplateError> {
    while let Some(taken) = if_branch_taken(value, decided)? {
        *value = taken;
    }
    if is_no_value(value) {
        return Ok(false);
    }
    match value {
        Value::Mapping(map) => {
            let mut dropped = Vec::new();
            for (key, item) in map.iter_mut() {
                if !resolve_ifs(item, decided)? {
                    dropped.push(key.clone());
                }
            }
            for key in dropped {
                map.shift_remove(&key);
            }
        }
        Value::Sequence(items) => {
            let mut kept = Vec::with_capacity(items.len());
            for mut item in std::mem::take(items) {
                if resolve_ifs(&mut item, decided)? {
                    kept.push(item);
                }
            }
            *items = kept;
        }
        _ => {}
    }
    Ok(true)
}

/// The branch `value` (an `Fn::If` on a decided condition) takes, if it is one.
fn if_branch_taken(
    value: &Value,
    decided: &impl Fn(&str) -> Option<bool>,
) -> Result<Option<Value>, TemplateError> {
    let Some(map) = value.as_mapping().filter(|m| m.len() == 1) else {
        return Ok(None);
    };
    let Some(args) = map.get("Fn::If") else {
        return Ok(None);
    };
    let Some([condition, then, otherwise]) = args.as_sequence().map(Vec::as_slice) else {
        return Err(TemplateError::Malformed(format!(
            "Fn::If takes [condition, value if true, value if false], not {args:?}"
        )));
    };
    Ok(condition
        .as_str()
        .and_then(decided)
        .map(|c| if c { then.clone() } else { otherwise.clone() }))
}

fn is_no_value(value: &Value) -> bool {
    value
        .as_mapping()
        .filter(|m| m.len() == 1)
        .and_then(|m| m.get("Ref"))
        .and_then(Value::as_str)
        == Some("AWS::NoValue")
}

fn replace_in_strings(value: &mut Value, replacements: &[(&str, &str)]) {
    match value {
        Value::String(s) => {
            for (from, to) in replacements {
                if s.contains(from) {
                    *s = s.replace(from, to);
                }
            }
        }
        Value::Mapping(map) => map
            .values_mut()
            .for_each(|v| replace_in_strings(v, replacements)),
        Value::Sequence(items) => items
            .iter_mut()
            .for_each(|v| replace_in_strings(v, replacements)),
        Value::Tagged(tagged) => replace_in_strings(&mut tagged.value, replacements),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// The template as block-style YAML with two-space indents. yaml_serde's emitter writes strings
/// such as `2012-10-17` (the policy language version) or `on` (a valid bus name) unquoted, which
/// YAML 1.2 reads back as strings but YAML 1.1 readers (PyYAML: moto, many tools) read as a date
/// or a boolean. Here a string is plain only when it starts with a letter, has only characters
/// that are safe in any position, and is not a YAML 1.1 boolean or null; every other string is
/// single-quoted, or double-quoted with JSON's escapes (valid YAML) if it has control characters.
/// Tags are not supported: the template uses long-form intrinsics.
fn to_yaml(value: &Value) -> Result<String, TemplateError> {
    let mut out = String::new();
    emit_block(value, 0, &mut out)?;
    Ok(out)
}

fn emit_block(value: &Value, indent: usize, out: &mut String) -> Result<(), TemplateError> {
    let pad = " ".repeat(indent);
    match value {
        Value::Mapping(map) if !map.is_empty() => {
            for (key, item) in map {
                out.push_str(&pad);
                out.push_str(&scalar(key)?);
                out.push(':');
                emit_nested(item, indent, out)?;
            }
        }
        Value::Sequence(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                if item.as_mapping().is_some_and(|m| !m.is_empty()) {
                    // `- key: value` with the mapping's other keys under the first.
                    let mut nested = String::new();
                    emit_block(item, indent + 2, &mut nested)?;
                    out.push(' ');
                    out.push_str(&nested[indent + 2..]);
                } else {
                    emit_nested(item, indent, out)?;
                }
            }
        }
        _ => {
            out.push_str(&pad);
            out.push_str(&scalar(value)?);
            out.push('\n');
        }
    }
    Ok(())
}

/// Emits what follows `key:` or `-` at `indent`.
fn emit_nested(value: &Value, indent: usize, out: &mut String) -> Result<(), TemplateError> {
    match value {
        Value::Mapping(m) if !m.is_empty() => {
            out.push('\n');
            emit_block(value, indent + 2, out)
        }
        Value::Sequence(s) if !s.is_empty() => {
            out.push('\n');
            emit_block(value, indent + 2, out)
        }
        _ => {
            out.push(' ');
            out.push_str(&scalar(value)?);
            out.push('\n');
            Ok(())
        }
    }
}

fn scalar(value: &Value) -> Result<String, TemplateError> {
    Ok(match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if plain_is_safe(s) => s.clone(),
        // Single quotes escape nothing but themselves, and cannot hold line breaks.
        Value::String(s) if !s.chars().any(char::is_control) => {
            format!("'{}'", s.replace('\'', "''"))
        }
        Value::String(s) => serde_json::to_string(s).expect("a string serializes"),
        Value::Mapping(_) => "{}".to_owned(),
        Value::Sequence(_) => "[]".to_owned(),
        Value::Tagged(t) => {
            return Err(TemplateError::Malformed(format!(
                "YAML tag {} (use long-form intrinsics)",
                t.tag
            )));
        }
    })
}

/// Whether `s` reads back as this same string, unquoted, in YAML 1.1 and 1.2 block context.
fn plain_is_safe(s: &str) -> bool {
    const NOT_STRINGS: [&str; 9] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " ._-/:${}(),'".contains(c))
        && !s.contains(": ")
        && !s.ends_with([' ', ':'])
        && !NOT_STRINGS.contains(&s.to_ascii_lowercase().as_str())
}

fn mapping_mut<'a>(doc: &'a mut Value, path: &[&str]) -> Result<&'a mut Mapping, TemplateError> {
    let mut at = doc;
    for key in path {
        at = at
            .get_mut(*key)
            .ok_or_else(|| TemplateError::Malformed(format!("no {}", path.join("."))))?;
    }
    at.as_mapping_mut()
        .ok_or_else(|| TemplateError::Malformed(format!("{} is not a mapping", path.join("."))))
}

fn set_param(
    params: &mut Mapping,
    name: &str,
    field: &str,
    value: impl Into<Value>,
) -> Result<(), TemplateError> {
    let param = params
        .get_mut(name)
        .and_then(Value::as_mapping_mut)
        .ok_or_else(|| TemplateError::Malformed(format!("no parameter {name}")))?;
    param.insert(field.into(), value.into());
    Ok(())
}

fn remove_param(params: &mut Mapping, name: &str) -> Result<(), TemplateError> {
    params
        .shift_remove(name)
        .map(drop)
        .ok_or_else(|| TemplateError::Malformed(format!("no parameter {name}")))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn parse(text: &str) -> Value {
        yaml_serde::from_str(text).expect("rendered template is YAML")
    }

    fn rendered(spec: &TemplateSpec) -> Value {
        parse(&render(spec).expect("renders"))
    }

    fn existing(provider: Provider, bus: &str) -> TemplateSpec {
        TemplateSpec {
            existing_bus: Some(bus.to_owned()),
            ..TemplateSpec::new(provider)
        }
    }

    /// Every combination the options can shape.
    fn all_specs() -> Vec<TemplateSpec> {
        let mut specs = Vec::new();
        for provider in Provider::ALL {
            for bus in [None, Some("orders-bus".to_owned())] {
                for arch in [Arch::X86_64, Arch::Arm64] {
                    for reserved in [None, Some(5)] {
                        specs.push(TemplateSpec {
                            existing_bus: bus.clone(),
                            arch,
                            reserved_concurrency: reserved,
                            ..TemplateSpec::new(provider)
                        });
                    }
                }
            }
        }
        specs
    }

    fn resource<'a>(doc: &'a Value, name: &str) -> &'a Value {
        &doc["Resources"][name]
    }

    fn statements(doc: &Value) -> &Vec<Value> {
        let policies = resource(doc, "Role")["Properties"]["Policies"]
            .as_sequence()
            .unwrap();
        assert_eq!(policies.len(), 1, "one inline policy");
        policies[0]["PolicyDocument"]["Statement"]
            .as_sequence()
            .unwrap()
    }

    /// Names a value refers to: `Ref`, `Fn::GetAtt` (resource) and `${...}` in `Fn::Sub`.
    fn references(value: &Value, out: &mut BTreeSet<String>) {
        match value {
            Value::Mapping(map) => {
                for (key, item) in map {
                    match (key.as_str(), item) {
                        (Some("Ref"), Value::String(name)) => {
                            out.insert(name.clone());
                        }
                        (Some("Fn::GetAtt"), Value::Sequence(args)) => {
                            out.insert(args[0].as_str().unwrap().to_owned());
                        }
                        (Some("Fn::Sub"), Value::String(text)) => {
                            for part in text.split("${").skip(1) {
                                let name = part.split('}').next().unwrap();
                                out.insert(name.split('.').next().unwrap().to_owned());
                            }
                        }
                        _ => {}
                    }
                    references(item, out);
                }
            }
            Value::Sequence(items) => items.iter().for_each(|v| references(v, out)),
            _ => {}
        }
    }

    fn keys(map: &Value) -> BTreeSet<String> {
        map.as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect()
    }

    fn contains_str(value: &Value, needle: &str) -> bool {
        match value {
            Value::String(s) => s.contains(needle),
            Value::Mapping(map) => map
                .iter()
                .any(|(k, v)| contains_str(k, needle) || contains_str(v, needle)),
            Value::Sequence(items) => items.iter().any(|v| contains_str(v, needle)),
            _ => false,
        }
    }

    #[test]
    fn every_combination_renders_consistently() {
        for spec in all_specs() {
            let doc = rendered(&spec);
            let mut refs = BTreeSet::new();
            references(&doc, &mut refs);
            let params = keys(&doc["Parameters"]);
            let resources = keys(&doc["Resources"]);
            for name in &refs {
                assert!(
                    name.starts_with("AWS::") || params.contains(name) || resources.contains(name),
                    "{spec:?}: {name} is referenced but not defined"
                );
            }
            for name in &params {
                assert!(refs.contains(name), "{spec:?}: parameter {name} is unused");
            }
            assert!(doc.get("Conditions").is_none(), "{spec:?}: conditions left");
            assert!(!contains_str(&doc, "Fn::If"), "{spec:?}");
            assert!(!contains_str(&doc, "AWS::NoValue"), "{spec:?}");
            assert!(!contains_str(&doc, "@"), "{spec:?}: a placeholder is left");
            for (_, entry) in doc["Resources"].as_mapping().unwrap() {
                assert!(entry.get("Condition").is_none(), "{spec:?}");
            }

            let name = spec.provider.as_str();
            let vars = &resource(&doc, "Function")["Properties"]["Environment"]["Variables"];
            assert_eq!(vars[env::PROVIDER], Value::from(name));
            assert_eq!(doc["Outputs"][OUTPUT_PROVIDER]["Value"], Value::from(name));
            assert_eq!(doc["Metadata"]["Ebhook"]["Provider"], Value::from(name));
            assert_eq!(
                doc["Metadata"]["Ebhook"]["Generator"],
                Value::from("ebhook")
            );
            assert_eq!(
                doc["Parameters"][PARAM_ARCHITECTURE]["Default"],
                Value::from(spec.arch.lambda_name())
            );
        }
    }

    #[test]
    fn new_bus_is_created_and_named_after_the_stack() {
        let doc = rendered(&TemplateSpec::new(Provider::Github));
        let bus = resource(&doc, "Bus");
        assert_eq!(bus["Type"], Value::from("AWS::Events::EventBus"));
        assert_eq!(
            bus["Properties"]["Name"]["Ref"],
            Value::from("AWS::StackName")
        );
        assert!(doc["Parameters"].get(PARAM_EVENT_BUS_NAME).is_none());
        let get_att = |attr: &str| parse(&format!("Fn::GetAtt: [Bus, {attr}]"));
        let vars = &resource(&doc, "Function")["Properties"]["Environment"]["Variables"];
        assert_eq!(vars[env::EVENT_BUS], get_att("Name"));
        assert_eq!(statements(&doc)[0]["Resource"], get_att("Arn"));
        assert_eq!(
            doc["Outputs"][OUTPUT_EVENT_BUS_NAME]["Value"],
            get_att("Name")
        );
        assert_eq!(
            doc["Outputs"][OUTPUT_EVENT_BUS_ARN]["Value"],
            get_att("Arn")
        );
    }

    #[test]
    fn existing_bus_has_no_bus_resource_and_the_policy_names_its_arn() {
        for provider in Provider::ALL {
            let doc = rendered(&existing(provider, "orders-bus"));
            let resources = doc["Resources"].as_mapping().unwrap();
            assert!(
                resources
                    .values()
                    .all(|r| r["Type"] != "AWS::Events::EventBus"),
                "no bus is created"
            );
            let param = &doc["Parameters"][PARAM_EVENT_BUS_NAME];
            assert_eq!(param["Default"], Value::from("orders-bus"));
            assert_eq!(param["MinLength"], Value::from(1));

            let arn = parse(
                "Fn::Sub: arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${EventBusName}",
            );
            let put_events = &statements(&doc)[0];
            assert_eq!(put_events["Action"], Value::from("events:PutEvents"));
            assert_eq!(put_events["Resource"], arn);
            assert_eq!(doc["Outputs"][OUTPUT_EVENT_BUS_ARN]["Value"], arn);
            let by_name = parse("Ref: EventBusName");
            let vars = &resource(&doc, "Function")["Properties"]["Environment"]["Variables"];
            assert_eq!(vars[env::EVENT_BUS], by_name);
            assert_eq!(doc["Outputs"][OUTPUT_EVENT_BUS_NAME]["Value"], by_name);
        }
        // The account's default bus is an existing bus.
        let doc = rendered(&existing(Provider::Zendesk, "default"));
        assert_eq!(
            doc["Parameters"][PARAM_EVENT_BUS_NAME]["Default"],
            Value::from("default")
        );
    }

    #[test]
    fn policy_statements_are_scoped_to_this_stack() {
        for spec in all_specs() {
            let doc = rendered(&spec);
            let role = &resource(&doc, "Role")["Properties"];
            assert!(role.get("ManagedPolicyArns").is_none());
            assert_eq!(
                role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
                Value::from("lambda.amazonaws.com")
            );
            let statements = statements(&doc);
            let actions: Vec<Value> = statements.iter().map(|s| s["Action"].clone()).collect();
            assert_eq!(
                actions,
                [
                    parse("events:PutEvents"),
                    parse("secretsmanager:GetSecretValue"),
                    parse("sqs:SendMessage"),
                    parse("s3:PutObject"),
                    parse("[logs:CreateLogStream, logs:PutLogEvents]"),
                ]
            );
            for (i, statement) in statements.iter().enumerate() {
                assert_eq!(statement["Effect"], Value::from("Allow"));
                // Object writes name key prefixes of the stack's own bucket; everything else
                // is one resource, named by an intrinsic, without a wildcard.
                if i == 3 {
                    continue;
                }
                assert!(
                    !contains_str(statement, "*"),
                    "{spec:?}: a wildcard in {statement:?}"
                );
                assert!(
                    statement["Resource"].is_mapping(),
                    "{spec:?}: one resource, named by an intrinsic: {statement:?}"
                );
            }
            assert_eq!(statements[1]["Resource"], parse("Ref: Secret"));
            assert_eq!(
                statements[2]["Resource"],
                parse("Fn::GetAtt: [DeadLetterQueue, Arn]")
            );
            assert_eq!(
                statements[3]["Resource"],
                parse(
                    "[{Fn::Sub: '${PayloadBucket.Arn}/oversized/*'}, \
                     {Fn::Sub: '${PayloadBucket.Arn}/dead-letter/*'}]"
                )
            );
            assert_eq!(
                statements[4]["Resource"],
                parse("Fn::GetAtt: [LogGroup, Arn]")
            );
        }
    }

    #[test]
    fn function_url_is_public_with_both_permissions() {
        let doc = rendered(&TemplateSpec::new(Provider::Twilio));
        let url = &resource(&doc, "FunctionUrl")["Properties"];
        assert_eq!(url["AuthType"], Value::from("NONE"));
        assert_eq!(
            url["TargetFunctionArn"],
            parse("Fn::GetAtt: [Function, Arn]")
        );

        let permissions: Vec<&Value> = doc["Resources"]
            .as_mapping()
            .unwrap()
            .values()
            .filter(|r| r["Type"] == "AWS::Lambda::Permission")
            .map(|r| &r["Properties"])
            .collect();
        assert_eq!(permissions.len(), 2);
        let by_action = |action: &str| {
            *permissions
                .iter()
                .find(|p| p["Action"] == action)
                .unwrap_or_else(|| panic!("a permission for {action}"))
        };
        let url_permission = by_action("lambda:InvokeFunctionUrl");
        assert_eq!(url_permission["Principal"], Value::from("*"));
        assert_eq!(url_permission["FunctionUrlAuthType"], Value::from("NONE"));
        assert_eq!(url_permission["FunctionName"], parse("Ref: Function"));
        let invoke_permission = by_action("lambda:InvokeFunction");
        assert_eq!(invoke_permission["Principal"], Value::from("*"));
        assert_eq!(
            invoke_permission["InvokedViaFunctionUrl"],
            Value::from(true)
        );
        assert_eq!(invoke_permission["FunctionName"], parse("Ref: Function"));
    }

    #[test]
    fn function_gets_the_secret_arn_never_the_secret() {
        for spec in all_specs() {
            let doc = rendered(&spec);
            let function = &resource(&doc, "Function")["Properties"];
            let vars = &function["Environment"]["Variables"];
            assert_eq!(vars[env::SECRET_ARN], parse("Ref: Secret"));
            assert!(vars.get(env::SECRET).is_none());
            let mut refs = BTreeSet::new();
            references(function, &mut refs);
            assert!(!refs.contains(PARAM_SIGNING_SECRET), "{spec:?}");
            assert_eq!(
                keys(vars),
                [
                    env::PROVIDER,
                    env::EVENT_BUS,
                    env::SECRET_ARN,
                    env::PUBLIC_BASE_URL,
                    env::FORWARD_BUDGET,
                    env::DEAD_LETTER_QUEUE_URL,
                    env::PAYLOAD_BUCKET,
                ]
                .map(str::to_owned)
                .into()
            );
            assert_eq!(vars[env::FORWARD_BUDGET], Value::from("2000"));
            assert_eq!(
                vars[env::DEAD_LETTER_QUEUE_URL],
                parse("Ref: DeadLetterQueue")
            );
            assert_eq!(vars[env::PAYLOAD_BUCKET], parse("Ref: PayloadBucket"));
            assert_eq!(vars[env::PUBLIC_BASE_URL], parse("Ref: PublicBaseUrl"));

            // Only the secret resource sees the secret.
            let mut holders = Vec::new();
            for (name, res) in doc["Resources"].as_mapping().unwrap() {
                let mut refs = BTreeSet::new();
                references(res, &mut refs);
                if refs.contains(PARAM_SIGNING_SECRET) {
                    holders.push(name.as_str().unwrap());
                }
            }
            assert_eq!(holders, ["Secret"]);
            let secret = &doc["Parameters"][PARAM_SIGNING_SECRET];
            assert_eq!(secret["NoEcho"], Value::from(true));
            assert_eq!(secret["Default"], Value::from(UNSET_SIGNING_SECRET));
        }
    }

    #[test]
    fn function_settings() {
        let spec = TemplateSpec {
            arch: Arch::Arm64,
            memory_size: 256,
            log_retention_days: 14,
            reserved_concurrency: Some(7),
            public_base_url: Some("https://hooks.example.com".to_owned()),
            ..TemplateSpec::new(Provider::Twilio)
        };
        let doc = rendered(&spec);
        let f = &resource(&doc, "Function")["Properties"];
        assert_eq!(f["Runtime"], Value::from("provided.al2023"));
        assert_eq!(f["Handler"], Value::from("bootstrap"));
        assert_eq!(f["Timeout"], Value::from(10));
        assert_eq!(f["Architectures"], parse("[{Ref: Architecture}]"));
        assert_eq!(f["MemorySize"], parse("Ref: MemorySize"));
        assert_eq!(
            f["Code"],
            parse("{S3Bucket: {Ref: CodeS3Bucket}, S3Key: {Ref: CodeS3Key}}")
        );
        assert_eq!(
            f["ReservedConcurrentExecutions"],
            parse("Ref: ReservedConcurrency")
        );
        assert_eq!(f["LoggingConfig"]["LogGroup"], parse("Ref: LogGroup"));
        assert_eq!(
            f["FunctionName"],
            parse(&format!(
                "Fn::Sub: \"${{AWS::StackName}}{FUNCTION_NAME_SUFFIX}\""
            ))
        );
        let log_group = &resource(&doc, "LogGroup")["Properties"];
        assert_eq!(
            log_group["LogGroupName"],
            parse(&format!(
                "Fn::Sub: \"/aws/lambda/${{AWS::StackName}}{FUNCTION_NAME_SUFFIX}\""
            ))
        );
        assert_eq!(
            log_group["RetentionInDays"],
            parse("Ref: LogRetentionInDays")
        );

        let params = &doc["Parameters"];
        assert_eq!(params[PARAM_ARCHITECTURE]["Default"], Value::from("arm64"));
        assert_eq!(params[PARAM_MEMORY_SIZE]["Default"], Value::from(256));
        assert_eq!(params[PARAM_LOG_RETENTION_DAYS]["Default"], Value::from(14));
        assert_eq!(
            params[PARAM_RESERVED_CONCURRENCY]["Default"],
            Value::from(7)
        );
        assert_eq!(
            params[PARAM_RESERVED_CONCURRENCY]["MinValue"],
            Value::from(1)
        );
        assert_eq!(
            params[PARAM_PUBLIC_BASE_URL]["Default"],
            Value::from("https://hooks.example.com")
        );
        for param in [PARAM_SIGNING_SECRET, PARAM_CODE_BUCKET, PARAM_CODE_KEY] {
            assert!(params.get(param).is_some(), "{param}");
        }
    }

    #[test]
    fn no_reserved_concurrency_leaves_the_property_out() {
        let doc = rendered(&TemplateSpec::new(Provider::Zendesk));
        let f = &resource(&doc, "Function")["Properties"];
        assert!(f.get("ReservedConcurrentExecutions").is_none());
        assert!(doc["Parameters"].get(PARAM_RESERVED_CONCURRENCY).is_none());
        assert_eq!(
            doc["Parameters"][PARAM_PUBLIC_BASE_URL]["Default"],
            Value::from("")
        );
        assert_eq!(
            doc["Parameters"][PARAM_MEMORY_SIZE]["Default"],
            Value::from(128)
        );
        assert_eq!(
            doc["Parameters"][PARAM_LOG_RETENTION_DAYS]["Default"],
            Value::from(30)
        );
    }

    #[test]
    fn outputs_never_reference_the_secret_parameter() {
        for spec in all_specs() {
            let doc = rendered(&spec);
            assert_eq!(
                keys(&doc["Outputs"]),
                [
                    OUTPUT_WEBHOOK_URL,
                    OUTPUT_EVENT_BUS_NAME,
                    OUTPUT_EVENT_BUS_ARN,
                    OUTPUT_FUNCTION_NAME,
                    OUTPUT_SECRET_ARN,
                    OUTPUT_PROVIDER,
                    OUTPUT_DEAD_LETTER_QUEUE_URL,
                    OUTPUT_PAYLOAD_BUCKET,
                ]
                .map(str::to_owned)
                .into()
            );
            let mut refs = BTreeSet::new();
            references(&doc["Outputs"], &mut refs);
            assert!(!refs.contains(PARAM_SIGNING_SECRET), "{spec:?}");
            let mut refs = BTreeSet::new();
            references(&doc["Metadata"], &mut refs);
            assert!(refs.is_empty());
            assert_eq!(
                doc["Outputs"][OUTPUT_WEBHOOK_URL]["Value"],
                parse("Fn::GetAtt: [FunctionUrl, FunctionUrl]")
            );
            assert_eq!(
                doc["Outputs"][OUTPUT_SECRET_ARN]["Value"],
                parse("Ref: Secret")
            );
        }
    }

    #[test]
    fn the_template_parameters_match_the_constants() {
        let doc = rendered(&TemplateSpec {
            reserved_concurrency: Some(1),
            ..existing(Provider::Github, "b")
        });
        assert_eq!(
            keys(&doc["Parameters"]),
            [
                PARAM_SIGNING_SECRET,
                PARAM_CODE_BUCKET,
                PARAM_CODE_KEY,
                PARAM_ARCHITECTURE,
                PARAM_LOG_RETENTION_DAYS,
                PARAM_MEMORY_SIZE,
                PARAM_PUBLIC_BASE_URL,
                PARAM_EVENT_BUS_NAME,
                PARAM_RESERVED_CONCURRENCY,
            ]
            .map(str::to_owned)
            .into()
        );
        let allowed: Vec<Value> = LOG_RETENTION_DAYS.iter().map(|&d| Value::from(d)).collect();
        assert_eq!(
            doc["Parameters"][PARAM_LOG_RETENTION_DAYS]["AllowedValues"],
            Value::Sequence(allowed)
        );
        assert_eq!(
            doc["Parameters"][PARAM_MEMORY_SIZE]["MinValue"],
            Value::from(*MEMORY_SIZE_RANGE.start())
        );
        assert_eq!(
            doc["Parameters"][PARAM_MEMORY_SIZE]["MaxValue"],
            Value::from(*MEMORY_SIZE_RANGE.end())
        );
    }

    #[test]
    fn artifacts_template_is_the_bucket_stack() {
        let doc = parse(artifacts_template());
        let outputs = keys(&doc["Outputs"]);
        assert_eq!(outputs, [ARTIFACTS_OUTPUT_BUCKET.to_owned()].into());
        let bucket = &doc["Resources"]["Bucket"];
        assert_eq!(bucket["Type"], Value::from("AWS::S3::Bucket"));
        let props = &bucket["Properties"];
        for block in [
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        ] {
            assert_eq!(
                props["PublicAccessBlockConfiguration"][block],
                Value::from(true)
            );
        }
        assert_eq!(
            props["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
            Value::from("BucketOwnerEnforced")
        );
        let statement =
            &doc["Resources"]["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0];
        assert_eq!(statement["Effect"], Value::from("Deny"));
        assert_eq!(statement["Action"], Value::from("s3:*"));
        assert!(
            statement["Resource"]
                .as_sequence()
                .unwrap()
                .iter()
                .all(Value::is_mapping)
        );
    }

    #[test]
    fn invalid_options_name_the_option() {
        let base = TemplateSpec::new(Provider::Github);
        let cases: Vec<(TemplateSpec, &str)> = vec![
            (
                TemplateSpec {
                    log_retention_days: 8,
                    ..base.clone()
                },
                "--log-retention-days 8",
            ),
            (
                TemplateSpec {
                    memory_size: 64,
                    ..base.clone()
                },
                "--memory-size 64",
            ),
            (
                TemplateSpec {
                    memory_size: 10241,
                    ..base.clone()
                },
                "--memory-size 10241",
            ),
            (
                TemplateSpec {
                    reserved_concurrency: Some(0),
                    ..base.clone()
                },
                "--reserved-concurrency 0",
            ),
            (
                TemplateSpec {
                    public_base_url: Some("hooks.example.com".to_owned()),
                    ..base.clone()
                },
                "--public-base-url",
            ),
            (
                TemplateSpec {
                    public_base_url: Some("https://".to_owned()),
                    ..base.clone()
                },
                "--public-base-url",
            ),
            (
                TemplateSpec {
                    public_base_url: Some("https://h.example.com/a?b".to_owned()),
                    ..base.clone()
                },
                "--public-base-url",
            ),
        ];
        let bad_buses = [
            String::new(),
            "my bus".to_owned(),
            "aws.partner/zendesk.com/123/default".to_owned(),
            "arn:aws:events:us-east-1:123456789012:event-bus/b".to_owned(),
            "x".repeat(257),
            "bus*".to_owned(),
        ];
        let cases = cases.into_iter().chain(bad_buses.into_iter().map(|b| {
            (
                TemplateSpec {
                    existing_bus: Some(b),
                    ..base.clone()
                },
                "--event-bus",
            )
        }));
        for (spec, option) in cases {
            let error = render(&spec).expect_err(option);
            assert!(error.is_usage(), "{error}");
            assert!(
                error.to_string().starts_with(option),
                "{error} should name {option}"
            );
        }
    }

    #[test]
    fn valid_edge_options_render() {
        for spec in [
            TemplateSpec {
                memory_size: 10240,
                log_retention_days: 3653,
                existing_bus: Some("a.b-c_D9".to_owned()),
                ..TemplateSpec::new(Provider::Zendesk)
            },
            TemplateSpec {
                memory_size: 128,
                log_retention_days: 1,
                existing_bus: Some("x".repeat(256)),
                public_base_url: Some("http://localhost:8080/prefix/".to_owned()),
                ..TemplateSpec::new(Provider::Twilio)
            },
        ] {
            render(&spec).unwrap();
        }
    }

    #[test]
    fn emitted_strings_are_strings_in_yaml_1_1_too() {
        for (text, plain) in [
            ("2012-10-17", false),
            ("on", false),
            ("Yes", false),
            ("null", false),
            ("123", false),
            ("1_000", false),
            ("0.1.0", false),
            ("*", false),
            ("s3:*", false),
            ("a: b", false),
            ("a #b", false),
            ("", false),
            ("${AWS::StackName}-handler", false),
            ("{\"current\":\"\"}", false),
            ("line\nbreak", false),
            ("it's 'quoted'", true),
            ("tab\there", false),
            ("x86_64", true),
            ("Fn::GetAtt", true),
            ("arn:${AWS::Partition}:events:${AWS::Region}", true),
            ("The function's memory, in MB.", true),
            ("onward", true),
        ] {
            assert_eq!(plain_is_safe(text), plain, "{text:?}");
            let value = Value::from(text);
            let emitted = to_yaml(&parse(&format!("k: {}", scalar(&value).unwrap()))).unwrap();
            assert_eq!(parse(&emitted)["k"], value, "{emitted}");
        }
        let doc = parse("a: [1, {b: [], c: {}}, [x, y], {d: e, f: [g]}]\nh: true\ni: ~\n");
        assert_eq!(parse(&to_yaml(&doc).unwrap()), doc);
        assert!(to_yaml(&parse("a: !Ref b")).is_err());
    }

    #[test]
    fn rendered_policy_versions_are_quoted() {
        let text = render(&TemplateSpec::new(Provider::Github)).unwrap();
        assert!(text.contains("AWSTemplateFormatVersion: '2010-09-09'\n"));
        assert!(text.contains("Version: '2012-10-17'\n"));
        assert!(!text.contains("Version: 2012"));
    }

    #[test]
    fn stack_names() {
        let new_bus = TemplateSpec::new(Provider::Github);
        let old_bus = existing(Provider::Github, "default");
        check_stack_name("ebhook-github", &new_bus).unwrap();
        check_stack_name(&"s".repeat(MAX_STACK_NAME_LEN), &new_bus).unwrap();
        assert_eq!(function_name("s").len(), 1 + FUNCTION_NAME_SUFFIX.len());
        for bad in [
            "s".repeat(MAX_STACK_NAME_LEN + 1),
            "1abc".to_owned(),
            "a_b".to_owned(),
            String::new(),
        ] {
            assert!(check_stack_name(&bad, &new_bus).is_err(), "{bad}");
        }
        assert!(check_stack_name("default", &new_bus).is_err());
        check_stack_name("default", &old_bus).unwrap();
    }

    #[test]
    fn spec_from_options() {
        use clap::Parser;

        use crate::cli::{Cli, Command};

        let options = |args: &[&str]| {
            let cli = Cli::try_parse_from([&["ebhook", "template"], args].concat()).unwrap();
            match cli.command {
                Command::Template(args) => args.options.expect("options"),
                other => panic!("parsed as {other:?}"),
            }
        };
        assert_eq!(
            TemplateSpec::from(&options(&["--provider", "github"])),
            TemplateSpec::new(Provider::Github)
        );
        let options = options(&[
            "--provider",
            "twilio",
            "--event-bus",
            "",
            "--arch",
            "arm64",
            "--log-retention-days",
            "60",
            "--reserved-concurrency",
            "3",
            "--memory-size",
            "512",
            "--public-base-url",
            "",
        ]);
        assert_eq!(
            TemplateSpec::from(&options),
            TemplateSpec {
                provider: Provider::Twilio,
                existing_bus: None,
                arch: Arch::Arm64,
                log_retention_days: 60,
                reserved_concurrency: Some(3),
                memory_size: 512,
                public_base_url: None,
            }
        );
    }
}
