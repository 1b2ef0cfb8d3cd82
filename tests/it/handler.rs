//! The real `bootstrap` run as Lambda runs it (Runtime API emulator), with Secrets Manager,
//! EventBridge and SQS served by moto: what arrives on the bus is read back through an SQS
//! target of a rule on the bus.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ebhook_handler::providers::github;
use serde_json::json;
use time::OffsetDateTime;

use crate::support::bus_fixture::{
    fixture, form_urlencoded_serializer, github_ping, response_body, twilio_sms, zendesk_event,
};
use crate::support::function_url::{HttpRequest, status};
use crate::support::process::standalone_env;
use crate::support::stand_in::{json_answer, start_server};
use crate::support::{Bootstrap, InvocationError, RuntimeApi};

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
    f.assert_nothing_arrived().await;
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
    f.assert_nothing_arrived().await;

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
    let logs = f
        .bootstrap
        .output_with("no signing secret is set", Duration::from_secs(5));
    assert!(logs.contains("no signing secret is set"), "{logs}");
    f.assert_nothing_arrived().await;
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
    let logs = f
        .bootstrap
        .output_with("event_bus_unavailable", Duration::from_secs(5));
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
    f.assert_nothing_arrived().await;
}

#[tokio::test]
async fn a_start_up_error_is_reported_to_lambda_and_the_process_stops() {
    let runtime = RuntimeApi::start().await;
    let env = standalone_env(&[
        ("EBHOOK_PROVIDER", "github"),
        ("EBHOOK_SECRET", "gh-secret"),
        // No EBHOOK_EVENT_BUS.
    ]);
    let mut bootstrap = Bootstrap::spawn(&runtime.address(), &env);
    match runtime.invoke(github_ping("gh-secret").to_event()).await {
        Err(InvocationError::Init(document)) => {
            assert!(
                document.contains("Runtime.InvalidConfiguration"),
                "{document}"
            );
            assert!(
                document.contains("EBHOOK_EVENT_BUS is not set"),
                "{document}"
            );
        }
        other => panic!("expected an init error, got {other:?}"),
    }
    let exit = bootstrap
        .wait_exit(Duration::from_secs(10))
        .expect("the handler should stop after a start-up error");
    assert!(!exit.success(), "{exit}");
}

#[tokio::test]
async fn an_event_that_is_not_a_function_url_request_fails_alone() {
    let f = fixture("github", r#"{"current":"gh-secret"}"#, &[]).await;
    match f
        .runtime
        .invoke(json!(["not", "a", "function URL event"]))
        .await
    {
        Err(InvocationError::Function {
            error_type, body, ..
        }) => {
            assert_eq!(error_type.as_deref(), Some("Runtime.InvalidEvent"));
            assert!(body.contains("function URL"), "{body}");
        }
        other => panic!("expected a function error, got {other:?}"),
    }
    // The loop goes on: the next delivery is served.
    assert_eq!(status(&f.send(&github_ping("gh-secret")).await), 200);
}

#[tokio::test]
async fn an_answer_lambda_refuses_does_not_stop_the_function() {
    // PutEvents answers the first call after 1.5 s, when the invocation has timed out, so
    // Lambda (the emulator) refuses its answer with 400; every later call at once.
    let calls = Arc::new(AtomicUsize::new(0));
    let bus = start_server({
        let calls = Arc::clone(&calls);
        move |_request| {
            let first = calls.fetch_add(1, Ordering::SeqCst) == 0;
            async move {
                if first {
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                }
                let answer = json!({"FailedEntryCount": 0, "Entries": [{"EventId": "e-1"}]});
                json_answer(
                    http::StatusCode::OK,
                    "application/x-amz-json-1.1",
                    answer.to_string(),
                )
            }
        }
    })
    .await;
    let runtime = RuntimeApi::start().await;
    let env = standalone_env(&[
        ("AWS_ENDPOINT_URL_EVENTBRIDGE", bus.as_str()),
        ("EBHOOK_PROVIDER", "github"),
        ("EBHOOK_EVENT_BUS", "ebhook-late"),
        ("EBHOOK_SECRET", "gh-secret"),
    ]);
    let mut bootstrap = Bootstrap::spawn(&runtime.address(), &env);
    let late = runtime
        .invoke_with_timeout(
            github_ping("gh-secret").to_event(),
            Duration::from_millis(500),
        )
        .await;
    assert!(
        matches!(late, Err(InvocationError::Timeout { .. })),
        "{late:?}"
    );
    // Let the late answer reach the emulator and be refused.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let response = runtime
        .invoke(github_ping("gh-secret").to_event())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", bootstrap.output()));
    assert_eq!(status(&response), 200, "{response}");
    assert!(bootstrap.try_status().is_none(), "the handler stopped");
    let logs = bootstrap.output_with("refused the answer", Duration::from_secs(5));
    assert!(logs.contains("refused the answer"), "{logs}");
}
