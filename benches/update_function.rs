//! `cargo bench -p ebhook --bench update_function`: the overhead of `ebhook update-function`
//! itself (zip and hash, upload, change set, apply with live events, read back) against moto on
//! 127.0.0.1, excluding the cargo build: each run deploys a prebuilt binary with `--bootstrap`.
//! Needs the test virtualenv (`bash tests/setup`). Figures go to BENCHMARKS.md.

#![allow(
    clippy::disallowed_methods,
    reason = "the rule keeps the CLI's children away from its secrets; tests and benchmarks start the programs under test"
)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 10;

struct Moto(Child, String);

impl Moto {
    fn start(root: &Path) -> Moto {
        let python = std::env::var_os("EBHOOK_TEST_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(".venv/bin/python"));
        let mut child = Command::new(&python)
            .arg(root.join("tests/moto_server.py"))
            .arg("0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start moto with {} ({e}); run `bash tests/setup`",
                    python.display()
                )
            });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("READY ")
            .expect("moto did not start")
            .to_owned();
        Moto(child, format!("http://127.0.0.1:{port}"))
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ebhook(moto: &Moto, root: &Path, args: &[&str]) -> Duration {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_ebhook"))
        .args(args)
        .current_dir(root)
        .env("AWS_ENDPOINT_URL", &moto.1)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("BENCH_SECRET", "bench-secret")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "ebhook {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

/// The release `bootstrap`, built once before timing starts.
fn release_bootstrap(root: &Path) -> PathBuf {
    let out = Command::new(env!("CARGO"))
        .args([
            "build",
            "--profile",
            "lambda",
            "-p",
            "ebhook-handler",
            "--bin",
            "bootstrap",
            "--message-format=json",
        ])
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "building bootstrap failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "bootstrap")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("no bootstrap executable")
}

fn stats(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    (
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() * 9 / 10]),
    )
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --benches` only checks that it builds.
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let built = release_bootstrap(root);
    let dir = std::env::temp_dir().join(format!("ebhook-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Two different, equally valid binaries: trailing bytes change the hash, not the ELF.
    let a = dir.join("bootstrap-a");
    let b = dir.join("bootstrap-b");
    std::fs::copy(&built, &a).unwrap();
    std::fs::copy(&built, &b).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&b)
        .unwrap()
        .write_all(b"ebhook-bench")
        .unwrap();
    let (a, b) = (
        a.to_string_lossy().into_owned(),
        b.to_string_lossy().into_owned(),
    );

    let moto = Moto::start(root);
    let first = ebhook(
        &moto,
        root,
        &[
            "init",
            "--provider",
            "github",
            "--stack-name",
            "bench",
            "--yes",
            "--secret-env",
            "BENCH_SECRET",
            "--bootstrap",
            &a,
        ],
    );
    let update = |path: &str| {
        ebhook(
            &moto,
            root,
            &[
                "update-function",
                "--stack-name",
                "bench",
                "--yes",
                "--bootstrap",
                path,
            ],
        )
    };
    let changed: Vec<Duration> = (0..RUNS)
        .map(|i| update(if i % 2 == 0 { &b } else { &a }))
        .collect();
    // The last run deployed `a`: deploying it again is the no-op path.
    let unchanged: Vec<Duration> = (0..RUNS).map(|_| update(&a)).collect();
    let _ = std::fs::remove_dir_all(&dir);

    let (c50, c90) = stats(changed);
    let (u50, u90) = stats(unchanged);
    println!(
        "## `ebhook update-function` overhead against moto (prebuilt binary, {RUNS} runs each)\n"
    );
    println!("| run | median | p90 |");
    println!("|---|---|---|");
    println!(
        "| first `init` (artifacts stack + stack create) | {:.0} ms | - |",
        first.as_secs_f64() * 1e3
    );
    println!(
        "| `update-function`, new code (zip, upload, change set, apply, events) | {c50:.0} ms | {c90:.0} ms |"
    );
    println!("| `update-function`, code already deployed (no-op) | {u50:.0} ms | {u90:.0} ms |");
}
