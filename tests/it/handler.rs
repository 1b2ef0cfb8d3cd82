//! The real `bootstrap` run as Lambda runs it (Runtime API emulator), with Secrets Manager,
//! EventBridge and SQS served by moto: what arrives on the bus is read back through an SQS
//! target of a rule on the bus.

use std::time::{Duration, Instant};

use aws_sdk_eventbridge::types::Target;
use ebhook_handler::verify::{github, twilio, zendesk};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::support::function_url::{HttpRequest, status};
use crate::support::{Bootstrap, Moto, RuntimeApi};

const BUS: &str = "ebhook-it";

struct Fixture {
    _moto: Moto,
    runtime: RuntimeApi,
    bootstrap: Bootstrap,
    sqs: aws_sdk_sqs::Client,
    secrets: aws_sdk_secretsmanager::Client,
    queue_url: String,
    secret_arn: String,
}

async fn fixture(provider: &str, secret_value: &str, extra_env: &[(&str, &str)]) -> Fixture {
    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    let events = aws_sdk_eventbridge::Client::new(&conf);
    let sqs = aws_sdk_sqs::Client::new(&conf);
    let secrets = aws_sdk_secretsmanager::Client::new(&conf);

    events.create_event_bus().name(BUS).send().await.unwrap();
    let queue_url = sqs
        .create_queue()
        .queue_name("arrivals")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = "arn:aws:sqs:us-east-1:123456789012:arrivals";
    events
        .put_rule()
        .name("all-ebhook")
        .event_bus_name(BUS)
        .event_pattern(json!({"source": [format!("ebhook.{provider}")]}).to_string())
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule("all-ebhook")
        .event_bus_name(BUS)
        .targets(
            Target::builder()
                .id("queue")
                .arn(queue_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let secret_arn = secrets
        .create_secret()
        .name(format!("ebhook-{provider}"))
        .secret_string(secret_value)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();

    let runtime = RuntimeApi::start().await;
    let mut env = moto.env();
    for (k, v) in [
        ("EBHOOK_PROVIDER", provider),
        ("EBHOOK_EVENT_BUS", BUS),
        ("EBHOOK_SECRET_ARN", secret_arn.as_str()),
        ("EBHOOK_LOG", "info"),
    ]
    .into_iter()
    .chain(extra_env.iter().copied())
    {
        env.retain(|(name, _)| name != k);
        env.push((k.to_owned(), v.to_owned()));
    }
    let bootstrap = Bootstrap::spawn(&runtime.address(), &env);
    Fixture {
        _moto: moto,
        runtime,
        bootstrap,
        sqs,
        secrets,
        queue_url,
        secret_arn,
    }
}

impl Fixture {
    async fn send(&self, request: &HttpRequest) -> Value {
        match self.runtime.invoke(request.to_event()).await {
            Ok(response) => response,
            Err(e) => panic!(
                "invocation failed: {e}\n--- handler output ---\n{}",
                self.bootstrap.output()
            ),
        }
    }

    /// Every event that reaches the bus within `wait`, as EventBridge delivers them.
    async fn arrivals(&self, expected: usize, wait: Duration) -> Vec<Value> {
        let deadline = Instant::now() + wait;
        let mut events = Vec::new();
        while Instant::now() < deadline {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap();
            for message in out.messages() {
                events.push(serde_json::from_str(message.body().unwrap()).unwrap());
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
            if expected > 0 && events.len() >= expected {
                break;
            }
        }
        events
    }

    async fn set_secret(&self, value: &str) {
        self.secrets
            .put_secret_value()
            .secret_id(&self.secret_arn)
            .secret_string(value)
            .send()
            .await
            .unwrap();
    }
}

fn github_ping(secret: &str) -> HttpRequest {
    let body = br#"{"zen":"Design for failure.","hook_id":42,"hook":{"type":"Repository"}}"#;
    HttpRequest::post(
        &[
            ("Content-Type", "application/json"),
            ("User-Agent", "GitHub-Hookshot/044aadd"),
            ("X-GitHub-Event", "ping"),
            ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
            ("X-GitHub-Hook-ID", "42"),
        ],
        body.to_vec(),
    )
    .header(
        "X-Hub-Signature-256",
        &github::sign(secret.as_bytes(), body),
    )
}

fn zendesk_event(secret: &str, at: OffsetDateTime) -> HttpRequest {
    let body = br#"{"type":"zen:event-type:ticket.created","account_id":22129848,"id":"cbe4028c-7239-495d-b020-f22348516046","time":"2026-11-22T12:00:00Z","zendesk_event_version":"2022-11-06","subject":"zen:ticket:1","detail":{"id":"1","subject":"Help"},"event":{}}"#;
    let ts = at.format(&Rfc3339).unwrap();
    HttpRequest::post(
        &[
            ("Content-Type", "application/json"),
            ("X-Zendesk-Webhook-Id", "01GWD8VAQ3SS0C6FTYG8B5RCQ4"),
            ("X-Zendesk-Webhook-Invocation-Id", "8350205582"),
            ("X-Zendesk-Account-Id", "22129848"),
            ("X-Zendesk-Webhook-Signature-Timestamp", &ts),
        ],
        body.to_vec(),
    )
    .header(
        "X-Zendesk-Webhook-Signature",
        &zendesk::sign(secret.as_bytes(), &ts, body),
    )
}

fn twilio_sms(token: &str) -> HttpRequest {
    let params = [
        ("AccountSid", "AC0123"),
        ("Body", "Hello & welcome"),
        ("From", "+14155550100"),
        ("MessageSid", "SM0123"),
        ("SmsStatus", "received"),
        ("To", "+14155550199"),
        ("MediaUrl0", "https://api.twilio.com/a"),
    ];
    let body = params
        .iter()
        .fold(form_urlencoded_serializer(), |mut s, (k, v)| {
            s.append_pair(k, v);
            s
        })
        .finish();
    let mut request = HttpRequest::post(
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("I-Twilio-Idempotency-Token", "idem-0123"),
        ],
        body.into_bytes(),
    );
    request.path = "/sms".into();
    request.query = "tenant=acme&x=1".into();
    let pairs = params.iter().map(|(k, v)| {
        (
            std::borrow::Cow::Borrowed(*k),
            std::borrow::Cow::Borrowed(*v),
        )
    });
    let signature = twilio::sign(token.as_bytes(), &request.url(), pairs);
    request.header("X-Twilio-Signature", &signature)
}

fn form_urlencoded_serializer() -> form_urlencoded::Serializer<'static, String> {
    form_urlencoded::Serializer::new(String::new())
}

fn response_body(response: &Value) -> Value {
    serde_json::from_str(response["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

#[tokio::test]
async fn github_delivery_arrives_as_a_well_formed_event() {
    let f = fixture("github", r#"{"current":"gh-secret"}"#, &[]).await;
    let response = f.send(&github_ping("gh-secret")).await;
    assert_eq!(status(&response), 200, "{response}");
    let ids = response_body(&response)["eventIds"].clone();
    assert_eq!(ids.as_array().map(Vec::len), Some(1), "{response}");

    let arrived = f.arrivals(1, Duration::from_secs(10)).await;
    assert_eq!(arrived.len(), 1, "{arrived:?}");
    let event = &arrived[0];
    assert_eq!(event["source"], "ebhook.github");
    assert_eq!(event["detail-type"], "ping");
    assert_eq!(event["detail"]["zen"], "Design for failure.");
    assert_eq!(event["detail"]["hook"]["type"], "Repository");
    let meta = &event["detail"]["ebhook"];
    assert_eq!(meta["provider"], "github");
    assert_eq!(meta["event"], "ping");
    assert_eq!(meta["deliveryId"], "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    assert_eq!(meta["webhookId"], "42");
    assert!(
        meta["receivedAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{meta}"
    );

    // A form-encoded delivery arrives base64-encoded from the function URL.
    let payload = r#"{"action":"opened","number":7}"#;
    let body = form_urlencoded_serializer()
        .append_pair("payload", payload)
        .finish();
    let request = HttpRequest::post(
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("X-GitHub-Event", "pull_request"),
            ("X-GitHub-Delivery", "d-2"),
        ],
        body.clone(),
    )
    .header(
        "X-Hub-Signature-256",
        &github::sign(b"gh-secret", body.as_bytes()),
    );
    assert_eq!(request.to_event()["isBase64Encoded"], true);
    let response = f.send(&request).await;
    assert_eq!(status(&response), 200, "{response}");
    let arrived = f.arrivals(1, Duration::from_secs(10)).await;
    assert_eq!(arrived[0]["detail-type"], "pull_request");
    assert_eq!(arrived[0]["detail"]["number"], 7);
}

#[tokio::test]
async fn zendesk_delivery_arrives_named_by_its_type() {
    let f = fixture("zendesk", r#"{"current":"zd-secret"}"#, &[]).await;
    let response = f
        .send(&zendesk_event("zd-secret", OffsetDateTime::now_utc()))
        .await;
    assert_eq!(status(&response), 200, "{response}");
    let arrived = f.arrivals(1, Duration::from_secs(10)).await;
    assert_eq!(arrived.len(), 1);
    assert_eq!(arrived[0]["source"], "ebhook.zendesk");
    assert_eq!(arrived[0]["detail-type"], "zen:event-type:ticket.created");
    assert_eq!(arrived[0]["detail"]["detail"]["subject"], "Help");
    assert_eq!(arrived[0]["detail"]["ebhook"]["deliveryId"], "8350205582");

    // A captured request replayed after the tolerance window is refused.
    let stale = zendesk_event(
        "zd-secret",
        OffsetDateTime::now_utc() - time::Duration::minutes(6),
    );
    assert_eq!(status(&f.send(&stale).await), 401);
    assert!(f.arrivals(0, Duration::from_secs(2)).await.is_empty());
}

#[tokio::test]
async fn twilio_form_callback_with_query_string_arrives() {
    let f = fixture("twilio", "twilio-auth-token", &[]).await;
    let response = f.send(&twilio_sms("twilio-auth-token")).await;
    assert_eq!(status(&response), 200, "{response}");
    assert_eq!(response["headers"]["content-type"], "text/xml");
    let arrived = f.arrivals(1, Duration::from_secs(10)).await;
    assert_eq!(arrived.len(), 1);
    assert_eq!(arrived[0]["source"], "ebhook.twilio");
    assert_eq!(arrived[0]["detail-type"], "message.received");
    assert_eq!(arrived[0]["detail"]["Body"], "Hello & welcome");
    assert_eq!(arrived[0]["detail"]["ebhook"]["deliveryId"], "idem-0123");
}

#[tokio::test]
async fn invalid_requests_get_401_and_nothing_arrives() {
    let f = fixture("github", r#"{"current":"gh-secret"}"#, &[]).await;
    let wrong_secret = github_ping("not-the-secret");
    let mut unsigned = github_ping("gh-secret");
    unsigned.headers.retain(|(k, _)| k != "X-Hub-Signature-256");
    let mut tampered = github_ping("gh-secret");
    tampered.body =
        br#"{"zen":"Design for success.","hook_id":42,"hook":{"type":"Repository"}}"#.to_vec();
    for request in [&wrong_secret, &unsigned, &tampered] {
        let response = f.send(request).await;
        assert_eq!(status(&response), 401, "{response}");
        assert_eq!(
            response_body(&response),
            json!({"error": "invalid signature"})
        );
    }
    let mut get = github_ping("gh-secret");
    get.method = "GET".into();
    assert_eq!(status(&f.send(&get).await), 405);
    assert!(f.arrivals(0, Duration::from_secs(2)).await.is_empty());

    // The logs say why, by category, and never carry the secret, a signature or the body.
    let logs = f.bootstrap.output();
    assert!(logs.contains("\"reason\":\"mismatch\""), "{logs}");
    assert!(logs.contains("\"reason\":\"missing_header\""), "{logs}");
    assert!(!logs.contains("gh-secret"), "{logs}");
    assert!(!logs.contains("Design for"), "{logs}");
    for request in [&wrong_secret, &tampered] {
        let signature = &request
            .headers
            .iter()
            .find(|(k, _)| k == "X-Hub-Signature-256")
            .unwrap()
            .1;
        assert!(!logs.contains(&signature[7..]), "{logs}");
    }
}

#[tokio::test]
async fn rotated_secret_is_picked_up_and_previous_keeps_working() {
    let f = fixture(
        "github",
        r#"{"current":"first"}"#,
        &[
            ("EBHOOK_SECRET_REFRESH_SECONDS", "2"),
            ("EBHOOK_SECRET_MIN_REFETCH_SECONDS", "30"),
        ],
    )
    .await;
    assert_eq!(status(&f.send(&github_ping("first")).await), 200);

    // Rotate: "second" becomes current, "first" stays valid as previous.
    f.set_secret(r#"{"current":"second","previous":"first"}"#)
        .await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(status(&f.send(&github_ping("second")).await), 200);
    assert_eq!(status(&f.send(&github_ping("first")).await), 200);

    // Grace over: "first" is no longer listed and is refused after the refresh window.
    f.set_secret(
        r#"{"current":"second","previous":"first","previousExpiresAt":"2020-01-01T00:00:00Z"}"#,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(status(&f.send(&github_ping("first")).await), 401);
    assert_eq!(status(&f.send(&github_ping("second")).await), 200);
    assert_eq!(f.arrivals(4, Duration::from_secs(10)).await.len(), 4);
}

#[tokio::test]
async fn failed_verification_rereads_a_rotated_secret_at_once() {
    // A refresh window far longer than the test: only the re-read after a failure can help.
    let f = fixture(
        "github",
        r#"{"current":"first"}"#,
        &[
            ("EBHOOK_SECRET_REFRESH_SECONDS", "3600"),
            ("EBHOOK_SECRET_MIN_REFETCH_SECONDS", "1"),
        ],
    )
    .await;
    assert_eq!(status(&f.send(&github_ping("first")).await), 200);
    f.set_secret(r#"{"current":"second"}"#).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(status(&f.send(&github_ping("second")).await), 200);
    // Right after that re-read, another bad request cannot trigger one more (rate limit), and
    // the old secret is refused.
    assert_eq!(status(&f.send(&github_ping("first")).await), 401);
}

#[tokio::test]
async fn no_secret_set_rejects_everything_and_says_so() {
    let f = fixture("zendesk", r#"{"current":""}"#, &[]).await;
    let response = f
        .send(&zendesk_event("anything", OffsetDateTime::now_utc()))
        .await;
    assert_eq!(status(&response), 401);
    let logs = f.bootstrap.output();
    assert!(logs.contains("no signing secret is set"), "{logs}");
    assert!(f.arrivals(0, Duration::from_secs(2)).await.is_empty());
}

#[tokio::test]
async fn unreachable_event_bus_gives_503_with_retry_after_within_budget() {
    let f = fixture(
        "github",
        r#"{"current":"gh-secret"}"#,
        &[
            // Nothing listens on port 9 of loopback: every PutEvents fails to connect.
            ("AWS_ENDPOINT_URL_EVENTBRIDGE", "http://127.0.0.1:9"),
            ("EBHOOK_FORWARD_BUDGET_MS", "800"),
        ],
    )
    .await;
    // The first request also waits for the cold-start secret read; time the second.
    assert_eq!(status(&f.send(&github_ping("gh-secret")).await), 503);
    let started = Instant::now();
    let response = f.send(&github_ping("gh-secret")).await;
    let took = started.elapsed();
    assert_eq!(status(&response), 503, "{response}");
    assert_eq!(response["headers"]["retry-after"], "5");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    let logs = f.bootstrap.output();
    assert!(logs.contains("event_bus_unavailable"), "{logs}");
}

#[tokio::test]
async fn oversized_event_gets_413_and_malformed_json_400() {
    let f = fixture(
        "github",
        r#"{"current":"gh-secret"}"#,
        &[("EBHOOK_MAX_ENTRY_BYTES", "2000")],
    )
    .await;
    let body = format!(r#"{{"padding":"{}"}}"#, "x".repeat(3000));
    let request = HttpRequest::post(
        &[
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "push"),
        ],
        body.clone(),
    )
    .header(
        "X-Hub-Signature-256",
        &github::sign(b"gh-secret", body.as_bytes()),
    );
    assert_eq!(status(&f.send(&request).await), 413);
    let body = r#"{"unterminated": "#;
    let request = HttpRequest::post(
        &[
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "push"),
        ],
        body,
    )
    .header(
        "X-Hub-Signature-256",
        &github::sign(b"gh-secret", body.as_bytes()),
    );
    assert_eq!(status(&f.send(&request).await), 400);
    assert!(f.arrivals(0, Duration::from_secs(2)).await.is_empty());
}
