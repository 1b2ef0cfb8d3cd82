//! `ebhook template`, the real binary: every rendering (provider x bus x architecture x reserved
//! concurrency) and the artifacts template pass cfn-lint with no finding at all, and bad options
//! are usage errors (exit code 2) naming the option.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::moto::python;

const EBHOOK: &str = env!("CARGO_BIN_EXE_ebhook");
const PROVIDERS: [&str; 3] = ["zendesk", "github", "twilio"];

fn ebhook(args: &[&str]) -> Output {
    Command::new(EBHOOK)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {EBHOOK}: {e}"))
}

/// Runs `ebhook template ARGS`, which must succeed, and returns what it printed.
fn template(args: &[&str]) -> String {
    let out = ebhook(&[&["template"], args].concat());
    assert!(
        out.status.success(),
        "ebhook template {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the template is UTF-8")
}

/// A directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("ebhook-it-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs cfn-lint (from the test virtualenv) over `files` in one process, including the
/// informational checks, and returns its exit status and everything it printed.
fn cfn_lint(files: &[PathBuf]) -> (Option<i32>, String) {
    let python = python();
    // The cfnlint package has no __main__; call its console entry point.
    let out = Command::new(&python)
        .args([
            "-c",
            "import sys; from cfnlint.runner import main; sys.exit(main())",
            "--include-checks",
            "I",
            "--",
        ])
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

#[test]
fn cfn_lint_finds_nothing_in_any_rendering() {
    let dir = TempDir::new("template");
    let mut files = Vec::new();
    let mut write = |name: String, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        files.push(path);
    };

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
                        "{provider}-{}-{arch}-{}.yaml",
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
                    let text = template(&args);
                    assert!(
                        text.contains(&format!("EBHOOK_PROVIDER: {provider}")),
                        "{name}"
                    );
                    assert!(text.contains(&format!("Default: {arch}\n")), "{name}");
                    write(name, &text);
                }
            }
        }
    }
    // The other options, at values away from their defaults.
    write(
        "twilio-options.yaml".to_owned(),
        &template(&[
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
        ]),
    );
    let artifacts = template(&["--artifacts"]);
    assert!(artifacts.contains("AWS::S3::Bucket"));
    write("artifacts.yaml".to_owned(), &artifacts);
    assert_eq!(files.len(), 3 * 2 * 2 * 2 + 2);

    let oddities = yaml_1_1_oddities(&files);
    assert!(oddities.is_empty(), "not strings in YAML 1.1:\n{oddities}");

    let (code, printed) = cfn_lint(&files);
    assert!(
        code == Some(0) && printed.trim().is_empty(),
        "cfn-lint exited with {code:?} and printed:\n{printed}"
    );
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
        // Rejected by the argument parser itself, also with exit code 2.
        (&["--provider", "mailchimp"][..], "--provider"),
        (&["--provider", "github", "--arch", "riscv"][..], "--arch"),
        (&[][..], "--provider"),
        (&["--artifacts", "--provider", "github"][..], "--artifacts"),
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

#[test]
fn the_rendered_defaults_are_the_options() {
    let text = template(&[
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
    let doc: yaml_serde::Value = yaml_serde::from_str(&text).expect("YAML");
    let default = |param: &str| doc["Parameters"][param]["Default"].clone();
    assert_eq!(default("Architecture"), "arm64");
    assert_eq!(default("LogRetentionInDays"), 90);
    assert_eq!(default("MemorySize"), 256);
    assert_eq!(default("ReservedConcurrency"), 4);
    assert_eq!(doc["Outputs"]["Provider"]["Value"], "github");
    assert!(doc["Resources"].get("Bus").is_some());
}
