//! Nothing verified is lost, through the real `bootstrap`: a body too large for one PutEvents
//! entry (1 MiB since 2026) is stored in the payload bucket with a pointer event on the bus, an
//! entry of exactly the limit goes on the bus as it is, and a delivery the bus refuses is kept in
//! the dead-letter queue (messages of up to 1 MiB, larger records in the bucket) and answered 202.

use std::time::Duration;

use aws_sdk_eventbridge::types::{InputTransformer, Target};

use ebhook_handler::dead_letter::{Body, Message, Record};
use ebhook_handler::providers::github;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::bus_fixture::{
    Fixture, drain, fixture, github_ping, response_body, take_batch,
};
use crate::support::function_url::{HttpRequest, REQUEST_ID, status};
use crate::support::moto::unique;

const SECRET: &str = "capture-secret";

/// A payload bucket's name of its own (the emulator is shared).
fn payload_bucket() -> String {
    unique("ebhook-payloads")
}

/// A GitHub handler with a payload bucket of its own; the bucket's name.
async fn with_payload_bucket() -> (Fixture, String) {
    let bucket = payload_bucket();
    let f = fixture("github", SECRET, &[("EBHOOK_PAYLOAD_BUCKET", &bucket)]).await;
    f.s3.create_bucket().bucket(&bucket).send().await.unwrap();
    (f, bucket)
}

/// A dead-letter queue's name of its own, and its URL: moto finds a queue by the name at the
/// end of its URL, whatever the host.
fn dead_letter_queue() -> (String, String) {
    let name = unique("ebhook-dead-letters");
    let url = format!("https://sqs.us-east-1.amazonaws.com/123456789012/{name}");
    (name, url)
}

/// The entry limit, as EventBridge counts it, since 29 January 2026.
const ENTRY_LIMIT: usize = 1024 * 1024;

/// A signed GitHub `push` with a JSON body of exactly `size` bytes (at least 60).
fn push(size: usize, delivery: &str) -> HttpRequest {
    let head = r#"{"ref":"refs/heads/main","commits":[{"message":""#;
    let tail = r#""}]}"#;
    let filler = "x".repeat(size - head.len() - tail.len());
    let body = format!("{head}{filler}{tail}");
    assert_eq!(body.len(), size);
    let signature = github::sign(SECRET.as_bytes(), body.as_bytes());
    HttpRequest::post(
        &[
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", delivery),
            ("X-Hub-Signature-256", &signature),
        ],
        body,
    )
}

/// The size EventBridge counts for the entry of a [`push`] of `body_len` bytes through the
/// fixture, worked out by hand: Source + DetailType + Detail, where the Detail is the body with
/// `,"ebhook":<metadata>` before its closing brace. The receipt time always has 24 characters,
/// and the body's SHA-256 64.
fn push_entry_size(body_len: usize, delivery: &str) -> usize {
    let metadata = format!(
        r#"{{"provider":"github","event":"push","deliveryId":"{delivery}","receivedAt":"2026-11-22T12:00:00.000Z","requestId":"{REQUEST_ID}","method":"POST","contentType":"application/json","bodySha256":"{digest}","signed":["body"]}}"#,
        // Only its length counts here: 64 hex digits.
        digest = "0".repeat(64)
    );
    "ebhook.github".len() + "push".len() + body_len + r#","ebhook":"#.len() + metadata.len()
}

/// A [`push`] whose entry is `over` bytes larger than the limit (0: exactly the limit).
fn push_at_limit(over: usize, delivery: &str) -> HttpRequest {
    let fixed = push_entry_size(0, delivery);
    push(ENTRY_LIMIT - fixed + over, delivery)
}

/// A rule that sends a summary of each event (its DetailType, metadata and `ref`) to a queue of
/// its own; the queue's URL. An event of a 1 MiB entry is larger than any SQS message, as on
/// AWS, so the fixture's own rule cannot deliver it; an input transformer makes it small.
async fn watch_summaries(f: &Fixture) -> String {
    let url = f
        .sqs
        .create_queue()
        .queue_name("summaries")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    f.events
        .put_rule()
        .name("summaries")
        .event_bus_name(&f.bus)
        .event_pattern(r#"{"source":["ebhook.github"]}"#)
        .send()
        .await
        .unwrap();
    let transformer = InputTransformer::builder()
        .input_paths_map("type", "$.detail-type")
        .input_paths_map("meta", "$.detail.ebhook")
        .input_paths_map("ref", "$.detail.ref")
        .input_template(r#"{"detail-type": "<type>", "ebhook": <meta>, "ref": "<ref>"}"#)
        .build()
        .unwrap();
    f.events
        .put_targets()
        .rule("summaries")
        .event_bus_name(&f.bus)
        .targets(
            Target::builder()
                .id("summaries")
                .arn("arn:aws:sqs:us-east-1:123456789012:summaries")
                .input_transformer(transformer)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    url
}

/// The first summary [`watch_summaries`] delivers within ten seconds.
async fn summary(f: &Fixture, url: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if let Some(body) = take_batch(&f.sqs, url).await.first() {
            return serde_json::from_str(body).unwrap();
        }
    }
    panic!("no event reached the bus\n{}", f.bootstrap.output());
}

async fn object(f: &Fixture, bucket: &str, key: &str) -> Vec<u8> {
    let out =
        f.s3.get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .unwrap();
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

/// Every message in the dead-letter queue, removed from it.
async fn drain_dead_letters(f: &Fixture, queue: &str) -> Vec<Message> {
    let url = f
        .sqs
        .get_queue_url()
        .queue_name(queue)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    drain(&f.sqs, &url)
        .await
        .iter()
        .map(|body| Message::parse(body).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entry_of_exactly_the_limit_goes_on_the_bus_as_it_is() {
    let (f, bucket) = with_payload_bucket().await;
    let summaries = watch_summaries(&f).await;
    let request = push_at_limit(0, "at-limit");
    let response = f.send(&request).await;
    assert_eq!(
        status(&response),
        200,
        "{response}\n{}",
        f.bootstrap.output()
    );
    let event = summary(&f, &summaries).await;
    assert_eq!(event["detail-type"], "push", "not a pointer event: {event}");
    assert_eq!(
        event["ref"], "refs/heads/main",
        "the payload is in the event"
    );
    assert_eq!(event["ebhook"]["deliveryId"], "at-limit");
    assert!(event["ebhook"].get("storedPayload").is_none(), "{event}");
    let stored = f.s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
    assert!(
        stored.contents().is_empty(),
        "nothing is stored: {stored:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_body_is_stored_and_a_pointer_event_put() {
    let (f, bucket) = with_payload_bucket().await;
    // One byte over the limit.
    let request = push_at_limit(1, "big-1");

    let response = f.send(&request).await;
    assert_eq!(
        status(&response),
        200,
        "{response}\n{}",
        f.bootstrap.output()
    );
    let events = f.arrivals(1, Duration::from_secs(10)).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert!(
        event["detail"].get("commits").is_none(),
        "only the metadata: {event}"
    );
    assert_eq!(event["detail-type"], "oversized:push");
    let meta = &event["detail"]["ebhook"];
    assert_eq!(meta["deliveryId"], "big-1");
    assert_eq!(meta["event"], "push");
    let stored = &meta["storedPayload"];
    assert_eq!(stored["bucket"], bucket.as_str());
    assert_eq!(stored["size"], request.body.len());
    assert_eq!(stored["contentType"], "application/json");
    assert_eq!(
        stored["sha256"],
        hex::encode(Sha256::digest(&request.body)),
        "the hash of the body as signed"
    );
    let key = stored["key"].as_str().unwrap();
    assert!(key.starts_with("oversized/github/"), "{key}");
    assert_eq!(
        object(&f, &bucket, key).await,
        request.body,
        "stored byte for byte"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_bucket_an_oversized_body_is_refused_and_nothing_is_put() {
    let f = fixture("github", SECRET, &[]).await;
    let response = f.send(&push_at_limit(1, "big-2")).await;
    assert_eq!(status(&response), 413, "{response}");
    f.assert_nothing_arrived().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_the_bus_refuses_is_kept_in_the_dead_letter_queue() {
    let (queue, queue_url) = dead_letter_queue();
    let bucket = payload_bucket();
    let f = fixture(
        "github",
        SECRET,
        &[
            ("EBHOOK_EVENT_BUS", "no-such-bus"),
            ("EBHOOK_DEAD_LETTER_QUEUE_URL", &queue_url),
            ("EBHOOK_PAYLOAD_BUCKET", &bucket),
        ],
    )
    .await;
    f.sqs
        .create_queue()
        .queue_name(&queue)
        .send()
        .await
        .unwrap();
    f.s3.create_bucket().bucket(&bucket).send().await.unwrap();

    // A small delivery goes into the message itself.
    let ping = github_ping(SECRET);
    let response = f.send(&ping).await;
    assert_eq!(
        status(&response),
        202,
        "{response}\n{}",
        f.bootstrap.output()
    );
    assert_eq!(response_body(&response)["status"], "queued");
    // One whose record is over the 256 KiB SQS allowed before 2026 but under its 1 MiB fits
    // in the message too (its Detail and its body: about 800 KB).
    let medium = push(400_000, "medium-3");
    let response = f.send(&medium).await;
    assert_eq!(
        status(&response),
        202,
        "{response}\n{}",
        f.bootstrap.output()
    );
    // One whose record is over 1 MiB is spilled to the bucket.
    let big = push(600_000, "big-3");
    let response = f.send(&big).await;
    assert_eq!(
        status(&response),
        202,
        "{response}\n{}",
        f.bootstrap.output()
    );

    let messages = drain_dead_letters(&f, &queue).await;
    assert_eq!(messages.len(), 3, "{messages:?}");
    let mut records: Vec<Record> = Vec::new();
    let mut spilled = 0;
    for message in messages {
        records.push(match message {
            Message::Record(r) => r,
            Message::Spilled { bucket, key, size } => {
                spilled += 1;
                assert!(key.starts_with("dead-letter/github/"), "{key}");
                let bytes = object(&f, &bucket, &key).await;
                assert_eq!(bytes.len(), size);
                Record::parse(std::str::from_utf8(&bytes).unwrap()).unwrap()
            }
        });
    }
    assert_eq!(spilled, 1, "only the large record is spilled to S3");
    let by_id = |id: &str| {
        records
            .iter()
            .find(|r| r.delivery_id.as_deref() == Some(id))
            .unwrap_or_else(|| panic!("no record for {id}"))
    };
    let ping_record = by_id("72d3162e-cc78-11e3-81ab-4c9367dc0958");
    let medium_record = by_id("medium-3");
    let big_record = by_id("big-3");
    for (record, request) in [
        (ping_record, &ping),
        (medium_record, &medium),
        (big_record, &big),
    ] {
        assert_eq!(record.provider, "github");
        assert_eq!(record.event_bus, "no-such-bus");
        assert!(
            record.failure.contains("ResourceNotFound"),
            "{}",
            record.failure
        );
        assert_eq!(
            record.body,
            Body::Text(String::from_utf8(request.body.clone()).unwrap()),
            "the body exactly as signed"
        );
        let entries = record.entries();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].source, "ebhook.github");
        let detail: Value = serde_json::from_str(&entries[0].detail).unwrap();
        assert_eq!(
            detail["ebhook"]["deliveryId"],
            record.delivery_id.as_deref().unwrap()
        );
    }
    f.assert_nothing_arrived().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn when_the_dead_letter_queue_fails_too_the_answer_is_a_retryable_503() {
    // The queue is configured but does not exist: SendMessage fails after PutEvents did.
    let f = fixture(
        "github",
        SECRET,
        &[
            ("EBHOOK_EVENT_BUS", "no-such-bus"),
            ("EBHOOK_DEAD_LETTER_QUEUE_URL", &dead_letter_queue().1),
        ],
    )
    .await;
    let response = f.send(&github_ping(SECRET)).await;
    assert_eq!(status(&response), 503, "{response}");
    assert_eq!(response["headers"]["retry-after"], "5");
}

/// The handler names the account its payload bucket must belong to on every write, so a bucket
/// of that name in another account (the stack's own gone, the name taken) gets nothing: S3
/// refuses the write, and the provider gets 503 to retry later.
#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_body_is_never_written_to_a_bucket_of_another_account() {
    let bucket = payload_bucket();
    let f = fixture(
        "github",
        SECRET,
        &[
            ("EBHOOK_PAYLOAD_BUCKET", &bucket),
            // moto's account is 123456789012: this bucket is not the expected owner's.
            ("EBHOOK_PAYLOAD_BUCKET_OWNER", "111111111111"),
        ],
    )
    .await;
    f.s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let response = f.send(&push_at_limit(1, "elsewhere-1")).await;
    assert_eq!(
        status(&response),
        503,
        "{response}\n{}",
        f.bootstrap.output()
    );
    let stored = f.s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
    assert!(stored.contents().is_empty(), "written: {stored:?}");
    assert!(
        f.bootstrap.output().contains("AccessDenied"),
        "{}",
        f.bootstrap.output()
    );
}
