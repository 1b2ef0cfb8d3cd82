//! Memory through the real `bootstrap`.
//!
//! It stays flat in a warm function: thousands of signed GitHub deliveries, each invocation with
//! its own X-Ray trace header as Lambda sends them, and the process's resident memory compared
//! after a warm-up and at the end. That fails if the runtime loop copies each trace header into
//! `_X_AMZN_TRACE_ID`, as `lambda_runtime`'s loop does: glibc keeps every value `setenv` was
//! given, 150 to 200 bytes an invocation; with that `setenv` put back, these deliveries added
//! 2.9 MiB. EventBridge is a stand-in that accepts every entry (moto would take minutes for this
//! many calls).
//!
//! And an unsigned request cannot make it large: a forged Twilio form of millions of empty
//! parameters, which was split into pairs before any HMAC (208 MB peak, so a 128 MiB function
//! was killed without answering), is refused with 413 in a few tens of MiB.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use ebhook_handler::providers::github;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

use crate::support::function_url::{HttpRequest, status};
use crate::support::process::standalone_env;
use crate::support::stand_in::{json_answer, start_server};
use crate::support::{Bootstrap, RuntimeApi};

const SECRET: &str = "memory-github-secret";
const WARM_UP: usize = 1_000;
const MEASURED: usize = 15_000;
/// Allocator noise after the warm-up is well under this; the old leak was 2.9 MiB here.
const MAX_GROWTH_KIB: u64 = 512;

/// PutEvents answered 200 with an event id per entry; counts the entries.
async fn put_events(request: Request<Incoming>, entries: &AtomicUsize) -> Response<Full<Bytes>> {
    let target = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let parsed: Value = serde_json::from_slice(&body).unwrap_or_default();
    let Some(sent) = parsed["Entries"]
        .as_array()
        .filter(|_| target.as_deref() == Some("AWSEvents.PutEvents"))
    else {
        let error = json!({"__type": "ValidationException", "message": "not a PutEvents call"});
        return json_answer(
            StatusCode::BAD_REQUEST,
            "application/x-amz-json-1.1",
            error.to_string(),
        );
    };
    let first = entries.fetch_add(sent.len(), Ordering::Relaxed);
    let ids: Vec<Value> = (0..sent.len())
        .map(|k| json!({"EventId": format!("00000000-0000-4000-8000-{:012x}", first + k)}))
        .collect();
    let answer = json!({"FailedEntryCount": 0, "Entries": ids});
    json_answer(
        StatusCode::OK,
        "application/x-amz-json-1.1",
        answer.to_string(),
    )
}

/// A `Vm...:` line of `/proc/<pid>/status`, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// The most resident memory the process has had.
fn peak_rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmHWM:")
}

async fn deliver(runtime: &RuntimeApi, n: usize) {
    let body = json!({
        "action": "opened",
        "number": n,
        "pull_request": {"title": "A change", "body": "x".repeat(600)},
        "repository": {"full_name": "octo/hello"},
    })
    .to_string();
    let delivery = format!("72d3162e-cc78-11e3-81ab-{n:012x}");
    let request = HttpRequest::post(
        &[
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "pull_request"),
            ("X-GitHub-Delivery", &delivery),
            ("X-GitHub-Hook-Id", "292430182"),
        ],
        body.clone(),
    )
    .header(
        "X-Hub-Signature-256",
        &github::sign(SECRET.as_bytes(), body.as_bytes()),
    );
    let response = runtime.invoke(request.to_event()).await.unwrap();
    assert_eq!(status(&response), 200, "delivery {n}: {response}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_stays_flat_over_thousands_of_invocations() {
    let entries = Arc::new(AtomicUsize::new(0));
    let bus = start_server({
        let entries = Arc::clone(&entries);
        move |request| {
            let entries = Arc::clone(&entries);
            async move { put_events(request, &entries).await }
        }
    })
    .await;
    let runtime = RuntimeApi::start().await;
    // Only EventBridge is reachable.
    let env = standalone_env(&[
        ("AWS_ENDPOINT_URL_EVENTBRIDGE", bus.as_str()),
        ("EBHOOK_PROVIDER", "github"),
        ("EBHOOK_EVENT_BUS", "ebhook-memory"),
        ("EBHOOK_SECRET", SECRET),
        ("EBHOOK_LOG", "warn"),
    ]);
    let bootstrap = Bootstrap::spawn(&runtime.address(), &env);

    for n in 0..WARM_UP {
        deliver(&runtime, n).await;
    }
    let before = rss_kib(bootstrap.id());
    for n in WARM_UP..WARM_UP + MEASURED {
        deliver(&runtime, n).await;
    }
    let after = rss_kib(bootstrap.id());

    assert_eq!(entries.load(Ordering::Relaxed), WARM_UP + MEASURED);
    let growth = after.saturating_sub(before);
    println!(
        "RSS after {WARM_UP} invocations: {before} KiB; after {MEASURED} more: {after} KiB (+{growth} KiB, {:.1} bytes per invocation)",
        growth as f64 * 1024.0 / MEASURED as f64
    );
    assert!(
        growth <= MAX_GROWTH_KIB,
        "RSS grew by {growth} KiB over {MEASURED} invocations ({before} -> {after} KiB)\n{}",
        bootstrap.output()
    );
}

/// A Lambda function of the stack's default 128 MiB must answer every request; half of it is
/// the bar for the largest unsigned one.
const MAX_PEAK_MIB: u64 = 64;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_twilio_form_of_millions_of_parameters_gets_413_in_little_memory() {
    let runtime = RuntimeApi::start().await;
    // Nothing is reachable: the answer must come before any AWS call.
    let env = standalone_env(&[
        ("EBHOOK_PROVIDER", "twilio"),
        ("EBHOOK_EVENT_BUS", "ebhook-memory"),
        ("EBHOOK_SECRET", "twilio-auth-token"),
        ("EBHOOK_LOG", "warn"),
    ]);
    let bootstrap = Bootstrap::spawn(&runtime.address(), &env);
    // Any well-formed signature: 20 bytes, base64.
    let signature = B64.encode([7u8; 20]);
    let body = "+&".repeat(4_700_000 / 2);
    let request = HttpRequest::post(
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("X-Twilio-Signature", &signature),
        ],
        body,
    );
    let response = runtime.invoke(request.to_event()).await.unwrap();
    let peak = peak_rss_kib(bootstrap.id());
    println!("peak RSS with a 4.7 MB forged form: {peak} KiB");
    assert!(
        peak <= MAX_PEAK_MIB * 1024,
        "peak RSS {peak} KiB is over {MAX_PEAK_MIB} MiB ({response})\n{}",
        bootstrap.output()
    );
    assert_eq!(status(&response), 413, "{response}\n{}", bootstrap.output());
}
