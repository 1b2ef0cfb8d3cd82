//! `ebhook template`, the real binary: it prints `templates/ebhook.yaml` byte for byte (and
//! `--artifacts` the artifacts bucket's template), and shows the options given as the parameter
//! overrides to deploy with. The template passes cfn-lint with no finding at all and checkov with
//! no failed check (each skipped check justified in the resource's Metadata), as it is and for
//! every combination of parameters the options give (provider x bus x architecture x reserved
//! concurrency, and the other options away from their defaults); no IAM policy statement allows
//! a wildcard action or resource; and bad options are usage errors (exit code 2) naming the
//! option.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use yaml_serde::Value;

use crate::support::moto::python;
use crate::support::resolve::resolve;
use crate::support::workspace_root;

const EBHOOK: &str = env!("CARGO_BIN_EXE_ebhook");
const PROVIDERS: [&str; 3] = ["zendesk", "github", "twilio"];
/// Where the handler's code would be: the parameters every deployment gives besides the options.
const CODE: [(&str, &str); 2] = [
    ("CodeS3Bucket", "ebhook-artifacts-bucket-0123456789ab"),
    (
        "CodeS3Key",
        "ebhook/handler-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.zip",
    ),
];

fn ebhook(args: &[&str]) -> Output {
    Command::new(EBHOOK)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {EBHOOK}: {e}"))
}

fn source(name: &str) -> String {
    let path = workspace_root().join("templates").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Runs `ebhook template ARGS`, which must succeed and print the template file unchanged, and
/// returns the parameter overrides it showed on stderr.
fn overrides(args: &[&str]) -> Vec<(String, String)> {
    let out = ebhook(&[&["template"], args].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "ebhook template {args:?} failed ({}): {stderr}",
        out.status
    );
    assert!(
        out.stdout == source("ebhook.yaml").as_bytes(),
        "ebhook template {args:?} did not print templates/ebhook.yaml as it is"
    );
    let mut lines = stderr.lines();
    let Some(heading) = lines.next() else {
        return Vec::new();
    };
    assert!(heading.starts_with("Parameter overrides"), "{stderr}");
    let line = lines
        .next()
        .unwrap_or_else(|| panic!("no overrides: {stderr}"));
    assert_eq!(lines.next(), None, "{stderr}");
    line.split_whitespace()
        .map(|pair| {
            let (name, value) = pair
                .split_once('=')
                .unwrap_or_else(|| panic!("not Name=value: {pair} in {stderr}"));
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

/// A directory under the system temp dir, removed when dropped.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(label: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("ebhook-it-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        TempDir(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs cfn-lint (from the test virtualenv) in one process, including the informational checks,
/// and returns its exit status and everything it printed.
fn cfn_lint(args: &[&str], files: &[PathBuf]) -> (Option<i32>, String) {
    let python = python();
    // The cfnlint package has no __main__; call its console entry point.
    let out = Command::new(&python)
        .args([
            "-c",
            "import sys; from cfnlint.runner import main; sys.exit(main())",
            "--include-checks",
            "I",
        ])
        .args(args)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run cfn-lint with {}: {e}", python.display()));
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), printed)
}

/// Reads `files` with PyYAML (YAML 1.1, as moto and other Python tools read templates) and
/// returns every scalar that is not a string, integer or boolean there (an unquoted
/// `2012-10-17` is a date in YAML 1.1).
fn yaml_1_1_oddities(files: &[PathBuf]) -> String {
    const SCRIPT: &str = r#"
import sys, yaml
def walk(value, path):
    if isinstance(value, dict):
        for key, item in value.items():
            walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            walk(item, f"{path}[{i}]")
    elif not isinstance(value, (str, int)) or isinstance(value, float):
        print(f"{path}: {value!r}")
for name in sys.argv[1:]:
    with open(name) as f:
        walk(yaml.safe_load(f), name)
"#;
    let out = Command::new(python())
        .args(["-c", SCRIPT])
        .args(files)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One way to deploy the template: a file name for it and every parameter's value (the options'
/// parameters as `ebhook template` shows them, and the code's location).
struct Combination {
    name: String,
    parameters: Vec<(String, String)>,
}

/// Every combination of parameters the options give: each provider x bus x architecture x
/// reserved concurrency, and the other options at values away from their defaults. The values
/// are the overrides `ebhook template` shows for those options. Worked out once per test run.
fn combinations() -> &'static [Combination] {
    static COMBINATIONS: OnceLock<Vec<Combination>> = OnceLock::new();
    COMBINATIONS.get_or_init(|| {
        let with_code = |shown: Vec<(String, String)>| {
            shown
                .into_iter()
                .chain(CODE.map(|(k, v)| (k.to_owned(), v.to_owned())))
                .collect::<Vec<_>>()
        };
        let mut all = Vec::new();
        for provider in PROVIDERS {
            for bus in [None, Some("orders-bus")] {
                for arch in ["x86_64", "arm64"] {
                    for reserved in [None, Some("10")] {
                        let mut args = vec!["--provider", provider];
                        // x86_64 is the default (clap spells the value x86-64).
                        if arch == "arm64" {
                            args.extend(["--arch", arch]);
                        }
                        if let Some(bus) = bus {
                            args.extend(["--event-bus", bus]);
                        }
                        if let Some(reserved) = reserved {
                            args.extend(["--reserved-concurrency", reserved]);
                        }
                        let name = format!(
                            "{provider}-{}-{arch}-{}",
                            if bus.is_some() {
                                "existing-bus"
                            } else {
                                "new-bus"
                            },
                            if reserved.is_some() {
                                "reserved"
                            } else {
                                "unreserved"
                            },
                        );
                        let shown = overrides(&args);
                        let expected: Vec<(String, String)> = [
                            Some(("Provider", provider)),
                            bus.map(|b| ("EventBusName", b)),
                            reserved.map(|r| ("ReservedConcurrency", r)),
                            (arch == "arm64").then_some(("Architecture", arch)),
                        ]
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .collect();
                        assert_eq!(shown, expected, "{name}");
                        all.push(Combination {
                            name,
                            parameters: with_code(shown),
                        });
                    }
                }
            }
        }
        let shown = overrides(&[
            "--provider",
            "twilio",
            "--event-bus",
            "default",
            "--log-retention-days",
            "3653",
            "--memory-size",
            "10240",
            "--public-base-url",
            "https://hooks.example.com/twilio",
        ]);
        assert_eq!(shown.len(), 5, "{shown:?}");
        all.push(Combination {
            name: "twilio-options".to_owned(),
            parameters: with_code(shown),
        });
        // Compliance mode: a key of its own, or the one given (and logs kept longer than the
        // 365 days it raises a shorter retention to).
        let key = "arn:aws:kms:us-east-1:123456789012:key/0b2c1e4a-7a63-4a5e-9f0e-1234567890ab";
        for (name, args, count) in [
            (
                "github-control-tower-dedupe",
                &[
                    "--provider",
                    "github",
                    "--compliance",
                    "control-tower",
                    "--dedupe",
                ][..],
                3,
            ),
            (
                "zendesk-control-tower-own-key",
                &[
                    "--provider",
                    "zendesk",
                    "--compliance",
                    "control-tower",
                    "--kms-key",
                    key,
                    "--log-retention-days",
                    "731",
                    "--event-bus",
                    "orders-bus",
                ][..],
                5,
            ),
        ] {
            let shown = overrides(args);
            assert_eq!(shown.len(), count, "{name}: {shown:?}");
            assert!(
                shown.contains(&("Compliance".to_owned(), "control-tower".to_owned())),
                "{name}: {shown:?}"
            );
            all.push(Combination {
                name: name.to_owned(),
                parameters: with_code(shown),
            });
        }
        // The dedupe table and its role statement exist only with --dedupe.
        let shown = overrides(&["--provider", "github", "--dedupe", "--dedupe-window", "2h"]);
        assert_eq!(
            shown,
            [
                ("Provider".to_owned(), "github".to_owned()),
                ("DedupeWindow".to_owned(), "7200".to_owned())
            ]
        );
        all.push(Combination {
            name: "github-dedupe".to_owned(),
            parameters: with_code(shown),
        });
        // The alarm topic and its key exist only with --alarm-email: a key of the topic's own,
        // or compliance mode's; an existing topic instead (--alarm-topic) adds neither.
        let topic = "arn:aws:sns:us-east-1:123456789012:ops-alerts";
        for (name, args, count) in [
            (
                "github-alarm-emails",
                &[
                    "--provider",
                    "github",
                    "--alarm-email",
                    "a@example.com",
                    "--alarm-email",
                    "b@example.com",
                    "--alarm-email",
                    "c@example.com",
                ][..],
                4,
            ),
            (
                "github-control-tower-alarm-email",
                &[
                    "--provider",
                    "github",
                    "--compliance",
                    "control-tower",
                    "--alarm-email",
                    "a@example.com",
                ][..],
                3,
            ),
            (
                "github-alarm-topic",
                &["--provider", "github", "--alarm-topic", topic][..],
                2,
            ),
        ] {
            let shown = overrides(args);
            assert_eq!(shown.len(), count, "{name}: {shown:?}");
            all.push(Combination {
                name: name.to_owned(),
                parameters: with_code(shown),
            });
        }
        assert_eq!(all.len(), 3 * 2 * 2 * 2 + 1 + 2 + 1 + 3);
        all
    })
}

fn parse(name: &str, text: &str) -> Value {
    yaml_serde::from_str(text).unwrap_or_else(|e| panic!("{name} is not YAML: {e}"))
}

#[test]
fn prints_the_template_file_byte_for_byte_and_the_options_as_overrides() {
    // No options: the template alone, nothing on stderr.
    let out = ebhook(&["template"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, source("ebhook.yaml").as_bytes());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ebhook(&["template", "--artifacts"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, source("artifacts.yaml").as_bytes());
    assert!(out.stderr.is_empty());

    // Options: the same template, and the overrides that deploy what they ask for.
    let shown = overrides(&[
        "--provider",
        "github",
        "--arch",
        "arm64",
        "--log-retention-days",
        "90",
        "--memory-size",
        "256",
        "--reserved-concurrency",
        "4",
    ]);
    let shown: Vec<String> = shown.iter().map(|(k, v)| format!("{k}={v}")).collect();
    assert_eq!(
        shown,
        [
            "Provider=github",
            "ReservedConcurrency=4",
            "Architecture=arm64",
            "LogRetentionInDays=90",
            "MemorySize=256",
        ]
    );
    // Without --provider the template is the same; the overrides say Provider is still needed.
    let out = ebhook(&["template", "--memory-size", "512"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, source("ebhook.yaml").as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("and Provider"), "{stderr}");
    assert!(stderr.contains("    MemorySize=512\n"), "{stderr}");
}

#[test]
fn cfn_lint_finds_nothing_in_the_template_or_any_combination() {
    let dir = TempDir::new("cfn-lint");
    let templates = [
        workspace_root().join("templates").join("ebhook.yaml"),
        workspace_root().join("templates").join("artifacts.yaml"),
    ];
    let oddities = yaml_1_1_oddities(&templates);
    assert!(oddities.is_empty(), "not strings in YAML 1.1:\n{oddities}");

    // The files as they are: cfn-lint itself checks every way the conditions can go.
    let (code, printed) = cfn_lint(&["--"], &templates);
    assert!(
        code == Some(0) && printed.trim().is_empty(),
        "cfn-lint exited with {code:?} and printed:\n{printed}"
    );

    // Each combination as a deployment file (template path and parameter values): cfn-lint
    // checks the values against the parameters' constraints and resolves Ref with them.
    let deployment = |name: &str, parameters: &[(String, String)]| {
        let mut text = format!(
            "template-file-path: '{}'\nparameters:\n",
            templates[0].display()
        );
        for (key, value) in parameters {
            text.push_str(&format!("  {key}: '{}'\n", value.replace('\'', "''")));
        }
        let path = dir.path().join(format!("{name}.deploy.yaml"));
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    };
    let files: Vec<PathBuf> = combinations()
        .iter()
        .map(|c| deployment(&c.name, &c.parameters))
        .collect();
    let (code, printed) = cfn_lint(&["--deployment-files"], &files);
    assert!(
        code == Some(0) && printed.trim().is_empty(),
        "cfn-lint exited with {code:?} and printed:\n{printed}"
    );

    // The deployment files are really read: values the template refuses are found.
    let bad = deployment(
        "bad",
        &[
            ("Provider".to_owned(), "mailchimp".to_owned()),
            ("MemorySize".to_owned(), "64".to_owned()),
        ],
    );
    let (code, printed) = cfn_lint(&["--deployment-files"], &[bad]);
    assert_ne!(code, Some(0), "{printed}");
    for finding in [
        "'mailchimp' is not one of",
        "'CodeS3Key' is a required property",
        "64",
    ] {
        assert!(printed.contains(finding), "{finding} not in:\n{printed}");
    }
}

/// Runs checkov (from the test virtualenv) once over every template in `dir`, CloudFormation
/// checks only, and returns its JSON report and everything it printed. `--skip-download` keeps
/// it offline (no Prisma Cloud guidelines or policies). Not `--quiet`: that would leave the
/// passed and skipped checks out of the JSON, and both are checked below.
fn checkov(dir: &Path) -> (serde_json::Value, String) {
    let python = python();
    let out = Command::new(&python)
        .args(["-m", "checkov.main", "--directory"])
        .arg(dir)
        .args([
            "--framework",
            "cloudformation",
            "--compact",
            "--output",
            "json",
            "--skip-download",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run checkov with {}: {e}", python.display()));
    let printed = format!(
        "exit status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Exit code 1 only means failed checks, which the caller reports one by one.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "checkov did not run: {printed}"
    );
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("checkov's output is not JSON ({e}): {printed}"));
    (report, printed)
}

/// The `checkov: skip:` entries in a resource's Metadata, as (check id, comment).
fn checkov_skips(resource: &Value) -> Vec<(String, String)> {
    let Some(skips) = resource
        .get("Metadata")
        .and_then(|m| m.get("checkov"))
        .and_then(|c| c.get("skip"))
    else {
        return Vec::new();
    };
    skips
        .as_sequence()
        .unwrap_or_else(|| panic!("checkov: skip: is a list, not {skips:?}"))
        .iter()
        .map(|skip| {
            let field = |key: &str| {
                skip.get(key)
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("a checkov skip without {key}: {skip:?}"))
                    .to_owned()
            };
            (field("id"), field("comment"))
        })
        .collect()
}

/// checkov takes no parameter values. It reads a parameter's Default for `Ref` and for
/// deciding a resource's `Condition`, but it does not evaluate `Fn::If` (a property chosen by
/// one stays an unresolved mapping to its checks). So each combination is resolved here, in
/// test code ([`resolve`]: conditions decided, branches taken, parameters replaced by their
/// values) and checked as the template CloudFormation would deploy, written as JSON; the file
/// itself is checked as it is too.
#[test]
fn checkov_fails_no_check_in_the_template_or_any_combination() {
    let dir = TempDir::new("checkov");
    let mut written: Vec<(String, Value)> = Vec::new();
    for name in ["ebhook.yaml", "artifacts.yaml"] {
        let text = source(name);
        std::fs::write(dir.path().join(name), &text).expect("write a template");
        written.push((name.to_owned(), parse(name, &text)));
    }
    let template = parse("ebhook.yaml", &source("ebhook.yaml"));
    for combination in combinations() {
        let given: Vec<(&str, &str)> = combination
            .parameters
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let resolved = resolve(&template, &given);
        let name = format!("{}.json", combination.name);
        let json = serde_json::to_string_pretty(&resolved).expect("a template as JSON");
        std::fs::write(dir.path().join(&name), json).expect("write a resolved template");
        written.push((name, resolved));
    }

    let (report, printed) = checkov(dir.path());
    let results = report.get("results").unwrap_or_else(|| {
        panic!("checkov reported no results (found no CloudFormation template?): {printed}")
    });
    let checks = |kind: &str| -> &Vec<serde_json::Value> {
        results[kind]
            .as_array()
            .unwrap_or_else(|| panic!("no {kind} in checkov's report: {printed}"))
    };
    let str_of = |check: &serde_json::Value, key: &str| -> String {
        check[key]
            .as_str()
            .unwrap_or_else(|| panic!("no {key} in {check}"))
            .to_owned()
    };
    // "/github-new-bus-x86_64-reserved.json", relative to the directory scanned.
    let file_of = |check: &serde_json::Value| -> String {
        str_of(check, "file_path")
            .trim_start_matches('/')
            .to_owned()
    };

    let failures: Vec<String> = checks("failed_checks")
        .iter()
        .map(|check| {
            format!(
                "{} ({}) failed for {} in {}, lines {}",
                str_of(check, "check_id"),
                str_of(check, "check_name"),
                str_of(check, "resource"),
                file_of(check),
                check["file_line_range"],
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "checkov: {} failed checks (fix the template, or skip the check in the resource's \
         Metadata with the reason it does not apply):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        report["summary"]["parsing_errors"], 0,
        "checkov could not parse a template: {printed}"
    );

    // checkov read every file.
    let passed = checks("passed_checks");
    let skipped = checks("skipped_checks");
    let scanned: BTreeSet<String> = passed.iter().chain(skipped).map(file_of).collect();
    let names: BTreeSet<String> = written.iter().map(|(name, _)| name.clone()).collect();
    assert_eq!(scanned, names, "the files checkov checked");

    // What checkov skipped is exactly what the resources' Metadata skips, each with its reason.
    let reported: BTreeSet<(String, String, String, String)> = skipped
        .iter()
        .map(|check| {
            let comment = check["check_result"]["suppress_comment"]
                .as_str()
                .unwrap_or_default()
                .trim()
                .to_owned();
            (
                file_of(check),
                str_of(check, "resource"),
                str_of(check, "check_id"),
                comment,
            )
        })
        .collect();
    // checkov may leave out a resource whose Condition is false with the parameters' defaults
    // (it does for compliance mode's resources, not for the dedupe table, whose condition
    // compares a Number): such a resource's skips may be reported, the others' must be.
    let with_defaults = |doc: &Value| {
        let given: Vec<(&str, &str)> = [("Provider", "github")]
            .into_iter()
            .chain(CODE)
            .filter(|(k, _)| doc["Parameters"].get(*k).is_some())
            .collect();
        resolve(doc, &given)
    };
    let mut declared = BTreeSet::new();
    let mut optional = BTreeSet::new();
    for (name, doc) in &written {
        let resources = doc["Resources"].as_mapping().expect("Resources");
        let deployed = with_defaults(doc);
        for (id, resource) in resources {
            let id = id.as_str().expect("a logical id");
            let kind = resource["Type"].as_str().expect("a resource type");
            let set = if deployed["Resources"].get(id).is_none() {
                &mut optional
            } else {
                &mut declared
            };
            for (check, comment) in checkov_skips(resource) {
                assert!(
                    comment.split_whitespace().count() >= 10,
                    "{name}: {id} skips {check} without a real reason: {comment:?}"
                );
                set.insert((
                    name.clone(),
                    format!("{kind}.{id}"),
                    check,
                    comment.trim().to_owned(),
                ));
            }
        }
    }
    let allowed: BTreeSet<_> = declared.union(&optional).cloned().collect();
    assert_eq!(
        reported.difference(&allowed).collect::<Vec<_>>(),
        Vec::<&(String, String, String, String)>::new(),
        "skipped by checkov but not in the resource's Metadata (an inline comment, or a skip \
         without a comment)"
    );
    assert_eq!(
        declared.difference(&reported).collect::<Vec<_>>(),
        Vec::<&(String, String, String, String)>::new(),
        "skipped in Metadata but not by checkov (a wrong check id, or one that does not apply to \
         the resource)"
    );
}

/// IAM's wildcard characters.
fn has_wildcard(text: &str) -> bool {
    text.contains(['*', '?'])
}

/// `${Bucket.Arn}/<prefix>/*`: the keys under one fixed prefix of a bucket the template itself
/// creates. The one wildcard allowed, and only for `s3:PutObject`, because the keys an object
/// write needs are not known in advance.
fn is_key_prefix_of_own_bucket(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("${") else {
        return false;
    };
    let Some((resource, path)) = rest.split_once(".Arn}/") else {
        return false;
    };
    let Some(prefix) = path.strip_suffix("/*") else {
        return false;
    };
    resource.chars().all(|c| c.is_ascii_alphanumeric())
        && !prefix.is_empty()
        && prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '/')
}

/// Every string in `value`, into intrinsics (`Fn::Sub`, `Fn::Join`, tagged `!Sub` ...) too.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Sequence(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Mapping(map) => map.values().for_each(|v| strings(v, out)),
        Value::Tagged(tagged) => strings(&tagged.value, out),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Checks one policy statement at `at`: no `NotAction`, `NotResource` or `NotPrincipal` (each
/// grants or denies everything but what it names), and no wildcard in what an `Allow` statement
/// grants, its `Action` and `Resource`. A `Deny` statement's wildcards only widen what is
/// refused (the artifacts bucket refuses `s3:*` on the bucket and `<bucket>/*` without TLS).
/// In a KMS key's policy (`key_policy`) a `Resource` of exactly `*` is allowed: there it means
/// that key and nothing else, and it is the only value a key policy takes.
fn check_statement(statement: &Value, at: &str, key_policy: bool, found: &mut Vec<String>) {
    let statement = match statement {
        Value::Tagged(tagged) => &tagged.value,
        other => other,
    };
    // A statement chosen by a condition: check both branches.
    if let Some(branches) = statement.get("Fn::If").and_then(Value::as_sequence) {
        for (i, branch) in branches.iter().enumerate().skip(1) {
            check_statement(branch, &format!("{at}.Fn::If[{i}]"), key_policy, found);
        }
        return;
    }
    if statement.get("Ref").and_then(Value::as_str) == Some("AWS::NoValue") {
        return;
    }
    let Some(map) = statement.as_mapping() else {
        found.push(format!("{at}: not a statement: {statement:?}"));
        return;
    };
    for key in ["NotAction", "NotResource", "NotPrincipal"] {
        if map.contains_key(key) {
            found.push(format!("{at}: {key}"));
        }
    }
    match statement.get("Effect").and_then(Value::as_str) {
        Some("Deny") => {}
        Some("Allow") => {
            let mut actions = Vec::new();
            if let Some(value) = statement.get("Action") {
                strings(value, &mut actions);
            }
            let writes_objects_only =
                !actions.is_empty() && actions.iter().all(|a| a == "s3:PutObject");
            for key in ["Action", "Resource"] {
                let mut texts = Vec::new();
                if let Some(value) = statement.get(key) {
                    strings(value, &mut texts);
                }
                for text in texts.iter().filter(|t| has_wildcard(t)) {
                    if key == "Resource" && writes_objects_only && is_key_prefix_of_own_bucket(text)
                    {
                        continue;
                    }
                    if key == "Resource" && key_policy && text == "*" {
                        continue;
                    }
                    found.push(format!("{at}.{key}: {text}"));
                }
            }
        }
        effect => found.push(format!("{at}: Effect is {effect:?}, not Allow or Deny")),
    }
}

/// Finds every IAM policy statement in `value` (role, bucket, queue, key... policies: anything
/// under a `Statement` key) and checks it with [`check_statement`]. Also checks the action a
/// Lambda permission grants. Returns how many statements it checked.
fn wildcard_findings(value: &Value, at: &str, found: &mut Vec<String>) -> usize {
    findings_in(value, at, false, found)
}

/// [`wildcard_findings`], knowing whether `value` is within a KMS key (`key_policy`).
fn findings_in(value: &Value, at: &str, key_policy: bool, found: &mut Vec<String>) -> usize {
    let mut statements = 0;
    match value {
        Value::Mapping(map) => {
            let key_policy =
                key_policy || map.get("Type").and_then(Value::as_str) == Some("AWS::KMS::Key");
            if map.get("Type").and_then(Value::as_str) == Some("AWS::Lambda::Permission") {
                let mut texts = Vec::new();
                strings(&value["Properties"]["Action"], &mut texts);
                for text in texts.iter().filter(|t| has_wildcard(t)) {
                    found.push(format!("{at}.Properties.Action: {text}"));
                }
            }
            for (key, item) in map {
                let key_name = key.as_str().unwrap_or("?");
                let here = format!("{at}.{key_name}");
                if key_name == "Statement" {
                    let list = match item {
                        Value::Sequence(items) => items.iter().collect(),
                        single => vec![single],
                    };
                    for (i, statement) in list.into_iter().enumerate() {
                        check_statement(statement, &format!("{here}[{i}]"), key_policy, found);
                        statements += 1;
                    }
                } else {
                    statements += findings_in(item, &here, key_policy, found);
                }
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                statements += findings_in(item, &format!("{at}[{i}]"), key_policy, found);
            }
        }
        Value::Tagged(tagged) => statements += findings_in(&tagged.value, at, key_policy, found),
        Value::Null | Value::Bool(_) | Value::String(_) | Value::Number(_) => {}
    }
    statements
}

#[test]
fn no_policy_statement_allows_a_wildcard_action_or_resource() {
    let mut found = Vec::new();
    for name in ["ebhook.yaml", "artifacts.yaml"] {
        let doc = parse(name, &source(name));
        let statements = wildcard_findings(&doc, name, &mut found);
        // The role's trust policy and inline policy; the bucket and queue policies.
        let expected = if name == "artifacts.yaml" { 1 } else { 4 };
        assert!(
            statements >= expected,
            "{name}: only {statements} policy statements found"
        );
    }
    assert!(
        found.is_empty(),
        "wildcards or Not* in IAM policy statements:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_wildcard_check_finds_wildcards() {
    let findings = |yaml: &str| {
        let mut found = Vec::new();
        let statements = wildcard_findings(&parse("example", yaml), "t", &mut found);
        assert!(statements > 0, "{yaml}");
        found
    };
    for bad in [
        "Statement: [{Effect: Allow, Action: '*', Resource: {Ref: Bus}}]",
        "Statement: [{Effect: Allow, Action: [s3:GetObject, 's3:Get*'], Resource: {Ref: B}}]",
        "Statement: [{Effect: Allow, Action: 'logs:Put?ogEvents', Resource: {Ref: G}}]",
        "Statement: [{Effect: Allow, Action: s3:GetObject, Resource: '*'}]",
        "Statement: {Effect: Allow, Action: s3:GetObject, Resource: 'arn:aws:s3:::b/*'}",
        "Statement: [{Effect: Allow, Action: logs:PutLogEvents, Resource: {Fn::Sub: \
         'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*'}}]",
        "Statement: [{Effect: Allow, Action: s3:GetObject, Resource: {Fn::Join: ['', \
         [{Fn::GetAtt: [B, Arn]}, '/*']]}}]",
        "Statement: [{Effect: Allow, Action: s3:GetObject, Resource: !Sub '${B.Arn}/*'}]",
        "Statement: [{Effect: Allow, Action: s3:PutObject, Resource: !Sub '${B.Arn}/*'}]",
        "Statement: [{Effect: Allow, Action: s3:PutObject, Resource: !Sub '${B.Arn}/a*/*'}]",
        "Statement: [{Effect: Allow, Action: [s3:PutObject, s3:GetObject], Resource: !Sub \
         '${B.Arn}/a/*'}]",
        "Statement: [{Effect: Allow, Action: s3:PutObject, Resource: 'arn:aws:s3:::b/a/*'}]",
        "Statement: [{Fn::If: [C, {Effect: Allow, Action: 'sqs:*', Resource: {Ref: Q}}, \
         {Ref: AWS::NoValue}]}]",
        "Statement: [{Effect: Allow, NotAction: iam:PassRole, Resource: {Ref: R}}]",
        "Statement: [{Effect: Allow, Action: s3:GetObject, NotResource: {Ref: B}}]",
        "Statement: [{Effect: Deny, NotAction: s3:GetObject, Resource: {Ref: B}}]",
        "Statement: [{Action: s3:GetObject, Resource: {Ref: B}}]",
        "Resources: {P: {Type: AWS::IAM::Role, Properties: {Policies: [{PolicyDocument: \
         {Statement: [{Effect: Allow, Action: 'events:*', Resource: {Ref: Bus}}]}}]}}}",
        "Resources: {K: {Type: AWS::KMS::Key, Properties: {KeyPolicy: {Statement: [{Effect: \
         Allow, Action: 'kms:*', Resource: '*'}]}}}}",
        "Resources: {K: {Type: AWS::KMS::Key, Properties: {KeyPolicy: {Statement: [{Effect: \
         Allow, Action: kms:Decrypt, Resource: 'arn:aws:kms:*'}]}}}}",
        "Resources: {K: {Type: AWS::SQS::QueuePolicy, Properties: {PolicyDocument: {Statement: \
         [{Effect: Allow, Action: sqs:SendMessage, Resource: '*'}]}}}}",
        "Resources: {P: {Type: AWS::Lambda::Permission, Properties: {Action: 'lambda:*', \
         Principal: '*'}}, Q: {Statement: {Effect: Deny, Action: s3:GetObject, Resource: \
         {Ref: B}}}}",
    ] {
        assert!(!findings(bad).is_empty(), "not found in {bad}");
    }
    for good in [
        "Statement: [{Effect: Allow, Action: events:PutEvents, Resource: {Fn::GetAtt: [Bus, \
         Arn]}}]",
        "Statement: [{Effect: Allow, Action: [logs:CreateLogStream, logs:PutLogEvents], \
         Resource: {Fn::Sub: 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:\
         event-bus/${EventBusName}'}}]",
        "Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: \
         sts:AssumeRole}]",
        "Statement: [{Effect: Deny, Principal: {AWS: '*'}, Action: 's3:*', Resource: \
         {Fn::Sub: '${Bucket.Arn}/*'}, Condition: {Bool: {aws:SecureTransport: 'false'}}}]",
        "Resources: {K: {Type: AWS::KMS::Key, Properties: {KeyPolicy: {Statement: [{Effect: \
         Allow, Action: [kms:Decrypt, kms:DescribeKey], Resource: '*'}]}}}}",
        "Statement: [{Effect: Allow, Action: s3:PutObject, Resource: [{Fn::Sub: \
         '${PayloadBucket.Arn}/oversized/*'}, {Fn::Sub: '${PayloadBucket.Arn}/dead-letter/*'}]}]",
    ] {
        assert_eq!(findings(good), Vec::<String>::new(), "{good}");
    }
}

#[test]
fn bad_options_are_usage_errors_naming_the_option() {
    for (args, option) in [
        (
            &["--provider", "github", "--log-retention-days", "8"][..],
            "--log-retention-days",
        ),
        (
            &["--provider", "zendesk", "--memory-size", "64"][..],
            "--memory-size",
        ),
        (
            &[
                "--provider",
                "twilio",
                "--event-bus",
                "aws.partner/x.com/1/b",
            ][..],
            "--event-bus",
        ),
        (
            &["--provider", "github", "--reserved-concurrency", "0"][..],
            "--reserved-concurrency",
        ),
        (
            &[
                "--provider",
                "twilio",
                "--public-base-url",
                "hooks.example.com",
            ][..],
            "--public-base-url",
        ),
        // Checked without --provider too.
        (&["--memory-size", "10241"][..], "--memory-size"),
        // Rejected by the argument parser itself, also with exit code 2.
        (&["--provider", "mailchimp"][..], "--provider"),
        (&["--provider", "github", "--arch", "riscv"][..], "--arch"),
        (&["--artifacts", "--provider", "github"][..], "--artifacts"),
        (&["--artifacts", "--memory-size", "256"][..], "--artifacts"),
    ] {
        let out = ebhook(&[&["template"], args].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(option),
            "{args:?}: {stderr} should name {option}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: printed a template");
    }
}
