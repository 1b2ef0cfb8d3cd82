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
//! was killed without answering), is refused with 413 in a few tens of MiB. Nor can a signed
//! one: every provider answers every hostile body of up to 6 MB, forged or signed, in under
//! 64 MiB. Signed forms of a million fields took 97-114 MiB and a JSON object of 625,000 keys
//! read by the generic provider 85 MiB, before forms were capped at 1,000 fields and the
//! generic provider read its two members without building the whole object.

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

/// Bodies that cost the most to split, parse or copy, each as large as a function URL passes
/// on: the whole invocation event is at most 6 MB, and form bodies arrive base64-encoded (a
/// third larger), JSON as text with its quotes escaped. (name, content type, body)
fn hostile_bodies() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    const FORM: &str = "application/x-www-form-urlencoded";
    const JSON: &str = "application/json";
    const FORM_BYTES: usize = 4_400_000;
    let repeat = |unit: &str, bytes: usize| unit.repeat(bytes / unit.len()).into_bytes();
    let listed = |open: &str, item: &dyn Fn(usize) -> String, close: &str, bytes: usize| {
        let mut text = String::from(open);
        let mut n = 0;
        while text.len() < bytes {
            text.push_str(&item(n));
            n += 1;
        }
        text.push_str(close);
        text.into_bytes()
    };
    vec![
        ("empty form fields", FORM, repeat("+&", FORM_BYTES)),
        (
            "distinct form fields",
            FORM,
            listed("", &|n| format!("f{n}=&"), "", FORM_BYTES),
        ),
        ("percent escapes", FORM, {
            let mut body = b"payload=".to_vec();
            body.extend(repeat("%7B", FORM_BYTES));
            body
        }),
        (
            "JSON of many keys",
            JSON,
            listed("{", &|n| format!("\"k{n}\":0,"), "\"end\":0}", 5_000_000),
        ),
        (LARGEST, JSON, repeat("[", 5_900_000)),
    ]
}

/// The body of the largest invocation event.
const LARGEST: &str = "JSON nested deeply";

/// The secret of each provider's function, and another of the same form that a forger signs
/// with: Standard Webhooks' are `whsec_` base64 keys.
fn hostile_secrets(provider: &str) -> [(&'static str, &'static str); 2] {
    let (real, forged) = match provider {
        "standard-webhooks" => (
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH",
        ),
        _ => ("memory-hostile-secret", "not-the-secret"),
    };
    [("forged", forged), ("signed", real)]
}
/// The generic provider as a user could describe it: an HMAC, and the event type read from a
/// JSON field, which makes it parse the body.
const GENERIC: &str = "auth=hmac&header=X-Signature&prefix=sha256%3D&event=json%3Atype";

/// `body` as `provider` sends it, signed with `secret`: the real secret for a delivery that is
/// verified, another for a well-formed forgery.
fn provider_request(provider: &str, secret: &str, content_type: &str, body: Vec<u8>) -> Value {
    use ebhook_handler::providers::{shopify, slack, standard_webhooks, stripe, twilio, zendesk};
    let key = secret.as_bytes();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let at = now.to_string();
    let rfc3339 = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let headers: Vec<(&str, String)> = match provider {
        "github" => vec![
            ("X-GitHub-Event", "push".into()),
            ("X-Hub-Signature-256", github::sign(key, &body)),
        ],
        "generic" => vec![("X-Signature", github::sign(key, &body))],
        "zendesk" => vec![
            ("X-Zendesk-Webhook-Signature-Timestamp", rfc3339.clone()),
            (
                "X-Zendesk-Webhook-Signature",
                zendesk::sign(key, &rfc3339, &body),
            ),
        ],
        "stripe" => vec![("Stripe-Signature", stripe::sign(key, now, &body))],
        "slack" => vec![
            ("X-Slack-Request-Timestamp", at.clone()),
            ("X-Slack-Signature", slack::sign(key, &at, &body)),
        ],
        "shopify" => vec![
            ("X-Shopify-Topic", "orders/create".into()),
            ("X-Shopify-Hmac-Sha256", shopify::sign(key, &body)),
        ],
        "standard-webhooks" => vec![
            ("webhook-id", "msg_memory".into()),
            ("webhook-timestamp", at.clone()),
            (
                "webhook-signature",
                standard_webhooks::sign(key, "msg_memory", now, &body).unwrap_or_default(),
            ),
        ],
        "gitlab" => vec![
            ("X-Gitlab-Event", "Push Hook".into()),
            ("X-Gitlab-Token", secret.into()),
        ],
        "twilio" => Vec::new(),
        other => panic!("no hostile request for provider {other}"),
    };
    let mut request = HttpRequest::post(&[("Content-Type", content_type)], body);
    if provider == "twilio" {
        // A form's parameters are signed with the URL; a JSON body by its hash in the URL.
        let form = content_type.contains("form");
        if !form {
            request.query = format!("bodySHA256={}", twilio::body_hash(&request.body));
        }
        let params = form
            .then(|| form_urlencoded::parse(&request.body))
            .into_iter()
            .flatten();
        let signature = twilio::sign(key, &request.url(), params);
        request = request.header("X-Twilio-Signature", &signature);
    }
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    request.to_event()
}

/// Answers every AWS call the handler may make for a verified delivery: PutEvents, and S3's
/// PutObject for a payload too large for an event.
async fn accept_everything(
    request: Request<Incoming>,
    entries: &AtomicUsize,
) -> Response<Full<Bytes>> {
    if request.headers().contains_key("x-amz-target") {
        return put_events(request, entries).await;
    }
    let _ = request.into_body().collect().await;
    let mut answer = Response::new(Full::new(Bytes::new()));
    answer
        .headers_mut()
        .insert("etag", hyper::header::HeaderValue::from_static("\"e\""));
    answer
}

/// Forgets the process's peak resident memory, so the next reading is of what follows.
fn reset_peak_rss(pid: u32) {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
}

/// Every provider, every hostile body, forged and correctly signed: each gets an answer in
/// less than half of a 128 MiB function. A signed body must be bounded too: a provider (or
/// whoever holds its secret) that sends one must get an answer, not a killed function it
/// retries forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_body_up_to_6_mb_is_answered_in_little_memory() {
    let entries = Arc::new(AtomicUsize::new(0));
    let aws = start_server({
        let entries = Arc::clone(&entries);
        move |request| {
            let entries = Arc::clone(&entries);
            async move { accept_everything(request, &entries).await }
        }
    })
    .await;
    let bodies = hostile_bodies();
    let mut failures = Vec::new();
    for provider in ebhook_handler::Provider::all() {
        let name = provider.as_str();
        let runtime = RuntimeApi::start().await;
        let mut env = vec![
            ("AWS_ENDPOINT_URL", aws.as_str()),
            ("EBHOOK_PROVIDER", name),
            ("EBHOOK_EVENT_BUS", "ebhook-memory"),
            ("EBHOOK_PAYLOAD_BUCKET", "ebhook-memory-payloads"),
            ("EBHOOK_SECRET", hostile_secrets(name)[1].1),
            ("EBHOOK_LOG", "warn"),
        ];
        if name == "generic" {
            env.push(("EBHOOK_PROVIDER_SCHEME", GENERIC));
        }
        let bootstrap = Bootstrap::spawn(&runtime.address(), &standalone_env(&env));
        for (body_name, content_type, body) in &bodies {
            for (signing, secret) in hostile_secrets(name) {
                // Before its signature is checked, only Twilio's request is split (its form is
                // signed parameter by parameter); every other forgery costs what its size costs,
                // so one body, the largest event, stands for the rest.
                if signing == "forged" && name != "twilio" && *body_name != LARGEST {
                    continue;
                }
                let event = provider_request(name, secret, content_type, body.clone());
                let size = event.to_string().len();
                assert!(size <= 6_000_000, "{body_name}: event of {size} bytes");
                reset_peak_rss(bootstrap.id());
                let response = runtime.invoke(event).await;
                let peak = peak_rss_kib(bootstrap.id());
                let answer = response
                    .as_ref()
                    .map(|r| status(r).to_string())
                    .unwrap_or_else(|e| format!("no answer: {e:?}"));
                println!("{name:18} {signing:6} {body_name:28} {answer:>4} peak {peak} KiB");
                let answered = response.as_ref().is_ok_and(|r| status(r) < 500);
                if peak > MAX_PEAK_MIB * 1024 || !answered {
                    failures.push(format!(
                        "{name} {signing} {body_name}: {answer}, peak {peak} KiB"
                    ));
                }
            }
        }
        drop(bootstrap);
    }
    assert!(
        failures.is_empty(),
        "over {MAX_PEAK_MIB} MiB or unanswered:\n{}",
        failures.join("\n")
    );
}
