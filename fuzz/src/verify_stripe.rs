//! `verify_stripe`: Stripe's `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=...]`, each `v1`
//! the hex HMAC-SHA256 of `t + "." + body` keyed with the whole `whsec_...` text.
//!
//! - The SDK vectors reproduce (the model's HMAC, `stripe::sign` and the verifier agree).
//! - A request signed as Stripe signs verifies under the slot holding that secret when `t` is
//!   within the tolerance either way, and is stale outside it; an expired previous secret does
//!   not verify. Upper-case hex, other schemes beside `v1` (`v0`, unknown names), padding
//!   around the value and a second `v1` from another secret (a roll) change nothing.
//! - A flipped body byte never verifies; a different secret verifies only if it is the same
//!   HMAC key.
//! - Whatever the headers, the answer equals an independent model of Stripe's rule.

use arbitrary::Arbitrary;
use ebhook_handler::SecretSlot;
use ebhook_handler::providers::stripe::{SIGNATURE_HEADER, sign};
use ebhook_handler::verify::{SignedRequest, VerifyError, VerifyOptions};
use http::HeaderMap;
use time::{Duration, OffsetDateTime};

use crate::oracle::{Hash, Keys, MAX_SIGNATURES, hmac, in_window, unix_seconds};
use crate::{Bytes, append_headers, flipped, header_text, insert_headers};

pub struct Vector {
    pub secret: &'static str,
    /// When Stripe signed it, Unix seconds; the verifier's clock is set here.
    pub timestamp: i64,
    pub body: &'static [u8],
    pub header: Option<&'static str>,
}

/// The vectors made with Stripe's SDK (the handler's unit tests) and a realistic event.
pub const VECTORS: [Vector; 3] = [
    Vector {
        secret: "whsec_test_secret",
        timestamp: 1_795_348_800,
        body: b"{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\"\n}",
        header: Some(
            "t=1795348800,v1=55f1cf77350cf339e1b43a6fdf0deb1ee7763a99dfa9aefae217facdc62bf9b9",
        ),
    },
    Vector {
        secret: "whsec_ebhook_stripe_vector_2",
        timestamp: 1_795_348_680,
        body: br#"{"id":"evt_1","object":"event","type":"invoice.paid"}"#,
        header: Some(
            "t=1795348680,v1=6273aed4373c1cd0fa09372da907578b18e9d6992b4604a9465ad0bb8ddbc01d",
        ),
    },
    Vector {
        secret: "whsec_5f0c7e2a9b1d4c6e8f0a2b4c6d8e0f1a",
        timestamp: 1_795_348_800,
        body: br#"{"id":"evt_3QxYzAbCdEfGhIjK","object":"event","api_version":"2025-09-30.clover","created":1795348800,"type":"payment_intent.succeeded","livemode":false,"pending_webhooks":1,"request":{"id":null,"idempotency_key":null},"data":{"object":{"id":"pi_3QxYz","object":"payment_intent","amount":2000,"currency":"usd","status":"succeeded"}}}"#,
        header: None,
    },
];

#[derive(Arbitrary, Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    pub vector: u8,
    /// 0: as Stripe sends it; 1: hex upper-cased; 2: `v0` and an unknown scheme around the
    /// `v1`; 3: a roll, the other secret's `v1` first; 4: the same, ours first; 5: padded.
    pub style: u8,
    /// The request was signed this many seconds before the verifier's clock.
    pub skew_seconds: i16,
    /// The allowed window either way; 300 s (Stripe's default) when absent.
    pub tolerance_seconds: Option<u16>,
    /// Put the signing secret in the `previous` slot, behind another current one.
    pub previous_slot: bool,
    pub previous_expired: bool,
    pub flip_at: u16,
    pub flip_mask: u8,
    pub secret: Option<Vec<u8>>,
    pub other_secret: Option<Vec<u8>>,
    /// Sent instead of the signed header.
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
    crate::provider("stripe").verify(&req, &keys.set(), &options, keys.now)
}

/// Stripe's rule, written from its documentation ("verify manually") and SDKs, with the
/// handler's documented refusals: an entry without `=` or a second `t` is malformed, only the
/// first [`MAX_SIGNATURES`] `v1` are read, and a `t` in the future counts as outside the window.
fn model(
    keys: &Keys,
    tolerance: Duration,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<SecretSlot, VerifyError> {
    let candidates = keys.active();
    if candidates.is_empty() {
        return Err(VerifyError::NoSecret);
    }
    let value = header_text(headers, SIGNATURE_HEADER)
        .ok_or(VerifyError::MissingHeader(SIGNATURE_HEADER))?;
    let mut t = None;
    let mut v1 = Vec::new();
    for item in value.trim().split(',') {
        let (name, text) = item
            .split_once('=')
            .ok_or(VerifyError::MalformedSignature)?;
        match name {
            "t" if t.replace(text).is_some() => return Err(VerifyError::MalformedSignature),
            "v1" => v1.push(text),
            _ => {}
        }
    }
    let t = t.ok_or(VerifyError::MalformedSignature)?;
    let signed_at = unix_seconds(t, 18).ok_or(VerifyError::MalformedSignature)?;
    let macs: Vec<Vec<u8>> = v1
        .into_iter()
        .take(MAX_SIGNATURES)
        .filter_map(|h| hex::decode(h).ok().filter(|m| m.len() == 32))
        .collect();
    if macs.is_empty() {
        return Err(VerifyError::MalformedSignature);
    }
    if !in_window(signed_at, keys.now, tolerance) {
        return Err(VerifyError::StaleTimestamp);
    }
    candidates
        .into_iter()
        .find(|(_, key)| macs.contains(&hmac(Hash::Sha256, key, &[t.as_bytes(), b".", body])))
        .map(|(slot, _)| slot)
        .ok_or(VerifyError::Mismatch)
}

/// The hex `v1` Stripe computes, from the model.
fn v1(secret: &[u8], t: i64, body: &[u8]) -> String {
    hex::encode(hmac(
        Hash::Sha256,
        secret,
        &[t.to_string().as_bytes(), b".", body],
    ))
}

pub fn check(input: &Input) {
    let v = &VECTORS[usize::from(input.vector) % VECTORS.len()];
    let secret = input.secret.as_deref().unwrap_or(v.secret.as_bytes());
    let other = input
        .other_secret
        .as_deref()
        .unwrap_or(b"whsec_another_endpoint_secret");
    let body = if input.custom_body {
        &input.body.0[..]
    } else {
        v.body
    };
    let now = OffsetDateTime::from_unix_timestamp(v.timestamp).expect("vector time");
    let tolerance = Duration::seconds(input.tolerance_seconds.map_or(300, i64::from));
    let t = v.timestamp - i64::from(input.skew_seconds);
    let in_time = (v.timestamp - t).abs() <= tolerance.whole_seconds();

    let mac = v1(secret, t, body);
    let header = format!("t={t},v1={mac}");
    assert_eq!(sign(secret, t, body), header, "stripe::sign is the model's");

    // The SDK vectors, as the SDK made them.
    if let Some(published) = v.header
        && input.secret.is_none()
        && !input.custom_body
        && input.skew_seconds == 0
    {
        assert_eq!(header, published, "vector {}", input.vector);
        let mut h = HeaderMap::new();
        insert_headers(&mut h, [(SIGNATURE_HEADER, published)]);
        let got = run(&Keys::single(secret, now), tolerance, &h, body);
        assert_eq!(got, Ok(SecretSlot::Current), "vector {}", input.vector);
    }

    // The secrets whose `v1` the header carries.
    let rolled = matches!(input.style % 6, 3 | 4);
    let sent = match input.style % 6 {
        1 => format!("t={t},v1={}", mac.to_ascii_uppercase()),
        2 => format!("t={t},v0={},x=y,v1={mac},v0=", "0".repeat(64)),
        3 => format!("t={t},v1={},v1={mac}", v1(other, t, body)),
        4 => format!("t={t},v1={mac},v1={}", v1(other, t, body)),
        5 => format!(" \t{header}  "),
        _ => header.clone(),
    };
    let mut signed = HeaderMap::new();
    insert_headers(&mut signed, [(SIGNATURE_HEADER, sent.as_str())]);

    // What a request signed by `signers` must get under `keys`.
    let expect = |keys: &Keys, signers: &[&[u8]]| {
        if keys.active().is_empty() {
            return Err(VerifyError::NoSecret);
        }
        if !in_time {
            return Err(VerifyError::StaleTimestamp);
        }
        keys.active()
            .into_iter()
            .find(|(_, key)| {
                signers
                    .iter()
                    .any(|s| crate::oracle::same_hmac_key(Hash::Sha256, key, s))
            })
            .map(|(slot, _)| slot)
            .ok_or(VerifyError::Mismatch)
    };
    let signers: Vec<&[u8]> = if rolled {
        vec![secret, other]
    } else {
        vec![secret]
    };

    let keys = if input.previous_slot {
        Keys::rotating(other, secret, input.previous_expired, now)
    } else {
        Keys::single(secret, now)
    };

    // Round trip, in the right slot; stale outside the window.
    let got = run(&keys, tolerance, &signed, body);
    assert_eq!(got, expect(&keys, &signers), "round trip {sent:?}");
    assert_eq!(got, model(&keys, tolerance, &signed, body));

    // A flipped body byte.
    if let Some(tampered) = flipped(body, input.flip_at, input.flip_mask) {
        let got = run(&keys, tolerance, &signed, &tampered);
        assert_eq!(got, expect(&keys, &[]), "flipped body byte");
        assert_eq!(got, model(&keys, tolerance, &signed, &tampered));
    }

    // Another secret.
    let wrong = Keys::single(other, now);
    let got = run(&wrong, tolerance, &signed, body);
    assert_eq!(got, expect(&wrong, &signers), "different secret");
    assert_eq!(got, model(&wrong, tolerance, &signed, body));

    // Anything else in the headers.
    if input.signature.is_some() || input.headers.is_some() {
        let mut h = HeaderMap::new();
        let value = input.signature.as_deref().unwrap_or(&sent);
        insert_headers(&mut h, [(SIGNATURE_HEADER, value)]);
        append_headers(&mut h, input.headers.as_deref().unwrap_or_default());
        let got = run(&keys, tolerance, &h, body);
        assert_eq!(got, model(&keys, tolerance, &h, body), "headers {h:?}");
    }
}
