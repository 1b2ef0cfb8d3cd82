//! Shopify: `X-Shopify-Hmac-Sha256` = base64(HMAC-SHA256(app client secret, raw body)).
//!
//! Nothing but the body is signed. `X-Shopify-Triggered-At` is a plain header an attacker can
//! set, so a window on it would stop no replay; `verify` therefore takes no tolerance (as
//! GitHub's, which has no timestamp either). Replays are caught by deduplicating on
//! `X-Shopify-Event-Id` (the same across duplicate deliveries of one event) or
//! `X-Shopify-Webhook-Id`. After a client-secret rotation Shopify may sign with the old secret
//! for up to an hour, so keep it as the previous secret at least that long.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use http::HeaderName;
use time::OffsetDateTime;

use super::{HmacSha256, SignedRequest, VerifyError, decode_base64_mac, first_match, mac_bytes};
use super::{Sample, Scheme, SecretOrigin, VerifyOptions};
use crate::event::Signed;
use crate::event::{self, Delivery, Entry, EventSettings, MapError};
use crate::secrets::{SecretSet, SecretSlot};
use std::borrow::Cow;

pub const HMAC_HEADER: &str = "x-shopify-hmac-sha256";
/// The subscription topic, e.g. `orders/create`.
pub const TOPIC_HEADER: &str = "x-shopify-topic";
/// Unique per delivery subscription and event.
pub const WEBHOOK_ID_HEADER: &str = "x-shopify-webhook-id";
/// The same on every delivery of one event: the dedupe key.
pub const EVENT_ID_HEADER: &str = "x-shopify-event-id";
/// The shop's `*.myshopify.com` domain.
pub const SHOP_DOMAIN_HEADER: &str = "x-shopify-shop-domain";
/// When the event fired (ISO-8601). Not signed.
pub const TRIGGERED_AT_HEADER: &str = "x-shopify-triggered-at";
/// The API version the payload is serialised with.
pub const API_VERSION_HEADER: &str = "x-shopify-api-version";
// The same names as `HeaderName`s, which the verifier, the mapper and the logs look up (a
// lookup by `&str` parses the name each time).
pub static HMAC: HeaderName = HeaderName::from_static(HMAC_HEADER);
pub static TOPIC: HeaderName = HeaderName::from_static(TOPIC_HEADER);
pub static WEBHOOK_ID: HeaderName = HeaderName::from_static(WEBHOOK_ID_HEADER);
pub static EVENT_ID: HeaderName = HeaderName::from_static(EVENT_ID_HEADER);
pub static SHOP_DOMAIN: HeaderName = HeaderName::from_static(SHOP_DOMAIN_HEADER);
pub static TRIGGERED_AT: HeaderName = HeaderName::from_static(TRIGGERED_AT_HEADER);
pub static API_VERSION: HeaderName = HeaderName::from_static(API_VERSION_HEADER);

/// The `X-Shopify-Hmac-Sha256` Shopify sends for `body`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    B64.encode(mac_bytes::<HmacSha256>(secret, &[body]))
}

/// Verify a Shopify webhook delivery against the secrets active at `now`.
pub fn verify(
    req: &SignedRequest<'_>,
    secrets: &SecretSet,
    now: OffsetDateTime,
) -> Result<SecretSlot, VerifyError> {
    if !secrets.has_active(now) {
        return Err(VerifyError::NoSecret);
    }
    let header = req.header(&HMAC)?;
    let expected = decode_base64_mac(header.trim(), 32)?;
    first_match::<HmacSha256>(secrets.active(now), &[req.body], &expected)
        .ok_or(VerifyError::Mismatch)
}

/// Shopify's webhook subscriptions (apps, and store-admin webhooks).
pub struct Shopify;

impl Scheme for Shopify {
    fn name(&self) -> &'static str {
        "shopify"
    }

    fn signing(&self) -> &'static str {
        "base64 HMAC-SHA256 of the body (X-Shopify-Hmac-Sha256), keyed by the app's client secret; dedupe on X-Shopify-Event-Id"
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

    /// Shopify signs the body alone, not its headers (topic, ids, `X-Shopify-Triggered-At`).
    fn signed<'r>(&self, _request: &SignedRequest<'r>, _secret: &[u8]) -> Signed<'r> {
        Signed::covering(&["body"])
    }

    fn delivery_id_header(&self) -> Option<&'static HeaderName> {
        Some(&WEBHOOK_ID)
    }

    /// The resource as the Detail, named by `X-Shopify-Topic` (`orders/create`).
    fn map(&self, d: &Delivery<'_>, settings: &EventSettings) -> Result<Vec<Entry>, MapError> {
        let mut meta = event::metadata(d);
        meta.event = Cow::Borrowed(d.header(&TOPIC).unwrap_or_default());
        meta.delivery_id = d.header(&WEBHOOK_ID).map(Cow::Borrowed);
        meta.event_id = d.header(&EVENT_ID);
        meta.account_id = d.header(&SHOP_DOMAIN);
        event::json_event(d, settings, meta, |_, _| {})
    }

    fn secret_origin(&self) -> SecretOrigin {
        SecretOrigin::Provider {
            prompt: "Shopify app client secret (hidden; Dev Dashboard or Partner Dashboard > your app > Settings)",
        }
    }

    fn setup_steps(&self, url: &str, stack: &str) -> String {
        format!(
            "For a Shopify app:\n\
             1. Subscribe to topics with the URL {url}: in shopify.app.toml ([[webhooks.subscriptions]] uri = \"{url}\",\n   \
                topics = [\"orders/create\", ...]) then shopify app deploy, or with the Admin API webhookSubscriptionCreate.\n\
             2. The secret is the app's client secret (Dev Dashboard > your app > Settings). Each delivery arrives\n   \
                with X-Shopify-Topic as detail-type.\n\
             For a store's own webhooks (Settings > Notifications > Webhooks > Create webhook, format JSON, URL {url}),\n\
             the secret is the key shown there (\"Your webhooks will be signed with ...\"): give it with\n\
             ebhook init --provider shopify --stack-name {stack} --secret-stdin\n"
        )
    }

    fn after_rotation(&self) -> &'static str {
        "Shopify: after rotating the client secret Shopify may sign with the old one for up to an hour; keep the grace period at least that long."
    }

    fn sample(
        &'static self,
        url: &str,
        secret: &[u8],
        now: OffsetDateTime,
        random: [u8; 16],
    ) -> Sample {
        let order = u64::from_be_bytes([
            0, 0, 0, random[0], random[1], random[2], random[3], random[4],
        ]);
        let body = serde_json::json!({
            "id": order,
            "admin_graphql_api_id": format!("gid://shopify/Order/{order}"),
            "name": "#1001",
            "email": "send-test@example.com",
            "created_at": event::received_at(now),
            "currency": "USD",
            "total_price": "20.00",
            "financial_status": "paid",
            "note": "ebhook send-test",
            "line_items": [],
        })
        .to_string()
        .into_bytes();
        let id = |r: [u8; 16]| uuid::Builder::from_random_bytes(r).into_uuid().to_string();
        let mut shifted = random;
        shifted.rotate_left(8);
        Sample {
            method: "POST",
            url: url.to_owned(),
            headers: vec![
                ("content-type", "application/json".to_owned()),
                (TOPIC_HEADER, "orders/create".to_owned()),
                (WEBHOOK_ID_HEADER, id(random)),
                (EVENT_ID_HEADER, id(shifted)),
                (SHOP_DOMAIN_HEADER, "send-test.myshopify.com".to_owned()),
                (API_VERSION_HEADER, "2025-10".to_owned()),
                (TRIGGERED_AT_HEADER, event::received_at(now)),
                (HMAC_HEADER, sign(secret, &body)),
            ],
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Secret;
    use http::HeaderMap;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

    // Shopify publishes no example signature. These were produced once with Shopify's own
    // library, @shopify/shopify-api 15.0.0 (npm): `createSHA256HMAC(secret, body, 'base64')`,
    // each accepted by its `shopify.webhooks.validate()`.
    const SDK_VECTORS: [(&str, &str, &str); 2] = [
        (
            "hush",
            r#"{"id":820982911946154508,"email":"jon@example.com","closed_at":null}"#,
            "NqcMFqpD9dzRa5H+M4QPyKeHcMF2sF7HZcNvvr5kf/E=",
        ),
        (
            "shpss_0123456789abcdef0123456789abcdef",
            "{\"id\":1,\"title\":\"Caf\u{e9} \u{2615}\"}",
            "HKXkupIraDYc3z+A5lcJGbHjrRnW1logGeoGI6or/IA=",
        ),
    ];

    fn check(
        secrets: &SecretSet,
        signature: Option<&str>,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<SecretSlot, VerifyError> {
        let mut headers = HeaderMap::new();
        if let Some(sig) = signature {
            headers.insert(HMAC_HEADER, sig.parse().unwrap());
        }
        headers.insert(TOPIC_HEADER, "orders/create".parse().unwrap());
        let req = SignedRequest {
            method: "POST",
            base_url: "https://x.lambda-url.eu-west-1.on.aws",
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            body,
        };
        verify(&req, secrets, now)
    }

    #[test]
    fn sdk_vectors() {
        for (secret, body, sig) in SDK_VECTORS {
            assert_eq!(sign(secret.as_bytes(), body.as_bytes()), sig);
            assert_eq!(
                check(&SecretSet::single(secret), Some(sig), body.as_bytes(), NOW),
                Ok(SecretSlot::Current),
                "{body}"
            );
        }
    }

    #[test]
    fn tampered_body_and_wrong_secret_fail() {
        let (secret, body, sig) = SDK_VECTORS[0];
        let tampered = body.replace("jon@", "eve@");
        assert_eq!(
            check(
                &SecretSet::single(secret),
                Some(sig),
                tampered.as_bytes(),
                NOW
            ),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(
                &SecretSet::single("not hush"),
                Some(sig),
                body.as_bytes(),
                NOW
            ),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn missing_and_malformed_headers() {
        let (secret, body, sig) = SDK_VECTORS[0];
        let secrets = SecretSet::single(secret);
        assert_eq!(
            check(&secrets, None, body.as_bytes(), NOW),
            Err(VerifyError::MissingHeader(HMAC_HEADER))
        );
        let hex_form = hex::encode(B64.decode(sig).unwrap());
        let long = "A".repeat(4096);
        for bad in [
            "",
            "not base64!!",
            "AAAA",
            // Unpadded, URL-safe alphabet, hex and a 33-byte value are all refused.
            sig.trim_end_matches('='),
            &sig.replace('+', "-").replace('/', "_"),
            &hex_form,
            "NqcMFqpD9dzRa5H+M4QPyKeHcMF2sF7HZcNvvr5kf/E=AAAA",
            "sha256=NqcMFqpD9dzRa5H+M4QPyKeHcMF2sF7HZcNvvr5kf/E=",
            // Non-canonical trailing bits.
            "NqcMFqpD9dzRa5H+M4QPyKeHcMF2sF7HZcNvvr5kf/F=",
            &long,
        ] {
            assert_eq!(
                check(&secrets, Some(bad), body.as_bytes(), NOW),
                Err(VerifyError::MalformedSignature),
                "{bad}"
            );
        }
    }

    #[test]
    fn no_active_secret() {
        let (_, body, sig) = SDK_VECTORS[0];
        assert_eq!(
            check(&SecretSet::default(), Some(sig), body.as_bytes(), NOW),
            Err(VerifyError::NoSecret)
        );
    }

    #[test]
    fn previous_secret_verifies_until_expiry() {
        let (old, body, sig) = SDK_VECTORS[0];
        let set = SecretSet::new(
            Some(Secret::new("new client secret")),
            Some(Secret::new(old)),
            Some(datetime!(2026-11-22 13:00 UTC)),
        );
        assert_eq!(
            check(&set, Some(sig), body.as_bytes(), NOW),
            Ok(SecretSlot::Previous)
        );
        assert_eq!(
            check(
                &set,
                Some(sig),
                body.as_bytes(),
                datetime!(2026-11-22 13:00 UTC)
            ),
            Err(VerifyError::Mismatch)
        );
        let fresh = sign(b"new client secret", body.as_bytes());
        assert_eq!(
            check(&set, Some(&fresh), body.as_bytes(), NOW),
            Ok(SecretSlot::Current)
        );
    }

    #[test]
    fn non_utf8_and_empty_bodies_verify_over_raw_bytes() {
        for body in [&[0xff, 0xfe, 0x00, 0x80][..], b""] {
            let sig = sign(b"k", body);
            assert_eq!(
                check(&SecretSet::single("k"), Some(&sig), body, NOW),
                Ok(SecretSlot::Current)
            );
        }
    }
}
