//! Hostile requests through the real `bootstrap` (Runtime API emulator, moto): each row of the
//! table is one request an attacker, a broken proxy or a confused client could send, with the
//! 4xx it must get. After every row of a provider, nothing may have reached the bus; then one
//! valid delivery must arrive, so the test can fail if the bus read-back is broken.

use std::borrow::Cow;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ebhook_handler::Provider;
use ebhook_handler::config::DEFAULT_MAX_BODY_BYTES;
use ebhook_handler::providers::{
    github, shopify, slack, standard_webhooks, stripe, twilio, zendesk,
};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::support::bus_fixture::{
    Fixture, fixture, form_urlencoded_serializer, github_ping, response_body, twilio_sms,
    zendesk_event,
};
use crate::support::function_url::{HOST, HttpRequest, status};

const GH: &str = "gh-secret";
const ZD: &str = "zd-secret";
const TW: &str = "twilio-auth-token";

/// One hostile request: the function URL event to send (built when the row runs, so
/// timestamps are fresh) and the status it must get.
struct Case {
    name: &'static str,
    provider: &'static str,
    request: fn() -> Value,
    status: u64,
}

const fn case(
    provider: &'static str,
    name: &'static str,
    request: fn() -> Value,
    status: u64,
) -> Case {
    Case {
        name,
        provider,
        request,
        status,
    }
}

const CASES: &[Case] = &[
    // --- GitHub -------------------------------------------------------------------------
    case(
        "github",
        "no signature",
        || without(github_ping(GH), "X-Hub-Signature-256").to_event(),
        401,
    ),
    case(
        "github",
        "wrong secret",
        || github_ping("not-the-secret").to_event(),
        401,
    ),
    case(
        "github",
        "tampered body",
        || tampered(github_ping(GH)).to_event(),
        401,
    ),
    case(
        "github",
        "sha1-only X-Hub-Signature (valid SHA-1)",
        || {
            let request = without(github_ping(GH), "X-Hub-Signature-256");
            let sha1 = github_sha1(GH, &request.body);
            request.header("X-Hub-Signature", &sha1).to_event()
        },
        401,
    ),
    case(
        "github",
        "valid sha1 with a wrong sha256",
        || {
            let request = github_ping("not-the-secret");
            let sha1 = github_sha1(GH, &request.body);
            request.header("X-Hub-Signature", &sha1).to_event()
        },
        401,
    ),
    case(
        "github",
        "duplicate X-Hub-Signature-256: valid, then wrong",
        || {
            let request = github_ping(GH);
            let wrong = github::sign(b"not-the-secret", &request.body);
            request.header("X-Hub-Signature-256", &wrong).to_event()
        },
        401,
    ),
    case(
        "github",
        "duplicate X-Hub-Signature-256: wrong, then valid",
        || {
            let valid = github_ping(GH);
            let signature = header_value(&valid, "X-Hub-Signature-256");
            github_ping("not-the-secret")
                .header("X-Hub-Signature-256", &signature)
                .to_event()
        },
        401,
    ),
    case(
        "github",
        "truncated base64 (form body)",
        || truncated_base64(github_form(Some(GH), "{}")),
        400,
    ),
    case(
        "github",
        "signed invalid UTF-8 JSON",
        || github_json(Some(GH), INVALID_UTF8).to_event(),
        400,
    ),
    case(
        "github",
        "unsigned invalid UTF-8 JSON",
        || github_json(None, INVALID_UTF8).to_event(),
        401,
    ),
    case(
        "github",
        "signed invalid JSON",
        || github_json(Some(GH), MALFORMED).to_event(),
        400,
    ),
    case(
        "github",
        "unsigned invalid JSON",
        || github_json(None, MALFORMED).to_event(),
        401,
    ),
    case(
        "github",
        "signed JSON array nested 10,000 deep",
        || github_json(Some(GH), &deep_array()).to_event(),
        400,
    ),
    case(
        "github",
        "signed JSON object with a value nested 10,000 deep",
        || github_json(Some(GH), &deep_in_object()).to_event(),
        400,
    ),
    case(
        "github",
        "signed JSON object nested 128 deep (serde_json reads 127)",
        || {
            let body = format!("{}1{}", "{\"a\":".repeat(128), "}".repeat(128));
            github_json(Some(GH), body.as_bytes()).to_event()
        },
        400,
    ),
    case(
        "github",
        "signed JSON array nested 127 deep (cannot be wrapped under `payload`)",
        || {
            let body = format!("{}{}", "[".repeat(127), "]".repeat(127));
            github_json(Some(GH), body.as_bytes()).to_event()
        },
        400,
    ),
    case(
        "github",
        "unsigned JSON nested 10,000 deep",
        || github_json(None, &deep_array()).to_event(),
        401,
    ),
    case(
        "github",
        "unsigned body 1 byte over the limit",
        || github_json(None, &json_of_size(OVER_LIMIT)).to_event(),
        413,
    ),
    case(
        "github",
        "signed body 1 byte over the limit",
        || github_json(Some(GH), &json_of_size(OVER_LIMIT)).to_event(),
        413,
    ),
    case(
        "github",
        "unsigned, with a query of 1,001 parameters",
        || {
            let mut request = github_json(None, b"{}");
            request.query = vec!["a="; 1_001].join("&");
            request.to_event()
        },
        413,
    ),
    case(
        "github",
        "base64 form body over the limit",
        || oversized_base64(github_form(None, "{}")),
        413,
    ),
    case(
        "github",
        "unsigned 6 MB body under the limit",
        || github_json(None, &json_of_size(SIX_MB)).to_event(),
        401,
    ),
    case(
        "github",
        "GET",
        || method(github_ping(GH), "GET").to_event(),
        405,
    ),
    case(
        "github",
        "PUT",
        || method(github_ping(GH), "PUT").to_event(),
        405,
    ),
    case(
        "github",
        "DELETE",
        || method(github_ping(GH), "DELETE").to_event(),
        405,
    ),
    // --- Zendesk ------------------------------------------------------------------------
    case(
        "zendesk",
        "signed form of 1,001 fields",
        || {
            let at = now_ts();
            let body = vec!["f="; 1_001].join("&");
            let signature = zendesk::sign(ZD.as_bytes(), &at, body.as_bytes());
            HttpRequest::post(
                &[
                    ("Content-Type", "application/x-www-form-urlencoded"),
                    ("X-Zendesk-Webhook-Signature-Timestamp", &at),
                    ("X-Zendesk-Webhook-Signature", &signature),
                ],
                body,
            )
            .to_event()
        },
        413,
    ),
    case(
        "zendesk",
        "no signature",
        || without(zendesk_now(ZD), "X-Zendesk-Webhook-Signature").to_event(),
        401,
    ),
    case(
        "zendesk",
        "signature without its timestamp",
        || without(zendesk_now(ZD), "X-Zendesk-Webhook-Signature-Timestamp").to_event(),
        401,
    ),
    case(
        "zendesk",
        "wrong secret",
        || zendesk_now("not-the-secret").to_event(),
        401,
    ),
    case(
        "zendesk",
        "replayed: signed 6 minutes ago",
        || zendesk_event(ZD, now() - time::Duration::minutes(6)).to_event(),
        401,
    ),
    case(
        "zendesk",
        "replayed: signed an hour ago",
        || zendesk_event(ZD, now() - time::Duration::hours(1)).to_event(),
        401,
    ),
    case(
        "zendesk",
        "future timestamp: signed 6 minutes ahead",
        || zendesk_event(ZD, now() + time::Duration::minutes(6)).to_event(),
        401,
    ),
    case(
        "zendesk",
        "replayed with a fresh timestamp header",
        || {
            let old = zendesk_event(ZD, now() - time::Duration::hours(1));
            let fresh = now().format(&Rfc3339).unwrap();
            without(old, "X-Zendesk-Webhook-Signature-Timestamp")
                .header("X-Zendesk-Webhook-Signature-Timestamp", &fresh)
                .to_event()
        },
        401,
    ),
    case(
        "zendesk",
        "timestamp not ISO-8601",
        || {
            let at = "1795000000";
            zendesk_json(Some(ZD), at, b"{}").to_event()
        },
        401,
    ),
    case(
        "zendesk",
        "tampered body",
        || tampered(zendesk_now(ZD)).to_event(),
        401,
    ),
    case(
        "zendesk",
        "duplicate signature: valid, then wrong",
        || {
            let request = zendesk_now(ZD);
            let wrong = header_value(
                &zendesk_now("not-the-secret"),
                "X-Zendesk-Webhook-Signature",
            );
            request
                .header("X-Zendesk-Webhook-Signature", &wrong)
                .to_event()
        },
        401,
    ),
    case(
        "zendesk",
        "duplicate timestamp",
        || {
            let request = zendesk_now(ZD);
            let ts = header_value(&request, "X-Zendesk-Webhook-Signature-Timestamp");
            request
                .header("X-Zendesk-Webhook-Signature-Timestamp", &ts)
                .to_event()
        },
        401,
    ),
    case(
        "zendesk",
        "truncated base64",
        || truncated_base64(zendesk_json(Some(ZD), &now_ts(), INVALID_UTF8)),
        400,
    ),
    case(
        "zendesk",
        "signed invalid UTF-8 JSON",
        || zendesk_json(Some(ZD), &now_ts(), INVALID_UTF8).to_event(),
        400,
    ),
    case(
        "zendesk",
        "unsigned invalid UTF-8 JSON",
        || zendesk_json(None, &now_ts(), INVALID_UTF8).to_event(),
        401,
    ),
    case(
        "zendesk",
        "signed invalid JSON",
        || zendesk_json(Some(ZD), &now_ts(), MALFORMED).to_event(),
        400,
    ),
    case(
        "zendesk",
        "unsigned invalid JSON",
        || zendesk_json(None, &now_ts(), MALFORMED).to_event(),
        401,
    ),
    case(
        "zendesk",
        "signed JSON array nested 10,000 deep",
        || zendesk_json(Some(ZD), &now_ts(), &deep_array()).to_event(),
        400,
    ),
    case(
        "zendesk",
        "signed JSON object with a value nested 10,000 deep",
        || zendesk_json(Some(ZD), &now_ts(), &deep_in_object()).to_event(),
        400,
    ),
    case(
        "zendesk",
        "unsigned body 1 byte over the limit",
        || zendesk_json(None, &now_ts(), &json_of_size(OVER_LIMIT)).to_event(),
        413,
    ),
    case(
        "zendesk",
        "signed body 1 byte over the limit",
        || zendesk_json(Some(ZD), &now_ts(), &json_of_size(OVER_LIMIT)).to_event(),
        413,
    ),
    case(
        "zendesk",
        "unsigned 6 MB body under the limit",
        || zendesk_json(None, &now_ts(), &json_of_size(SIX_MB)).to_event(),
        401,
    ),
    case(
        "zendesk",
        "OPTIONS",
        || method(zendesk_now(ZD), "OPTIONS").to_event(),
        405,
    ),
    case(
        "zendesk",
        "HEAD",
        || method(zendesk_now(ZD), "HEAD").to_event(),
        405,
    ),
    // --- Twilio -------------------------------------------------------------------------
    case(
        "twilio",
        "no signature",
        || without(twilio_sms(TW), "X-Twilio-Signature").to_event(),
        401,
    ),
    case(
        "twilio",
        "wrong token",
        || twilio_sms("not-the-token").to_event(),
        401,
    ),
    case(
        "twilio",
        "tampered form parameter",
        || {
            let mut request = twilio_sms(TW);
            request.body = String::from_utf8(request.body)
                .unwrap()
                .replace("welcome", "w3lcome")
                .into_bytes();
            request.to_event()
        },
        401,
    ),
    case(
        "twilio",
        "form parameter added",
        || {
            let mut request = twilio_sms(TW);
            request.body.extend_from_slice(b"&NumMedia=1");
            request.to_event()
        },
        401,
    ),
    case(
        "twilio",
        "wrong path",
        || {
            let mut request = twilio_sms(TW);
            request.path = "/voice".into();
            request.to_event()
        },
        401,
    ),
    case(
        "twilio",
        "query value tampered",
        || {
            let mut request = twilio_sms(TW);
            request.query = request.query.replace("acme", "evil");
            request.to_event()
        },
        401,
    ),
    case(
        "twilio",
        "query parameter added",
        || {
            let mut request = twilio_sms(TW);
            request.query.push_str("&admin=1");
            request.to_event()
        },
        401,
    ),
    case(
        "twilio",
        "query reordered",
        || {
            let mut request = twilio_sms(TW);
            request.query = "x=1&tenant=acme".into();
            request.to_event()
        },
        401,
    ),
    case(
        "twilio",
        "signed for another port",
        || {
            let request = twilio_sms(TW);
            let url = request.url().replacen(HOST, &format!("{HOST}:8443"), 1);
            twilio_resigned(request, &url).to_event()
        },
        401,
    ),
    case(
        "twilio",
        "signed for another host",
        || {
            let request = twilio_sms(TW);
            let url = request.url().replacen(HOST, "hooks.example.com", 1);
            twilio_resigned(request, &url).to_event()
        },
        401,
    ),
    case(
        "twilio",
        "signed for http://",
        || {
            let request = twilio_sms(TW);
            let url = request.url().replacen("https://", "http://", 1);
            twilio_resigned(request, &url).to_event()
        },
        401,
    ),
    case(
        "twilio",
        "duplicate X-Twilio-Signature: valid, then wrong",
        || {
            let wrong = header_value(&twilio_sms("not-the-token"), "X-Twilio-Signature");
            twilio_sms(TW)
                .header("X-Twilio-Signature", &wrong)
                .to_event()
        },
        401,
    ),
    case(
        "twilio",
        "GET with a tampered query",
        || {
            let mut request = twilio_get(TW);
            request.query = request.query.replace("hello", "bye");
            request.to_event()
        },
        401,
    ),
    case(
        "twilio",
        "JSON body tampered after bodySHA256",
        || {
            tampered(twilio_json(
                Some(TW),
                br#"{"type":"com.twilio.test","n":1}"#,
            ))
            .to_event()
        },
        401,
    ),
    case(
        "twilio",
        "JSON body with no bodySHA256 (body not signed)",
        || {
            let mut request = HttpRequest::post(
                &[("Content-Type", "application/json")],
                br#"{"ok":true}"#.to_vec(),
            );
            request.path = "/events".into();
            let signature = twilio::sign(TW.as_bytes(), &request.url(), std::iter::empty());
            request.header("X-Twilio-Signature", &signature).to_event()
        },
        401,
    ),
    case(
        "twilio",
        "truncated base64 (form body)",
        || truncated_base64(twilio_sms(TW)),
        400,
    ),
    case(
        "twilio",
        "signed invalid UTF-8 JSON",
        || twilio_json(Some(TW), INVALID_UTF8).to_event(),
        400,
    ),
    case(
        "twilio",
        "unsigned invalid UTF-8 JSON",
        || twilio_json(None, INVALID_UTF8).to_event(),
        401,
    ),
    case(
        "twilio",
        "signed invalid JSON",
        || twilio_json(Some(TW), MALFORMED).to_event(),
        400,
    ),
    case(
        "twilio",
        "unsigned invalid JSON",
        || twilio_json(None, MALFORMED).to_event(),
        401,
    ),
    case(
        "twilio",
        "signed JSON array nested 10,000 deep",
        || twilio_json(Some(TW), &deep_array()).to_event(),
        400,
    ),
    case(
        "twilio",
        "signed JSON object with a value nested 10,000 deep",
        || twilio_json(Some(TW), &deep_in_object()).to_event(),
        400,
    ),
    case(
        "twilio",
        "unsigned body 1 byte over the limit",
        || twilio_json(None, &json_of_size(OVER_LIMIT)).to_event(),
        413,
    ),
    case(
        "twilio",
        "form of 1,001 parameters with a forged signature",
        || forged_twilio_form(&vec!["Body=hi"; 1_001].join("&")),
        413,
    ),
    case(
        "twilio",
        "4.7 MB form of empty parameters with a forged signature",
        || forged_twilio_form(&"+&".repeat(2_350_000)),
        413,
    ),
    case(
        "twilio",
        "base64 form body over the limit",
        || oversized_base64(twilio_sms(TW)),
        413,
    ),
    case(
        "twilio",
        "unsigned 6 MB body under the limit",
        || twilio_json(None, &json_of_size(SIX_MB)).to_event(),
        401,
    ),
    case(
        "twilio",
        "PUT",
        || method(twilio_sms(TW), "PUT").to_event(),
        405,
    ),
    case(
        "twilio",
        "DELETE",
        || method(twilio_sms(TW), "DELETE").to_event(),
        405,
    ),
    // --- Stripe -------------------------------------------------------------------------
    case(
        "stripe",
        "no signature",
        || without(stripe_at(ST, 0, STRIPE_BODY), "Stripe-Signature").to_event(),
        401,
    ),
    case(
        "stripe",
        "wrong secret",
        || stripe_at("whsec_other", 0, STRIPE_BODY).to_event(),
        401,
    ),
    case(
        "stripe",
        "tampered body",
        || tampered(stripe_at(ST, 0, STRIPE_BODY)).to_event(),
        401,
    ),
    case(
        "stripe",
        "signed 10 minutes ago",
        || stripe_at(ST, -600, STRIPE_BODY).to_event(),
        401,
    ),
    case(
        "stripe",
        "signed 10 minutes ahead",
        || stripe_at(ST, 600, STRIPE_BODY).to_event(),
        401,
    ),
    case(
        "stripe",
        "t is not a number",
        || {
            with_header(
                stripe_at(ST, 0, STRIPE_BODY),
                "Stripe-Signature",
                "t=soon,v1=00",
            )
            .to_event()
        },
        401,
    ),
    case(
        "stripe",
        "5,000 wrong v1 before the right one",
        || {
            let request = stripe_at(ST, 0, STRIPE_BODY);
            let valid = header_value(&request, "Stripe-Signature");
            let (t, v1) = valid.split_once(",").unwrap();
            let many = format!("{t},{}{v1}", format!("v1={},", "0".repeat(64)).repeat(5000));
            with_header(request, "Stripe-Signature", &many).to_event()
        },
        401,
    ),
    case(
        "stripe",
        "GET",
        || method(stripe_at(ST, 0, STRIPE_BODY), "GET").to_event(),
        405,
    ),
    case(
        "stripe",
        "signed, not JSON",
        || stripe_at(ST, 0, b"{\"id\":").to_event(),
        400,
    ),
    // --- Slack --------------------------------------------------------------------------
    case(
        "slack",
        "no signature",
        || without(slack_at(SL, 0, SLACK_BODY), "X-Slack-Signature").to_event(),
        401,
    ),
    case(
        "slack",
        "wrong secret",
        || slack_at("other-secret", 0, SLACK_BODY).to_event(),
        401,
    ),
    case(
        "slack",
        "tampered body",
        || tampered(slack_at(SL, 0, SLACK_BODY)).to_event(),
        401,
    ),
    case(
        "slack",
        "signed 10 minutes ago",
        || slack_at(SL, -600, SLACK_BODY).to_event(),
        401,
    ),
    case(
        "slack",
        "signed 10 minutes ahead",
        || slack_at(SL, 600, SLACK_BODY).to_event(),
        401,
    ),
    case(
        "slack",
        "no timestamp",
        || without(slack_at(SL, 0, SLACK_BODY), "X-Slack-Request-Timestamp").to_event(),
        401,
    ),
    case(
        "slack",
        "v1= instead of v0=",
        || {
            let request = slack_at(SL, 0, SLACK_BODY);
            let v1 = header_value(&request, "X-Slack-Signature").replacen("v0=", "v1=", 1);
            with_header(request, "X-Slack-Signature", &v1).to_event()
        },
        401,
    ),
    case(
        "slack",
        "unsigned url_verification",
        || {
            without(
                slack_at(SL, 0, br#"{"type":"url_verification","challenge":"c"}"#),
                "X-Slack-Signature",
            )
            .to_event()
        },
        401,
    ),
    case(
        "slack",
        "GET",
        || method(slack_at(SL, 0, SLACK_BODY), "GET").to_event(),
        405,
    ),
    case(
        "slack",
        "signed, not JSON",
        || slack_at(SL, 0, b"{\"type\":").to_event(),
        400,
    ),
    // --- Standard Webhooks --------------------------------------------------------------
    case(
        "standard-webhooks",
        "no signature",
        || without(webhook_at(SW, 0, SW_BODY), "webhook-signature").to_event(),
        401,
    ),
    case(
        "standard-webhooks",
        "wrong secret",
        || webhook_at("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", 0, SW_BODY).to_event(),
        401,
    ),
    case(
        "standard-webhooks",
        "tampered body",
        || tampered(webhook_at(SW, 0, SW_BODY)).to_event(),
        401,
    ),
    case(
        "standard-webhooks",
        "signed 10 minutes ago",
        || webhook_at(SW, -600, SW_BODY).to_event(),
        401,
    ),
    case(
        "standard-webhooks",
        "signed 10 minutes ahead",
        || webhook_at(SW, 600, SW_BODY).to_event(),
        401,
    ),
    case(
        "standard-webhooks",
        "another webhook-id",
        || with_header(webhook_at(SW, 0, SW_BODY), "webhook-id", "msg_other").to_event(),
        401,
    ),
    case(
        "standard-webhooks",
        "5,000 wrong signatures before the right one",
        || {
            let request = webhook_at(SW, 0, SW_BODY);
            let valid = header_value(&request, "webhook-signature");
            let many = format!(
                "{}{valid}",
                format!("v1,{} ", B64.encode([0u8; 32])).repeat(5000)
            );
            with_header(request, "webhook-signature", &many).to_event()
        },
        401,
    ),
    case(
        "standard-webhooks",
        "v1a only",
        || {
            let request = webhook_at(SW, 0, SW_BODY);
            let v1a = header_value(&request, "webhook-signature").replacen("v1,", "v1a,", 1);
            with_header(request, "webhook-signature", &v1a).to_event()
        },
        401,
    ),
    case(
        "standard-webhooks",
        "GET",
        || method(webhook_at(SW, 0, SW_BODY), "GET").to_event(),
        405,
    ),
    case(
        "standard-webhooks",
        "signed, not JSON",
        || webhook_at(SW, 0, b"[1,").to_event(),
        400,
    ),
    // --- Shopify ------------------------------------------------------------------------
    case(
        "shopify",
        "no signature",
        || without(shopify_signed(SH, SHOPIFY_BODY), "X-Shopify-Hmac-Sha256").to_event(),
        401,
    ),
    case(
        "shopify",
        "wrong secret",
        || shopify_signed("other", SHOPIFY_BODY).to_event(),
        401,
    ),
    case(
        "shopify",
        "tampered body",
        || tampered(shopify_signed(SH, SHOPIFY_BODY)).to_event(),
        401,
    ),
    case(
        "shopify",
        "hex instead of base64",
        || {
            let request = shopify_signed(SH, SHOPIFY_BODY);
            let hex = hex_of_base64(&header_value(&request, "X-Shopify-Hmac-Sha256"));
            with_header(request, "X-Shopify-Hmac-Sha256", &hex).to_event()
        },
        401,
    ),
    case(
        "shopify",
        "GET",
        || method(shopify_signed(SH, SHOPIFY_BODY), "GET").to_event(),
        405,
    ),
    case(
        "shopify",
        "signed, not JSON",
        || shopify_signed(SH, b"{\"id\"").to_event(),
        400,
    ),
    // --- GitLab -------------------------------------------------------------------------
    case(
        "gitlab",
        "no token",
        || without(gitlab_with(GL, GITLAB_BODY), "X-Gitlab-Token").to_event(),
        401,
    ),
    case(
        "gitlab",
        "wrong token",
        || gitlab_with("other-token", GITLAB_BODY).to_event(),
        401,
    ),
    case(
        "gitlab",
        "token with a byte more",
        || gitlab_with("gl-token!", GITLAB_BODY).to_event(),
        401,
    ),
    case(
        "gitlab",
        "a Standard Webhooks signature instead of the token",
        || {
            let request = without(gitlab_with(GL, GITLAB_BODY), "X-Gitlab-Token");
            let at = OffsetDateTime::now_utc().unix_timestamp().to_string();
            request
                .header("webhook-id", "msg_1")
                .header("webhook-timestamp", &at)
                .header(
                    "webhook-signature",
                    &format!("v1,{}", B64.encode([1u8; 32])),
                )
                .to_event()
        },
        401,
    ),
    case(
        "gitlab",
        "GET",
        || method(gitlab_with(GL, GITLAB_BODY), "GET").to_event(),
        405,
    ),
    case(
        "gitlab",
        "right token, not JSON",
        || gitlab_with(GL, b"{").to_event(),
        400,
    ),
];

const INVALID_UTF8: &[u8] = b"{\"text\":\"caf\xe9 \xff\xfe\"}";
const MALFORMED: &[u8] = br#"{"unterminated": "#;
/// Just over the handler's default `EBHOOK_MAX_BODY_BYTES` (6 MiB).
const OVER_LIMIT: usize = DEFAULT_MAX_BODY_BYTES + 1;
/// 6 MB, under the 6 MiB limit.
const SIX_MB: usize = 6_000_000;
const DEPTH: usize = 10_000;

/// A Twilio form POST with any well-formed signature (20 bytes, base64).
fn forged_twilio_form(body: &str) -> Value {
    HttpRequest::post(
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("X-Twilio-Signature", &B64.encode([7u8; 20])),
        ],
        body,
    )
    .to_event()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn now_ts() -> String {
    now().format(&Rfc3339).unwrap()
}

fn zendesk_now(secret: &str) -> HttpRequest {
    zendesk_event(secret, now())
}

/// `request` without any header named `name` (case-insensitive).
fn without(mut request: HttpRequest, name: &str) -> HttpRequest {
    request
        .headers
        .retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    request
}

fn header_value(request: &HttpRequest, name: &str) -> String {
    request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no {name} header"))
}

fn method(mut request: HttpRequest, method: &str) -> HttpRequest {
    request.method = method.into();
    request
}

/// The body changed by one byte after signing.
fn tampered(mut request: HttpRequest) -> HttpRequest {
    let last = request
        .body
        .iter()
        .rposition(u8::is_ascii_alphanumeric)
        .expect("a body with a letter or digit to change");
    request.body[last] = if request.body[last] == b'1' {
        b'2'
    } else {
        b'1'
    };
    request
}

/// The function URL event for `request` with its base64 body cut short (three characters, so
/// no padding can make it whole).
fn truncated_base64(request: HttpRequest) -> Value {
    let mut event = request.to_event();
    assert_eq!(event["isBase64Encoded"], true, "{event}");
    let body = event["body"].as_str().unwrap().to_owned();
    event["body"] = body[..body.len() - 3].into();
    event
}

const ST: &str = "whsec_hostile_stripe";
const SL: &str = "hostile-slack-secret";
const SW: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SH: &str = "hostile-shopify-secret";
const GL: &str = "gl-token";
const STRIPE_BODY: &[u8] = br#"{"id":"evt_1","object":"event","type":"invoice.paid","data":{}}"#;
const SLACK_BODY: &[u8] =
    br#"{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}"#;
const SW_BODY: &[u8] = br#"{"type":"user.created","data":{}}"#;
const SHOPIFY_BODY: &[u8] = br#"{"id":1,"total_price":"1.00"}"#;
const GITLAB_BODY: &[u8] = br#"{"object_kind":"push"}"#;

fn unix_now(skew: i64) -> i64 {
    OffsetDateTime::now_utc().unix_timestamp() + skew
}

/// `request` with `name` set to `value` alone.
fn with_header(request: HttpRequest, name: &str, value: &str) -> HttpRequest {
    without(request, name).header(name, value)
}

fn json_request(headers: &[(&str, &str)], body: &[u8]) -> HttpRequest {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    HttpRequest::post(&all, body.to_vec())
}

/// A Stripe event signed `skew` seconds from now.
fn stripe_at(secret: &str, skew: i64, body: &[u8]) -> HttpRequest {
    let signature = stripe::sign(secret.as_bytes(), unix_now(skew), body);
    json_request(&[("Stripe-Signature", &signature)], body)
}

/// A Slack event signed `skew` seconds from now.
fn slack_at(secret: &str, skew: i64, body: &[u8]) -> HttpRequest {
    let at = unix_now(skew).to_string();
    let signature = slack::sign(secret.as_bytes(), &at, body);
    json_request(
        &[
            ("X-Slack-Request-Timestamp", &at),
            ("X-Slack-Signature", &signature),
        ],
        body,
    )
}

/// A Standard Webhooks message signed `skew` seconds from now.
fn webhook_at(secret: &str, skew: i64, body: &[u8]) -> HttpRequest {
    let at = unix_now(skew);
    let signature = standard_webhooks::sign(secret.as_bytes(), "msg_hostile", at, body).unwrap();
    json_request(
        &[
            ("webhook-id", "msg_hostile"),
            ("webhook-timestamp", &at.to_string()),
            ("webhook-signature", &signature),
        ],
        body,
    )
}

fn shopify_signed(secret: &str, body: &[u8]) -> HttpRequest {
    let signature = shopify::sign(secret.as_bytes(), body);
    json_request(
        &[
            ("X-Shopify-Topic", "orders/create"),
            ("X-Shopify-Hmac-Sha256", &signature),
        ],
        body,
    )
}

fn gitlab_with(token: &str, body: &[u8]) -> HttpRequest {
    json_request(
        &[("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Token", token)],
        body,
    )
}

fn hex_of_base64(text: &str) -> String {
    B64.decode(text).map(hex::encode).unwrap_or_default()
}

/// `request` with its form body padded past the body limit; the function URL base64-encodes
/// it, so the limit must hold for the decoded size.
fn oversized_base64(mut request: HttpRequest) -> Value {
    request.body.extend_from_slice(b"&pad=");
    request
        .body
        .resize(request.body.len().max(OVER_LIMIT), b'x');
    let event = request.to_event();
    assert_eq!(event["isBase64Encoded"], true);
    event
}

/// A JSON object of exactly `size` bytes.
fn json_of_size(size: usize) -> Vec<u8> {
    let mut body = br#"{"pad":""#.to_vec();
    body.resize(size - 2, b'x');
    body.extend_from_slice(b"\"}");
    body
}

fn deep_array() -> Vec<u8> {
    let mut body = "[".repeat(DEPTH);
    body.push_str(&"]".repeat(DEPTH));
    body.into_bytes()
}

fn deep_in_object() -> Vec<u8> {
    let mut body = r#"{"type":"push","payload":"#.to_owned();
    body.push_str(&r#"{"a":"#.repeat(DEPTH));
    body.push('1');
    body.push_str(&"}".repeat(DEPTH + 1));
    body.into_bytes()
}

/// A GitHub `push` delivery with a JSON body, signed with `secret` if given.
fn github_json(secret: Option<&str>, body: &[u8]) -> HttpRequest {
    github_push(secret, "application/json", body.to_vec())
}

/// A GitHub `push` delivery with a form body (`payload=`), signed with `secret` if given.
fn github_form(secret: Option<&str>, payload: &str) -> HttpRequest {
    let body = form_urlencoded_serializer()
        .append_pair("payload", payload)
        .finish();
    github_push(
        secret,
        "application/x-www-form-urlencoded",
        body.into_bytes(),
    )
}

fn github_push(secret: Option<&str>, content_type: &str, body: Vec<u8>) -> HttpRequest {
    let signature = secret.map(|secret| github::sign(secret.as_bytes(), &body));
    let request = HttpRequest::post(
        &[
            ("Content-Type", content_type),
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", "hostile"),
        ],
        body,
    );
    match signature {
        Some(signature) => request.header("X-Hub-Signature-256", &signature),
        None => request,
    }
}

/// The legacy `X-Hub-Signature` value, `sha1=<hex HMAC-SHA1(secret, body)>`. Twilio's signer
/// is HMAC-SHA1 over its "URL" when there are no parameters, so it computes the MAC here.
fn github_sha1(secret: &str, body: &[u8]) -> String {
    let text = std::str::from_utf8(body).expect("a UTF-8 body");
    let mac = B64
        .decode(twilio::sign(secret.as_bytes(), text, std::iter::empty()))
        .unwrap();
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha1={hex}")
}

/// A Zendesk JSON delivery with timestamp header `at`, signed with `secret` if given.
fn zendesk_json(secret: Option<&str>, at: &str, body: &[u8]) -> HttpRequest {
    let request = HttpRequest::post(
        &[
            ("Content-Type", "application/json"),
            ("X-Zendesk-Webhook-Invocation-Id", "hostile"),
            ("X-Zendesk-Webhook-Signature-Timestamp", at),
        ],
        body.to_vec(),
    );
    match secret {
        Some(secret) => {
            let signature = zendesk::sign(secret.as_bytes(), at, body);
            request.header("X-Zendesk-Webhook-Signature", &signature)
        }
        None => request,
    }
}

/// A Twilio JSON delivery (Event Streams style): `bodySHA256` in the URL, the URL signed with
/// `token` if given.
fn twilio_json(token: Option<&str>, body: &[u8]) -> HttpRequest {
    let mut request = HttpRequest::post(&[("Content-Type", "application/json")], body.to_vec());
    request.path = "/events".into();
    request.query = format!("bodySHA256={}", twilio::body_hash(body));
    match token {
        Some(token) => {
            let signature = twilio::sign(token.as_bytes(), &request.url(), std::iter::empty());
            request.header("X-Twilio-Signature", &signature)
        }
        None => request,
    }
}

/// A Twilio GET webhook: parameters in the query, the URL alone signed.
fn twilio_get(token: &str) -> HttpRequest {
    let mut request = method(HttpRequest::post(&[], Vec::new()), "GET");
    request.path = "/sms".into();
    request.query = "From=%2B14155550100&Body=hello&MessageSid=SM1".into();
    let signature = twilio::sign(token.as_bytes(), &request.url(), std::iter::empty());
    request.header("X-Twilio-Signature", &signature)
}

/// `request` (a Twilio form POST) signed again, correctly, but for `url` instead of the URL
/// it is sent to.
fn twilio_resigned(request: HttpRequest, url: &str) -> HttpRequest {
    let params: Vec<(String, String)> =
        form_urlencoded::parse(&request.body).into_owned().collect();
    let signature = twilio::sign(
        TW.as_bytes(),
        url,
        params
            .iter()
            .map(|(k, v)| (Cow::Borrowed(k.as_str()), Cow::Borrowed(v.as_str()))),
    );
    without(request, "X-Twilio-Signature").header("X-Twilio-Signature", &signature)
}

/// Runs every row of `provider` against one handler, then checks the bus, the process and a
/// valid control delivery. All mismatches are reported together.
async fn run_table(name: &str, secret: &str, valid: fn() -> HttpRequest) {
    let provider: Provider = name.parse().unwrap();
    let mut f: Fixture = fixture(name, secret, &[]).await;
    let mut failures = Vec::new();
    let mut unauthorized: Vec<(&str, Value)> = Vec::new();
    let rows: Vec<&Case> = CASES.iter().filter(|c| c.provider == name).collect();
    assert!(!rows.is_empty());
    for row in &rows {
        let response = f.send_event((row.request)()).await;
        let got = status(&response);
        if got != row.status {
            failures.push(format!(
                "{provider} / {}: expected {}, got {got}: {}",
                row.name, row.status, response["body"]
            ));
        }
        if !response_body(&response)["error"].is_string() {
            failures.push(format!(
                "{provider} / {}: the body is not JSON with an `error` field: {response}",
                row.name
            ));
        }
        match got {
            401 => unauthorized.push((row.name, response)),
            405 if response["headers"]["allow"]
                .as_str()
                .is_none_or(str::is_empty) =>
            {
                failures.push(format!(
                    "{provider} / {}: 405 without an Allow header: {response}",
                    row.name
                ));
            }
            _ => {}
        }
    }

    // Every 401 is the same answer, whichever check failed.
    if let Some((first_name, first)) = unauthorized.first() {
        for (name, response) in &unauthorized[1..] {
            if (&response["body"], &response["headers"]) != (&first["body"], &first["headers"]) {
                failures.push(format!(
                    "{provider} / {name}: a 401 unlike the one for {first_name:?}: {response} vs {first}"
                ));
            }
        }
        if response_body(first) != serde_json::json!({"error": "invalid signature"}) {
            failures.push(format!("{provider}: unexpected 401 body {first}"));
        }
    }

    let arrived = f.arrived_so_far().await;
    if !arrived.is_empty() {
        failures.push(format!(
            "{provider}: {} hostile request(s) reached the bus: {arrived:?}",
            arrived.len()
        ));
    }

    let logs = f.bootstrap.output();
    if let Some(exit) = f.bootstrap.try_status() {
        failures.push(format!("{provider}: the handler exited ({exit})"));
    }
    if logs.contains("panicked") {
        failures.push(format!("{provider}: the handler panicked"));
    }

    // The control: a valid delivery after all that is accepted and arrives, exactly once.
    let response = f.send(&valid()).await;
    if status(&response) != 200 {
        failures.push(format!(
            "{provider}: the valid control delivery got {response}"
        ));
    }
    let mut arrived = f.arrivals(1, Duration::from_secs(6)).await;
    arrived.extend(f.arrived_so_far().await);
    if arrived.len() != 1 {
        failures.push(format!(
            "{provider}: expected the control delivery alone on the bus, got {arrived:?}"
        ));
    }
    if let Some(exit) = f.bootstrap.try_status() {
        failures.push(format!("{provider}: the handler exited ({exit})"));
    }

    assert!(
        failures.is_empty(),
        "{} of {} {provider} rows or checks failed:\n{}\n--- handler output (tail) ---\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n"),
        tail(&f.bootstrap.output(), 4000)
    );
}

fn tail(text: &str, chars: usize) -> &str {
    let start = text.len().saturating_sub(chars);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    &text[start..]
}

#[tokio::test]
async fn hostile_github_requests_get_4xx_and_nothing_reaches_the_bus() {
    run_table("github", &format!(r#"{{"current":"{GH}"}}"#), || {
        github_ping(GH)
    })
    .await;
}

#[tokio::test]
async fn hostile_zendesk_requests_get_4xx_and_nothing_reaches_the_bus() {
    run_table("zendesk", &format!(r#"{{"current":"{ZD}"}}"#), || {
        zendesk_now(ZD)
    })
    .await;
}

#[tokio::test]
async fn hostile_twilio_requests_get_4xx_and_nothing_reaches_the_bus() {
    run_table("twilio", TW, || twilio_sms(TW)).await;
}

#[tokio::test]
async fn hostile_stripe_requests_get_4xx_and_nothing_reaches_the_bus() {
    run_table("stripe", ST, || stripe_at(ST, 0, STRIPE_BODY)).await;
}

#[tokio::test]
async fn hostile_slack_requests_get_4xx_and_nothing_reaches_the_bus() {
    run_table("slack", SL, || slack_at(SL, 0, SLACK_BODY)).await;
}

#[tokio::test]
async fn hostile_standard_webhooks_requests_get_4xx_and_nothing_reaches_the_bus() {
    run_table("standard-webhooks", SW, || webhook_at(SW, 0, SW_BODY)).await;
}

#[tokio::test]
async fn hostile_shopify_requests_get_4xx_and_nothing_reaches_the_bus() {
    run_table("shopify", SH, || shopify_signed(SH, SHOPIFY_BODY)).await;
}

#[tokio::test]
async fn hostile_gitlab_requests_get_4xx_and_nothing_reaches_the_bus() {
    run_table("gitlab", GL, || gitlab_with(GL, GITLAB_BODY)).await;
}
