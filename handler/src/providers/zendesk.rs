//! Zendesk: `X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256(secret as text, timestamp + body)).
//!
//! Event subscriptions POST JSON named by its top-level `type`; trigger and automation webhooks
//! may use any method and send JSON, XML, a form or nothing, with custom URL parameters (which
//! the signature does not cover: only the timestamp and the body are signed).

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use http::HeaderName;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{
    HmacSha256, Sample, Scheme, SecretOrigin, SignedRequest, VerifyError, VerifyOptions,
    first_match, mac_bytes,
};
use crate::event::Signed;
use crate::event::{
    self, BodyKind, Delivery, Entry, EventSettings, FALLBACK_DETAIL_TYPE, JsonPayload, MapError,
};
use crate::secrets::{Secret, SecretSet, SecretSlot};

/// Zendesk's webhooks.
pub struct Zendesk;

pub const SIGNATURE_HEADER: &str = "x-zendesk-webhook-signature";
pub const TIMESTAMP_HEADER: &str = "x-zendesk-webhook-signature-timestamp";
pub const INVOCATION_ID_HEADER: &str = "x-zendesk-webhook-invocation-id";
pub const WEBHOOK_ID_HEADER: &str = "x-zendesk-webhook-id";
pub const ACCOUNT_ID_HEADER: &str = "x-zendesk-account-id";
// The same names as `HeaderName`s, which the verifier, the mapper and the logs look up (a
// lookup by `&str` parses the name each time).
pub static SIGNATURE: HeaderName = HeaderName::from_static(SIGNATURE_HEADER);
pub static TIMESTAMP: HeaderName = HeaderName::from_static(TIMESTAMP_HEADER);
pub static INVOCATION_ID: HeaderName = HeaderName::from_static(INVOCATION_ID_HEADER);
pub static WEBHOOK_ID: HeaderName = HeaderName::from_static(WEBHOOK_ID_HEADER);
pub static ACCOUNT_ID: HeaderName = HeaderName::from_static(ACCOUNT_ID_HEADER);
/// Zendesk signs webhook-builder test sends with this fixed secret, used as text.
pub const TEST_SECRET: &str = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";

/// The signature Zendesk sends for `body` at `timestamp` (for test sends and tests).
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    B64.encode(mac_bytes::<HmacSha256>(
        secret,
        &[timestamp.as_bytes(), body],
    ))
}

fn verify(
    req: &SignedRequest<'_>,
    secrets: &SecretSet,
    options: &VerifyOptions,
    now: OffsetDateTime,
) -> Result<SecretSlot, VerifyError> {
    let signature = req.header(&SIGNATURE)?;
    let timestamp = req.header(&TIMESTAMP)?;
    let signed_at =
        OffsetDateTime::parse(timestamp, &Rfc3339).map_err(|_| VerifyError::MalformedTimestamp)?;
    if (now - signed_at).abs() > options.tolerance {
        return Err(VerifyError::StaleTimestamp);
    }
    let expected = B64
        .decode(signature.trim())
        .map_err(|_| VerifyError::MalformedSignature)?;
    if expected.len() != 32 {
        return Err(VerifyError::MalformedSignature);
    }
    let test_secret = Secret::new(TEST_SECRET);
    let test = options
        .accept_test_secret
        .then_some((SecretSlot::ProviderTest, &test_secret));
    first_match::<HmacSha256>(
        secrets.active(now).chain(test),
        &[timestamp.as_bytes(), req.body],
        &expected,
    )
    .ok_or(VerifyError::Mismatch)
}

impl Scheme for Zendesk {
    fn name(&self) -> &'static str {
        "zendesk"
    }

    fn signing(&self) -> &'static str {
        "base64 HMAC-SHA256 of timestamp + body (X-Zendesk-Webhook-Signature), timestamp within the tolerance"
    }

    /// Trigger and automation webhooks may use any of these.
    fn methods(&self) -> &'static [&'static str] {
        &["POST", "PUT", "PATCH", "GET", "DELETE"]
    }

    fn verify(
        &self,
        request: &SignedRequest<'_>,
        secrets: &SecretSet,
        options: &VerifyOptions,
        now: OffsetDateTime,
    ) -> Result<SecretSlot, VerifyError> {
        verify(request, secrets, options, now)
    }

    /// Zendesk signs its timestamp header and the body.
    fn signed<'r>(&self, request: &SignedRequest<'r>, _secret: &[u8]) -> Signed<'r> {
        Signed::covering(&["timestamp", "body"]).at(request.text(&TIMESTAMP))
    }

    fn delivery_id_header(&self) -> Option<&'static HeaderName> {
        Some(&INVOCATION_ID)
    }

    fn map(&self, d: &Delivery<'_>, settings: &EventSettings) -> Result<Vec<Entry>, MapError> {
        let mut meta = event::metadata(d);
        meta.delivery_id = d.header(&INVOCATION_ID).map(Cow::Borrowed);
        meta.webhook_id = d.header(&WEBHOOK_ID);
        meta.account_id = d.header(&ACCOUNT_ID);
        meta.event = Cow::Borrowed(FALLBACK_DETAIL_TYPE);
        let detail = match event::body_kind(d) {
            BodyKind::Json => {
                let mut payload = JsonPayload::parse(d.text()?)?;
                if let Some(t) = payload.top.event_type.take() {
                    meta.event = Cow::Owned(t);
                }
                payload.into_detail(&mut meta)?
            }
            BodyKind::Form => {
                event::form_detail(form_urlencoded::parse(d.body.as_bytes()), &mut meta)?
            }
            // GET and DELETE webhooks carry their data in the URL parameters, which the
            // metadata holds (as unsigned).
            BodyKind::Empty => event::object_with_metadata("{}", &meta),
            BodyKind::Other => event::opaque_detail(d.body.as_bytes(), &mut meta),
        };
        Ok(vec![event::entry(settings, &meta, detail)])
    }

    fn test_secret(&self) -> Option<&'static str> {
        Some(TEST_SECRET)
    }

    /// Zendesk creates the secret only once the webhook exists: deploy first.
    fn secret_origin(&self) -> SecretOrigin {
        SecretOrigin::AfterWebhook {
            prompt: "Zendesk signing secret (hidden; Enter to set it later)",
        }
    }

    fn setup_steps(&self, url: &str, stack: &str) -> String {
        format!(
            "In Zendesk:\n\
             1. Admin Center > Apps and integrations > Webhooks > Webhooks > Create webhook.\n\
             2. Choose Zendesk events (pick the events to subscribe to) or Trigger or automation, then Next.\n\
             3. Endpoint URL: {url}\n   Request method: POST\n   Request format: JSON\n   Authentication: None\n\
             4. Create webhook. On the webhook's page, under Signing secret, click Reveal secret and copy it.\n\
             5. Give it to ebhook: ebhook init --provider zendesk --stack-name {stack} --secret-stdin\n   \
                (paste the secret, then Ctrl-D). Until a secret is set, the endpoint rejects every request.\n"
        )
    }

    fn after_rotation(&self) -> &'static str {
        "Zendesk: the secret you gave is the webhook's signing secret; nothing more to do there."
    }

    fn sample(
        &'static self,
        url: &str,
        secret: &[u8],
        now: OffsetDateTime,
        random: [u8; 16],
    ) -> Sample {
        let id = uuid::Builder::from_random_bytes(random)
            .into_uuid()
            .to_string();
        // Every instant of years 0 to 9999 formats as RFC 3339.
        let time = now.format(&Rfc3339).unwrap_or_default();
        let body = serde_json::json!({
            "type": "zen:event-type:ticket.created",
            "account_id": 10000001,
            "id": id,
            "time": time,
            "zendesk_event_version": "2022-11-06",
            "subject": "zen:ticket:1",
            "detail": {
                "id": "1",
                "subject": "ebhook send-test",
                "status": "NEW",
                "priority": "LOW",
                "type": "TASK",
                "created_at": time,
                "updated_at": time,
            },
            "event": {},
        })
        .to_string()
        .into_bytes();
        let headers = vec![
            ("content-type", "application/json; charset=utf-8".to_owned()),
            (ACCOUNT_ID_HEADER, "10000001".to_owned()),
            (WEBHOOK_ID_HEADER, "01EBHOOKSENDTEST000000000".to_owned()),
            (INVOCATION_ID_HEADER, hex::encode(&random[..5])),
            (TIMESTAMP_HEADER, time.clone()),
            (SIGNATURE_HEADER, sign(secret, &time, &body)),
        ];
        Sample {
            method: "POST",
            url: url.to_owned(),
            headers,
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::{FORM, JSON, detail, map, named, settings};
    use http::HeaderMap;
    use time::macros::datetime;

    const VECTOR_TS: &str = "2021-03-25T05:09:27Z";
    const VECTOR_NOW: OffsetDateTime = datetime!(2021-03-25 05:10:00 UTC);

    fn headers(signature: &str, timestamp: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(SIGNATURE_HEADER, signature.parse().unwrap());
        h.insert(TIMESTAMP_HEADER, timestamp.parse().unwrap());
        h
    }

    fn check(
        secrets: &SecretSet,
        options: &VerifyOptions,
        headers: &HeaderMap,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<SecretSlot, VerifyError> {
        let req = SignedRequest {
            method: "POST",
            base_url: "https://example.lambda-url.us-east-1.on.aws",
            raw_path: "/",
            raw_query: "",
            headers,
            body,
        };
        named("zendesk").verify(&req, secrets, options, now)
    }

    #[test]
    fn published_vector_with_body() {
        let body = br#"{"event":"ticket.updated","id":123}"#;
        let sig = "S/RDdU2ERmj7LHDDoWJ2onPYH+t7/f2+LTM4dL7UiLM=";
        assert_eq!(sign(TEST_SECRET.as_bytes(), VECTOR_TS, body), sig);
        let secrets = SecretSet::single(TEST_SECRET);
        let h = headers(sig, VECTOR_TS);
        let ok = check(&secrets, &VerifyOptions::default(), &h, body, VECTOR_NOW);
        assert_eq!(ok, Ok(SecretSlot::Current));
    }

    #[test]
    fn published_vector_empty_body_signs_timestamp_alone() {
        let sig = "wCdBvXaHttn0wRVIYctzZ9O6O0bnqWakJMEKZ9VoRWw=";
        assert_eq!(sign(TEST_SECRET.as_bytes(), VECTOR_TS, b""), sig);
        let secrets = SecretSet::single(TEST_SECRET);
        let h = headers(sig, VECTOR_TS);
        let ok = check(&secrets, &VerifyOptions::default(), &h, b"", VECTOR_NOW);
        assert_eq!(ok, Ok(SecretSlot::Current));
    }

    #[test]
    fn old_body_then_timestamp_example_must_not_verify() {
        // The retired documentation example signs body + timestamp; the live rule is the reverse.
        let secrets = SecretSet::single("HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=");
        let ts = "2021-07-25T10:00:00Z";
        let h = headers("tRDSF7URY8BLCDlaBcQ7FHu051Zk+aAB0NKMP53teMw=", ts);
        let now = datetime!(2021-07-25 10:00 UTC);
        let result = check(
            &secrets,
            &VerifyOptions::default(),
            &h,
            br#"{"say": "hello"}"#,
            now,
        );
        assert_eq!(result, Err(VerifyError::Mismatch));
    }

    #[test]
    fn tampered_body_and_wrong_secret_fail() {
        let body = br#"{"event":"ticket.updated","id":123}"#;
        let h = headers("S/RDdU2ERmj7LHDDoWJ2onPYH+t7/f2+LTM4dL7UiLM=", VECTOR_TS);
        let opts = VerifyOptions::default();
        let right = SecretSet::single(TEST_SECRET);
        let tampered = br#"{"event":"ticket.updated","id":124}"#;
        assert_eq!(
            check(&right, &opts, &h, tampered, VECTOR_NOW),
            Err(VerifyError::Mismatch)
        );
        let wrong = SecretSet::single("another secret");
        assert_eq!(
            check(&wrong, &opts, &h, body, VECTOR_NOW),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn timestamp_window_both_directions() {
        let secret = "s3cret";
        let secrets = SecretSet::single(secret);
        let opts = VerifyOptions::default();
        let body = b"{}";
        let now = datetime!(2026-11-22 12:00:00 UTC);
        for (ts, expected) in [
            ("2026-11-22T11:55:00Z", Ok(SecretSlot::Current)),
            ("2026-11-22T12:05:00Z", Ok(SecretSlot::Current)),
            ("2026-11-22T11:54:59Z", Err(VerifyError::StaleTimestamp)),
            ("2026-11-22T12:05:01Z", Err(VerifyError::StaleTimestamp)),
            ("yesterday", Err(VerifyError::MalformedTimestamp)),
        ] {
            let h = headers(&sign(secret.as_bytes(), ts, body), ts);
            assert_eq!(check(&secrets, &opts, &h, body, now), expected, "{ts}");
        }
    }

    #[test]
    fn missing_headers_and_bad_base64() {
        let secrets = SecretSet::single("s");
        let opts = VerifyOptions::default();
        let mut h = HeaderMap::new();
        h.insert(TIMESTAMP_HEADER, VECTOR_TS.parse().unwrap());
        assert_eq!(
            check(&secrets, &opts, &h, b"", VECTOR_NOW),
            Err(VerifyError::MissingHeader(SIGNATURE_HEADER))
        );
        let mut h = HeaderMap::new();
        h.insert(SIGNATURE_HEADER, "abc".parse().unwrap());
        assert_eq!(
            check(&secrets, &opts, &h, b"", VECTOR_NOW),
            Err(VerifyError::MissingHeader(TIMESTAMP_HEADER))
        );
        for bad in [
            "not base64!!",
            "AAAA",
            "S/RDdU2ERmj7LHDDoWJ2onPYH+t7/f2+LTM4dL7UiLM",
        ] {
            let h = headers(bad, VECTOR_TS);
            assert_eq!(
                check(&secrets, &opts, &h, b"", VECTOR_NOW),
                Err(VerifyError::MalformedSignature),
                "{bad}"
            );
        }
    }

    #[test]
    fn test_secret_only_when_enabled() {
        let body = br#"{"event":"ticket.updated","id":123}"#;
        let h = headers("S/RDdU2ERmj7LHDDoWJ2onPYH+t7/f2+LTM4dL7UiLM=", VECTOR_TS);
        let real = SecretSet::single("the real secret");
        let mut opts = VerifyOptions::default();
        assert_eq!(
            check(&real, &opts, &h, body, VECTOR_NOW),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(&SecretSet::default(), &opts, &h, body, VECTOR_NOW),
            Err(VerifyError::NoSecret)
        );
        opts.accept_test_secret = true;
        assert_eq!(
            check(&real, &opts, &h, body, VECTOR_NOW),
            Ok(SecretSlot::ProviderTest)
        );
        assert_eq!(
            check(&SecretSet::default(), &opts, &h, body, VECTOR_NOW),
            Ok(SecretSlot::ProviderTest)
        );
    }

    #[test]
    fn previous_secret_verifies_until_expiry() {
        let set = SecretSet::new(
            Some(Secret::new("new")),
            Some(Secret::new("old")),
            Some(datetime!(2026-11-22 12:00:30 UTC)),
        );
        let ts = "2026-11-22T12:00:00Z";
        let body = b"{}";
        let h = headers(&sign(b"old", ts, body), ts);
        let opts = VerifyOptions::default();
        assert_eq!(
            check(&set, &opts, &h, body, datetime!(2026-11-22 12:00:10 UTC)),
            Ok(SecretSlot::Previous)
        );
        assert_eq!(
            check(&set, &opts, &h, body, datetime!(2026-11-22 12:00:31 UTC)),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn non_utf8_body_verifies_over_raw_bytes() {
        let body = [0xff, 0xfe, 0x00, 0x80];
        let h = headers(&sign(b"k", VECTOR_TS, &body), VECTOR_TS);
        let set = SecretSet::single("k");
        let opts = VerifyOptions::default();
        assert_eq!(
            check(&set, &opts, &h, &body, VECTOR_NOW),
            Ok(SecretSlot::Current)
        );
    }

    #[test]
    fn zendesk_event_type_names_the_event() {
        let body = br#"{"type":"zen:event-type:ticket.created","account_id":1,"id":"e1","detail":{"id":"5"}}"#;
        let headers = [
            JSON,
            ("x-zendesk-webhook-id", "01W"),
            ("x-zendesk-webhook-invocation-id", "inv-9"),
            ("x-zendesk-account-id", "123"),
        ];
        let e = map("zendesk", "POST", &headers, "", body, &settings()).unwrap();
        assert_eq!(e[0].detail_type, "zen:event-type:ticket.created");
        let d = detail(&e[0]);
        assert_eq!(d["detail"]["id"], "5");
        assert_eq!(d["ebhook"]["deliveryId"], "inv-9");
        assert_eq!(d["ebhook"]["webhookId"], "01W");
        assert_eq!(d["ebhook"]["accountId"], "123");
        assert_eq!(d["ebhook"]["event"], "zen:event-type:ticket.created");
    }

    #[test]
    fn zendesk_trigger_bodies_of_any_kind() {
        let xml = b"<ticket><id>1</id></ticket>";
        let e = map(
            "zendesk",
            "PUT",
            &[("content-type", "application/xml")],
            "",
            xml,
            &settings(),
        )
        .unwrap();
        assert_eq!(detail(&e[0])["body"], "<ticket><id>1</id></ticket>");
        assert_eq!(e[0].detail_type, "webhook");
        let binary = [0xffu8, 0x00, 0x10];
        let e = map(
            "zendesk",
            "POST",
            &[("content-type", "application/octet-stream")],
            "",
            &binary,
            &settings(),
        )
        .unwrap();
        assert_eq!(detail(&e[0])["bodyBase64"], "/wAQ");
        let e = map("zendesk", "DELETE", &[], "", b"", &settings()).unwrap();
        let d = detail(&e[0]);
        assert_eq!(d.as_object().unwrap().len(), 1);
        assert_eq!(d["ebhook"]["method"], "DELETE");
        let e = map("zendesk", "POST", &[FORM], "", b"a=1&b=x+y", &settings()).unwrap();
        assert_eq!(detail(&e[0])["b"], "x y");
    }

    #[test]
    fn url_parameters_of_a_get_webhook_reach_the_event_marked_unsigned() {
        // Zendesk sends GET and DELETE webhooks' data as URL parameters, outside the signature.
        let query = "ticket_id=42&status=open&tag=a&tag=b";
        let e = map("zendesk", "GET", &[], query, b"", &settings()).unwrap();
        let d = detail(&e[0]);
        assert_eq!(
            d["ebhook"]["unsignedQuery"],
            serde_json::json!({"ticket_id": "42", "status": "open", "tag": ["a", "b"]})
        );
        assert!(d["ebhook"].get("query").is_none());
        // A POST's URL parameters are kept too.
        let e = map(
            "zendesk",
            "POST",
            &[JSON],
            "source=trigger",
            b"{}",
            &settings(),
        )
        .unwrap();
        assert_eq!(
            detail(&e[0])["ebhook"]["unsignedQuery"]["source"],
            "trigger"
        );
        // No query, no key.
        let e = map("zendesk", "DELETE", &[], "", b"", &settings()).unwrap();
        assert!(detail(&e[0])["ebhook"].get("unsignedQuery").is_none());
    }

    #[test]
    fn the_sample_verifies_and_maps() {
        let now = datetime!(2026-11-22 12:00 UTC);
        let s = Zendesk.sample("https://u/", b"secret", now, [7; 16]);
        let mut h = HeaderMap::new();
        for (k, v) in &s.headers {
            h.insert(*k, v.parse().unwrap());
        }
        let ok = check(
            &SecretSet::single("secret"),
            &VerifyOptions::default(),
            &h,
            &s.body,
            now,
        );
        assert_eq!(ok, Ok(SecretSlot::Current));
        let headers: Vec<_> = s.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let e = map("zendesk", s.method, &headers, "", &s.body, &settings()).unwrap();
        assert_eq!(e[0].detail_type, "zen:event-type:ticket.created");
    }
}
