//! An installed `ebhook` deploys from any directory, with no checkout: it builds the handler it
//! carries once per version, architecture and features, into its cache, and a later `init` of
//! another stack takes that build with no compile. A release build carries the handler already
//! built, and leaves `init` in the checkout nothing to compile.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

use crate::support::cli::{ebhook, init_args};
use crate::support::process::{from_a_shell, prebuilt, target_dir};
use crate::support::{Moto, workspace_root};

fn init_from(moto: &Moto, cwd: &Path, cache: &Path, stack: &str) -> Output {
    init_with(
        Path::new(env!("CARGO_BIN_EXE_ebhook")),
        moto,
        cwd,
        cache,
        stack,
    )
}

fn init_with(cli: &Path, moto: &Moto, cwd: &Path, cache: &Path, stack: &str) -> Output {
    let mut args = init_args(stack, &[]);
    // Without `--bootstrap <the test's build>`: the installed CLI builds its own.
    args.drain(1..3);
    // With the variables `cargo test` sets, as under `cargo run -- init`: ebhook's build of the
    // handler leaves them out itself.
    Command::new(cli)
        .args(args)
        .current_dir(cwd)
        .env_remove("AWS_PROFILE")
        .envs(moto.env())
        .env("EBHOOK_CACHE_DIR", cache)
        .output()
        .expect("run ebhook")
}

/// Builds the release handler from the sources inside the CLI (minutes on a cold cache); CI
/// runs it with `--ignored`. The cache's target directory is this workspace's, as a second
/// checkout of the same lock would share it, so the dependencies the other release test built
/// are not built again; the handler crate itself is.
#[tokio::test]
#[ignore = "builds the release handler (minutes); CI runs it with --ignored"]
async fn an_installed_ebhook_builds_the_handler_once_and_deploys_from_anywhere() {
    let moto = Moto::start();
    let home = std::env::temp_dir().join(format!("ebhook-install-{}", std::process::id()));
    let empty = home.join("empty");
    let cache = home.join("cache");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::create_dir_all(&cache).unwrap();
    std::os::unix::fs::symlink(target_dir(), cache.join("target")).unwrap();

    let started = Instant::now();
    let first = init_from(&moto, &empty, &cache, "installed-a");
    let first_took = started.elapsed();
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "{stderr}");
    assert!(stderr.contains("Building the handler"), "{stderr}");
    let built: Vec<_> = std::fs::read_dir(cache.join("bootstrap"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(built.len(), 1, "{built:?}");
    assert!(built[0].ends_with("-x86_64-plain"), "{built:?}");

    let started = Instant::now();
    let second = init_from(&moto, &empty, &cache, "installed-b");
    let second_took = started.elapsed();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    assert!(
        !stderr.contains("Building the handler"),
        "compiled again:\n{stderr}"
    );
    assert!(stderr.contains("built before"), "{stderr}");
    let first_json: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let second_json: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(first_json["artifactSha256"], second_json["artifactSha256"]);
    // The figures BENCHMARKS.md records, in CI's log too.
    eprintln!(
        "installed ebhook: first init (handler build included) {:.1} s, second init {:.1} s",
        first_took.as_secs_f64(),
        second_took.as_secs_f64()
    );
    std::fs::remove_dir_all(&home).ok();
}

/// `cargo build --release --workspace` builds the Lambda handler too (build.rs), by `init`'s own
/// command and in the same target directory. Afterwards `init` in the checkout finds it up to
/// date, and the release CLI, run from an empty directory with an empty cache, deploys the build
/// it carries: no compile in either. Minutes (the CLI's release build); CI runs it with
/// `--ignored`.
#[tokio::test]
#[ignore = "builds the release CLI (minutes); CI runs it with --ignored"]
async fn a_workspace_release_build_leaves_init_nothing_to_compile() {
    let started = Instant::now();
    let build = from_a_shell(&mut Command::new(env!("CARGO")))
        .args(["build", "--release", "--workspace", "--locked"])
        .current_dir(workspace_root())
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("EBHOOK_BUILD_HANDLER")
        .env_remove("EBHOOK_PREBUILT_HANDLERS")
        .output()
        .unwrap();
    let build_took = started.elapsed();
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(build.status.success(), "{stderr}");
    // A handler that could not be built with the CLI is only a warning: none may be here.
    assert!(!stderr.contains("was not built with the CLI"), "{stderr}");
    let cli = target_dir().join("release").join("ebhook");

    let moto = Moto::start();
    let home = std::env::temp_dir().join(format!("ebhook-release-{}", std::process::id()));
    let empty = home.join("empty");
    std::fs::create_dir_all(&empty).unwrap();

    let started = Instant::now();
    let checkout = init_with(&cli, &moto, workspace_root(), &home.join("c1"), "rel-a");
    let checkout_took = started.elapsed();
    let stderr = String::from_utf8_lossy(&checkout.stderr);
    assert!(checkout.status.success(), "{stderr}");
    assert!(stderr.contains("--profile lambda"), "{stderr}");
    assert!(stderr.contains("up to date, nothing compiled"), "{stderr}");

    let run = init_with(&cli, &moto, &empty, &home.join("c2"), "rel-b");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(!stderr.contains("Building the handler"), "{stderr}");
    assert!(
        stderr.contains("the build that came with ebhook"),
        "{stderr}"
    );
    // The checkout's build is the one the CLI carries.
    let carried: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&checkout.stdout).unwrap();
    assert_eq!(json["artifactSha256"], carried["artifactSha256"]);
    // The figures BENCHMARKS.md records, in CI's log too.
    eprintln!(
        "cargo build --release --workspace {:.0} s, then init in the checkout {:.1} s",
        build_took.as_secs_f64(),
        checkout_took.as_secs_f64()
    );
    std::fs::remove_dir_all(&home).ok();
}

/// `ebhook build` writes what `init` would deploy, without AWS: the binary, its zip and the
/// zip's checksum, which `init --bootstrap` of that binary uploads under the same hash.
#[tokio::test]
async fn build_writes_the_zip_init_deploys() {
    let dir = std::env::temp_dir().join(format!("ebhook-build-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_ebhook"))
        .args([
            "build",
            "--bootstrap",
            prebuilt(),
            "--output",
            "json",
            "--out-dir",
        ])
        .arg(&dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sha = json["sha256"].as_str().unwrap().to_owned();
    let zip = std::fs::read(dir.join("ebhook-handler-x86_64-plain.zip")).unwrap();
    use sha2::Digest;
    assert_eq!(hex::encode(sha2::Sha256::digest(&zip)), sha);
    assert_eq!(
        std::fs::read_to_string(dir.join("ebhook-handler-x86_64-plain.zip.sha256")).unwrap(),
        format!("{sha}  ebhook-handler-x86_64-plain.zip\n")
    );
    let binary = dir.join("bootstrap-x86_64-plain");
    assert_eq!(
        std::fs::read(&binary).unwrap(),
        std::fs::read(prebuilt()).unwrap()
    );

    let moto = Moto::start();
    let binary = binary.to_string_lossy().into_owned();
    let mut args = init_args("it-built", &[]);
    // `--bootstrap <the built binary>` instead of the test's own.
    args[2] = &binary;
    let init = ebhook(&moto, &args, &[], None);
    init.assert_ok();
    assert_eq!(init.json()["artifactSha256"], sha.as_str());
    std::fs::remove_dir_all(&dir).ok();
}
