//! Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`, each `v1` the hex
//! HMAC-SHA256 of `t + "." + raw body`, keyed with the whole `whsec_...` endpoint secret as text
//! (it is not decoded). Stripe sends one `v1` per live secret, so any of them may match (two
//! during a secret roll); other schemes (`v0`, test-mode extras) are ignored, as Stripe's own
//! libraries ignore them. Facts: <https://docs.stripe.com/webhooks#verify-manually> and the
//! official `stripe` SDK's `WebhookSignature`.
//!
//! Stripe's SDKs only refuse timestamps older than the tolerance; this also refuses ones further
//! than the tolerance in the future, which no honest clock produces.

use http::HeaderName;
use time::{Duration, OffsetDateTime};

use super::{
    HmacSha256, MAX_SIGNATURES, SignedRequest, VerifyError, first_match_any, mac_bytes,
    parse_unix_seconds, within,
};
use super::{Sample, Scheme, SecretOrigin, VerifyOptions};
use crate::event::Signed;
use crate::event::{self, Delivery, Entry, EventSettings, MapError};
use crate::secrets::{SecretSet, SecretSlot};
use std::borrow::Cow;

pub const SIGNATURE_HEADER: &str = "stripe-signature";
// The same name as a `HeaderName`, which the verifier, the mapper and the logs look up (a lookup
// by `&str` parses the name each time).
pub static SIGNATURE: HeaderName = HeaderName::from_static(SIGNATURE_HEADER);

/// Stripe's own default replay window, in the SDKs and the docs.
pub const DEFAULT_TOLERANCE: Duration = Duration::seconds(300);

/// The `Stripe-Signature` value Stripe sends for `body` at `timestamp` (Unix seconds) when the
/// endpoint's secret is `secret` (the whole `whsec_...` text).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let t = timestamp.to_string();
    let mac = mac_bytes::<HmacSha256>(secret, &[t.as_bytes(), b".", body]);
    format!("t={t},v1={}", hex::encode(mac))
}

/// Verify `req` against every secret active at `now`; `tolerance` is the replay window either
/// way ([`DEFAULT_TOLERANCE`] is Stripe's).
pub fn verify(
    req: &SignedRequest<'_>,
    secrets: &SecretSet,
    tolerance: Duration,
    now: OffsetDateTime,
) -> Result<SecretSlot, VerifyError> {
    if !secrets.has_active(now) {
        return Err(VerifyError::NoSecret);
    }
    let header = req.header(&SIGNATURE)?;
    let parsed = parse(header.trim())?;
    // The cheap check first: a replay is refused without hashing its body.
    if !within(parsed.signed_at, now, tolerance) {
        return Err(VerifyError::StaleTimestamp);
    }
    first_match_any::<HmacSha256>(
        secrets.active(now),
        &[parsed.timestamp.as_bytes(), b".", req.body],
        &parsed.signatures[..parsed.count],
    )
    .ok_or(VerifyError::Mismatch)
}

struct Parsed<'a> {
    /// The timestamp as sent: the signed text.
    timestamp: &'a str,
    signed_at: OffsetDateTime,
    // A fixed array: parsing allocates nothing, whatever the header holds.
    signatures: [[u8; 32]; MAX_SIGNATURES],
    count: usize,
}

fn parse(header: &str) -> Result<Parsed<'_>, VerifyError> {
    let mut timestamp = None;
    let mut signatures = [[0u8; 32]; MAX_SIGNATURES];
    let mut count = 0;
    let mut v1_seen = 0usize;
    for item in header.split(',') {
        let (key, value) = item
            .split_once('=')
            .ok_or(VerifyError::MalformedSignature)?;
        match key {
            // Two timestamps make the header ambiguous; Stripe never sends them.
            "t" if timestamp.is_some() => return Err(VerifyError::MalformedSignature),
            "t" => timestamp = Some(value),
            "v1" => {
                v1_seen += 1;
                if v1_seen <= MAX_SIGNATURES
                    && hex::decode_to_slice(value, &mut signatures[count]).is_ok()
                {
                    count += 1;
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::MalformedSignature)?;
    let signed_at = parse_unix_seconds(timestamp).ok_or(VerifyError::MalformedSignature)?;
    // No `v1`, or none that is 64 hex digits: nothing this scheme can check.
    if count == 0 {
        return Err(VerifyError::MalformedSignature);
    }
    Ok(Parsed {
        timestamp,
        signed_at,
        signatures,
        count,
    })
}

/// Stripe's webhook endpoints (snapshot events).
pub struct Stripe;

impl Scheme for Stripe {
    fn name(&self) -> &'static str {
        "stripe"
    }

    fn signing(&self) -> &'static str {
        "hex HMAC-SHA256 of t.body (Stripe-Signature: t=...,v1=...; any v1 during a roll), t within the tolerance"
    }

    fn verify(
        &self,
        request: &SignedRequest<'_>,
        secrets: &SecretSet,
        options: &VerifyOptions,
        now: OffsetDateTime,
    ) -> Result<SecretSlot, VerifyError> {
        verify(request, secrets, options.tolerance, now)
    }

    /// Stripe signs the header's `t=` and the body (which holds the event id).
    fn signed<'r>(&self, request: &SignedRequest<'r>, _secret: &[u8]) -> Signed<'r> {
        let at = request
            .text(&SIGNATURE)
            .and_then(|h| h.split(',').find_map(|part| part.trim().strip_prefix("t=")));
        Signed::covering(&["timestamp", "body"]).at(at)
    }

    fn delivery_id_header(&self) -> Option<&'static HeaderName> {
        None
    }

    /// The event object as the Detail: named by its `type`, deduplicated by its `id` (the
    /// same on every retry of the event).
    fn map(&self, d: &Delivery<'_>, settings: &EventSettings) -> Result<Vec<Entry>, MapError> {
        event::json_event(d, settings, event::metadata(d), |meta, top| {
            if let Some(t) = top.event_type.take() {
                meta.event = Cow::Owned(t);
            }
            meta.delivery_id = top.id.take().map(Cow::Owned);
        })
    }

    /// Stripe shows the endpoint's secret once the endpoint exists.
    fn secret_origin(&self) -> SecretOrigin {
        SecretOrigin::AfterWebhook {
            prompt: "Stripe signing secret, whsec_... (hidden; Enter to set it later)",
        }
    }

    fn setup_steps(&self, url: &str, stack: &str) -> String {
        format!(
            "In the Stripe Dashboard (test or live mode, as you need):\n\
             1. Developers > Webhooks (Workbench: Webhooks) > Add destination (Add endpoint).\n\
             2. Choose the events to send (each arrives with its type as detail-type), then Webhook endpoint.\n\
             3. Endpoint URL: {url}\n\
             4. Create it. On the endpoint's page, reveal the Signing secret (whsec_...) and copy it.\n\
             5. Give it to ebhook: ebhook init --provider stripe --stack-name {stack} --secret-stdin\n   \
                (paste the secret, then Ctrl-D). Until a secret is set, the endpoint rejects every request.\n\
             Stripe can sign with two secrets at once: to rotate, Roll secret in Stripe with an expiry, then\n\
             ebhook rotate-secret --stack-name {stack} --secret-stdin with the new one.\n"
        )
    }

    fn after_rotation(&self) -> &'static str {
        "Stripe: if you rolled the secret with an expiry, Stripe signs with both until then; nothing more to do there."
    }

    fn sample(
        &'static self,
        url: &str,
        secret: &[u8],
        now: OffsetDateTime,
        random: [u8; 16],
    ) -> Sample {
        let body = serde_json::json!({
            "id": format!("evt_{}", hex::encode(&random[..12])),
            "object": "event",
            "api_version": "2025-09-30.clover",
            "created": now.unix_timestamp(),
            "type": "payment_intent.succeeded",
            "livemode": false,
            "pending_webhooks": 1,
            "request": {"id": null, "idempotency_key": null},
            "data": {"object": {
                "id": format!("pi_{}", hex::encode(&random[12..])),
                "object": "payment_intent",
                "amount": 2000,
                "currency": "usd",
                "status": "succeeded",
                "description": "ebhook send-test",
            }},
        })
        .to_string()
        .into_bytes();
        let signature = sign(secret, now.unix_timestamp(), &body);
        Sample {
            method: "POST",
            url: url.to_owned(),
            headers: vec![
                ("content-type", "application/json; charset=utf-8".to_owned()),
                (SIGNATURE_HEADER, signature),
            ],
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Secret;
    use http::{HeaderMap, HeaderValue};
    use time::macros::datetime;

    // Produced once with Stripe's official Python SDK, stripe 16.1.0:
    // `stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=ts)`.
    const SDK_SECRET: &str = "whsec_test_secret";
    const SDK_BODY: &[u8] = b"{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\"\n}";
    const SDK_HEADER: &str =
        "t=1795348800,v1=55f1cf77350cf339e1b43a6fdf0deb1ee7763a99dfa9aefae217facdc62bf9b9";
    const SDK_SECRET_2: &str = "whsec_ebhook_stripe_vector_2";
    const SDK_BODY_2: &[u8] = br#"{"id":"evt_1","object":"event","type":"invoice.paid"}"#;
    const SDK_HEADER_2: &str =
        "t=1795348680,v1=6273aed4373c1cd0fa09372da907578b18e9d6992b4604a9465ad0bb8ddbc01d";
    /// 1795348800, the SDK vectors' `t`.
    const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

    fn check_with(
        secrets: &SecretSet,
        header: Option<HeaderValue>,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<SecretSlot, VerifyError> {
        let mut headers = HeaderMap::new();
        if let Some(value) = header {
            headers.insert(SIGNATURE_HEADER, value);
        }
        let req = SignedRequest {
            method: "POST",
            base_url: "https://x.lambda-url.eu-west-1.on.aws",
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            body,
        };
        verify(&req, secrets, DEFAULT_TOLERANCE, now)
    }

    fn check(secrets: &SecretSet, header: &str, body: &[u8]) -> Result<SecretSlot, VerifyError> {
        check_with(secrets, Some(header.parse().unwrap()), body, NOW)
    }

    #[test]
    fn sdk_vectors() {
        assert_eq!(
            sign(SDK_SECRET.as_bytes(), 1795348800, SDK_BODY),
            SDK_HEADER
        );
        assert_eq!(
            sign(SDK_SECRET_2.as_bytes(), 1795348680, SDK_BODY_2),
            SDK_HEADER_2
        );
        assert_eq!(
            check(&SecretSet::single(SDK_SECRET), SDK_HEADER, SDK_BODY),
            Ok(SecretSlot::Current)
        );
        assert_eq!(
            check(&SecretSet::single(SDK_SECRET_2), SDK_HEADER_2, SDK_BODY_2),
            Ok(SecretSlot::Current)
        );
    }

    #[test]
    fn tampered_body_and_wrong_secret_fail() {
        let secrets = SecretSet::single(SDK_SECRET);
        let tampered = b"{\n  \"id\": \"evt_test_webhooK\",\n  \"object\": \"event\"\n}";
        assert_eq!(
            check(&secrets, SDK_HEADER, tampered),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(&SecretSet::single("whsec_other"), SDK_HEADER, SDK_BODY),
            Err(VerifyError::Mismatch)
        );
        // The key is the whole text: the secret without its prefix is another key.
        assert_eq!(
            check(&SecretSet::single("test_secret"), SDK_HEADER, SDK_BODY),
            Err(VerifyError::Mismatch)
        );
        // Signed at another time with the same body and secret.
        let other_t = SDK_HEADER.replacen("1795348800", "1795348801", 1);
        assert_eq!(
            check(&secrets, &other_t, SDK_BODY),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn window_both_ways() {
        let secrets = SecretSet::single(SDK_SECRET);
        let header = || Some(SDK_HEADER.parse().unwrap());
        for (now, expected) in [
            (NOW + Duration::seconds(300), Ok(SecretSlot::Current)),
            (NOW - Duration::seconds(300), Ok(SecretSlot::Current)),
            (
                NOW + Duration::seconds(301),
                Err(VerifyError::StaleTimestamp),
            ),
            (
                NOW - Duration::seconds(301),
                Err(VerifyError::StaleTimestamp),
            ),
        ] {
            assert_eq!(
                check_with(&secrets, header(), SDK_BODY, now),
                expected,
                "{now}"
            );
        }
    }

    #[test]
    fn any_v1_may_match_and_other_schemes_are_ignored() {
        let secrets = SecretSet::single(SDK_SECRET);
        let good = &SDK_HEADER["t=1795348800,".len()..];
        let wrong = "v1=".to_owned() + &"ab".repeat(32);
        // A roll: Stripe signs with the old and the new secret.
        let rolled = format!("t=1795348800,{wrong},{good}");
        assert_eq!(check(&secrets, &rolled, SDK_BODY), Ok(SecretSlot::Current));
        let with_v0 = format!("t=1795348800,v0={},{good},x=y", "cd".repeat(32));
        assert_eq!(check(&secrets, &with_v0, SDK_BODY), Ok(SecretSlot::Current));
        // Hex is case-insensitive: the same bytes.
        let upper = format!("t=1795348800,v1={}", good[3..].to_uppercase());
        assert_eq!(check(&secrets, &upper, SDK_BODY), Ok(SecretSlot::Current));
        // A v0 alone is not a v1.
        let v0_only = format!("t=1795348800,v0={}", &good[3..]);
        assert_eq!(
            check(&secrets, &v0_only, SDK_BODY),
            Err(VerifyError::MalformedSignature)
        );
    }

    #[test]
    fn previous_secret_verifies_until_expiry() {
        let set = SecretSet::new(
            Some(Secret::new("whsec_new")),
            Some(Secret::new(SDK_SECRET)),
            Some(NOW + Duration::seconds(30)),
        );
        let header = || Some(SDK_HEADER.parse().unwrap());
        assert_eq!(
            check_with(&set, header(), SDK_BODY, NOW + Duration::seconds(10)),
            Ok(SecretSlot::Previous)
        );
        assert_eq!(
            check_with(&set, header(), SDK_BODY, NOW + Duration::seconds(31)),
            Err(VerifyError::Mismatch)
        );
        let new = sign(b"whsec_new", 1795348800, SDK_BODY);
        assert_eq!(check(&set, &new, SDK_BODY), Ok(SecretSlot::Current));
    }

    #[test]
    fn missing_header_and_no_secret() {
        let secrets = SecretSet::single(SDK_SECRET);
        assert_eq!(
            check_with(&secrets, None, SDK_BODY, NOW),
            Err(VerifyError::MissingHeader(SIGNATURE_HEADER))
        );
        assert_eq!(
            check(&SecretSet::default(), SDK_HEADER, SDK_BODY),
            Err(VerifyError::NoSecret)
        );
        // Not text: the header is unreadable, as good as absent.
        let binary = HeaderValue::from_bytes(b"t=1795348800,v1=\xff").unwrap();
        assert_eq!(
            check_with(&secrets, Some(binary), SDK_BODY, NOW),
            Err(VerifyError::MissingHeader(SIGNATURE_HEADER))
        );
    }

    #[test]
    fn malformed_headers_are_refused_without_panicking() {
        let secrets = SecretSet::single(SDK_SECRET);
        let sig = &SDK_HEADER["t=1795348800,v1=".len()..];
        for bad in [
            String::new(),
            ",".into(),
            "=".into(),
            "t=".into(),
            "v1=".into(),
            "t=1795348800".into(),
            format!("v1={sig}"),
            format!("t=,v1={sig}"),
            format!("t=-1,v1={sig}"),
            format!("t=+1795348800,v1={sig}"),
            format!("t=1795348800.5,v1={sig}"),
            format!("t=17953488000000000000000,v1={sig}"),
            format!("t=1795348800,t=1795348800,v1={sig}"),
            format!("t=1795348800,v1={sig},garbage"),
            format!("t=1795348800,v1={}", &sig[..62]),
            format!("t=1795348800,v1={sig}00"),
            format!("t=1795348800,v1=zz{}", &sig[2..]),
            format!("t=1795348800 ,v1={sig}"),
        ] {
            assert_eq!(
                check(&secrets, &bad, SDK_BODY),
                Err(VerifyError::MalformedSignature),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn only_the_first_sixteen_v1_are_examined() {
        let secrets = SecretSet::single(SDK_SECRET);
        let good = &SDK_HEADER["t=1795348800,".len()..];
        let wrong = "v1=".to_owned() + &"ab".repeat(32);
        let within_cap = format!("t=1795348800,{},{good}", vec![wrong.as_str(); 15].join(","));
        assert_eq!(
            check(&secrets, &within_cap, SDK_BODY),
            Ok(SecretSlot::Current)
        );
        // Thousands of entries: parsed without allocating, the right one past the cap unread.
        let flood = format!(
            "t=1795348800,{},{good}",
            vec![wrong.as_str(); 5_000].join(",")
        );
        assert_eq!(
            check(&secrets, &flood, SDK_BODY),
            Err(VerifyError::Mismatch)
        );
    }
}
