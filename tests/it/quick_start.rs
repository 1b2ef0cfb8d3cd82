//! The README's "Try it without AWS" runs as written: the lines of its two shell blocks, with
//! `ebhook` the binary under test and nothing of AWS in the environment.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::workspace_root;

const MARKER: &str = "<!-- try-without-aws:";

/// The shell blocks after the marker: the first starts `dev`, the second sends to it.
fn blocks() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let start = readme
        .find(MARKER)
        .expect("the README's try-without-aws marker");
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in readme[start..].lines() {
        match (&mut current, line.trim()) {
            (None, "```sh") => current = Some(Vec::new()),
            (Some(_), "```") => {
                blocks.push(current.take().unwrap());
                if blocks.len() == 2 {
                    break;
                }
            }
            (Some(lines), text) if !text.is_empty() => lines.push(text.to_owned()),
            _ => {}
        }
    }
    assert_eq!(blocks.len(), 2, "two shell blocks after the marker");
    blocks
}

/// `export NAME=VALUE` lines as variables, and the one `ebhook ...` line as its arguments.
fn parse(block: &[String]) -> (Vec<(String, String)>, Vec<String>) {
    let mut env = Vec::new();
    let mut args = None;
    for line in block {
        if let Some(assignment) = line.strip_prefix("export ") {
            let (name, value) = assignment.split_once('=').expect("NAME=VALUE");
            env.push((name.to_owned(), value.to_owned()));
        } else if let Some(rest) = line.strip_prefix("ebhook ") {
            assert!(args.is_none(), "one ebhook command per block");
            args = Some(rest.split_whitespace().map(str::to_owned).collect());
        } else {
            panic!("a line the test does not know how to run: {line}");
        }
    }
    (env, args.expect("an ebhook command"))
}

fn command(env: &[(String, String)], args: &[String]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ebhook"));
    c.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (name, value) in env {
        c.env(name, value);
    }
    c
}

#[test]
fn the_quick_start_without_aws_works_as_written() {
    let blocks = blocks();
    let (dev_env, dev_args) = parse(&blocks[0]);
    let (send_env, send_args) = parse(&blocks[1]);
    assert_eq!(dev_args[0], "dev");
    assert_eq!(send_args[0], "send-test");

    let mut dev = command(&dev_env, &dev_args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ebhook dev");
    let (lines, printed) = mpsc::channel();
    let stdout = dev.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let (ready, listening) = mpsc::channel();
    let stderr = dev.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.starts_with("Listening on") {
                ready.send(()).ok();
            }
        }
    });
    listening
        .recv_timeout(Duration::from_secs(30))
        .expect("ebhook dev listening");

    let sent = command(&send_env, &send_args).output().expect("send-test");
    let answer = String::from_utf8_lossy(&sent.stdout);
    let entry = printed.recv_timeout(Duration::from_secs(10));
    dev.kill().ok();
    dev.wait().ok();
    assert!(
        sent.status.success(),
        "{answer}{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert!(answer.contains("HTTP 200"), "{answer}");
    let entry: serde_json::Value =
        serde_json::from_str(&entry.expect("dev printed the entry")).unwrap();
    assert_eq!(entry["Source"], "ebhook.github");
    assert_eq!(entry["DetailType"], "ping");
    let detail: serde_json::Value =
        serde_json::from_str(entry["Detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["ebhook"]["signed"], serde_json::json!(["body"]));
}
