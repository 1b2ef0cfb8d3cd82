//! AWS's own rules over every template the CLI can deploy: the AWS Control Tower proactive
//! controls (cfn-guard rules, with the cfn-guard binary, from the npm package
//! `@cdklabs/cdk-validator-cfnguard` that `tests/setup` installs in `tests/guard`).
//!
//! Each template is resolved for every combination of the parameters that changes its
//! resources (the conditions), as CloudFormation would deploy it, and checked as JSON. A control
//! that fails must be in [`EXPECTED`] for that template and mode, with the reason it is accepted
//! (Control Tower's rules read no suppression from the template); and every entry there must
//! still fail, so the list stays true.
//!
//! The AWS Guard Rules Registry cannot be installed here (no package registry carries it):
//! what it fails is suppressed in the templates' Metadata with reasons, and the last test holds
//! the templates to that list ([`GUARD_REGISTRY_SUPPRESSED`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_serde::Value;

use crate::support::resolve::resolve;
use crate::support::workspace_root;

/// The package holding the rules and the binary, as `tests/setup` installs it.
fn package() -> PathBuf {
    let dir = workspace_root()
        .join("tests")
        .join("guard")
        .join("node_modules")
        .join("@cdklabs")
        .join("cdk-validator-cfnguard");
    assert!(
        dir.is_dir(),
        "no cfn-guard rules at {}: run `bash tests/setup` (it installs tests/guard with npm)",
        dir.display()
    );
    dir
}

/// The cfn-guard binary the package ships for this machine.
fn cfn_guard() -> PathBuf {
    let os = match std::env::consts::OS {
        "macos" => "macos",
        _ => "ubuntu",
    };
    package()
        .join("bin")
        .join(os)
        .join(std::env::consts::ARCH)
        .join("cfn-guard")
}

/// Control Tower failures that are accepted: (file, control, resource, why). The file is
/// `<template>-<mode>` (the mode's failures hold for every other combination of it).
/// Each reason is said at more length in the README's Compliance section.
/// Why an alarm may have no action: who to notify is the user's to say (--alarm-email or
/// --alarm-topic), and without it the alarm's state still shows in the console and `ebhook
/// status`. A mode ending in [`NO_ALARM_TOPIC`] applies to the variants without a topic only.
const ALARM_WITHOUT_TOPIC: &str = "nobody to notify was given (--alarm-email or --alarm-topic); \
     the alarm's state still shows in the console and ebhook status";
const NO_ALARM_TOPIC: &str = "/no-alarm-topic";

const EXPECTED: &[(&str, &str, &str, &str)] = &[
    (
        "ebhook-none",
        "CT.LAMBDA.PR.2",
        "FunctionUrlPermission",
        "a SaaS webhook sender is anyone on the internet: the URL must be invokable by all",
    ),
    (
        "ebhook-none",
        "CT.LAMBDA.PR.2",
        "FunctionInvokePermission",
        "a public function URL also needs lambda:InvokeFunction for everyone, via the URL only",
    ),
    (
        "ebhook-none",
        "CT.LAMBDA.PR.5",
        "FunctionUrl",
        "providers cannot sign with AWS SigV4; the handler verifies their signatures instead",
    ),
    (
        "ebhook-none",
        "CT.LAMBDA.PR.3",
        "Function",
        "the function calls only public AWS endpoints; a VPC would need NAT or endpoints, at a cost",
    ),
    (
        "ebhook-none",
        "CT.CLOUDWATCH.PR.2",
        "LogGroup",
        "logs are kept 30 days by default; a year costs storage (--compliance control-tower)",
    ),
    (
        "ebhook-none",
        "CT.CLOUDWATCH.PR.3",
        "LogGroup",
        "a customer managed KMS key costs a monthly fee per key (--compliance control-tower)",
    ),
    (
        "ebhook-none",
        "CT.S3.PR.2",
        "PayloadBucket",
        "server access logs need a second bucket and its storage (--compliance control-tower)",
    ),
    (
        "ebhook-none",
        "CT.S3.PR.9",
        "PayloadBucket",
        "Object Lock can never be turned off once on, so it is opt-in (--compliance control-tower)",
    ),
    (
        "artifacts-none",
        "CT.S3.PR.2",
        "Bucket",
        "server access logs need a second bucket and its storage (--compliance control-tower)",
    ),
    (
        "artifacts-none",
        "CT.S3.PR.9",
        "Bucket",
        "Object Lock can never be turned off once on, so it is opt-in (--compliance control-tower)",
    ),
    (
        "ebhook-control-tower",
        "CT.LAMBDA.PR.2",
        "FunctionUrlPermission",
        "a SaaS webhook sender is anyone on the internet: the URL must be invokable by all",
    ),
    (
        "ebhook-control-tower",
        "CT.LAMBDA.PR.2",
        "FunctionInvokePermission",
        "a public function URL also needs lambda:InvokeFunction for everyone, via the URL only",
    ),
    (
        "ebhook-control-tower",
        "CT.LAMBDA.PR.5",
        "FunctionUrl",
        "providers cannot sign with AWS SigV4; the handler verifies their signatures instead",
    ),
    (
        "ebhook-control-tower",
        "CT.LAMBDA.PR.3",
        "Function",
        "the function calls only public AWS endpoints; a VPC would need NAT or endpoints, at a cost",
    ),
    (
        "ebhook-control-tower",
        "CT.S3.PR.10",
        "AccessLogBucket",
        "S3 delivers server access logs only to a bucket encrypted with S3 managed keys",
    ),
    (
        "ebhook-control-tower",
        "CT.S3.PR.9",
        "AccessLogBucket",
        "S3 does not deliver server access logs to a bucket with Object Lock turned on",
    ),
    (
        "ebhook-control-tower",
        "CT.S3.PR.2",
        "AccessLogBucket",
        "the access log bucket cannot log its own access without a third bucket, and so on",
    ),
    (
        "artifacts-control-tower",
        "CT.S3.PR.10",
        "AccessLogBucket",
        "S3 delivers server access logs only to a bucket encrypted with S3 managed keys",
    ),
    (
        "artifacts-control-tower",
        "CT.S3.PR.9",
        "AccessLogBucket",
        "S3 does not deliver server access logs to a bucket with Object Lock turned on",
    ),
    (
        "artifacts-control-tower",
        "CT.S3.PR.2",
        "AccessLogBucket",
        "the access log bucket cannot log its own access without a third bucket, and so on",
    ),
    (
        "ebhook-none/no-alarm-topic",
        "CT.CLOUDWATCH.PR.1",
        "DeadLetterWaitingAlarm",
        ALARM_WITHOUT_TOPIC,
    ),
    (
        "ebhook-none/no-alarm-topic",
        "CT.CLOUDWATCH.PR.1",
        "UnreplayableWaitingAlarm",
        ALARM_WITHOUT_TOPIC,
    ),
    (
        "ebhook-none/no-alarm-topic",
        "CT.CLOUDWATCH.PR.1",
        "RejectedSignaturesAlarm",
        ALARM_WITHOUT_TOPIC,
    ),
    (
        "ebhook-none/no-alarm-topic",
        "CT.CLOUDWATCH.PR.1",
        "FunctionErrorsAlarm",
        ALARM_WITHOUT_TOPIC,
    ),
    (
        "ebhook-none/no-alarm-topic",
        "CT.CLOUDWATCH.PR.1",
        "FunctionThrottlesAlarm",
        ALARM_WITHOUT_TOPIC,
    ),
    (
        "ebhook-none/no-alarm-topic",
        "CT.CLOUDWATCH.PR.1",
        "PutEventsFailingAlarm",
        ALARM_WITHOUT_TOPIC,
    ),
    (
        "ebhook-control-tower/no-alarm-topic",
        "CT.CLOUDWATCH.PR.1",
        "DeadLetterWaitingAlarm",
        ALARM_WITHOUT_TOPIC,
    ),
    (
        "ebhook-control-tower/no-alarm-topic",
        "CT.CLOUDWATCH.PR.1",
        "UnreplayableWaitingAlarm",
        ALARM_WITHOUT_TOPIC,
    ),
    (
        "ebhook-control-tower/no-alarm-topic",
        "CT.CLOUDWATCH.PR.1",
        "RejectedSignaturesAlarm",
        ALARM_WITHOUT_TOPIC,
    ),
    (
        "ebhook-control-tower/no-alarm-topic",
        "CT.CLOUDWATCH.PR.1",
        "FunctionErrorsAlarm",
        ALARM_WITHOUT_TOPIC,
    ),
    (
        "ebhook-control-tower/no-alarm-topic",
        "CT.CLOUDWATCH.PR.1",
        "FunctionThrottlesAlarm",
        ALARM_WITHOUT_TOPIC,
    ),
    (
        "ebhook-control-tower/no-alarm-topic",
        "CT.CLOUDWATCH.PR.1",
        "PutEventsFailingAlarm",
        ALARM_WITHOUT_TOPIC,
    ),
];

/// Parameter values by name.
type Parameters = Vec<(&'static str, &'static str)>;

/// One way to deploy a template: a file name and the parameter values that decide its
/// conditions.
struct Variant {
    template: &'static str,
    name: String,
    mode: &'static str,
    parameters: Parameters,
}

impl Variant {
    /// Whether an accepted failure of `mode` applies to this variant.
    fn accepts(&self, mode: &str) -> bool {
        let has_topic = self
            .parameters
            .iter()
            .any(|(name, value)| name.starts_with("Alarm") && !value.is_empty());
        mode == self.mode || (!has_topic && mode.strip_suffix(NO_ALARM_TOPIC) == Some(self.mode))
    }
}

/// Every combination of the parameters that changes which resources (or which branch of a
/// property) a template deploys.
fn variants() -> Vec<Variant> {
    let code = [
        ("CodeS3Bucket", "ebhook-artifacts-bucket-0123456789ab"),
        ("CodeS3Key", "ebhook/handler-0123.zip"),
        ("Provider", "github"),
    ];
    let key = "arn:aws:kms:us-east-1:123456789012:key/0b2c1e4a-7a63-4a5e-9f0e-1234567890ab";
    let modes: [(&str, &str, Parameters); 4] = [
        ("ebhook-none", "none", Vec::new()),
        (
            "ebhook-control-tower",
            "control-tower",
            vec![("Compliance", "control-tower")],
        ),
        (
            "ebhook-control-tower",
            "control-tower-own-key",
            vec![("Compliance", "control-tower"), ("KmsKeyArn", key)],
        ),
        (
            "ebhook-control-tower",
            "control-tower-long-logs",
            vec![
                ("Compliance", "control-tower"),
                ("LogRetentionInDays", "731"),
            ],
        ),
    ];
    let mut all = Vec::new();
    for (mode, label, given) in &modes {
        for bus in [None, Some("orders-bus")] {
            for reserved in [None, Some("10")] {
                let mut parameters = code.to_vec();
                parameters.extend(given.iter().copied());
                parameters.extend(bus.map(|b| ("EventBusName", b)));
                parameters.extend(reserved.map(|r| ("ReservedConcurrency", r)));
                // The dedupe table comes with the reserved variants: one more condition
                // without doubling the runs.
                parameters.extend(reserved.map(|_| ("DedupeWindow", "86400")));
                // So does the alarm topic (and its key, or compliance mode's) for e-mails.
                parameters.extend(reserved.map(|_| ("AlarmEmail1", "ops@example.com")));
                all.push(Variant {
                    template: "ebhook.yaml",
                    name: format!(
                        "ebhook-{label}-{}-{}",
                        if bus.is_some() {
                            "existing-bus"
                        } else {
                            "new-bus"
                        },
                        if reserved.is_some() {
                            "reserved-dedupe-alarm-email"
                        } else {
                            "unreserved"
                        },
                    ),
                    mode,
                    parameters,
                });
            }
        }
    }
    all.push(Variant {
        template: "artifacts.yaml",
        name: "artifacts-none".to_owned(),
        mode: "artifacts-none",
        parameters: Vec::new(),
    });
    all.push(Variant {
        template: "artifacts.yaml",
        name: "artifacts-control-tower".to_owned(),
        mode: "artifacts-control-tower",
        parameters: vec![("Compliance", "control-tower")],
    });
    all
}

/// Every (control, resource) a cfn-guard JSON report says failed. A control's id is in the
/// custom message of the rule check (`[CT.S3.PR.8]: ...`); the resources are named by the
/// paths (`/Resources/<id>/...`) of the clauses under it.
fn failures(node: &serde_json::Value, control: Option<&str>, out: &mut BTreeSet<(String, String)>) {
    match node {
        serde_json::Value::Object(map) => {
            let own = map
                .get("messages")
                .and_then(|m| m.get("custom_message"))
                .and_then(serde_json::Value::as_str)
                .and_then(control_id);
            let control = own.as_deref().or(control);
            for (key, value) in map {
                let texts: Vec<&str> = match (key.as_str(), value) {
                    ("path" | "error_message", serde_json::Value::String(s)) => vec![s],
                    _ => Vec::new(),
                };
                for text in texts {
                    for resource in resources_named(text) {
                        let control = control.unwrap_or_else(|| {
                            panic!("a failed check on {resource} under no control id: {node}")
                        });
                        out.insert((control.to_owned(), resource));
                    }
                }
                failures(value, control, out);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                failures(item, control, out);
            }
        }
        _ => {}
    }
}

/// `CT.S3.PR.8` from `[CT.S3.PR.8]: Require ...`.
fn control_id(message: &str) -> Option<String> {
    let start = message.find("[CT.")?;
    let rest = &message[start + 1..];
    let end = rest.find(']')?;
    Some(rest[..end].to_owned())
}

/// The logical ids in `/Resources/<id>` paths within `text`.
fn resources_named(text: &str) -> Vec<String> {
    text.match_indices("/Resources/")
        .filter_map(|(at, prefix)| {
            let id: String = text[at + prefix.len()..]
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            (!id.is_empty()).then_some(id)
        })
        .collect()
}

/// Runs cfn-guard with every Control Tower rule over the JSON templates in `dir`; the failures
/// by file name (without `.json`).
fn control_tower(dir: &Path) -> BTreeMap<String, BTreeSet<(String, String)>> {
    let rules = package()
        .join("rules")
        .join("control-tower")
        .join("cfn-guard");
    let guard = cfn_guard();
    let out = Command::new(&guard)
        .args(["validate", "--structured", "--output-format", "json"])
        .args(["--show-summary", "none", "--rules"])
        .arg(&rules)
        .arg("--data")
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", guard.display()));
    let printed = format!(
        "exit status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // 19 means some rule failed, which the caller reports; anything else is cfn-guard failing.
    assert!(
        matches!(out.status.code(), Some(0 | 19)),
        "cfn-guard did not run: {printed}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("cfn-guard's output is not JSON ({e}): {printed}"));
    let files = report
        .as_array()
        .unwrap_or_else(|| panic!("cfn-guard's report is not a list: {printed}"));
    let mut by_file = BTreeMap::new();
    for file in files {
        let name = file["name"]
            .as_str()
            .unwrap_or_else(|| panic!("a report without a name: {file}"));
        let name = Path::new(name)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_else(|| panic!("not a file name: {name}"))
            .to_owned();
        let mut found = BTreeSet::new();
        failures(&file["not_compliant"], None, &mut found);
        assert_eq!(
            found.is_empty(),
            file["status"] != "FAIL",
            "{name}: cfn-guard's status and its failures disagree: {file}"
        );
        by_file.insert(name, found);
    }
    by_file
}

#[test]
fn control_tower_fails_only_the_accepted_controls_in_any_template() {
    let dir = crate::template::TempDir::new("guard");
    let variants = variants();
    for variant in &variants {
        let path = workspace_root().join("templates").join(variant.template);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let template: Value = yaml_serde::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not YAML: {e}", variant.template));
        let resolved = resolve(&template, &variant.parameters);
        let json = serde_json::to_string_pretty(&resolved).expect("a template as JSON");
        std::fs::write(dir.path().join(format!("{}.json", variant.name)), json)
            .expect("write a resolved template");
    }

    let found = control_tower(dir.path());
    let names: BTreeSet<&str> = variants.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        found.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        names,
        "the files cfn-guard checked"
    );

    let mut unexpected = Vec::new();
    let mut stale = Vec::new();
    for variant in &variants {
        let failed = &found[&variant.name];
        let accepted: BTreeSet<(String, String)> = EXPECTED
            .iter()
            .filter(|(mode, ..)| variant.accepts(mode))
            .map(|(_, control, resource, _)| ((*control).to_owned(), (*resource).to_owned()))
            .collect();
        for (control, resource) in failed.difference(&accepted) {
            unexpected.push(format!("{}: {control} fails on {resource}", variant.name));
        }
        for (control, resource) in accepted.difference(failed) {
            stale.push(format!(
                "{}: {control} on {resource} is accepted but passes",
                variant.name
            ));
        }
    }
    assert!(
        unexpected.is_empty(),
        "Control Tower controls failing (fix the template, or accept the failure in EXPECTED \
         and the README's Compliance section with the reason):\n{}",
        unexpected.join("\n")
    );
    assert!(
        stale.is_empty(),
        "accepted failures that no longer fail (remove them from EXPECTED and the README):\n{}",
        stale.join("\n")
    );
    for (mode, control, resource, why) in EXPECTED {
        assert!(
            why.split_whitespace().count() >= 8,
            "{mode}: {control} on {resource} is accepted without a real reason: {why:?}"
        );
    }
}

#[test]
fn the_report_reader_finds_controls_and_resources() {
    assert_eq!(
        control_id("\n  [CT.S3.PR.8]: Require that ...\n [FIX]: ..."),
        Some("CT.S3.PR.8".to_owned())
    );
    assert_eq!(control_id("no id"), None);
    assert_eq!(
        resources_named("property [/Resources/Bucket/Properties/X[L:4,C:2]] in /Resources/B2"),
        ["Bucket", "B2"]
    );
    let report: serde_json::Value = serde_json::from_str(
        r#"[{"Rule": {"messages": {"custom_message": "[CT.SQS.PR.1]: dead letters"},
             "checks": [{"Clause": {"Unary": {"check": {"UnResolved": {"value":
               {"traversed_to": {"path": "/Resources/Queue/Properties"}}}}}}}]}}]"#,
    )
    .expect("JSON");
    let mut found = BTreeSet::new();
    failures(&report, None, &mut found);
    assert_eq!(
        found,
        BTreeSet::from([("CT.SQS.PR.1".to_owned(), "Queue".to_owned())])
    );
}

/// The AWS Guard Rules Registry's rules that fail on these templates, as (template, resource,
/// rule), each suppressed in the resource's Metadata (`guard: SuppressedRules`, which the
/// registry's rules read) with its reason (`guard: Reasons`). The registry is published on no
/// package registry this project's machines reach, so its rules cannot run here: this list was
/// found by running them (cfn-guard 3.1.1) over the templates resolved for each mode, and the
/// test holds the templates' Metadata to it.
const GUARD_REGISTRY_SUPPRESSED: &[(&str, &str, &str)] = &[
    ("ebhook.yaml", "LogGroup", "CLOUDWATCH_LOG_GROUP_ENCRYPTED"),
    ("ebhook.yaml", "Role", "IAM_NO_INLINE_POLICY_CHECK"),
    ("ebhook.yaml", "Function", "LAMBDA_CONCURRENCY_CHECK"),
    ("ebhook.yaml", "Function", "LAMBDA_DLQ_CHECK"),
    ("ebhook.yaml", "Function", "LAMBDA_INSIDE_VPC"),
    (
        "ebhook.yaml",
        "FunctionUrlPermission",
        "LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED",
    ),
    (
        "ebhook.yaml",
        "FunctionUrlPermission",
        "LAMBDA_NO_WILDCARD_PRINCIPALS",
    ),
    (
        "ebhook.yaml",
        "FunctionUrlPermission",
        "LAMBDA_PERMISSION_INVOKE_FUNCTION_ACTION",
    ),
    (
        "ebhook.yaml",
        "FunctionInvokePermission",
        "LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED",
    ),
    (
        "ebhook.yaml",
        "FunctionInvokePermission",
        "LAMBDA_NO_WILDCARD_PRINCIPALS",
    ),
    (
        "ebhook.yaml",
        "PayloadBucket",
        "S3_BUCKET_DEFAULT_LOCK_ENABLED",
    ),
    ("ebhook.yaml", "PayloadBucket", "S3_BUCKET_LOGGING_ENABLED"),
    ("ebhook.yaml", "PayloadBucket", "S3_BUCKET_NO_PUBLIC_RW_ACL"),
    (
        "ebhook.yaml",
        "PayloadBucket",
        "S3_BUCKET_REPLICATION_ENABLED",
    ),
    (
        "ebhook.yaml",
        "AccessLogBucket",
        "S3_BUCKET_DEFAULT_LOCK_ENABLED",
    ),
    (
        "ebhook.yaml",
        "AccessLogBucket",
        "S3_BUCKET_LOGGING_ENABLED",
    ),
    (
        "ebhook.yaml",
        "AccessLogBucket",
        "S3_BUCKET_NO_PUBLIC_RW_ACL",
    ),
    (
        "ebhook.yaml",
        "AccessLogBucket",
        "S3_BUCKET_REPLICATION_ENABLED",
    ),
    (
        "ebhook.yaml",
        "PayloadBucketPolicy",
        "S3_BUCKET_SSL_REQUESTS_ONLY",
    ),
    (
        "ebhook.yaml",
        "AccessLogBucketPolicy",
        "S3_BUCKET_SSL_REQUESTS_ONLY",
    ),
    (
        "ebhook.yaml",
        "Secret",
        "SECRETSMANAGER_ROTATION_ENABLED_CHECK",
    ),
    ("ebhook.yaml", "Secret", "SECRETSMANAGER_USING_CMK"),
    (
        "ebhook.yaml",
        "DeadLetterQueue",
        "SQS_QUEUE_KMS_MASTER_KEY_ID_RULE",
    ),
    (
        "ebhook.yaml",
        "UnreplayableQueue",
        "SQS_QUEUE_KMS_MASTER_KEY_ID_RULE",
    ),
    ("artifacts.yaml", "Bucket", "S3_BUCKET_DEFAULT_LOCK_ENABLED"),
    ("artifacts.yaml", "Bucket", "S3_BUCKET_LOGGING_ENABLED"),
    ("artifacts.yaml", "Bucket", "S3_BUCKET_NO_PUBLIC_RW_ACL"),
    ("artifacts.yaml", "Bucket", "S3_BUCKET_REPLICATION_ENABLED"),
    (
        "artifacts.yaml",
        "BucketPolicy",
        "S3_BUCKET_SSL_REQUESTS_ONLY",
    ),
    (
        "artifacts.yaml",
        "AccessLogBucket",
        "S3_BUCKET_DEFAULT_LOCK_ENABLED",
    ),
    (
        "artifacts.yaml",
        "AccessLogBucket",
        "S3_BUCKET_LOGGING_ENABLED",
    ),
    (
        "artifacts.yaml",
        "AccessLogBucket",
        "S3_BUCKET_NO_PUBLIC_RW_ACL",
    ),
    (
        "artifacts.yaml",
        "AccessLogBucket",
        "S3_BUCKET_REPLICATION_ENABLED",
    ),
    (
        "artifacts.yaml",
        "AccessLogBucketPolicy",
        "S3_BUCKET_SSL_REQUESTS_ONLY",
    ),
];

#[test]
fn the_guard_registry_rules_left_failing_are_suppressed_with_reasons() {
    let mut declared = BTreeSet::new();
    let mut unexplained = Vec::new();
    for template in ["ebhook.yaml", "artifacts.yaml"] {
        let path = workspace_root().join("templates").join(template);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let doc: Value =
            yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{template} is not YAML: {e}"));
        let resources = doc["Resources"].as_mapping().expect("Resources");
        for (id, resource) in resources {
            let id = id.as_str().expect("a logical id");
            let Some(guard) = resource.get("Metadata").and_then(|m| m.get("guard")) else {
                continue;
            };
            let rules: Vec<&str> = guard["SuppressedRules"]
                .as_sequence()
                .unwrap_or_else(|| panic!("{template}: {id}: SuppressedRules is not a list"))
                .iter()
                .map(|r| r.as_str().expect("a rule name"))
                .collect();
            let reasons = guard["Reasons"]
                .as_mapping()
                .unwrap_or_else(|| panic!("{template}: {id}: no guard Reasons"));
            assert_eq!(
                reasons.len(),
                rules.len(),
                "{template}: {id}: a reason for each suppressed rule, and only for those"
            );
            for rule in rules {
                let reason = reasons
                    .get(rule)
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if reason.split_whitespace().count() < 10 {
                    unexplained.push(format!("{template}: {id}: {rule}: {reason:?}"));
                }
                declared.insert((template.to_owned(), id.to_owned(), rule.to_owned()));
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "suppressed without a real reason:\n{}",
        unexplained.join("\n")
    );
    let expected: BTreeSet<(String, String, String)> = GUARD_REGISTRY_SUPPRESSED
        .iter()
        .map(|(t, r, rule)| ((*t).to_owned(), (*r).to_owned(), (*rule).to_owned()))
        .collect();
    assert_eq!(
        declared, expected,
        "the Guard Rules Registry suppressions in the templates' Metadata"
    );
}
