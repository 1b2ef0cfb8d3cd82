//! GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`. The legacy SHA-1
//! `X-Hub-Signature` is never accepted on its own.

use std::borrow::Cow;

use http::HeaderName;
use time::OffsetDateTime;

use super::{
    HmacSha256, Sample, Scheme, SecretOrigin, SignedRequest, VerifyError, VerifyOptions,
    first_match, mac_bytes,
};
use crate::event::Signed;
use crate::event::{
    self, BodyKind, Delivery, Entry, EventSettings, FALLBACK_DETAIL_TYPE, JsonPayload, MapError,
    malformed,
};
use crate::secrets::{SecretSet, SecretSlot};

/// GitHub's repository, organization and app webhooks.
pub struct Github;

pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";
pub const EVENT_HEADER: &str = "x-github-event";
pub const DELIVERY_HEADER: &str = "x-github-delivery";
pub const HOOK_ID_HEADER: &str = "x-github-hook-id";
// The same names as `HeaderName`s, which the verifier, the mapper and the logs look up (a
// lookup by `&str` parses the name each time).
pub static SIGNATURE: HeaderName = HeaderName::from_static(SIGNATURE_HEADER);
pub static EVENT: HeaderName = HeaderName::from_static(EVENT_HEADER);
pub static DELIVERY: HeaderName = HeaderName::from_static(DELIVERY_HEADER);
pub static HOOK_ID: HeaderName = HeaderName::from_static(HOOK_ID_HEADER);

/// The `X-Hub-Signature-256` value GitHub sends for `body`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(mac_bytes::<HmacSha256>(secret, &[body]))
    )
}

fn verify(
    req: &SignedRequest<'_>,
    secrets: &SecretSet,
    now: OffsetDateTime,
) -> Result<SecretSlot, VerifyError> {
    let header = req.header(&SIGNATURE)?;
    let hex_digest = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(VerifyError::MalformedSignature)?;
    let mut expected = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut expected).map_err(|_| VerifyError::MalformedSignature)?;
    first_match::<HmacSha256>(secrets.active(now), &[req.body], &expected)
        .ok_or(VerifyError::Mismatch)
}

impl Scheme for Github {
    fn name(&self) -> &'static str {
        "github"
    }

    fn signing(&self) -> &'static str {
        "hex HMAC-SHA256 of the body (X-Hub-Signature-256: sha256=...); no timestamp, dedupe on X-GitHub-Delivery"
    }

    fn verify(
        &self,
        request: &SignedRequest<'_>,
        secrets: &SecretSet,
        _options: &VerifyOptions,
        now: OffsetDateTime,
    ) -> Result<SecretSlot, VerifyError> {
        verify(request, secrets, now)
    }

    /// GitHub signs the body alone: not `X-GitHub-Event` nor `X-GitHub-Delivery`.
    fn signed<'r>(&self, _request: &SignedRequest<'r>, _secret: &[u8]) -> Signed<'r> {
        Signed::covering(&["body"])
    }

    fn delivery_id_header(&self) -> Option<&'static HeaderName> {
        Some(&DELIVERY)
    }

    /// JSON as the Detail, whether sent as JSON or in a form's `payload` field.
    fn map(&self, d: &Delivery<'_>, settings: &EventSettings) -> Result<Vec<Entry>, MapError> {
        let mut meta = event::metadata(d);
        meta.event = Cow::Borrowed(d.header(&EVENT).unwrap_or(FALLBACK_DETAIL_TYPE));
        meta.delivery_id = d.header(&DELIVERY).map(Cow::Borrowed);
        meta.webhook_id = d.header(&HOOK_ID);
        let form_payload;
        let json = match event::body_kind(d) {
            BodyKind::Json => d.text()?,
            BodyKind::Form => {
                form_payload = form_urlencoded::parse(d.body.as_bytes())
                    .find(|(k, _)| k == "payload")
                    .map(|(_, v)| v)
                    .ok_or_else(|| malformed("GitHub form body has no `payload` field"))?;
                &form_payload
            }
            BodyKind::Empty => "{}",
            BodyKind::Other => {
                return Err(malformed(
                    "GitHub sends application/json or application/x-www-form-urlencoded bodies",
                ));
            }
        };
        let detail = JsonPayload::parse(json)?.into_detail(&mut meta)?;
        Ok(vec![event::entry(settings, &meta, detail)])
    }

    fn secret_origin(&self) -> SecretOrigin {
        SecretOrigin::Generated
    }

    fn setup_steps(&self, url: &str, _stack: &str) -> String {
        format!(
            "In GitHub (repository or organization) > Settings > Webhooks > Add webhook:\n\
             1. Payload URL: {url}\n\
             2. Content type: application/json\n\
             3. Secret: the signing secret below (or the one you passed with --secret-stdin/--secret-env)\n\
             4. SSL verification: Enable\n\
             5. Which events: choose the events you want on the bus (each arrives with its event name as detail-type)\n\
             6. Add webhook. GitHub sends a ping at once: Recent Deliveries should show it answered 200.\n"
        )
    }

    fn after_rotation(&self) -> &'static str {
        "GitHub: Settings > Webhooks > your webhook > Secret: paste the new secret, Update webhook."
    }

    fn sample(
        &'static self,
        url: &str,
        secret: &[u8],
        _now: OffsetDateTime,
        random: [u8; 16],
    ) -> Sample {
        let body = serde_json::json!({
            "zen": "Keep it logically awesome.",
            "hook_id": 1,
            "hook": {
                "type": "Repository",
                "id": 1,
                "name": "web",
                "active": true,
                "events": ["push"],
                "config": {"content_type": "json", "insecure_ssl": "0", "url": url},
            },
            "sender": {"login": "ebhook-send-test", "id": 1, "type": "User"},
        })
        .to_string()
        .into_bytes();
        let delivery = uuid::Builder::from_random_bytes(random)
            .into_uuid()
            .to_string();
        let headers = vec![
            ("content-type", "application/json".to_owned()),
            (EVENT_HEADER, "ping".to_owned()),
            (DELIVERY_HEADER, delivery),
            (HOOK_ID_HEADER, "1".to_owned()),
            (SIGNATURE_HEADER, sign(secret, &body)),
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
    use crate::secrets::Secret;
    use http::HeaderMap;
    use serde_json::json;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

    fn check(
        secrets: &SecretSet,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<SecretSlot, VerifyError> {
        let mut headers = HeaderMap::new();
        if let Some(sig) = signature {
            headers.insert(SIGNATURE_HEADER, sig.parse().unwrap());
        }
        let req = SignedRequest {
            method: "POST",
            base_url: "https://x.lambda-url.eu-west-1.on.aws",
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            body,
        };
        named("github").verify(&req, secrets, &VerifyOptions::default(), NOW)
    }

    #[test]
    fn published_vectors() {
        let cases: [(&str, &[u8], &str); 2] = [
            (
                "It's a Secret to Everybody",
                b"Hello, World!",
                "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            ),
            (
                "mysecret",
                b"{\n  \"foo\": \"bar\"\n}\n",
                "sha256=e3eccac34c43c7dc1cbb905488b1b81347fcc700a7b025697a9d07862256023f",
            ),
        ];
        for (secret, body, sig) in cases {
            assert_eq!(sign(secret.as_bytes(), body), sig);
            assert_eq!(
                check(&SecretSet::single(secret), Some(sig), body),
                Ok(SecretSlot::Current)
            );
            let upper = format!("sha256={}", sig[7..].to_uppercase());
            assert_eq!(
                check(&SecretSet::single(secret), Some(&upper), body),
                Ok(SecretSlot::Current)
            );
        }
    }

    #[test]
    fn negatives() {
        let secret = SecretSet::single("It's a Secret to Everybody");
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(
            check(&secret, Some(sig), b"Hello, World?"),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(&SecretSet::single("wrong"), Some(sig), b"Hello, World!"),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(&secret, None, b"Hello, World!"),
            Err(VerifyError::MissingHeader(SIGNATURE_HEADER))
        );
        for bad in [
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "sha1=757107ea0eb2509fc211221cce984b8a37570b6d",
            "sha256=757107ea",
            "sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        ] {
            assert_eq!(
                check(&secret, Some(bad), b"Hello, World!"),
                Err(VerifyError::MalformedSignature),
                "{bad}"
            );
        }
        assert_eq!(
            check(&SecretSet::default(), Some(sig), b"Hello, World!"),
            Err(VerifyError::NoSecret)
        );
    }

    #[test]
    fn legacy_sha1_header_alone_is_refused() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-hub-signature",
            "sha1=0000000000000000000000000000000000000000"
                .parse()
                .unwrap(),
        );
        let req = SignedRequest {
            method: "POST",
            base_url: "https://h",
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            body: b"{}",
        };
        let r = named("github").verify(
            &req,
            &SecretSet::single("s"),
            &VerifyOptions::default(),
            NOW,
        );
        assert_eq!(r, Err(VerifyError::MissingHeader(SIGNATURE_HEADER)));
    }

    #[test]
    fn either_of_two_secrets() {
        let set = SecretSet::new(Some(Secret::new("new")), Some(Secret::new("old")), None);
        let body = b"{\"zen\":\"ok\"}";
        assert_eq!(
            check(&set, Some(&sign(b"old", body)), body),
            Ok(SecretSlot::Previous)
        );
        assert_eq!(
            check(&set, Some(&sign(b"new", body)), body),
            Ok(SecretSlot::Current)
        );
        assert_eq!(
            check(&set, Some(&sign(b"other", body)), body),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn github_json_keeps_payload_and_adds_metadata() {
        let body = b"{\n  \"zen\": \"Keep it logically awesome.\",\n  \"hook_id\": 1\n}\n";
        let headers = [
            JSON,
            ("x-github-event", "ping"),
            ("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
            ("x-github-hook-id", "42"),
        ];
        let entries = map("github", "POST", &headers, "", body, &settings()).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].source, "ebhook.test");
        assert_eq!(entries[0].detail_type, "ping");
        assert_eq!(
            detail(&entries[0]),
            json!({
                "zen": "Keep it logically awesome.",
                "hook_id": 1,
                "ebhook": {
                    "provider": "github",
                    "event": "ping",
                    "deliveryId": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
                    "webhookId": "42",
                    "receivedAt": "2026-11-22T12:00:00Z",
                    "requestId": "req-1",
                    "method": "POST",
                    "contentType": "application/json",
                    "bodySha256": crate::event::sha256_hex(body),
                    "signed": ["body"]
                }
            })
        );
    }

    #[test]
    fn github_form_payload_field_is_the_detail() {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("payload", r#"{"action":"opened","number":7}"#)
            .finish();
        let headers = [FORM, ("x-github-event", "pull_request")];
        let e = map("github", "POST", &headers, "", body.as_bytes(), &settings()).unwrap();
        let d = detail(&e[0]);
        assert_eq!(d["action"], "opened");
        assert_eq!(d["number"], 7);
        assert_eq!(e[0].detail_type, "pull_request");
        let err = map("github", "POST", &[FORM], "", b"other=1", &settings());
        assert!(matches!(err, Err(MapError::Malformed(_))));
        let err = map(
            "github",
            "POST",
            &[("content-type", "text/plain")],
            "",
            b"hi",
            &settings(),
        );
        assert!(matches!(err, Err(MapError::Malformed(_))));
    }

    #[test]
    fn the_sample_verifies_and_maps() {
        let s = Github.sample("https://u/", b"secret", NOW, [7; 16]);
        let signature = s.headers.iter().find(|(k, _)| *k == SIGNATURE_HEADER);
        let ok = check(
            &SecretSet::single("secret"),
            signature.map(|(_, v)| v.as_str()),
            &s.body,
        );
        assert_eq!(ok, Ok(SecretSlot::Current));
        let headers: Vec<_> = s.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let e = map("github", s.method, &headers, "", &s.body, &settings()).unwrap();
        assert_eq!(e[0].detail_type, "ping");
        assert_eq!(
            detail(&e[0])["ebhook"]["deliveryId"].as_str().map(str::len),
            Some(36)
        );
    }
}
