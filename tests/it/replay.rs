//! `ebhook replay` and the dead-letter parts of `status` and `teardown`, against a stack
//! deployed to moto. The stack's own handler configuration is run as Lambda runs it, pointed at
//! a bus that does not exist, so that what it receives ends up in the dead-letter queue.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::bus_fixture::{drain, github_ping, watch};
use crate::support::cli::{Run, ebhook};
use crate::support::function_url::{HttpRequest, status};
use crate::support::moto::s3_client;
use crate::support::{Bootstrap, Moto, RuntimeApi};

const SECRET: &str = "replay-secret";
const STACK: &str = "it-replay";

fn status_json(moto: &Moto) -> Value {
    let run = ebhook(
        moto,
        &["status", "--stack-name", STACK, "--output", "json"],
        &[],
        None,
    );
    run.assert_ok();
    run.json()
}

fn replay(moto: &Moto) -> Run {
    replay_stack(moto, STACK)
}

fn replay_stack(moto: &Moto, stack: &str) -> Run {
    ebhook(
        moto,
        &[
            "replay",
            "--stack-name",
            stack,
            "--visibility",
            "1s",
            "--output",
            "json",
        ],
        &[],
        None,
    )
}

/// A signed GitHub push whose dead-letter record (its entry and its body) is over the 1 MiB
/// SQS limit.
fn big_push() -> HttpRequest {
    let body = format!(
        r#"{{"ref":"refs/heads/main","message":"{}"}}"#,
        "y".repeat(600_000)
    );
    let signature = ebhook_handler::providers::github::sign(SECRET.as_bytes(), body.as_bytes());
    HttpRequest::post(
        &[
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", "big-push"),
            ("X-Hub-Signature-256", &signature),
        ],
        body,
    )
}

async fn received(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<Value> {
    drain(sqs, url)
        .await
        .iter()
        .map(|body| serde_json::from_str(body).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn dead_letters_wait_until_replayed_and_nothing_is_lost_on_the_way() {
    let moto = Moto::start();
    // The test's own build of the handler: what is deployed does not matter here, only the
    // stack around it, and this spares a release build.
    let prebuilt = Bootstrap::binary();
    let init = ebhook(
        &moto,
        &[
            "init",
            "--provider",
            "github",
            "--stack-name",
            STACK,
            "--bootstrap",
            prebuilt.to_str().unwrap(),
            "--secret-env",
            "IT_SECRET",
            "--yes",
            "--output",
            "json",
        ],
        &[("IT_SECRET", SECRET)],
        None,
    );
    init.assert_ok();
    let before = status_json(&moto);
    assert_eq!(
        before["deadLetters"],
        json!({"waiting": 0, "inFlight": 0}),
        "{before}"
    );
    let bus = before["eventBus"].as_str().unwrap().to_owned();
    let bucket = before["payloadBucket"].as_str().unwrap().to_owned();
    let queue_url = before["deadLetterQueueUrl"].as_str().unwrap().to_owned();

    // The deployed handler's own configuration, with its bus gone missing.
    let conf = moto.sdk_config().await;
    let function = before["function"].as_str().unwrap();
    let vars = aws_sdk_lambda::Client::new(&conf)
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .unwrap()
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap();
    assert_eq!(vars["EBHOOK_DEAD_LETTER_QUEUE_URL"], queue_url);
    assert_eq!(vars["EBHOOK_PAYLOAD_BUCKET"], bucket);
    let mut env = moto.env();
    env.extend(vars.into_iter().filter(|(k, _)| k != "EBHOOK_EVENT_BUS"));
    env.push(("EBHOOK_EVENT_BUS".into(), "gone".into()));
    let runtime = RuntimeApi::start().await;
    let bootstrap = Bootstrap::spawn(&runtime.address(), &env);
    for request in [github_ping(SECRET), big_push()] {
        let response = runtime.invoke(request.to_event()).await.unwrap();
        assert_eq!(status(&response), 202, "{response}\n{}", bootstrap.output());
    }
    drop(bootstrap);

    // A message that is not ebhook's: reported, never deleted.
    let sqs = aws_sdk_sqs::Client::new(&conf);
    sqs.send_message()
        .queue_url(&queue_url)
        .message_body("not a record")
        .send()
        .await
        .unwrap();
    let waiting = status_json(&moto);
    assert_eq!(waiting["deadLetters"]["waiting"], 3, "{waiting}");
    let text = ebhook(&moto, &["status", "--stack-name", STACK], &[], None);
    assert!(text.stdout.contains("3 waiting"), "{}", text.stdout);

    // While the bus refuses events, replay fails, says so, and keeps everything.
    let events = aws_sdk_eventbridge::Client::new(&conf);
    events.delete_event_bus().name(&bus).send().await.unwrap();
    let refused = replay(&moto);
    assert_eq!(refused.status, Some(3), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("run `ebhook replay` again"),
        "{}",
        refused.stderr
    );
    assert_eq!(refused.json()["failed"], 2, "{}", refused.stdout);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(status_json(&moto)["deadLetters"]["waiting"], 3);

    // Once the bus is back, replay puts both deliveries on it and deletes them.
    events.create_event_bus().name(&bus).send().await.unwrap();
    let arrivals = watch(&events, &sqs, &bus, "ebhook.github").await;
    let done = replay(&moto);
    done.assert_ok();
    let tally = done.json();
    assert_eq!(tally["replayed"], 2, "{tally}");
    assert_eq!(tally["events"], 2, "{tally}");
    assert_eq!(tally["unreadable"], 1, "{tally}");
    let mut ids: Vec<String> = received(&sqs, &arrivals)
        .await
        .iter()
        .map(|e| {
            e["detail"]["ebhook"]["deliveryId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    ids.sort();
    assert_eq!(ids, ["72d3162e-cc78-11e3-81ab-4c9367dc0958", "big-push"]);
    // The spilled record's copy in the bucket went with its message.
    let s3 = s3_client(&conf);
    let left = s3
        .list_objects_v2()
        .bucket(&bucket)
        .prefix("dead-letter/")
        .send()
        .await
        .unwrap();
    assert!(left.contents().is_empty(), "{left:?}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        status_json(&moto)["deadLetters"],
        json!({"waiting": 1, "inFlight": 0}),
        "only the unreadable message is left"
    );

    // Teardown warns about what is still waiting, empties the bucket and leaves nothing.
    s3.put_object()
        .bucket(&bucket)
        .key("oversized/github/2026-11-22/x")
        .body(Vec::from(&b"{}"[..]).into())
        .send()
        .await
        .unwrap();
    let down = ebhook(
        &moto,
        &["teardown", "--stack-name", STACK, "--yes"],
        &[],
        None,
    );
    down.assert_ok();
    assert!(
        down.stderr.contains("1 deliveries are waiting"),
        "{}",
        down.stderr
    );
    assert!(
        s3.head_bucket().bucket(&bucket).send().await.is_err(),
        "bucket left"
    );
    assert!(
        sqs.get_queue_attributes()
            .queue_url(&queue_url)
            .send()
            .await
            .is_err(),
        "queue left"
    );
}

/// A dead-letter record for a GitHub ping on `bus`, as the handler writes it, and its JSON.
fn record_json(bus: &str, delivery: &str) -> String {
    use ebhook_handler::dead_letter::{Body, Record, RecordEntry};
    use ebhook_handler::event::Entry;
    use sha2::Digest;
    let entry = Entry {
        source: "ebhook.github".into(),
        detail_type: "ping".into(),
        detail: format!(r#"{{"zen":"hi","ebhook":{{"deliveryId":"{delivery}"}}}}"#),
        metadata: String::new(),
    };
    Record {
        version: ebhook_handler::dead_letter::VERSION,
        provider: "github".into(),
        event_bus: bus.into(),
        received_at: "2026-12-03T08:00:00.000Z".into(),
        delivery_id: Some(delivery.into()),
        failure: "ThrottlingException".into(),
        entries: vec![RecordEntry::from_entry(&entry, 0).unwrap()],
        content_type: Some("application/json".into()),
        body_sha256: Some(hex::encode(sha2::Sha256::digest(br#"{"zen":"hi"}"#))),
        signed: vec!["body".into()],
        signed_at: None,
        body: Body::Text(r#"{"zen":"hi"}"#.into()),
    }
    .to_json()
}

/// The key the handler stores a record under: named by the record's SHA-256.
fn spill_key(record: &str) -> String {
    use sha2::{Digest, Sha256};
    ebhook_handler::dead_letter::spill_key(
        "github",
        "2026-12-03T08:00:00.000Z",
        &hex::encode(Sha256::digest(record.as_bytes())),
    )
}

fn spilled(bucket: &str, key: &str, size: usize) -> String {
    ebhook_handler::dead_letter::Message::Spilled {
        bucket: bucket.into(),
        key: key.into(),
        size,
    }
    .to_json()
}

const REFUSE_STACK: &str = "it-replay-refuse";

/// Only what the handler wrote goes on the bus: a message pointing to another bucket, or to an
/// object whose content is not what its key names, is refused and left in the queue, and the
/// run says so in its exit code.
#[tokio::test(flavor = "multi_thread")]
async fn replay_refuses_records_from_elsewhere_or_tampered_with() {
    let moto = Moto::start();
    let init = ebhook(
        &moto,
        &[
            "init",
            "--provider",
            "github",
            "--stack-name",
            REFUSE_STACK,
            "--bootstrap",
            Bootstrap::binary().to_str().unwrap(),
            "--secret-env",
            "IT_SECRET",
            "--yes",
            "--output",
            "json",
        ],
        &[("IT_SECRET", SECRET)],
        None,
    );
    init.assert_ok();
    let run = ebhook(
        &moto,
        &["status", "--stack-name", REFUSE_STACK, "--output", "json"],
        &[],
        None,
    );
    run.assert_ok();
    let stack = run.json();
    let bus = stack["eventBus"].as_str().unwrap().to_owned();
    let bucket = stack["payloadBucket"].as_str().unwrap().to_owned();
    let queue_url = stack["deadLetterQueueUrl"].as_str().unwrap().to_owned();
    let conf = moto.sdk_config().await;
    let s3 = s3_client(&conf);
    let sqs = aws_sdk_sqs::Client::new(&conf);
    let put = |bucket: String, key: String, body: String| {
        let s3 = s3.clone();
        async move {
            s3.put_object()
                .bucket(bucket)
                .key(key)
                .body(body.into_bytes().into())
                .send()
                .await
                .unwrap();
        }
    };

    // A well-formed record in a bucket that is not the stack's.
    let elsewhere = "ebhook-not-the-payload-bucket";
    s3.create_bucket().bucket(elsewhere).send().await.unwrap();
    let foreign = record_json(&bus, "from-elsewhere");
    let foreign_key = spill_key(&foreign);
    put(elsewhere.into(), foreign_key.clone(), foreign.clone()).await;
    // A record in the stack's bucket whose content was changed after it was written.
    let original = record_json(&bus, "tampered");
    let tampered_key = spill_key(&original);
    put(
        bucket.clone(),
        tampered_key.clone(),
        original.replace("\"hi\"", "\"evil\""),
    )
    .await;
    // And one the handler could have written, which goes on the bus.
    let good = record_json(&bus, "good");
    let good_key = spill_key(&good);
    put(bucket.clone(), good_key.clone(), good.clone()).await;
    for body in [
        spilled(elsewhere, &foreign_key, foreign.len()),
        spilled(&bucket, &tampered_key, original.len()),
        spilled(&bucket, &good_key, good.len()),
    ] {
        sqs.send_message()
            .queue_url(&queue_url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }

    let events = aws_sdk_eventbridge::Client::new(&conf);
    let arrivals = watch(&events, &sqs, &bus, "ebhook.github").await;
    let refused = replay_stack(&moto, REFUSE_STACK);
    assert_eq!(refused.status, Some(3), "{}", refused.stderr);
    let tally = refused.json();
    assert_eq!(tally["refused"], 2, "{tally}");
    assert_eq!(tally["replayed"], 1, "{tally}");
    assert!(
        refused.stderr.contains("not to the stack's payload bucket")
            && refused.stderr.contains("its SHA-256 differs")
            && refused.stderr.contains("stay in the queue"),
        "{}",
        refused.stderr
    );
    let ids: Vec<String> = received(&sqs, &arrivals)
        .await
        .iter()
        .map(|e| {
            e["detail"]["ebhook"]["deliveryId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids, ["good"]);
    // The refused messages and their objects are still there for a person to look at.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let run = ebhook(
        &moto,
        &["status", "--stack-name", REFUSE_STACK, "--output", "json"],
        &[],
        None,
    );
    assert_eq!(run.json()["deadLetters"]["waiting"], 2, "{}", run.stdout);
    for (b, k) in [(elsewhere, &foreign_key), (bucket.as_str(), &tampered_key)] {
        s3.head_object().bucket(b).key(k).send().await.unwrap();
    }
}
