//! `verify_shopify`: Shopify's `X-Shopify-Hmac-Sha256` = base64(HMAC-SHA256(client secret, raw
//! body)). Nothing else is signed, so there is no timestamp window.
//!
//! - The SDK vectors (@shopify/shopify-api) reproduce.
//! - A body signed as Shopify signs verifies under the slot holding that secret (also padded
//!   with spaces), whatever the tolerance and the unsigned `X-Shopify-Triggered-At`; an expired
//!   previous secret does not verify.
//! - A flipped body byte never verifies; a different secret verifies only if it is the same
//!   HMAC key.
//! - Whatever the headers, the answer equals an independent model of Shopify's rule.

use arbitrary::Arbitrary;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ebhook_handler::SecretSlot;
use ebhook_handler::providers::shopify::{HMAC_HEADER, TOPIC_HEADER, TRIGGERED_AT_HEADER, sign};
use ebhook_handler::verify::{SignedRequest, VerifyError, VerifyOptions};
use http::HeaderMap;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::oracle::{Hash, Keys, hmac};
use crate::{Bytes, append_headers, flipped, header_text, insert_headers};

const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

pub struct Vector {
    pub secret: &'static str,
    pub body: &'static [u8],
    pub signature: Option<&'static str>,
}

/// The vectors made with Shopify's own library (the handler's unit tests) and a realistic
/// `orders/create` delivery.
pub const VECTORS: [Vector; 3] = [
    Vector {
        secret: "hush",
        body: br#"{"id":820982911946154508,"email":"jon@example.com","closed_at":null}"#,
        signature: Some("NqcMFqpD9dzRa5H+M4QPyKeHcMF2sF7HZcNvvr5kf/E="),
    },
    Vector {
        secret: "shpss_0123456789abcdef0123456789abcdef",
        body: "{\"id\":1,\"title\":\"Caf\u{e9} \u{2615}\"}".as_bytes(),
        signature: Some("HKXkupIraDYc3z+A5lcJGbHjrRnW1logGeoGI6or/IA="),
    },
    Vector {
        secret: "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        body: br##"{"id":5678901234,"admin_graphql_api_id":"gid://shopify/Order/5678901234","name":"#1001","email":"a@example.com","created_at":"2026-11-22T12:00:00.000Z","currency":"USD","total_price":"20.00","financial_status":"paid","line_items":[{"id":1,"title":"Mug","quantity":2}]}"##,
        signature: None,
    },
];

#[derive(Arbitrary, Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    pub vector: u8,
    /// 0: as Shopify sends it; 1: padded with spaces.
    pub style: u8,
    /// Any window: Shopify signs no time, so it must not matter.
    pub tolerance_seconds: u16,
    /// Put the signing secret in the `previous` slot, behind another current one.
    pub previous_slot: bool,
    pub previous_expired: bool,
    pub flip_at: u16,
    pub flip_mask: u8,
    pub secret: Option<Vec<u8>>,
    pub other_secret: Option<Vec<u8>>,
    /// Sent instead of the right signature.
    pub signature: Option<String>,
    /// Added after the signature header (a repeated name adds a second value).
    pub headers: Option<Vec<(String, String)>>,
    /// Sign and send `body` instead of the vector's.
    pub custom_body: bool,
    pub body: Bytes,
}

fn run(
    keys: &Keys,
    tolerance: Duration,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<SecretSlot, VerifyError> {
    let req = SignedRequest {
        method: "POST",
        base_url: "https://example.lambda-url.us-east-1.on.aws",
        raw_path: "/",
        raw_query: "",
        headers,
        body,
    };
    let options = VerifyOptions {
        tolerance,
        accept_test_secret: false,
    };
    crate::provider("shopify").verify(&req, &keys.set(), &options, keys.now)
}

/// Shopify's rule, written from its documentation: standard padded base64 of a 32-byte MAC.
fn model(keys: &Keys, headers: &HeaderMap, body: &[u8]) -> Result<SecretSlot, VerifyError> {
    let candidates = keys.active();
    if candidates.is_empty() {
        return Err(VerifyError::NoSecret);
    }
    let value = header_text(headers, HMAC_HEADER).ok_or(VerifyError::MissingHeader(HMAC_HEADER))?;
    let mac = B64
        .decode(value.trim())
        .ok()
        .filter(|m| m.len() == 32)
        .ok_or(VerifyError::MalformedSignature)?;
    candidates
        .into_iter()
        .find(|(_, key)| hmac(Hash::Sha256, key, &[body]) == mac)
        .map(|(slot, _)| slot)
        .ok_or(VerifyError::Mismatch)
}

pub fn check(input: &Input) {
    let v = &VECTORS[usize::from(input.vector) % VECTORS.len()];
    let secret = input.secret.as_deref().unwrap_or(v.secret.as_bytes());
    let other = input
        .other_secret
        .as_deref()
        .unwrap_or(b"another shopify client secret");
    let body = if input.custom_body {
        &input.body.0[..]
    } else {
        v.body
    };
    let tolerance = Duration::seconds(i64::from(input.tolerance_seconds));
    let signature = B64.encode(hmac(Hash::Sha256, secret, &[body]));
    assert_eq!(
        sign(secret, body),
        signature,
        "shopify::sign is the model's"
    );

    if let Some(published) = v.signature
        && input.secret.is_none()
        && !input.custom_body
    {
        assert_eq!(signature, published, "vector {}", input.vector);
    }

    let sent = match input.style % 2 {
        1 => format!("  {signature}\t"),
        _ => signature.clone(),
    };
    let mut signed = HeaderMap::new();
    insert_headers(
        &mut signed,
        [
            (HMAC_HEADER, sent.as_str()),
            (TOPIC_HEADER, "orders/create"),
            // Unsigned, and long ago: it must not matter.
            (TRIGGERED_AT_HEADER, "2001-01-01T00:00:00Z"),
        ],
    );

    let expect = |keys: &Keys, signer: Option<&[u8]>| {
        if keys.active().is_empty() {
            Err(VerifyError::NoSecret)
        } else {
            signer
                .and_then(|s| keys.slot_for(Hash::Sha256, s))
                .ok_or(VerifyError::Mismatch)
        }
    };

    let keys = if input.previous_slot {
        Keys::rotating(other, secret, input.previous_expired, NOW)
    } else {
        Keys::single(secret, NOW)
    };

    let got = run(&keys, tolerance, &signed, body);
    assert_eq!(got, expect(&keys, Some(secret)), "round trip");
    assert_eq!(got, model(&keys, &signed, body));

    if let Some(tampered) = flipped(body, input.flip_at, input.flip_mask) {
        let got = run(&keys, tolerance, &signed, &tampered);
        assert_eq!(got, expect(&keys, None), "flipped body byte");
        assert_eq!(got, model(&keys, &signed, &tampered));
    }

    let wrong = Keys::single(other, NOW);
    assert_eq!(
        run(&wrong, tolerance, &signed, body),
        expect(&wrong, Some(secret)),
        "different secret"
    );

    if input.signature.is_some() || input.headers.is_some() {
        let mut h = signed.clone();
        if let Some(raw) = &input.signature {
            h.remove(HMAC_HEADER);
            insert_headers(&mut h, [(HMAC_HEADER, raw.as_str())]);
        }
        append_headers(&mut h, input.headers.as_deref().unwrap_or_default());
        let got = run(&keys, tolerance, &h, body);
        assert_eq!(got, model(&keys, &h, body), "headers {h:?}");
    }
}
