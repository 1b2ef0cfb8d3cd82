//! Checks of the test harness itself (moto, the Runtime API emulator); they
//! do not run the handler binary.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use crate::support::runtime_api::FUNCTION_ARN;
use crate::support::{Bootstrap, InvocationError, Moto, RuntimeApi};

// The handler binary is not run here; this only checks the API type-checks.
const _: fn() -> PathBuf = Bootstrap::binary;
const _: fn(&str, &[(String, String)]) -> Bootstrap = Bootstrap::spawn;

#[tokio::test]
async fn moto_round_trips_sqs() {
    let moto = Moto::start();
    assert!(moto.endpoint().starts_with("http://127.0.0.1:"));
    let env = moto.env();
    for name in [
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_EC2_METADATA_DISABLED",
    ] {
        assert!(
            env.iter().any(|(n, _)| n == name),
            "{name} missing from {env:?}"
        );
    }

    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let created = sqs
        .create_queue()
        .queue_name("ebhook-selftest")
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateQueue: {e:?}\nmoto:\n{}", moto.logs()));
    let url = created
        .queue_url()
        .expect("CreateQueue returns a URL")
        .to_owned();
    assert!(url.ends_with("/ebhook-selftest"), "{url}");
    let listed = sqs.list_queues().send().await.expect("ListQueues");
    assert_eq!(listed.queue_urls(), [url]);

    // Another server is another process with its own state.
    let other = Moto::start();
    assert_ne!(other.port(), moto.port());
    let other_sqs = aws_sdk_sqs::Client::new(&other.sdk_config().await);
    let listed = other_sqs.list_queues().send().await.expect("ListQueues");
    assert!(listed.queue_urls().is_empty(), "{listed:?}");
}

/// A stand-in for the runtime client in the handler binary.
struct FakeRuntime {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl FakeRuntime {
    fn new(api: &RuntimeApi) -> FakeRuntime {
        FakeRuntime {
            base: format!("http://{}/2018-06-01/runtime", api.address()),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Value,
    ) -> (StatusCode, http::HeaderMap, Value) {
        let body = match method {
            Method::GET => Bytes::new(),
            _ => Bytes::from(body.to_string()),
        };
        let request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("Lambda-Runtime-Function-Error-Type", "Selftest.Failure")
            .body(Full::new(body))
            .expect("request");
        let response = self.client.request(request).await.expect("send request");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("read body").to_bytes();
        let value = serde_json::from_slice(&bytes).expect("JSON body");
        (parts.status, parts.headers, value)
    }

    /// Polls /next and returns the request id and the event.
    async fn next(&self) -> (String, Value) {
        let (status, headers, event) = self
            .send(Method::GET, "/invocation/next", Value::Null)
            .await;
        assert_eq!(status, StatusCode::OK);
        let header = |name: &str| {
            headers
                .get(name)
                .unwrap_or_else(|| panic!("{name} missing"))
                .to_str()
                .expect("ASCII header")
                .to_owned()
        };
        assert_eq!(header("Lambda-Runtime-Invoked-Function-Arn"), FUNCTION_ARN);
        assert!(header("Lambda-Runtime-Trace-Id").starts_with("Root=1-"));
        let deadline: u128 = header("Lambda-Runtime-Deadline-Ms")
            .parse()
            .expect("deadline ms");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis();
        assert!(
            deadline > now + 20_000 && deadline <= now + 30_000,
            "{deadline} vs {now}"
        );
        (header("Lambda-Runtime-Aws-Request-Id"), event)
    }
}

#[tokio::test]
async fn runtime_api_hands_out_events_and_returns_answers() {
    let api = RuntimeApi::start().await;
    assert!(api.address().starts_with("127.0.0.1:"));
    assert_eq!(api.first_next_at(), None);

    // Nobody polls: the invocation times out and says so.
    let timed_out = api
        .invoke_with_timeout(json!({}), Duration::from_millis(100))
        .await
        .expect_err("nobody answers");
    assert!(
        matches!(
            timed_out,
            InvocationError::Timeout {
                picked_up: false,
                init_error: None,
                ..
            }
        ),
        "{timed_out:?}"
    );

    let runtime = FakeRuntime::new(&api);
    let function = tokio::spawn(async move {
        // A response, then an error.
        let (id, event) = runtime.next().await;
        let (status, _, _) = runtime
            .send(
                Method::POST,
                &format!("/invocation/{id}/response"),
                json!({ "echo": event }),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let (id, _) = runtime.next().await;
        let failure = json!({ "errorType": "Selftest.Failure", "errorMessage": "boom" });
        let (status, _, _) = runtime
            .send(Method::POST, &format!("/invocation/{id}/error"), failure)
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        // Answers for unknown invocations are refused.
        let (status, _, _) = runtime
            .send(Method::POST, "/invocation/no-such-id/response", json!({}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        runtime
    });

    let answer = api
        .invoke(json!({ "hello": "world" }))
        .await
        .expect("invoke");
    assert_eq!(answer, json!({ "echo": { "hello": "world" } }));
    assert!(api.first_next_at().is_some());

    match api.invoke(json!({ "n": 2 })).await {
        Err(InvocationError::Function {
            error_type, body, ..
        }) => {
            assert_eq!(error_type.as_deref(), Some("Selftest.Failure"));
            assert!(body.contains("boom"), "{body}");
        }
        other => panic!("expected a function error, got {other:?}"),
    }
    let runtime = function.await.expect("fake runtime");

    // An init error fails later invocations at once, with the error.
    let init_failure = json!({ "errorType": "Runtime.InitError", "errorMessage": "no config" });
    let (status, _, _) = runtime
        .send(Method::POST, "/init/error", init_failure)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(api.init_error().expect("init error").contains("no config"));
    let failed = api.invoke(json!({})).await.expect_err("init failed");
    assert!(failed.to_string().contains("no config"), "{failed}");
}
