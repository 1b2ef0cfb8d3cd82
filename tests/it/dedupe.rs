//! Exactly once onto the bus (`init --dedupe`): the real `bootstrap` with a DynamoDB dedupe
//! table in moto, counting what reaches the bus (through the SQS target of a rule on it) when a
//! provider sends a delivery twice: one after the other, at the same time, after a first attempt
//! that EventBridge refused, and with the same id but another body.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use ebhook_handler::providers::github;
use serde_json::Value;

use crate::support::Bootstrap;
use crate::support::bus_fixture::{Fixture, fixture, response_body, watch};
use crate::support::function_url::{HttpRequest, status};
use crate::support::moto::unique;

const SECRET: &str = "dedupe-secret";
const ID: &str = "6f1c3b7e-0d2a-11f1-8a6b-1d2c3b4a5f60";

/// A table as the stack makes it (key `pk`, on demand), in the shared moto; its name.
pub(crate) async fn table(conf: &aws_config::SdkConfig) -> String {
    let name = unique("ebhook-dedupe");
    aws_sdk_dynamodb::Client::new(conf)
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    name
}

/// The GitHub handler with dedupe on, and its table; `extra_env` adds to its environment.
async fn dedupe_fixture(extra_env: &[(&str, &str)]) -> (Fixture, String) {
    let conf = crate::support::Moto::shared().sdk_config().await;
    let table = table(&conf).await;
    let mut env = vec![
        ("EBHOOK_DEDUPE_TABLE", table.as_str()),
        ("EBHOOK_DEDUPE_WINDOW_SECONDS", "3600"),
    ];
    env.extend_from_slice(extra_env);
    let secret = format!(r#"{{"current":"{SECRET}"}}"#);
    (fixture("github", &secret, &env).await, table)
}

/// A GitHub `push` delivery with the id [`ID`], signed.
fn push(body: &str) -> HttpRequest {
    HttpRequest::post(
        &[
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", ID),
            ("X-GitHub-Hook-ID", "42"),
        ],
        body.as_bytes().to_vec(),
    )
    .header(
        "X-Hub-Signature-256",
        &github::sign(SECRET.as_bytes(), body.as_bytes()),
    )
}

const BODY: &str = r#"{"ref":"refs/heads/main","after":"a1b2c3"}"#;

/// The answer's status and the `status` word of its JSON body.
fn answer(response: &Value) -> (u64, String) {
    let word = response_body(response)["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (status(response), word)
}

/// Every event on the fixture's bus, after the handler has answered (moto delivers to the
/// rule's queue inside PutEvents, so nothing is still on its way).
async fn on_the_bus(f: &Fixture) -> Vec<Value> {
    f.arrived_so_far().await
}

#[tokio::test]
async fn a_delivery_sent_twice_is_put_once() {
    let (f, _) = dedupe_fixture(&[]).await;
    let first = f.send(&push(BODY)).await;
    assert_eq!(answer(&first), (200, "accepted".into()), "{first}");
    let second = f.send(&push(BODY)).await;
    // The provider's success answer, so it stops sending.
    assert_eq!(answer(&second), (200, "duplicate".into()), "{second}");
    let events = on_the_bus(&f).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let meta = &events[0]["detail"]["ebhook"];
    assert_eq!(meta["deliveryId"], ID);
    assert_eq!(
        meta["bodySha256"],
        ebhook_handler::event::sha256_hex(BODY.as_bytes())
    );
    assert_eq!(meta["signed"], serde_json::json!(["body"]));
    let log = f
        .bootstrap
        .output_with("\"duplicate\"", Duration::from_secs(5));
    assert!(
        log.lines()
            .any(|l| l.contains("\"outcome\":\"duplicate\"") && l.contains(ID)),
        "no duplicate log line:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_copies_at_once_put_at_most_one_event() {
    let (f, table) = dedupe_fixture(&[]).await;
    // A second instance of the function, as Lambda runs one per concurrent request.
    let mut env = f.moto.env();
    for (k, v) in [
        ("EBHOOK_PROVIDER", "github"),
        ("EBHOOK_EVENT_BUS", f.bus.as_str()),
        ("EBHOOK_SECRET_ARN", f.secret_arn.as_str()),
        ("EBHOOK_DEDUPE_TABLE", table.as_str()),
        ("EBHOOK_DEDUPE_WINDOW_SECONDS", "3600"),
    ] {
        env.push((k.to_owned(), v.to_owned()));
    }
    let _other = Bootstrap::spawn(&f.runtime.address(), &env);
    let request = push(BODY);
    let (a, b) = tokio::join!(f.send(&request), f.send(&request));
    let mut answers = [answer(&a), answer(&b)];
    answers.sort();
    assert_eq!(answers[0], (200, "accepted".into()), "{a}\n{b}");
    // The other copy is either answered as a duplicate or told to come back (503).
    assert!(
        answers[1] == (200, "duplicate".into()) || answers[1].0 == 503,
        "{a}\n{b}"
    );
    // A retry of the copy told to come back is a duplicate once the first is done.
    let again = f.send(&request).await;
    assert_eq!(answer(&again), (200, "duplicate".into()), "{again}");
    let events = on_the_bus(&f).await;
    assert_eq!(events.len(), 1, "{events:?}");
}

#[tokio::test]
async fn a_copy_whose_first_attempt_failed_is_not_suppressed() {
    // The handler forwards to a bus that does not exist yet, with no dead-letter queue: the
    // first attempt gets 503, as when EventBridge fails.
    let late = unique("ebhook-it-late");
    let (f, _) = dedupe_fixture(&[
        ("EBHOOK_EVENT_BUS", late.as_str()),
        ("EBHOOK_FORWARD_BUDGET_MS", "300"),
    ])
    .await;
    let first = f.send(&push(BODY)).await;
    assert_eq!(status(&first), 503, "{first}");
    f.events
        .create_event_bus()
        .name(&late)
        .send()
        .await
        .unwrap();
    let queue = watch(&f.events, &f.sqs, &late, "ebhook.github").await;
    let retry = f.send(&push(BODY)).await;
    assert_eq!(answer(&retry), (200, "accepted".into()), "{retry}");
    let third = f.send(&push(BODY)).await;
    assert_eq!(answer(&third), (200, "duplicate".into()), "{third}");
    let events = crate::support::bus_fixture::drain(&f.sqs, &queue).await;
    assert_eq!(events.len(), 1, "{events:?}");
}

#[tokio::test]
async fn the_same_id_with_another_body_is_another_delivery() {
    let (f, _) = dedupe_fixture(&[]).await;
    let first = f.send(&push(BODY)).await;
    assert_eq!(answer(&first), (200, "accepted".into()), "{first}");
    // Anyone can reuse an id GitHub does not sign: it must not suppress another body.
    let other = r#"{"ref":"refs/heads/main","after":"d4e5f6"}"#;
    let second = f.send(&push(other)).await;
    assert_eq!(answer(&second), (200, "accepted".into()), "{second}");
    let events = on_the_bus(&f).await;
    assert_eq!(events.len(), 2, "{events:?}");
    let digests: Vec<_> = events
        .iter()
        .map(|e| e["detail"]["ebhook"]["bodySha256"].clone())
        .collect();
    assert_ne!(digests[0], digests[1]);
}
