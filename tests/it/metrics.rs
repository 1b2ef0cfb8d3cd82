//! Each delivery's one log line, through the real `bootstrap`: a delivery of every outcome the
//! handler can reach (accepted, stored, duplicate, answered, dead-lettered, failed and each
//! kind of refusal) writes exactly one line with `"message":"delivery"` to stdout, and that line
//! is a valid CloudWatch embedded metric format (EMF) document whose `Outcome` is what happened.
//! No line ever holds the signing secret.

use std::time::{Duration, Instant};

use ebhook_handler::event::sha256_hex;
use ebhook_handler::providers::{github, slack};
use serde_json::Value;
use time::OffsetDateTime;

use crate::support::Bootstrap;
use crate::support::bus_fixture::{Fixture, fixture, github_ping};
use crate::support::function_url::{HttpRequest, status};
use crate::support::moto::unique;

const SECRET: &str = "metrics-signing-secret-7d1f";

/// The delivery lines in a bootstrap's output so far, parsed.
fn delivery_lines(output: &str) -> Vec<Value> {
    output
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["message"] == "delivery")
        .collect()
}

/// The delivery lines once there are `count` of them (the threads reading the pipes may lag
/// the answers), and a moment longer, so that a line too many would be seen.
fn lines_after(bootstrap: &Bootstrap, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while delivery_lines(&bootstrap.output()).len() < count && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    delivery_lines(&bootstrap.output())
}

/// What CloudWatch requires of an EMF document: an `_aws` object with an integer Timestamp,
/// and directives in the `ebhook` namespace whose dimensions are strings and whose metrics are
/// numbers at the top level.
fn assert_emf(line: &Value) {
    let aws = &line["_aws"];
    assert!(aws["Timestamp"].is_u64(), "Timestamp in {line}");
    let directives = aws["CloudWatchMetrics"].as_array().expect("directives");
    assert!(!directives.is_empty(), "{line}");
    for directive in directives {
        assert_eq!(directive["Namespace"], "ebhook", "{line}");
        let sets = directive["Dimensions"].as_array().expect("Dimensions");
        assert!(!sets.is_empty(), "{line}");
        for set in sets {
            for name in set.as_array().expect("a dimension set") {
                let name = name.as_str().expect("a dimension name");
                assert!(line[name].is_string(), "dimension {name} in {line}");
            }
        }
        let metrics = directive["Metrics"].as_array().expect("Metrics");
        assert!(!metrics.is_empty(), "{line}");
        for metric in metrics {
            let name = metric["Name"].as_str().expect("a metric name");
            assert!(metric["Unit"].is_string(), "unit of {name} in {line}");
            assert!(line[name].is_number(), "metric {name} in {line}");
        }
    }
}

/// Asserts that `f`'s handler wrote one delivery line per delivery, with these outcomes in
/// this order, each valid EMF, and never the secret; the lines.
fn assert_outcomes(f: &Fixture, expected: &[&str]) -> Vec<Value> {
    let lines = lines_after(&f.bootstrap, expected.len());
    let output = f.bootstrap.output();
    let outcomes: Vec<&str> = lines
        .iter()
        .map(|l| l["Outcome"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(outcomes, expected, "{output}");
    for line in &lines {
        assert_emf(line);
        let outcome = line["Outcome"].as_str().unwrap_or_default();
        let kind = if outcome.starts_with("rejected_") {
            "rejected"
        } else {
            outcome
        };
        assert_eq!(line["outcome"], kind, "{line}");
        assert_eq!(line["Deliveries"], 1, "{line}");
        assert_eq!(line["Provider"], line["provider"], "{line}");
    }
    assert!(
        !output.contains(SECRET),
        "the secret is in the output:\n{output}"
    );
    lines
}

/// A GitHub `push` with `body`, signed with `secret`.
fn push(body: &str, delivery: &str, secret: &str) -> HttpRequest {
    HttpRequest::post(
        &[
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", delivery),
            ("X-GitHub-Hook-ID", "42"),
        ],
        body.as_bytes().to_vec(),
    )
    .header(
        "X-Hub-Signature-256",
        &github::sign(secret.as_bytes(), body.as_bytes()),
    )
}

/// A JSON body of `size` bytes.
fn json_body(size: usize) -> String {
    let head = r#"{"ref":"refs/heads/main","filler":""#;
    let tail = r#""}"#;
    format!("{head}{}{tail}", "x".repeat(size - head.len() - tail.len()))
}

/// A Slack request with `body`, signed at `at`.
fn slack_request(body: &str, at: OffsetDateTime) -> HttpRequest {
    let ts = at.unix_timestamp().to_string();
    HttpRequest::post(
        &[
            ("Content-Type", "application/json"),
            (slack::TIMESTAMP_HEADER, &ts),
        ],
        body.as_bytes().to_vec(),
    )
    .header(
        slack::SIGNATURE_HEADER,
        &slack::sign(SECRET.as_bytes(), &ts, body.as_bytes()),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn every_github_outcome_writes_one_emf_line() {
    let conf = crate::support::Moto::shared().sdk_config().await;
    let table = crate::dedupe::table(&conf).await;
    let stack = unique("ebhook-metrics");
    let bucket = unique("ebhook-metrics-payloads");
    let f = fixture(
        "github",
        SECRET,
        &[
            ("EBHOOK_STACK_NAME", &stack),
            ("EBHOOK_PAYLOAD_BUCKET", &bucket),
            // Small limits, so that small bodies reach them.
            ("EBHOOK_MAX_ENTRY_BYTES", "4096"),
            ("EBHOOK_MAX_BODY_BYTES", "16384"),
            ("EBHOOK_DEDUPE_TABLE", &table),
        ],
    )
    .await;
    f.s3.create_bucket().bucket(&bucket).send().await.unwrap();

    let small = json_body(200);
    let big = json_body(6000);
    let sent = [
        (push(&small, "m-accepted", SECRET), 200),
        (push(&small, "m-accepted", SECRET), 200),
        (push(&big, "m-stored", SECRET), 200),
        (push(&small, "m-forged", "not-the-secret"), 401),
        (push("not json", "m-malformed", SECRET), 400),
        (push(&json_body(20_000), "m-too-large", SECRET), 413),
        (
            HttpRequest {
                method: "GET".into(),
                ..push(&small, "m-get", SECRET)
            },
            405,
        ),
    ];
    for (request, expected) in &sent {
        let response = f.send(request).await;
        assert_eq!(status(&response), *expected, "{response}");
    }
    let lines = assert_outcomes(
        &f,
        &[
            "accepted",
            "duplicate",
            "stored",
            "rejected_signature",
            "rejected_malformed",
            "rejected_too_large",
            "rejected_method",
        ],
    );
    let [
        accepted,
        duplicate,
        stored,
        forged,
        malformed,
        too_large,
        get,
    ] = &lines[..]
    else {
        unreachable!("seven lines were asserted");
    };
    for line in &lines {
        assert_eq!(line["Stack"], stack.as_str(), "{line}");
        assert_eq!(line["provider"], "github", "{line}");
    }

    assert_eq!(accepted["status"], 200);
    assert_eq!(accepted["level"], "INFO");
    assert_eq!(accepted["event"], "push");
    assert_eq!(accepted["delivery_id"], "m-accepted");
    assert_eq!(accepted["body_sha256"], sha256_hex(small.as_bytes()));
    assert_eq!(accepted["body_bytes"], small.len());
    assert_eq!(accepted["entries"], 1);
    assert_eq!(accepted["secret"], "current");
    assert_eq!(accepted["events_put"], 1);
    assert_eq!(accepted["EventsPut"], 1);
    assert_eq!(accepted["attempts"], 1);
    assert_eq!(accepted["PutEventsFailed"], 0);
    assert!(
        accepted["put_latency_ms"].as_f64().unwrap() <= accepted["latency_ms"].as_f64().unwrap()
    );
    // A timestamp with milliseconds, of the instant `_aws.Timestamp` gives.
    let timestamp = accepted["timestamp"].as_str().unwrap();
    let parsed =
        OffsetDateTime::parse(timestamp, &time::format_description::well_known::Rfc3339).unwrap();
    assert_eq!(
        timestamp.len(),
        "2026-12-03T12:00:00.000Z".len(),
        "{timestamp}"
    );
    assert_eq!(
        i128::from(accepted["_aws"]["Timestamp"].as_u64().unwrap()),
        parsed.unix_timestamp_nanos() / 1_000_000
    );

    // Nothing put for a duplicate.
    assert!(duplicate.get("events_put").is_none(), "{duplicate}");
    assert!(duplicate.get("PutEventsAttempts").is_none(), "{duplicate}");

    assert_eq!(stored["events_put"], 1, "{stored}");
    assert_eq!(stored["body_bytes"], big.len(), "{stored}");
    assert_eq!(stored["body_sha256"], sha256_hex(big.as_bytes()));

    assert_eq!(forged["status"], 401);
    assert_eq!(forged["level"], "WARN");
    assert!(forged["reason"].is_string(), "{forged}");
    // Never verified: no digest, no secret slot, no put.
    for field in ["body_sha256", "secret", "events_put", "EventsPut"] {
        assert!(forged.get(field).is_none(), "{field} in {forged}");
    }
    assert_eq!(malformed["reason"], "malformed_body");
    assert_eq!(too_large["reason"], "body_too_large");
    assert_eq!(too_large["status"], 413);
    assert_eq!(get["reason"], "method_not_allowed");
    assert_eq!(get["status"], 405);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slack_handshake_is_answered_and_a_stale_request_refused() {
    let f = fixture("slack", SECRET, &[]).await;
    let now = OffsetDateTime::now_utc();
    let handshake = r#"{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let response = f.send(&slack_request(handshake, now)).await;
    assert_eq!(status(&response), 200, "{response}");
    let event = r#"{"type":"event_callback","event_id":"Ev1","event":{"type":"message"}}"#;
    let stale = f
        .send(&slack_request(event, now - time::Duration::hours(1)))
        .await;
    assert_eq!(status(&stale), 401, "{stale}");
    let lines = assert_outcomes(&f, &["answered", "rejected_stale"]);
    // Not set: the function's name stands in for the stack's.
    assert_eq!(lines[0]["Stack"], crate::support::process::FUNCTION_NAME);
    assert!(lines[0].get("events_put").is_none(), "{}", lines[0]);
    assert_eq!(lines[1]["reason"], "stale_timestamp");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_the_bus_refuses_is_dead_lettered_or_failed() {
    let queue = unique("ebhook-metrics-dead-letters");
    // moto finds a queue by the name at the end of its URL.
    let queue_url = format!("https://sqs.us-east-1.amazonaws.com/123456789012/{queue}");
    let refused = [
        ("EBHOOK_EVENT_BUS", "no-such-bus"),
        ("EBHOOK_FORWARD_BUDGET_MS", "300"),
    ];
    let mut with_queue = refused.to_vec();
    with_queue.push(("EBHOOK_DEAD_LETTER_QUEUE_URL", &queue_url));
    let kept = fixture("github", SECRET, &with_queue).await;
    kept.sqs
        .create_queue()
        .queue_name(&queue)
        .send()
        .await
        .unwrap();
    let response = kept.send(&github_ping(SECRET)).await;
    assert_eq!(status(&response), 202, "{response}");
    let line = &assert_outcomes(&kept, &["dead_lettered"])[0];
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["status"], 202);
    assert_eq!(line["PutEventsFailed"], 1, "{line}");
    assert_eq!(line["events_put"], 0, "{line}");
    assert!(line["attempts"].as_u64().unwrap() >= 1, "{line}");

    let lost = fixture("github", SECRET, &refused).await;
    let response = lost.send(&github_ping(SECRET)).await;
    assert_eq!(status(&response), 503, "{response}");
    let line = &assert_outcomes(&lost, &["failed"])[0];
    assert_eq!(line["level"], "ERROR");
    assert_eq!(line["status"], 503);
    assert_eq!(line["PutEventsFailed"], 1, "{line}");
    assert!(line["reason"].is_string(), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_secret_refresh_is_counted_and_the_cached_secret_used() {
    // Refreshed on every request, so the second one re-reads the secret.
    let f = fixture(
        "github",
        SECRET,
        &[
            ("EBHOOK_SECRET_REFRESH_SECONDS", "0"),
            ("EBHOOK_STACK_NAME", "refresh-stack"),
        ],
    )
    .await;
    let response = f.send(&github_ping(SECRET)).await;
    assert_eq!(status(&response), 200, "{response}");
    f.secrets
        .delete_secret()
        .secret_id(&f.secret_arn)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    let response = f.send(&github_ping(SECRET)).await;
    assert_eq!(status(&response), 200, "{response}");
    assert_outcomes(&f, &["accepted", "accepted"]);
    let output = f.bootstrap.output();
    let refreshes: Vec<Value> = output
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line.get("SecretRefreshFailures").is_some())
        .collect();
    assert_eq!(refreshes.len(), 1, "{output}");
    let line = &refreshes[0];
    assert_emf(line);
    assert_eq!(line["SecretRefreshFailures"], 1);
    assert_eq!(line["Stack"], "refresh-stack");
    assert_eq!(line["Provider"], "github");
}
