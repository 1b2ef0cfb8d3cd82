//! The providers added after the first three, through the real `bootstrap` under the Runtime API
//! emulator: requests signed by each provider's own SDK (Stripe, Slack, Standard Webhooks,
//! Twilio's SharedKey) or by its documented scheme (Shopify, GitLab) reach the bus; tampered,
//! stale, future, wrongly keyed and unsigned ones get 401 and put nothing on it.

use ebhook_handler::providers::{gitlab, shopify, standard_webhooks};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::support::bus_fixture::{fixture, form_urlencoded_serializer, response_body};
use crate::support::function_url::{HOST, HttpRequest, status};
use crate::support::sdk::sdk_sign;

const JSON: (&str, &str) = ("Content-Type", "application/json");

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// A request like `valid` with one header replaced (or removed when `value` is `None`).
fn with(valid: &HttpRequest, name: &str, value: Option<&str>) -> HttpRequest {
    let mut request = valid.clone();
    request
        .headers
        .retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    if let Some(value) = value {
        request.headers.push((name.to_owned(), value.to_owned()));
    }
    request
}

/// `valid` with one more byte in its body.
fn tampered(valid: &HttpRequest) -> HttpRequest {
    let mut request = valid.clone();
    request.body.push(b' ');
    request
}

/// Sends every refused request (each must get 401, and nothing may reach the bus), then the
/// valid one (200, one event); the event as EventBridge delivered it, and the answer.
async fn check(
    provider: &str,
    secret: &str,
    valid: &HttpRequest,
    refused: &[(&str, HttpRequest)],
) -> (Value, Value) {
    let f = fixture(provider, secret, &[]).await;
    for (name, request) in refused {
        let response = f.send(request).await;
        assert_eq!(status(&response), 401, "{provider} / {name}: {response}");
        assert_eq!(response_body(&response)["error"], "invalid signature");
    }
    f.assert_nothing_arrived().await;
    let response = f.send(valid).await;
    assert_eq!(status(&response), 200, "{provider}: {response}");
    let arrived = f.arrived_so_far().await;
    assert_eq!(arrived.len(), 1, "{provider}: {arrived:?}");
    (arrived[0].clone(), response)
}

#[tokio::test(flavor = "multi_thread")]
async fn stripe_sdk_signed_events_reach_the_bus_and_forgeries_do_not() {
    let secret = "whsec_ebhook_stripe_test_secret";
    let body = json!({
        "id": "evt_1Qebhook", "object": "event", "type": "invoice.paid",
        "data": {"object": {"id": "in_1", "object": "invoice", "amount_paid": 2000}}
    })
    .to_string();
    let sign = |secret: &str, at: i64| {
        let job = json!([{"stripe": {"secret": secret, "payload": body, "timestamp": at}}]);
        sdk_sign(&job)[0]["header"].as_str().unwrap().to_owned()
    };
    let request =
        |header: &str| HttpRequest::post(&[JSON, ("Stripe-Signature", header)], body.clone());
    let valid = request(&sign(secret, now()));
    let refused = [
        ("tampered", tampered(&valid)),
        ("stale", request(&sign(secret, now() - 600))),
        ("future", request(&sign(secret, now() + 600))),
        ("wrong secret", request(&sign("whsec_another", now()))),
        ("unsigned", with(&valid, "Stripe-Signature", None)),
    ];
    let (event, _) = check("stripe", secret, &valid, &refused).await;
    assert_eq!(event["source"], "ebhook.stripe");
    assert_eq!(event["detail-type"], "invoice.paid");
    assert_eq!(event["detail"]["ebhook"]["deliveryId"], "evt_1Qebhook");
    assert_eq!(event["detail"]["data"]["object"]["amount_paid"], 2000);
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_sdk_signed_events_reach_the_bus_and_the_handshake_is_answered() {
    let secret = "8f742231b10e8888abcd99yyyzzz85a5";
    let body = json!({
        "type": "event_callback", "team_id": "T1", "api_app_id": "A1",
        "event": {"type": "app_mention", "user": "U1", "text": "hi", "channel": "C1"},
        "event_id": "Ev0EBHOOK", "event_time": now()
    })
    .to_string();
    let sign = |secret: &str, body: &str, at: i64| {
        let job = json!([{"slack": {"secret": secret, "body": body, "timestamp": at.to_string()}}]);
        let signed = &sdk_sign(&job)[0];
        HttpRequest::post(
            &[
                JSON,
                ("X-Slack-Signature", signed["signature"].as_str().unwrap()),
                (
                    "X-Slack-Request-Timestamp",
                    signed["timestamp"].as_str().unwrap(),
                ),
            ],
            body.to_owned(),
        )
    };
    let valid = sign(secret, &body, now());
    let challenge =
        json!({"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"})
            .to_string();
    let refused = [
        ("tampered", tampered(&valid)),
        ("stale", sign(secret, &body, now() - 600)),
        ("future", sign(secret, &body, now() + 600)),
        ("wrong secret", sign("another-secret", &body, now())),
        ("unsigned", with(&valid, "X-Slack-Signature", None)),
        (
            "unsigned handshake",
            HttpRequest::post(&[JSON], challenge.clone()),
        ),
    ];
    let f = fixture("slack", secret, &[]).await;
    // The handshake Slack sends when the Request URL is saved: answered, not put on the bus.
    let response = f.send(&sign(secret, &challenge, now())).await;
    assert_eq!(status(&response), 200, "{response}");
    assert_eq!(
        response["body"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );
    f.assert_nothing_arrived().await;
    drop(f);
    let (event, _) = check("slack", secret, &valid, &refused).await;
    assert_eq!(event["detail-type"], "app_mention");
    assert_eq!(event["detail"]["ebhook"]["deliveryId"], "Ev0EBHOOK");
    assert_eq!(event["detail"]["event"]["text"], "hi");
}

#[tokio::test(flavor = "multi_thread")]
async fn standard_webhooks_sdk_signed_messages_reach_the_bus() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let body =
        json!({"type": "user.created", "timestamp": "2026-11-22T12:00:00Z", "data": {"id": "u1"}})
            .to_string();
    let sign = |secret: &str, at: i64| {
        let job = json!([{"standardwebhooks": {"secret": secret, "id": "msg_ebhook1", "timestamp": at, "payload": body}}]);
        let signature = sdk_sign(&job)[0]["signature"].as_str().unwrap().to_owned();
        HttpRequest::post(
            &[
                JSON,
                ("webhook-id", "msg_ebhook1"),
                ("webhook-timestamp", &at.to_string()),
                ("webhook-signature", &signature),
            ],
            body.clone(),
        )
    };
    let valid = sign(secret, now());
    let refused = [
        ("tampered", tampered(&valid)),
        ("stale", sign(secret, now() - 600)),
        ("future", sign(secret, now() + 600)),
        (
            "wrong secret",
            sign("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", now()),
        ),
        ("unsigned", with(&valid, "webhook-signature", None)),
        ("another id", with(&valid, "webhook-id", Some("msg_other"))),
    ];
    let (event, _) = check("standard-webhooks", secret, &valid, &refused).await;
    assert_eq!(event["detail-type"], "user.created");
    assert_eq!(event["detail"]["ebhook"]["deliveryId"], "msg_ebhook1");
    // The SDK and ebhook agree on the signature of the published vector too.
    let vector = json!([{"standardwebhooks": {"secret": secret, "id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "timestamp": 1614265330, "payload": "{\"test\": 2432232314}"}}]);
    assert_eq!(
        sdk_sign(&vector)[0]["signature"],
        standard_webhooks::sign(
            secret.as_bytes(),
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            b"{\"test\": 2432232314}"
        )
        .unwrap()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn twilio_shared_key_signatures_verify_and_fail_closed() {
    let secret = "twilio-shared-key-secret";
    let params = [
        ("AccountSid", "AC1"),
        ("Body", "hi"),
        ("MessageSid", "SM1"),
        ("SmsStatus", "received"),
    ];
    let body = params
        .iter()
        .fold(form_urlencoded_serializer(), |mut s, (k, v)| {
            s.append_pair(k, v);
            s
        })
        .finish();
    let url = format!("https://{HOST}/");
    let sign = |secret: &str, algorithm: &str| {
        let job = json!([{"twilio": {"token": secret, "url": url, "params": params, "algorithm": algorithm}}]);
        let signed = &sdk_sign(&job)[0];
        HttpRequest::post(
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("X-Twilio-Signature", signed["signature"].as_str().unwrap()),
                (
                    "X-Twilio-Webhooks-Signature-Settings",
                    signed["settings"].as_str().unwrap(),
                ),
            ],
            body.clone(),
        )
    };
    let valid = sign(secret, "HMAC_SHA256");
    let settings = "X-Twilio-Webhooks-Signature-Settings";
    let refused = [
        ("tampered", tampered(&valid)),
        ("wrong secret", sign("another-secret", "HMAC_SHA256")),
        ("no settings header", with(&valid, settings, None)),
        (
            "unknown algorithm",
            with(&valid, settings, Some("key=k1,algorithm=HMAC_SHA512")),
        ),
        (
            "SHA-1 claimed",
            with(&valid, settings, Some("key=k1,algorithm=HMAC_SHA1")),
        ),
        ("unsigned", with(&valid, "X-Twilio-Signature", None)),
    ];
    let (event, response) = check("twilio", secret, &valid, &refused).await;
    assert_eq!(event["detail-type"], "message.received");
    assert!(response["body"].as_str().unwrap().ends_with("<Response/>"));
    // The same key signing the classic way (HMAC-SHA1, as the Auth Token does) still verifies:
    // moving to a SharedKey is an ordinary rotation.
    let f = fixture("twilio", secret, &[]).await;
    let sha1 = sign(secret, "HMAC_SHA1");
    assert_eq!(status(&f.send(&sha1).await), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn shopify_signed_deliveries_reach_the_bus() {
    let secret = "shpss_ebhook_client_secret";
    let body =
        json!({"id": 820982911946154508_u64, "email": "jon@example.com", "total_price": "20.00"})
            .to_string();
    let request = |signature: &str| {
        HttpRequest::post(
            &[
                JSON,
                ("X-Shopify-Topic", "orders/create"),
                (
                    "X-Shopify-Webhook-Id",
                    "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
                ),
                ("X-Shopify-Event-Id", "98880550-7158-44d4-b7cd-2c97c8a091b5"),
                ("X-Shopify-Shop-Domain", "ebhook-test.myshopify.com"),
                ("X-Shopify-Hmac-Sha256", signature),
            ],
            body.clone(),
        )
    };
    let valid = request(&shopify::sign(secret.as_bytes(), body.as_bytes()));
    let refused = [
        ("tampered", tampered(&valid)),
        (
            "wrong secret",
            request(&shopify::sign(b"another", body.as_bytes())),
        ),
        ("unsigned", with(&valid, "X-Shopify-Hmac-Sha256", None)),
    ];
    let (event, _) = check("shopify", secret, &valid, &refused).await;
    assert_eq!(event["detail-type"], "orders/create");
    let meta = &event["detail"]["ebhook"];
    assert_eq!(meta["deliveryId"], "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
    assert_eq!(meta["eventId"], "98880550-7158-44d4-b7cd-2c97c8a091b5");
    assert_eq!(meta["accountId"], "ebhook-test.myshopify.com");
}

#[tokio::test(flavor = "multi_thread")]
async fn gitlab_tokens_and_signing_tokens_verify() {
    let body = json!({"object_kind": "push", "ref": "refs/heads/main", "commits": []}).to_string();
    let request = |secret: &str, id: &str, at: i64| {
        let mut headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("X-Gitlab-Event".to_owned(), "Push Hook".to_owned()),
            ("X-Gitlab-Event-UUID".to_owned(), "uuid-1".to_owned()),
        ];
        for (k, v) in gitlab::sign(secret.as_bytes(), id, at, body.as_bytes()).unwrap() {
            headers.push((k.to_owned(), v));
        }
        let mut r = HttpRequest::post(&[], body.clone());
        r.headers = headers;
        r
    };
    // A secret token.
    let token = "gitlab-secret-token";
    let valid = request(token, "idem-1", now());
    let refused = [
        ("wrong token", request("another-token", "idem-1", now())),
        ("no token", with(&valid, "X-Gitlab-Token", None)),
    ];
    let (event, _) = check("gitlab", token, &valid, &refused).await;
    assert_eq!(event["detail-type"], "Push Hook");
    assert_eq!(event["detail"]["ebhook"]["deliveryId"], "idem-1");

    // A signing token: GitLab signs as Standard Webhooks does, checked here with its SDK.
    let signing = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let at = now();
    let valid = request(signing, "idem-2", at);
    let job = json!([{"standardwebhooks": {"secret": signing, "id": "idem-2", "timestamp": at, "payload": body}}]);
    let sdk = sdk_sign(&job)[0]["signature"].as_str().unwrap().to_owned();
    assert!(
        valid
            .headers
            .iter()
            .any(|(k, v)| k == "webhook-signature" && *v == sdk),
        "GitLab's signature is the Standard Webhooks SDK's"
    );
    let refused = [
        ("tampered", tampered(&valid)),
        ("stale", request(signing, "idem-2", now() - 600)),
        // With a signing token, a bare token is not enough, even the signing token itself.
        (
            "token only",
            with(
                &with(&valid, "webhook-signature", None),
                "X-Gitlab-Token",
                Some(signing),
            ),
        ),
    ];
    let (event, _) = check("gitlab", signing, &valid, &refused).await;
    assert_eq!(event["detail"]["ebhook"]["deliveryId"], "idem-2");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_generic_provider_verifies_as_described() {
    // GitHub's scheme, described rather than known: what EventBridge's own check could do too.
    let secret = "generic-hmac-secret";
    let body = json!({"action": "opened", "number": 7}).to_string();
    let request = |key: &str| {
        HttpRequest::post(
            &[
                JSON,
                ("X-GitHub-Event", "pull_request"),
                ("X-GitHub-Delivery", "d-1"),
                (
                    "X-Hub-Signature-256",
                    &ebhook_handler::providers::github::sign(key.as_bytes(), body.as_bytes()),
                ),
            ],
            body.clone(),
        )
    };
    let valid = request(secret);
    let refused = [
        ("tampered", tampered(&valid)),
        ("wrong secret", request("another")),
        ("unsigned", with(&valid, "X-Hub-Signature-256", None)),
    ];
    let description = "auth=hmac&header=X-Hub-Signature-256&prefix=sha256%3D\
        &event=header%3AX-GitHub-Event&delivery-id=header%3AX-GitHub-Delivery";
    let f = fixture(
        "generic",
        secret,
        &[("EBHOOK_PROVIDER_SCHEME", description)],
    )
    .await;
    for (name, request) in &refused {
        assert_eq!(status(&f.send(request).await), 401, "{name}");
    }
    f.assert_nothing_arrived().await;
    assert_eq!(status(&f.send(&valid).await), 200);
    let arrived = f.arrived_so_far().await;
    assert_eq!(arrived.len(), 1);
    assert_eq!(arrived[0]["detail-type"], "pull_request");
    assert_eq!(arrived[0]["detail"]["ebhook"]["deliveryId"], "d-1");
    drop(f);

    // Basic auth.
    let f = fixture(
        "generic",
        "user:pa55",
        &[("EBHOOK_PROVIDER_SCHEME", "auth=basic")],
    )
    .await;
    let basic = |credentials: &str| {
        HttpRequest::post(&[JSON], "{}").header(
            "Authorization",
            &format!(
                "Basic {}",
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, credentials)
            ),
        )
    };
    assert_eq!(status(&f.send(&basic("user:wrong")).await), 401);
    assert_eq!(
        status(&f.send(&HttpRequest::post(&[JSON], "{}")).await),
        401
    );
    f.assert_nothing_arrived().await;
    assert_eq!(status(&f.send(&basic("user:pa55")).await), 200);
    assert_eq!(f.arrived_so_far().await.len(), 1);
}
