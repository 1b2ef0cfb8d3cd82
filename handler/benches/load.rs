//! `cargo bench -p ebhook-handler --bench load`: sustained load on the real release `bootstrap`,
//! run as Lambda runs it. A Runtime API emulator always has the next signed GitHub delivery
//! ready, so the function never waits for work; a fast local stand-in answers Secrets Manager
//! and EventBridge (moto would be the bottleneck). For 60 s this reports deliveries per
//! second, the function's latency per invocation (from `/next` handing the event out to the
//! response being posted), errors (any answer but 200, any `/error` post, any event missing
//! from PutEvents), and the process's RSS read from `/proc/<pid>/status` every second.
//!
//! Each invocation carries its own X-Ray trace header, as on Lambda. `lambda_runtime`'s loop
//! copied it into `_X_AMZN_TRACE_ID` with `setenv`, and glibc keeps every value ever set, so
//! RSS grew by about 150 bytes per invocation; the handler's own loop (src/runtime.rs) does
//! not. `EBHOOK_LOAD_TRACE=same` sends one trace header for every invocation, for comparison.
//!
//! `EBHOOK_LOAD_SECONDS` (default 60) and `EBHOOK_LOAD_INSTANCES` (default 1: one execution
//! environment, one invocation at a time, as Lambda runs it) change the run. Without
//! `--bench` (`cargo test --benches`) it runs for two seconds as a check.

#![allow(
    clippy::disallowed_methods,
    reason = "the rule keeps the CLI's children away from its secrets; tests and benchmarks start the programs under test"
)]

use std::collections::HashMap;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ebhook_handler::providers::github;
use serde_json::{Value, json};
use support::{HttpRequest, respond, serve};

mod support;

const SECRET: &str = "load-secret-0123456789abcdef";
const HOST: &str = "abcdefghij.lambda-url.us-east-1.on.aws";
const BUS: &str = "ebhook-load";
/// Invocations served before the measured window opens (cold start, first secret read).
const WARM_UP: usize = 200;

/// A GitHub `push` body of about 1 KB naming delivery `n`.
fn body(n: u64) -> String {
    let commits: Vec<Value> = (0..4)
        .map(|c| {
            json!({
                "id": format!("{:040x}", n * 4 + c),
                "message": format!("Fix \"thing\" number {c} of delivery {n}"),
                "url": format!("https://github.com/octo/repo/commit/{:040x}", n * 4 + c),
                "author": {"name": "Mona Octocat", "email": "mona@example.com"},
                "added": [], "removed": [], "modified": ["src/lib.rs"],
            })
        })
        .collect();
    json!({
        "ref": "refs/heads/main",
        "before": format!("{:040x}", n),
        "after": format!("{:040x}", n + 1),
        "repository": {"id": 1296269, "full_name": "octo/repo", "private": false},
        "pusher": {"name": "octocat"},
        "commits": commits,
        "n": n,
    })
    .to_string()
}

fn delivery_id(n: u64) -> String {
    format!(
        "{:08x}-cc78-11e3-81ab-{:012x}",
        n >> 48,
        n & 0xffff_ffff_ffff
    )
}

/// The function URL event for delivery `n`, signed.
fn invocation(n: u64) -> Vec<u8> {
    let body = body(n);
    serde_json::to_vec(&json!({
        "version": "2.0",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {
            "host": HOST,
            "content-type": "application/json",
            "user-agent": "GitHub-Hookshot/abc",
            "x-github-event": "push",
            "x-github-delivery": delivery_id(n),
            "x-github-hook-id": "292430182",
            "x-hub-signature-256": github::sign(SECRET.as_bytes(), body.as_bytes()),
        },
        "requestContext": {
            "accountId": "anonymous", "apiId": "abcdefghij", "domainName": HOST,
            "domainPrefix": "abcdefghij", "requestId": format!("load-{n}"),
            "time": "22/Nov/2026:12:00:00 +0000", "timeEpoch": 1_795_000_000_000_i64,
            "http": {"method": "POST", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "140.82.115.1", "userAgent": "GitHub-Hookshot/abc"}
        },
        "body": body,
        "isBase64Encoded": false
    }))
    .unwrap()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

// --- The Runtime API ------------------------------------------------------------------------

#[derive(Default)]
struct Tally {
    /// When each handed-out invocation left `/next`.
    started: HashMap<u64, Instant>,
    /// (when it was answered, how long it took) for each answered invocation.
    done: Vec<(Instant, Duration)>,
    errors: usize,
    first_error: Option<String>,
}

struct Runtime {
    /// One trace header for every invocation instead of one each.
    same_trace: bool,
    events: Mutex<Receiver<(u64, Vec<u8>)>>,
    tally: Mutex<Tally>,
    answered: AtomicUsize,
    /// Set when the run is over: `/next` hands nothing more out.
    stop: AtomicBool,
}

impl Runtime {
    fn error(&self, what: String) {
        let mut tally = lock(&self.tally);
        tally.errors += 1;
        tally.first_error.get_or_insert(what);
    }

    fn handle(&self, request: HttpRequest, stream: &mut TcpStream) -> bool {
        let path = request.line.split(' ').nth(1).unwrap_or_default();
        let rest = path
            .strip_prefix("/2018-06-01/runtime/invocation/")
            .unwrap_or_default();
        if rest == "next" {
            if self.stop.load(Ordering::SeqCst) {
                // Hold the poll, as Lambda does while no event waits, until the process ends.
                std::thread::sleep(Duration::from_secs(3600));
                return false;
            }
            let Ok((n, event)) = lock(&self.events).recv() else {
                return false;
            };
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 6000;
            // As Lambda sends it: the root's first part is the epoch second in hex.
            let (epoch, root) = if self.same_trace {
                (0x6740_0000, 0)
            } else {
                (deadline / 1000, n)
            };
            let extra = format!(
                "content-type: application/json\r\nlambda-runtime-aws-request-id: load-{n}\r\n\
                 lambda-runtime-deadline-ms: {deadline}\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:load\r\n\
                 lambda-runtime-trace-id: Root=1-{epoch:08x}-{root:024x};Parent={root:016x};Sampled=0\r\n"
            );
            lock(&self.tally).started.insert(n, Instant::now());
            return respond(stream, "200 OK", &extra, &event);
        }
        let answered_at = Instant::now();
        let (id, kind) = rest.split_once('/').unwrap_or_default();
        let n = id.strip_prefix("load-").and_then(|n| n.parse::<u64>().ok());
        let started = n.and_then(|n| lock(&self.tally).started.remove(&n));
        match (kind, started) {
            ("response", Some(started)) => {
                let response: Value = serde_json::from_slice(&request.body).unwrap_or_default();
                if response["statusCode"] == 200 {
                    lock(&self.tally)
                        .done
                        .push((answered_at, answered_at - started));
                    self.answered.fetch_add(1, Ordering::SeqCst);
                } else {
                    self.error(format!("{id} answered {response}"));
                }
            }
            ("error", _) => self.error(format!(
                "{id} failed: {}",
                String::from_utf8_lossy(&request.body)
            )),
            _ => self.error(format!("unexpected {}", request.line.trim_end())),
        }
        respond(stream, "202 Accepted", "", b"{}")
    }
}

// --- Secrets Manager and EventBridge -----------------------------------------------------

#[derive(Default)]
struct Aws {
    put_calls: AtomicUsize,
    entries: AtomicUsize,
    problems: Mutex<Vec<String>>,
}

impl Aws {
    fn handle(&self, request: HttpRequest, stream: &mut TcpStream) -> bool {
        let json = "content-type: application/x-amz-json-1.1\r\n";
        match request.header("x-amz-target") {
            Some("secretsmanager.GetSecretValue") => {
                let secret = json!({"current": SECRET}).to_string();
                let body = json!({"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:load", "Name": "load", "SecretString": secret});
                respond(stream, "200 OK", json, body.to_string().as_bytes())
            }
            Some("AWSEvents.PutEvents") => {
                let call: Value = serde_json::from_slice(&request.body).unwrap_or_default();
                let entries = call["Entries"].as_array().cloned().unwrap_or_default();
                if entries.is_empty() || entries.iter().any(|e| e["EventBusName"] != BUS) {
                    lock(&self.problems).push(format!("unexpected PutEvents call {call}"));
                }
                let n = self.put_calls.fetch_add(1, Ordering::SeqCst);
                self.entries.fetch_add(entries.len(), Ordering::SeqCst);
                let results: Vec<Value> = (0..entries.len())
                    .map(
                        |k| json!({"EventId": format!("11111111-2222-4333-8444-{:06x}{k:06x}", n)}),
                    )
                    .collect();
                let body = json!({"FailedEntryCount": 0, "Entries": results});
                respond(stream, "200 OK", json, body.to_string().as_bytes())
            }
            other => {
                lock(&self.problems).push(format!("unexpected call {other:?}"));
                respond(
                    stream,
                    "400 Bad Request",
                    json,
                    b"{\"__type\":\"UnknownOperationException\"}",
                )
            }
        }
    }
}

// --- The run ---------------------------------------------------------------------------------

fn spawn_bootstrap(runtime_port: u16, aws_port: u16) -> Child {
    Command::new(support::shipped_bootstrap())
        .env_clear()
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("127.0.0.1:{runtime_port}"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", "load")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/load")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "load")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "load")
        .env("AWS_SECRET_ACCESS_KEY", "load")
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{aws_port}"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("EBHOOK_PROVIDER", "github")
        .env("EBHOOK_EVENT_BUS", BUS)
        .env(
            "EBHOOK_SECRET_ARN",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:load",
        )
        // The deployed default: one JSON log line per invocation, written as Lambda would.
        .env("EBHOOK_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// A field of `/proc/<pid>/status` in KiB.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// User plus system CPU time of `pid` so far (USER_HZ is 100 on Linux).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[at - 1].as_secs_f64() * 1e3
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing and just checks it runs.
    let full = std::env::args().any(|a| a == "--bench");
    // Built before anything is timed.
    support::shipped_bootstrap();
    let number = |var: &str, default: u64| {
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let seconds = if full {
        number("EBHOOK_LOAD_SECONDS", 60)
    } else {
        2
    };
    let instances = number("EBHOOK_LOAD_INSTANCES", 1).max(1) as usize;

    // Signed events are made ahead on their own thread, so the emulator only hands them out.
    let (queue, events): (SyncSender<(u64, Vec<u8>)>, _) = sync_channel(1024);
    std::thread::spawn(move || {
        for n in 0.. {
            if queue.send((n, invocation(n))).is_err() {
                return;
            }
        }
    });
    let same_trace = std::env::var("EBHOOK_LOAD_TRACE").is_ok_and(|v| v == "same");
    let runtime = Arc::new(Runtime {
        same_trace,
        events: Mutex::new(events),
        tally: Mutex::new(Tally::default()),
        answered: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
    });
    let aws = Arc::new(Aws::default());
    let runtime_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let aws_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let (runtime_port, aws_port) = (
        runtime_listener.local_addr().unwrap().port(),
        aws_listener.local_addr().unwrap().port(),
    );
    serve(runtime_listener, {
        let runtime = Arc::clone(&runtime);
        move |request, stream| runtime.handle(request, stream)
    });
    serve(aws_listener, {
        let aws = Arc::clone(&aws);
        move |request, stream| aws.handle(request, stream)
    });

    let mut children: Vec<Child> = (0..instances)
        .map(|_| spawn_bootstrap(runtime_port, aws_port))
        .collect();
    let pids: Vec<u32> = children.iter().map(Child::id).collect();
    let warm_up_deadline = Instant::now() + Duration::from_secs(30);
    while runtime.answered.load(Ordering::SeqCst) < WARM_UP {
        let tally = lock(&runtime.tally);
        assert!(
            tally.errors == 0 && Instant::now() < warm_up_deadline,
            "the handler did not warm up: {} answered, first error {:?}",
            runtime.answered.load(Ordering::SeqCst),
            tally.first_error
        );
        drop(tally);
        std::thread::sleep(Duration::from_millis(5));
    }

    // The measured window: RSS of every instance each second.
    let start = Instant::now();
    let answered_before = runtime.answered.load(Ordering::SeqCst);
    let entries_before = aws.entries.load(Ordering::SeqCst);
    let cpu_before: Duration = pids.iter().map(|&p| cpu_time(p)).sum();
    let mut rss: Vec<(f64, u64)> = Vec::new();
    for second in 1..=seconds {
        let next = start + Duration::from_secs(second);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        let sample = pids
            .iter()
            .filter_map(|&p| status_kib(p, "VmRSS:"))
            .max()
            .unwrap_or(0);
        rss.push((start.elapsed().as_secs_f64(), sample));
    }
    runtime.stop.store(true, Ordering::SeqCst);
    let end = Instant::now();
    let cpu = pids.iter().map(|&p| cpu_time(p)).sum::<Duration>() - cpu_before;
    let peak: u64 = pids
        .iter()
        .filter_map(|&p| status_kib(p, "VmHWM:"))
        .max()
        .unwrap_or(0);
    // Let the invocations in flight finish, then stop the handlers.
    std::thread::sleep(Duration::from_millis(200));
    let exited: Vec<_> = children
        .iter_mut()
        .filter_map(|c| c.try_wait().ok().flatten())
        .collect();
    for child in &mut children {
        let _ = child.kill();
        let _ = child.wait();
    }

    let tally = lock(&runtime.tally);
    let mut latencies: Vec<Duration> = tally
        .done
        .iter()
        .filter(|(at, _)| *at >= start && *at <= end)
        .map(|(_, took)| *took)
        .collect();
    latencies.sort();
    let measured = latencies.len();
    let answered = runtime.answered.load(Ordering::SeqCst) - answered_before;
    let entries = aws.entries.load(Ordering::SeqCst) - entries_before;
    let mut errors = tally.errors;
    let mut error_notes: Vec<String> = tally.first_error.iter().cloned().collect();
    let problems = lock(&aws.problems);
    errors += problems.len();
    error_notes.extend(problems.iter().take(3).cloned());
    // Every answered delivery is one entry put; a few may be in flight at either edge.
    if entries.abs_diff(answered) > instances * 2 {
        errors += 1;
        error_notes.push(format!("{answered} answered but {entries} entries put"));
    }
    if !exited.is_empty() {
        errors += 1;
        error_notes.push(format!("a handler exited during the run: {exited:?}"));
    }
    let rate = measured as f64 / (end - start).as_secs_f64();
    let mib = |kib: u64| kib as f64 / 1024.0;
    let first = rss
        .iter()
        .filter(|(t, _)| *t <= 10.5)
        .map(|s| s.1)
        .max()
        .unwrap_or(0);
    let last = rss
        .iter()
        .filter(|(t, _)| *t > seconds as f64 - 10.5)
        .map(|s| s.1)
        .max()
        .unwrap_or(0);

    if !full {
        assert_eq!(errors, 0, "{error_notes:?}");
        assert!(measured > 0, "nothing was answered");
        return;
    }
    println!(
        "## Load ({seconds} s, {instances} instance{} of the release `bootstrap`{})\n",
        if instances == 1 { "" } else { "s" },
        if same_trace {
            ", one trace header for all"
        } else {
            ""
        }
    );
    println!("| measure | value |");
    println!("|---|---|");
    println!("| deliveries answered 200 in the window | {measured} |");
    println!("| deliveries per second | {rate:.0} |");
    println!(
        "| latency per invocation, p50 / p99 / max | {:.3} / {:.3} / {:.1} ms |",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0)
    );
    println!(
        "| handler CPU per delivery | {:.0} us |",
        cpu.as_secs_f64() * 1e6 / measured.max(1) as f64
    );
    println!("| errors | {errors} |");
    println!(
        "| RSS (largest instance), max of first 10 s / max of last 10 s | {:.1} / {:.1} MiB |",
        mib(first),
        mib(last)
    );
    println!("| peak RSS (VmHWM) at the end | {:.1} MiB |", mib(peak));
    let growth = last.saturating_sub(first) as f64 * 1024.0;
    // The two maxima are about `seconds - 10` s apart; each instance serves its share.
    let between = (seconds as f64 - 10.0).max(1.0) * rate / instances as f64;
    println!(
        "| RSS growth per delivery an instance serves, first 10 s to last 10 s | {:.0} bytes |",
        growth / between
    );
    let series: Vec<String> = rss
        .iter()
        .step_by(5)
        .map(|(t, kib)| format!("{t:.0}s {:.2}", mib(*kib)))
        .collect();
    println!("\nRSS every 5 s (MiB): {}", series.join(", "));
    for note in &error_notes {
        println!("error: {note}");
    }
    assert_eq!(errors, 0, "{error_notes:?}");
}
