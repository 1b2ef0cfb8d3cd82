//! Faults, measured: a few thousand signed Zendesk deliveries through the real `bootstrap`
//! (several instances under one Runtime API emulator) while EventBridge, a stand-in written
//! here that speaks PutEvents' awsJson1_1 wire format, throttles and fails whole calls and
//! single entries and now and then hangs past the handler's forward budget; and while the
//! dead-letter queue (moto's SQS, behind a proxy written here) has outages. Every delivery is
//! then accounted for by its delivery id: each 200 is on the stand-in's bus under the event ids
//! it answered, each 202 is in the dead-letter queue, and every other answer is a 503 with
//! `Retry-After`, which the test honours and retries, as Zendesk does, until the delivery is
//! taken. Nothing may be lost, and the faults must really have happened.
//!
//! Each service has its own endpoint variable (`AWS_ENDPOINT_URL_EVENTBRIDGE`, `_SQS`,
//! `_SECRETS_MANAGER`); the general `AWS_ENDPOINT_URL` leads nowhere, so a client that ignored
//! its own variable would fail the test rather than quietly reach moto.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ebhook_handler::dead_letter::{Body, Message, Record};
use ebhook_handler::providers::zendesk;
use http::header::{CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::mpsc;

use crate::support::function_url::{HttpRequest, status};
use crate::support::moto::s3_client;
use crate::support::stand_in::{json_answer, start_server};
use crate::support::{Bootstrap, Moto, RuntimeApi};

const SECRET: &str = "faults-zendesk-secret";
const BUS: &str = "ebhook-faults";
const DEAD_LETTERS: &str = "ebhook-faults-dead-letters";
const DELIVERIES: usize = 2400;
/// `bootstrap` processes polling the one emulator, each serving one invocation at a time.
const INSTANCES: usize = 6;
/// The handler's whole forward budget (EBHOOK_FORWARD_BUDGET_MS)...
const BUDGET_MS: u64 = 400;
/// ...and how long a hanging PutEvents call takes to answer: always past the budget.
const HANG: Duration = Duration::from_millis(1500);

/// Of all PutEvents calls: the share that hangs (then succeeds, too late), the share refused as
/// a whole (HTTP 400 ThrottlingException or 500 InternalFailure), and the share answered 200
/// with failed entries. About 30% fail outright, 3% more time out.
const P_HANG: f64 = 0.03;
const P_CALL_ERROR: f64 = 0.15;
const P_ENTRY_ERROR: f64 = 0.15;

/// SQS: every SendMessage in the last `OUTAGE` of each `OUTAGE_PERIOD` is refused with
/// RequestThrottled (so the SDK's one retry usually fails too), and a few isolated ones outside
/// outages (which that retry absorbs).
const OUTAGE_PERIOD: Duration = Duration::from_secs(10);
const OUTAGE: Duration = Duration::from_secs(3);
const P_SQS_BLIP: f64 = 0.05;

/// How often a delivery answered 503 is sent again before the test gives up on it.
const MAX_TRIES: u32 = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousands_of_deliveries_through_failing_services_lose_nothing() {
    let seed = std::env::var("EBHOOK_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_f00d_u64);

    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&conf);
    let secrets = aws_sdk_secretsmanager::Client::new(&conf);
    let s3 = s3_client(&conf);
    let queue_url = sqs
        .create_queue()
        .queue_name(DEAD_LETTERS)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let secret_arn = secrets
        .create_secret()
        .name("ebhook-faults")
        .secret_string(json!({ "current": SECRET }).to_string())
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();

    let bus = Arc::new(StandIn::new(seed));
    let bus_endpoint = start_server({
        let bus = Arc::clone(&bus);
        move |request| {
            let bus = Arc::clone(&bus);
            async move { bus.put_events(request).await }
        }
    })
    .await;
    let queue = Arc::new(QueueProxy::new(moto.endpoint(), seed ^ 0xa5a5));
    let queue_endpoint = start_server({
        let queue = Arc::clone(&queue);
        move |request| {
            let queue = Arc::clone(&queue);
            async move { queue.handle(request).await }
        }
    })
    .await;

    let runtime = Arc::new(RuntimeApi::start().await);
    let mut env = moto.env();
    env.retain(|(name, _)| name != "AWS_ENDPOINT_URL");
    let budget = BUDGET_MS.to_string();
    for (name, value) in [
        // Nothing listens on port 9 of loopback.
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_ENDPOINT_URL_EVENTBRIDGE", bus_endpoint.as_str()),
        ("AWS_ENDPOINT_URL_SQS", queue_endpoint.as_str()),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto.endpoint().as_str()),
        ("EBHOOK_PROVIDER", "zendesk"),
        ("EBHOOK_EVENT_BUS", BUS),
        ("EBHOOK_SECRET_ARN", secret_arn.as_str()),
        ("EBHOOK_DEAD_LETTER_QUEUE_URL", queue_url.as_str()),
        ("EBHOOK_FORWARD_BUDGET_MS", budget.as_str()),
        ("EBHOOK_LOG", "warn"),
    ] {
        env.push((name.to_owned(), value.to_owned()));
    }
    let instances: Vec<Bootstrap> = (0..INSTANCES)
        .map(|_| Bootstrap::spawn(&runtime.address(), &env))
        .collect();
    let handler_output = || {
        instances
            .iter()
            .enumerate()
            .map(|(n, b)| format!("--- bootstrap {n} ---\n{}", tail(&b.output(), 40)))
            .collect::<Vec<_>>()
            .join("\n")
    };

    // Send every delivery; a 503 goes back in the queue after its Retry-After.
    let started = Instant::now();
    let answers: Arc<Mutex<Vec<Vec<Answer>>>> = Arc::new(Mutex::new(vec![Vec::new(); DELIVERIES]));
    let open = Arc::new(AtomicUsize::new(DELIVERIES));
    let (jobs, receiver) = mpsc::unbounded_channel::<usize>();
    let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
    for i in 0..DELIVERIES {
        jobs.send(i).unwrap();
    }
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..INSTANCES {
        let (runtime, answers, open, jobs, receiver) = (
            Arc::clone(&runtime),
            Arc::clone(&answers),
            Arc::clone(&open),
            jobs.clone(),
            Arc::clone(&receiver),
        );
        workers.spawn(async move {
            while open.load(Ordering::SeqCst) > 0 {
                let next = tokio::time::timeout(Duration::from_millis(100), async {
                    receiver.lock().await.recv().await
                })
                .await;
                let Ok(Some(i)) = next else { continue };
                let answer = deliver(&runtime, i).await;
                let retry = answer.retry_after.filter(|_| answer.status == 503);
                let tries = {
                    let mut answers = lock(&answers);
                    answers[i].push(answer);
                    answers[i].len() as u32
                };
                match retry {
                    Some(after) if tries < MAX_TRIES => {
                        let jobs = jobs.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(after).await;
                            let _ = jobs.send(i);
                        });
                    }
                    _ => {
                        open.fetch_sub(1, Ordering::SeqCst);
                    }
                }
            }
        });
    }
    drop(jobs);
    while let Some(done) = workers.join_next().await {
        done.unwrap();
    }
    let sending = started.elapsed();
    let answers = std::mem::take(&mut *lock(&answers));

    // The dead-letter queue, read straight from moto.
    let mut dead_letters: Vec<Record> = Vec::new();
    let mut spilled = 0;
    let mut empty_polls = 0;
    while empty_polls < 2 {
        let received = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(600)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        if received.messages().is_empty() {
            empty_polls += 1;
            continue;
        }
        empty_polls = 0;
        for message in received.messages() {
            let body = message.body().unwrap_or_default();
            let record = match Message::parse(body) {
                Ok(Message::Record(record)) => record,
                Ok(Message::Spilled { bucket, key, size }) => {
                    spilled += 1;
                    let object = s3.get_object().bucket(&bucket).key(&key).send().await;
                    let bytes = object.unwrap().body.collect().await.unwrap().into_bytes();
                    assert_eq!(bytes.len(), size, "spilled record {bucket}/{key}");
                    Record::parse(std::str::from_utf8(&bytes).unwrap()).unwrap()
                }
                Err(e) => panic!("unreadable dead-letter message ({e}): {body}"),
            };
            dead_letters.push(record);
            sqs.delete_message()
                .queue_url(&queue_url)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }

    // Where each delivery ended up.
    let accepted = bus.accepted();
    let mut on_bus: HashMap<&str, Vec<&str>> = HashMap::new();
    for entry in &accepted {
        on_bus
            .entry(&entry.delivery_id)
            .or_default()
            .push(&entry.event_id);
    }
    let mut problems: Vec<String> = lock(&bus.state).problems.clone();
    problems.extend(lock(&queue.stats).problems.iter().cloned());
    let mut in_queue: HashMap<&str, usize> = HashMap::new();
    for record in &dead_letters {
        let Some(id) = record.delivery_id.as_deref() else {
            problems.push(format!("dead letter without a delivery id: {record:?}"));
            continue;
        };
        *in_queue.entry(id).or_default() += 1;
        if let Err(e) = check_record(record, id) {
            problems.push(e);
        }
    }

    let calls_for = lock(&bus.state).calls_for.clone();
    let mut counts = Counts::default();
    for (i, answers) in answers.iter().enumerate() {
        let id = delivery_id(i);
        let copies = on_bus.get(id.as_str()).map_or(0, Vec::len)
            + in_queue.get(id.as_str()).copied().unwrap_or(0);
        if copies > 1 {
            counts.duplicates += 1;
            counts.extra_copies += copies - 1;
        }
        for answer in answers {
            match answer.status {
                200 | 202 => {}
                503 if answer.retry_after.is_some() => counts.unavailable += 1,
                _ => problems.push(format!("{id}: unexpected answer {:?}", answer.raw)),
            }
        }
        if answers.iter().any(|a| a.status == 503) {
            counts.delivered_after_503 += 1;
        }
        let Some(last) = answers.last() else {
            problems.push(format!("{id}: never sent"));
            continue;
        };
        match last.status {
            200 => {
                if answers.len() == 1 && calls_for.get(&id) == Some(&1) {
                    counts.first_try += 1;
                } else {
                    counts.after_retries += 1;
                }
                let bus_ids = on_bus.get(id.as_str()).cloned().unwrap_or_default();
                if last.event_ids.is_empty() {
                    problems.push(format!("{id}: 200 without event ids: {:?}", last.raw));
                }
                for event_id in &last.event_ids {
                    if !bus_ids.contains(&event_id.as_str()) {
                        counts.lost += 1;
                        problems.push(format!(
                            "{id}: answered 200 with event id {event_id}, which is not on the bus \
                             (bus has {bus_ids:?} for it)"
                        ));
                    }
                }
            }
            202 => {
                counts.dead_lettered += 1;
                if !in_queue.contains_key(id.as_str()) {
                    counts.lost += 1;
                    problems.push(format!(
                        "{id}: answered 202 but is not in the dead-letter queue (on the bus: {:?})",
                        on_bus.get(id.as_str())
                    ));
                }
            }
            _ => {
                counts.gave_up += 1;
                problems.push(format!(
                    "{id}: still not taken after {} tries: {:?}",
                    answers.len(),
                    last.raw
                ));
            }
        }
    }

    let stats = lock(&bus.state).stats.clone();
    let queue_stats = lock(&queue.stats).clone();
    let invocations: usize = answers.iter().map(Vec::len).sum();
    let mut latencies: Vec<Duration> = answers.iter().flatten().map(|a| a.took).collect();
    latencies.sort();
    let percentile = |p: f64| {
        let at = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len());
        latencies[at - 1].as_secs_f64() * 1e3
    };
    let failed_calls = stats.call_throttles + stats.call_internal + stats.entry_failure_calls;
    let share = |n: usize| n as f64 / stats.calls.max(1) as f64;
    println!(
        "faults (seed {seed}): {DELIVERIES} Zendesk deliveries, {invocations} invocations of \
         {INSTANCES} bootstraps in {:.1} s; forward budget {BUDGET_MS} ms, hangs {} ms",
        sending.as_secs_f64(),
        HANG.as_millis()
    );
    println!(
        "  invocation latency p50 {:.0} ms | p99 {:.0} ms | max {:.0} ms",
        percentile(0.50),
        percentile(0.99),
        percentile(1.0)
    );
    println!(
        "  deliveries: accepted first try {} | accepted after retries {} | dead-lettered (202) {} \
         | answered 503 at least once {} | lost {} | gave up {}",
        counts.first_try,
        counts.after_retries,
        counts.dead_lettered,
        counts.delivered_after_503,
        counts.lost,
        counts.gave_up
    );
    println!(
        "  503 answers (all with Retry-After) {} | duplicates: {} deliveries with {} extra copies \
         | dead-letter messages {} ({} spilled)",
        counts.unavailable,
        counts.duplicates,
        counts.extra_copies,
        dead_letters.len(),
        spilled
    );
    println!(
        "  PutEvents calls {} | whole-call ThrottlingException {} | whole-call InternalFailure {} \
         | calls with failed entries {} ({} ThrottlingException, {} InternalFailure entries) | \
         hangs past the budget {} | failed {:.1}% + hung {:.1}% | entries on the bus {}",
        stats.calls,
        stats.call_throttles,
        stats.call_internal,
        stats.entry_failure_calls,
        stats.entry_throttles,
        stats.entry_internal,
        stats.hangs,
        100.0 * share(failed_calls),
        100.0 * share(stats.hangs),
        accepted.len()
    );
    println!(
        "  SQS SendMessage calls {} | refused in outages {} | refused in isolation {} | \
         passed to moto {}",
        queue_stats.sends, queue_stats.refused_outage, queue_stats.refused_blip, queue_stats.passed
    );

    assert!(
        problems.is_empty(),
        "{} problems:\n{}\n{}",
        problems.len(),
        problems
            .iter()
            .take(50)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
        handler_output()
    );
    assert_eq!(counts.lost, 0);
    assert_eq!(
        counts.first_try + counts.after_retries + counts.dead_lettered,
        DELIVERIES,
        "every delivery was finally taken"
    );
    // Answered well within the function's 6 s timeout, whatever failed.
    assert!(
        percentile(1.0) < 6000.0,
        "slowest invocation {:.0} ms",
        percentile(1.0)
    );
    // The faults really happened, in about the intended shares.
    assert!(stats.calls >= DELIVERIES, "{stats:?}");
    assert!(
        (0.22..=0.38).contains(&share(failed_calls)),
        "failed share {:.3}: {stats:?}",
        share(failed_calls)
    );
    assert!(
        (0.015..=0.05).contains(&share(stats.hangs)),
        "hung share {:.3}: {stats:?}",
        share(stats.hangs)
    );
    for (what, n) in [
        ("whole-call throttles", stats.call_throttles),
        ("whole-call internal failures", stats.call_internal),
        ("entry throttles", stats.entry_throttles),
        ("entry internal failures", stats.entry_internal),
        ("retried deliveries accepted", counts.after_retries),
        ("dead-lettered deliveries", counts.dead_lettered),
        ("SQS refusals in outages", queue_stats.refused_outage),
        ("SQS refusals in isolation", queue_stats.refused_blip),
        ("503 answers", counts.unavailable),
    ] {
        assert!(n > 0, "no {what}: the faults were not injected");
    }
    drop(instances);
}

fn delivery_id(i: usize) -> String {
    format!("fault-{i:05}")
}

/// The body of delivery `i`: a Zendesk ticket event naming it.
fn body(i: usize) -> String {
    json!({
        "type": "zen:event-type:ticket.created",
        "account_id": 22129848,
        "id": format!("00000000-0000-4000-8000-{i:012}"),
        "time": "2026-11-22T12:00:00Z",
        "zendesk_event_version": "2022-11-06",
        "subject": format!("zen:ticket:{i}"),
        "detail": { "id": i.to_string(), "subject": format!("Fault {i}") },
        "event": {},
        "n": i,
    })
    .to_string()
}

/// A dead-letter record keeps the body exactly and the entry to put later.
fn check_record(record: &Record, id: &str) -> Result<(), String> {
    let i: usize = id
        .strip_prefix("fault-")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("dead letter for an unknown delivery {id}"))?;
    if record.provider != "zendesk" || record.event_bus != BUS {
        return Err(format!(
            "{id}: dead letter for {} on {}",
            record.provider, record.event_bus
        ));
    }
    if record.body != Body::Text(body(i)) {
        return Err(format!(
            "{id}: dead letter's body differs from the one sent"
        ));
    }
    let entries = record.entries();
    if entries.len() != 1 {
        return Err(format!("{id}: dead letter has {} entries", entries.len()));
    }
    let detail: Value = serde_json::from_str(&entries[0].detail).unwrap_or_default();
    if detail["ebhook"]["deliveryId"] != id || detail["n"] != i {
        return Err(format!(
            "{id}: dead letter's entry is another delivery's: {detail}"
        ));
    }
    Ok(())
}

/// One answer of the handler to one invocation.
#[derive(Clone, Debug)]
struct Answer {
    status: u64,
    retry_after: Option<Duration>,
    event_ids: Vec<String>,
    raw: String,
    /// From handing the event to the emulator to the function's answer.
    took: Duration,
}

/// Sends delivery `i`, signed now, as Zendesk would (again, on a retry).
async fn deliver(runtime: &RuntimeApi, i: usize) -> Answer {
    let body = body(i);
    let ts = OffsetDateTime::now_utc().format(&Rfc3339).unwrap();
    let id = delivery_id(i);
    let request = HttpRequest::post(
        &[
            ("Content-Type", "application/json"),
            ("X-Zendesk-Webhook-Id", "01GWD8VAQ3SS0C6FTYG8B5RCQ4"),
            ("X-Zendesk-Webhook-Invocation-Id", &id),
            ("X-Zendesk-Account-Id", "22129848"),
            ("X-Zendesk-Webhook-Signature-Timestamp", &ts),
        ],
        body.clone(),
    )
    .header(
        "X-Zendesk-Webhook-Signature",
        &zendesk::sign(SECRET.as_bytes(), &ts, body.as_bytes()),
    );
    let sent = Instant::now();
    let result = runtime.invoke(request.to_event()).await;
    let took = sent.elapsed();
    match result {
        Ok(response) => {
            let retry_after = response["headers"]["retry-after"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .map(Duration::from_secs);
            let parsed: Value = serde_json::from_str(response["body"].as_str().unwrap_or("null"))
                .unwrap_or_default();
            let event_ids = parsed["eventIds"]
                .as_array()
                .map(|ids| {
                    ids.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            Answer {
                status: status(&response),
                retry_after,
                event_ids,
                raw: response.to_string(),
                took,
            }
        }
        Err(e) => Answer {
            status: 0,
            retry_after: None,
            event_ids: Vec::new(),
            raw: format!("no answer: {e}"),
            took,
        },
    }
}

#[derive(Default)]
struct Counts {
    first_try: usize,
    after_retries: usize,
    dead_lettered: usize,
    delivered_after_503: usize,
    unavailable: usize,
    duplicates: usize,
    extra_copies: usize,
    lost: usize,
    gave_up: usize,
}

/// A small deterministic generator (splitmix64), so a seed reproduces a fault sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

// --- EventBridge --------------------------------------------------------------------------

const AWS_JSON_1_1: &str = "application/x-amz-json-1.1";

/// An entry the stand-in accepted.
struct BusEntry {
    event_id: String,
    delivery_id: String,
}

#[derive(Clone, Debug, Default)]
struct BusStats {
    calls: usize,
    call_throttles: usize,
    call_internal: usize,
    /// Calls answered 200 with at least one failed entry...
    entry_failure_calls: usize,
    /// ...and those entries, by code.
    entry_throttles: usize,
    entry_internal: usize,
    hangs: usize,
}

struct BusState {
    rng: Rng,
    stats: BusStats,
    accepted: Vec<BusEntry>,
    /// PutEvents calls that carried each delivery.
    calls_for: HashMap<String, u32>,
    /// Requests that were not well-formed PutEvents calls for this bus.
    problems: Vec<String>,
}

enum Fate {
    Accept,
    Hang,
    Refuse { throttle: bool },
    FailEntries,
}

/// EventBridge's PutEvents, with faults; records what it accepted (the bus).
struct StandIn {
    state: Mutex<BusState>,
}

impl StandIn {
    fn new(seed: u64) -> Self {
        Self {
            state: Mutex::new(BusState {
                rng: Rng(seed),
                stats: BusStats::default(),
                accepted: Vec::new(),
                calls_for: HashMap::new(),
                problems: Vec::new(),
            }),
        }
    }

    fn accepted(&self) -> Vec<BusEntry> {
        lock(&self.state)
            .accepted
            .iter()
            .map(|e| BusEntry {
                event_id: e.event_id.clone(),
                delivery_id: e.delivery_id.clone(),
            })
            .collect()
    }

    async fn put_events(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let delivery_ids = match parse_put_events(&parts, &body) {
            Ok(ids) => ids,
            Err(problem) => {
                lock(&self.state).problems.push(problem.clone());
                let error = json!({ "__type": "ValidationException", "message": problem });
                return json_answer(StatusCode::BAD_REQUEST, AWS_JSON_1_1, error.to_string());
            }
        };

        let (answer, hang) = {
            let mut guard = lock(&self.state);
            let state = &mut *guard;
            state.stats.calls += 1;
            for id in &delivery_ids {
                *state.calls_for.entry(id.clone()).or_default() += 1;
            }
            let r = state.rng.unit();
            let fate = if r < P_HANG {
                Fate::Hang
            } else if r < P_HANG + P_CALL_ERROR {
                Fate::Refuse {
                    throttle: state.rng.unit() < 0.5,
                }
            } else if r < P_HANG + P_CALL_ERROR + P_ENTRY_ERROR {
                Fate::FailEntries
            } else {
                Fate::Accept
            };
            match fate {
                Fate::Refuse { throttle: true } => {
                    state.stats.call_throttles += 1;
                    let error =
                        json!({ "__type": "ThrottlingException", "message": "Rate exceeded." });
                    return json_answer(StatusCode::BAD_REQUEST, AWS_JSON_1_1, error.to_string());
                }
                Fate::Refuse { throttle: false } => {
                    state.stats.call_internal += 1;
                    let error = json!({
                        "__type": "InternalFailure",
                        "message": "The request processing has failed because of an unknown error, exception or failure.",
                    });
                    return json_answer(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        AWS_JSON_1_1,
                        error.to_string(),
                    );
                }
                Fate::Hang => state.stats.hangs += 1,
                Fate::FailEntries => state.stats.entry_failure_calls += 1,
                Fate::Accept => {}
            }
            // With entry failures, each entry fails by a coin toss, and at least one does.
            let n = delivery_ids.len();
            let forced = (state.rng.next() as usize) % n.max(1);
            let mut failed = 0;
            let mut results = Vec::with_capacity(n);
            for (k, id) in delivery_ids.iter().enumerate() {
                let fail =
                    matches!(fate, Fate::FailEntries) && (k == forced || state.rng.unit() < 0.5);
                if fail {
                    failed += 1;
                    if state.rng.unit() < 0.5 {
                        state.stats.entry_throttles += 1;
                        results.push(json!({
                            "ErrorCode": "ThrottlingException",
                            "ErrorMessage": "Rate exceeded.",
                        }));
                    } else {
                        state.stats.entry_internal += 1;
                        results.push(json!({
                            "ErrorCode": "InternalFailure",
                            "ErrorMessage": "Internal service error.",
                        }));
                    }
                } else {
                    // A hanging call has taken its entries; only the answer is late.
                    let event_id = uuid(state.rng.next(), state.rng.next());
                    state.accepted.push(BusEntry {
                        event_id: event_id.clone(),
                        delivery_id: id.clone(),
                    });
                    results.push(json!({ "EventId": event_id }));
                }
            }
            let body = json!({ "FailedEntryCount": failed, "Entries": results });
            (
                json_answer(StatusCode::OK, AWS_JSON_1_1, body.to_string()),
                matches!(fate, Fate::Hang),
            )
        };
        if hang {
            tokio::time::sleep(HANG).await;
        }
        answer
    }
}

/// The delivery id of each entry of a well-formed PutEvents call for [`BUS`].
fn parse_put_events(parts: &http::request::Parts, body: &[u8]) -> Result<Vec<String>, String> {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if parts.method != Method::POST || parts.uri.path() != "/" {
        return Err(format!("{} {}: not POST /", parts.method, parts.uri));
    }
    if header("x-amz-target") != Some("AWSEvents.PutEvents") {
        return Err(format!("X-Amz-Target {:?}", header("x-amz-target")));
    }
    if header("content-type") != Some(AWS_JSON_1_1) {
        return Err(format!("Content-Type {:?}", header("content-type")));
    }
    if header("authorization").is_none_or(|a| !a.starts_with("AWS4-HMAC-SHA256 ")) {
        return Err("unsigned request".into());
    }
    let request: Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let entries = request["Entries"]
        .as_array()
        .filter(|e| (1..=10).contains(&e.len()))
        .ok_or_else(|| format!("Entries must hold 1 to 10 entries: {request}"))?;
    entries
        .iter()
        .map(|entry| {
            if entry["EventBusName"] != BUS
                || entry["Source"] != "ebhook.zendesk"
                || entry["DetailType"] != "zen:event-type:ticket.created"
            {
                return Err(format!("unexpected entry {entry}"));
            }
            let detail: Value = entry["Detail"]
                .as_str()
                .and_then(|d| serde_json::from_str(d).ok())
                .ok_or_else(|| format!("Detail is not a JSON string: {entry}"))?;
            let id = detail["ebhook"]["deliveryId"]
                .as_str()
                .ok_or_else(|| format!("Detail without ebhook.deliveryId: {detail}"))?;
            let n = id
                .strip_prefix("fault-")
                .and_then(|n| n.parse::<u64>().ok())
                .ok_or_else(|| format!("unknown delivery id {id}"))?;
            if detail["n"] != n {
                return Err(format!("Detail of {id} is another delivery's: {detail}"));
            }
            Ok(id.to_owned())
        })
        .collect()
}

fn uuid(a: u64, b: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

// --- SQS ----------------------------------------------------------------------------------

const AWS_JSON_1_0: &str = "application/x-amz-json-1.0";

#[derive(Clone, Debug, Default)]
struct QueueStats {
    sends: usize,
    refused_outage: usize,
    refused_blip: usize,
    passed: usize,
    problems: Vec<String>,
}

/// moto's SQS behind a proxy that refuses SendMessage during outages and now and then.
struct QueueProxy {
    moto: String,
    client: Client<HttpConnector, Full<Bytes>>,
    started: Instant,
    rng: Mutex<Rng>,
    stats: Mutex<QueueStats>,
}

impl QueueProxy {
    fn new(moto: String, seed: u64) -> Self {
        Self {
            moto,
            client: Client::builder(TokioExecutor::new()).build_http(),
            started: Instant::now(),
            rng: Mutex::new(Rng(seed)),
            stats: Mutex::new(QueueStats::default()),
        }
    }

    fn in_outage(&self) -> bool {
        let period = OUTAGE_PERIOD.as_millis();
        self.started.elapsed().as_millis() % period >= period - OUTAGE.as_millis()
    }

    async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let target = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if target != "AmazonSQS.SendMessage" {
            lock(&self.stats)
                .problems
                .push(format!("the handler called SQS {target:?}"));
        } else {
            let outage = self.in_outage();
            let blip = !outage && lock(&self.rng).unit() < P_SQS_BLIP;
            let mut stats = lock(&self.stats);
            stats.sends += 1;
            if outage || blip {
                if outage {
                    stats.refused_outage += 1;
                } else {
                    stats.refused_blip += 1;
                }
                let error = json!({
                    "__type": "com.amazonaws.sqs#RequestThrottled",
                    "message": "Request is throttled.",
                });
                let mut answer =
                    json_answer(StatusCode::BAD_REQUEST, AWS_JSON_1_0, error.to_string());
                answer.headers_mut().insert(
                    "x-amzn-query-error",
                    http::HeaderValue::from_static("RequestThrottled;Sender"),
                );
                return answer;
            }
            stats.passed += 1;
        }
        self.forward(parts, body).await
    }

    async fn forward(&self, parts: http::request::Parts, body: Bytes) -> Response<Full<Bytes>> {
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut upstream = Request::builder()
            .method(parts.method.clone())
            .uri(format!("{}{path}", self.moto));
        for (name, value) in &parts.headers {
            if name != HOST && name != CONTENT_LENGTH && name != TRANSFER_ENCODING {
                upstream = upstream.header(name, value);
            }
        }
        let result = self
            .client
            .request(upstream.body(Full::new(body)).unwrap())
            .await;
        let response = match result {
            Ok(response) => response,
            Err(e) => {
                let problem = format!("moto did not answer through the proxy: {e}");
                lock(&self.stats).problems.push(problem.clone());
                return json_answer(
                    StatusCode::BAD_GATEWAY,
                    AWS_JSON_1_0,
                    json!({ "__type": "ProxyError", "message": problem }).to_string(),
                );
            }
        };
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let mut answer = Response::builder().status(parts.status);
        for (name, value) in &parts.headers {
            if name != CONTENT_LENGTH && name != TRANSFER_ENCODING && name != "connection" {
                answer = answer.header(name, value);
            }
        }
        answer.body(Full::new(body)).unwrap()
    }
}
