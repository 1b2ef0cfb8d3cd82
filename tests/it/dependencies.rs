//! One TLS stack, current, in the CLI as in the handler: rustls 0.23 with ring over hyper 1.
//! The AWS SDK's default features would add aws-lc and, through their `rustls` feature, rustls
//! 0.21 over hyper 0.14; this reads the dependency graph Cargo.lock resolves to.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use crate::support::workspace_root;

/// The packages (name to versions) of `cargo tree` for these arguments.
fn packages(args: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--locked", "--prefix", "none", "--format", "{p}"])
        .args(args)
        .current_dir(workspace_root())
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut packages: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut words = line.split_whitespace();
        if let (Some(name), Some(version)) = (words.next(), words.next()) {
            packages
                .entry(name.to_owned())
                .or_default()
                .insert(version.trim_start_matches('v').to_owned());
        }
    }
    packages
}

#[test]
fn the_cli_carries_one_current_tls_stack() {
    let cli = packages(&["-p", "ebhook", "-e", "normal"]);
    for name in ["rustls", "hyper", "hyper-rustls", "tokio-rustls"] {
        let versions = cli.get(name).cloned().unwrap_or_default();
        assert!(
            versions.len() <= 1,
            "the CLI links {name} {versions:?}: one version only"
        );
    }
    assert!(
        cli.get("rustls")
            .is_some_and(|v| v.iter().all(|v| v.starts_with("0.23."))),
        "rustls 0.23 only: {:?}",
        cli.get("rustls")
    );
    assert!(
        cli.get("hyper")
            .is_some_and(|v| v.iter().all(|v| v.starts_with("1."))),
        "hyper 1 only: {:?}",
        cli.get("hyper")
    );
    // Tests and build scripts included: no second crypto library anywhere in the workspace.
    let everything = packages(&["--workspace", "-e", "normal,build,dev"]);
    for name in [
        "aws-lc-sys",
        "aws-lc-rs",
        "hyper-tls",
        "native-tls",
        "openssl",
    ] {
        assert!(
            !everything.contains_key(name),
            "{name} is in the workspace's graph: {:?}",
            everything.get(name)
        );
    }
    assert!(
        everything
            .get("rustls")
            .is_some_and(|v| v.iter().all(|v| v.starts_with("0.23."))),
        "{:?}",
        everything.get("rustls")
    );
}
