//! `verify_standard_webhooks`: `webhook-signature: v1,<base64 HMAC-SHA256>[ v1,...]` over
//! `webhook-id + "." + webhook-timestamp + "." + body`, keyed by the secret base64-decoded after
//! an optional `whsec_`.
//!
//! - The spec's published vector and the SDK vector (standardwebhooks 1.1.0) reproduce.
//! - A request signed as the spec says verifies under the slot holding that secret when its
//!   timestamp is within the tolerance either way, and is stale outside it; an expired previous
//!   secret does not verify. The secret may be stored with or without `whsec_`, without `=`
//!   padding or with a stray newline: the same key. Another sender's `v1` beside ours (a
//!   rotation), `v1a` and unknown versions change nothing.
//! - A flipped body byte never verifies; a different secret verifies only if it decodes to the
//!   same HMAC key. A secret that is not base64 verifies nothing.
//! - Whatever the headers, the answer equals an independent model of the spec's rule.

use arbitrary::Arbitrary;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD as B64, STANDARD_NO_PAD};
use ebhook_handler::SecretSlot;
use ebhook_handler::providers::standard_webhooks::{
    ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign,
};
use ebhook_handler::verify::{SignedRequest, VerifyError, VerifyOptions};
use http::HeaderMap;
use time::{Duration, OffsetDateTime};

use crate::oracle::{
    Hash, Keys, MAX_SIGNATURES, hmac, in_window, same_hmac_key, standard_webhooks_key, unix_seconds,
};
use crate::{Bytes, append_headers, flipped, header_text, insert_headers};

pub struct Vector {
    pub secret: &'static str,
    pub id: &'static str,
    /// Unix seconds as sent; the verifier's clock is set here.
    pub timestamp: &'static str,
    pub body: &'static [u8],
    pub signature: Option<&'static str>,
}

/// The spec's example secret.
pub const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The spec's published vector, the SDK vector (the handler's unit tests) and a realistic
/// delivery.
pub const VECTORS: [Vector; 3] = [
    Vector {
        secret: SPEC_SECRET,
        id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp: "1614265330",
        body: br#"{"test": 2432232314}"#,
        signature: Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
    },
    Vector {
        secret: SPEC_SECRET,
        id: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
        timestamp: "1795348800",
        body: br#"{"type":"contact.created","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"1f81eb52-5198-4599-803e-771906343485"}}"#,
        signature: Some("v1,W3LpeBuon/DSO39lEtmBLob5wQ5ZpQhIAxG46YwL+E8="),
    },
    Vector {
        secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        id: "msg_31MtJ2rZ0cQ8bWn4yK7vXpLd9Ea",
        timestamp: "1795348800",
        body: br#"{"type":"invoice.paid","timestamp":"2026-11-22T12:00:00.000Z","data":{"id":"inv_0123456789","amount":2000,"currency":"eur"}}"#,
        signature: None,
    },
];

#[derive(Arbitrary, Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    pub vector: u8,
    /// 0: as sent; 1: another secret's `v1` first; 2: ours first, then another's; 3: `v1a`
    /// and an unknown version around ours.
    pub style: u8,
    /// How the secret is stored: 0 `whsec_` + padded base64; 1 bare; 2 unpadded; 3 with a
    /// trailing newline.
    pub secret_style: u8,
    /// The request was signed this many seconds before the verifier's clock.
    pub skew_seconds: i16,
    /// The allowed window either way; 300 s (the default) when absent.
    pub tolerance_seconds: Option<u16>,
    /// Put the signing secret in the `previous` slot, behind another current one.
    pub previous_slot: bool,
    pub previous_expired: bool,
    pub flip_at: u16,
    pub flip_mask: u8,
    /// The HMAC key (stored as `secret_style` says) instead of the vector's.
    pub key: Option<Vec<u8>>,
    pub other_key: Option<Vec<u8>>,
    /// Stored as it is instead of an encoded key: any bytes, base64 or not.
    pub raw_secret: Option<Vec<u8>>,
    /// The message id instead of the vector's.
    pub id: Option<String>,
    /// Sent instead of the right signature.
    pub signature: Option<String>,
    /// Sent instead of the signed timestamp.
    pub timestamp: Option<String>,
    /// Added after the signature headers (a repeated name adds a second value).
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
    crate::provider("standard-webhooks").verify(&req, &keys.set(), &options, keys.now)
}

/// The spec's rule once a secret is known to be set, against `candidates` (stored secrets,
/// each decoded by [`standard_webhooks_key`]); GitLab's signing tokens use it too. Written from
/// the spec and its reference library, with the handler's documented choices: an empty
/// `webhook-id` is missing, the timestamp may be padded with spaces (the text signed is without
/// them), `v1a` and other versions are skipped, and only the first [`MAX_SIGNATURES`] `v1` are
/// read.
pub fn model_signature(
    candidates: &[(SecretSlot, &[u8])],
    tolerance: Duration,
    now: OffsetDateTime,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<SecretSlot, VerifyError> {
    let signature = header_text(headers, SIGNATURE_HEADER)
        .ok_or(VerifyError::MissingHeader(SIGNATURE_HEADER))?;
    let id = header_text(headers, ID_HEADER)
        .filter(|id| !id.is_empty())
        .ok_or(VerifyError::MissingHeader(ID_HEADER))?;
    let timestamp = header_text(headers, TIMESTAMP_HEADER)
        .ok_or(VerifyError::MissingHeader(TIMESTAMP_HEADER))?
        .trim();
    let signed_at = unix_seconds(timestamp, 18).ok_or(VerifyError::MalformedTimestamp)?;
    if !in_window(signed_at, now, tolerance) {
        return Err(VerifyError::StaleTimestamp);
    }
    let macs: Vec<Vec<u8>> = signature
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .take(MAX_SIGNATURES)
        .filter_map(|b| B64.decode(b).ok().filter(|m| m.len() == 32))
        .collect();
    if macs.is_empty() {
        return Err(VerifyError::MalformedSignature);
    }
    let message: [&[u8]; 5] = [id.as_bytes(), b".", timestamp.as_bytes(), b".", body];
    candidates
        .iter()
        .filter_map(|(slot, secret)| Some((*slot, standard_webhooks_key(secret)?)))
        .find(|(_, key)| macs.contains(&hmac(Hash::Sha256, key, &message)))
        .map(|(slot, _)| slot)
        .ok_or(VerifyError::Mismatch)
}

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
    model_signature(&candidates, tolerance, keys.now, headers, body)
}

/// The `v1,...` entry for `key` (the decoded key), from the model.
pub fn v1(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> String {
    let mac = hmac(
        Hash::Sha256,
        key,
        &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body],
    );
    format!("v1,{}", B64.encode(mac))
}

/// A key stored the ways a user may paste it.
pub fn stored(key: &[u8], style: u8) -> Vec<u8> {
    match style % 4 {
        1 => B64.encode(key),
        2 => format!("whsec_{}", STANDARD_NO_PAD.encode(key)),
        3 => format!("whsec_{}\n", B64.encode(key)),
        _ => format!("whsec_{}", B64.encode(key)),
    }
    .into_bytes()
}

pub fn headers(id: &str, timestamp: &str, signature: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    insert_headers(
        &mut h,
        [
            (ID_HEADER, id),
            (TIMESTAMP_HEADER, timestamp),
            (SIGNATURE_HEADER, signature),
        ],
    );
    h
}

/// Whether `id` reaches the verifier as a `webhook-id` it reads: non-empty text that HTTP
/// carries (visible ASCII, space and tab).
pub fn usable_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

pub fn check(input: &Input) {
    let v = &VECTORS[usize::from(input.vector) % VECTORS.len()];
    let vector_key = standard_webhooks_key(v.secret.as_bytes()).expect("vector secret");
    let secret = match (&input.raw_secret, &input.key) {
        (Some(raw), _) => raw.clone(),
        (None, Some(key)) => stored(key, input.secret_style),
        (None, None) if input.secret_style % 4 == 0 => v.secret.as_bytes().to_vec(),
        (None, None) => stored(&vector_key, input.secret_style),
    };
    // An empty key is no key: the other secret must be a usable one.
    let other = stored(
        input
            .other_key
            .as_deref()
            .filter(|k| !k.is_empty())
            .unwrap_or(b"another sender's key, 32 bytes!"),
        0,
    );
    // What the secrets decode to; a secret that does not decode signs with the vector's key and
    // verifies nothing.
    let key = standard_webhooks_key(&secret);
    let signing_key = key.clone().unwrap_or_else(|| vector_key.clone());
    let other_key = standard_webhooks_key(&other).expect("an encoded key");
    let id = input.id.as_deref().unwrap_or(v.id);
    let body = if input.custom_body {
        &input.body.0[..]
    } else {
        v.body
    };
    let vector_ts: i64 = v.timestamp.parse().expect("vector timestamp");
    let now = OffsetDateTime::from_unix_timestamp(vector_ts).expect("vector time");
    let tolerance = Duration::seconds(input.tolerance_seconds.map_or(300, i64::from));
    let timestamp = (vector_ts - i64::from(input.skew_seconds)).to_string();
    let in_time = i64::from(input.skew_seconds).abs() <= tolerance.whole_seconds();

    let ours = v1(&signing_key, id, &timestamp, body);
    if let Some(key) = &key {
        let t = timestamp.parse().expect("digits");
        assert_eq!(
            sign(&secret, id, t, body).as_deref(),
            Some(ours.as_str()),
            "standard_webhooks::sign is the model's"
        );
        assert_eq!(*key, signing_key);
    } else {
        assert_eq!(sign(&secret, id, 0, body), None, "no key, no signature");
    }

    // The published vectors, as published.
    if let Some(published) = v.signature
        && input.key.is_none()
        && input.raw_secret.is_none()
        && input.id.is_none()
        && !input.custom_body
        && input.skew_seconds == 0
    {
        assert_eq!(ours, published, "vector {}", input.vector);
        let got = run(
            &Keys::single(&secret, now),
            Duration::minutes(5),
            &headers(v.id, v.timestamp, published),
            body,
        );
        assert_eq!(got, Ok(SecretSlot::Current), "vector {}", input.vector);
    }

    let theirs = v1(&other_key, id, &timestamp, body);
    let (sent, rotated) = match input.style % 4 {
        1 => (format!("{theirs} {ours}"), true),
        2 => (format!("{ours} {theirs}"), true),
        3 => (
            format!("v1a,{} v2,abc {ours} v1,short", "A".repeat(86) + "=="),
            false,
        ),
        _ => (ours.clone(), false),
    };
    let signed = headers(id, &timestamp, &sent);

    // What a request signed with `signers` (decoded keys) must get under `keys`.
    let expect = |keys: &Keys, signers: &[&[u8]]| {
        if keys.active().is_empty() {
            return Err(VerifyError::NoSecret);
        }
        if !usable_id(id) {
            return Err(VerifyError::MissingHeader(ID_HEADER));
        }
        if !in_time {
            return Err(VerifyError::StaleTimestamp);
        }
        keys.active()
            .into_iter()
            .filter_map(|(slot, s)| Some((slot, standard_webhooks_key(s)?)))
            .find(|(_, k)| signers.iter().any(|s| same_hmac_key(Hash::Sha256, k, s)))
            .map(|(slot, _)| slot)
            .ok_or(VerifyError::Mismatch)
    };
    let mut signers: Vec<&[u8]> = vec![&signing_key];
    if rotated {
        signers.push(&other_key);
    }

    let keys = if input.previous_slot {
        Keys::rotating(&other, &secret, input.previous_expired, now)
    } else {
        Keys::single(&secret, now)
    };

    // Round trip (an id HTTP cannot carry as text is missing).
    let got = run(&keys, tolerance, &signed, body);
    assert_eq!(got, expect(&keys, &signers), "round trip {sent:?}");
    assert_eq!(got, model(&keys, tolerance, &signed, body));

    // A flipped body byte.
    if let Some(tampered) = flipped(body, input.flip_at, input.flip_mask) {
        let after = run(&keys, tolerance, &signed, &tampered);
        assert_eq!(after, model(&keys, tolerance, &signed, &tampered));
        assert!(after.is_err(), "tampered body verified: {after:?}");
    }

    // Another secret.
    let wrong = Keys::single(&other, now);
    let got = run(&wrong, tolerance, &signed, body);
    assert_eq!(got, model(&wrong, tolerance, &signed, body), "other secret");
    if got.is_ok() {
        assert!(rotated || same_hmac_key(Hash::Sha256, &other_key, &signing_key));
    }

    // Anything else in the headers.
    if input.signature.is_some() || input.timestamp.is_some() || input.headers.is_some() {
        let mut h = headers(
            id,
            input.timestamp.as_deref().unwrap_or(&timestamp),
            input.signature.as_deref().unwrap_or(&sent),
        );
        append_headers(&mut h, input.headers.as_deref().unwrap_or_default());
        let got = run(&keys, tolerance, &h, body);
        assert_eq!(got, model(&keys, tolerance, &h, body), "headers {h:?}");
    }
}
