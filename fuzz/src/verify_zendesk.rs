//! `verify_zendesk`: Zendesk's `X-Zendesk-Webhook-Signature` over timestamp + body.
//!
//! - The published vectors reproduce, and the retired body-then-timestamp example does not.
//! - A request signed with `zendesk::sign` verifies under the slot holding that secret when its
//!   timestamp is inside the window, and is stale outside it.
//! - A flipped body byte never verifies; a different secret verifies only if it is the same
//!   HMAC key (see [`crate::oracle::hmac_key`]).
//! - Whatever the headers (junk signature, junk timestamp, extra or repeated headers), the
//!   answer equals an independent model of Zendesk's rule, so nothing else ever verifies.

use arbitrary::Arbitrary;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ebhook_handler::SecretSlot;
use ebhook_handler::providers::zendesk::{SIGNATURE_HEADER, TEST_SECRET, TIMESTAMP_HEADER, sign};
use ebhook_handler::verify::{SignedRequest, VerifyError, VerifyOptions};
use http::HeaderMap;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::oracle::{Hash, Keys, hmac, same_hmac_key};
use crate::{Bytes, flipped, header_text, insert_headers};

pub struct Vector {
    pub secret: &'static str,
    pub timestamp: &'static str,
    pub body: &'static [u8],
    pub signature: Option<&'static str>,
    /// Whether `signature` is what Zendesk sends (false: a known-wrong example).
    pub valid: bool,
}

/// The published vectors (PROVIDERS.md, the unit tests) and a realistic event webhook.
pub const VECTORS: [Vector; 4] = [
    Vector {
        secret: TEST_SECRET,
        timestamp: "2021-03-25T05:09:27Z",
        body: br#"{"event":"ticket.updated","id":123}"#,
        signature: Some("S/RDdU2ERmj7LHDDoWJ2onPYH+t7/f2+LTM4dL7UiLM="),
        valid: true,
    },
    Vector {
        secret: TEST_SECRET,
        timestamp: "2021-03-25T05:09:27Z",
        body: b"",
        signature: Some("wCdBvXaHttn0wRVIYctzZ9O6O0bnqWakJMEKZ9VoRWw="),
        valid: true,
    },
    Vector {
        secret: "HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=",
        timestamp: "2021-07-25T10:00:00Z",
        body: br#"{"say": "hello"}"#,
        signature: Some("tRDSF7URY8BLCDlaBcQ7FHu051Zk+aAB0NKMP53teMw="),
        valid: false,
    },
    Vector {
        secret: "dGhlIHJlYWwgc2lnbmluZyBzZWNyZXQ=",
        timestamp: "2026-11-22T12:00:00Z",
        body: br#"{"type":"zen:event-type:ticket.created","account_id":22129848,"id":"cbe4028c-7239-495d-b020-f22348516046","time":"2026-11-22T12:00:00Z","zendesk_event_version":"2022-11-06","subject":"zen:ticket:5","detail":{"id":"5","status":"NEW","subject":"Printer on fire"}}"#,
        signature: None,
        valid: true,
    },
];

#[derive(Arbitrary, Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    pub vector: u8,
    /// The request was signed this many seconds before the verifier's clock.
    pub skew_seconds: i16,
    /// The allowed window either way; 300 s (the default) when absent.
    pub tolerance_seconds: Option<u16>,
    /// Put the signing secret in the `previous` slot, behind another current one.
    pub previous_slot: bool,
    pub previous_expired: bool,
    pub accept_test_secret: bool,
    pub flip_at: u16,
    pub flip_mask: u8,
    pub secret: Option<Vec<u8>>,
    pub other_secret: Option<Vec<u8>>,
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
    options: &VerifyOptions,
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
    crate::provider("zendesk").verify(&req, &keys.set(), options, keys.now)
}

/// Zendesk's rule, written from its documentation.
fn model(
    keys: &Keys,
    options: &VerifyOptions,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<SecretSlot, VerifyError> {
    let test = options.accept_test_secret;
    let mut candidates = keys.active();
    if candidates.is_empty() && !test {
        return Err(VerifyError::NoSecret);
    }
    let signature = header_text(headers, SIGNATURE_HEADER)
        .ok_or(VerifyError::MissingHeader(SIGNATURE_HEADER))?;
    let timestamp = header_text(headers, TIMESTAMP_HEADER)
        .ok_or(VerifyError::MissingHeader(TIMESTAMP_HEADER))?;
    let at =
        OffsetDateTime::parse(timestamp, &Rfc3339).map_err(|_| VerifyError::MalformedTimestamp)?;
    if (keys.now - at).abs() > options.tolerance {
        return Err(VerifyError::StaleTimestamp);
    }
    let mac = B64
        .decode(signature.trim())
        .ok()
        .filter(|m| m.len() == 32)
        .ok_or(VerifyError::MalformedSignature)?;
    if test {
        candidates.push((SecretSlot::ProviderTest, TEST_SECRET.as_bytes()));
    }
    candidates
        .into_iter()
        .find(|(_, key)| hmac(Hash::Sha256, key, &[timestamp.as_bytes(), body]) == mac)
        .map(|(slot, _)| slot)
        .ok_or(VerifyError::Mismatch)
}

fn headers(signature: &str, timestamp: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    insert_headers(
        &mut h,
        [(SIGNATURE_HEADER, signature), (TIMESTAMP_HEADER, timestamp)],
    );
    h
}

pub fn check(input: &Input) {
    let v = &VECTORS[usize::from(input.vector) % VECTORS.len()];
    let secret = input.secret.as_deref().unwrap_or(v.secret.as_bytes());
    let other = input
        .other_secret
        .as_deref()
        .unwrap_or(b"another signing secret");
    let body = if input.custom_body {
        &input.body.0[..]
    } else {
        v.body
    };
    let now = OffsetDateTime::parse(v.timestamp, &Rfc3339).expect("vector timestamp");
    let options = VerifyOptions {
        tolerance: Duration::seconds(input.tolerance_seconds.map_or(300, i64::from)),
        accept_test_secret: input.accept_test_secret,
    };
    let signed_at = now - Duration::seconds(i64::from(input.skew_seconds));
    let timestamp = signed_at.format(&Rfc3339).expect("an RFC 3339 time");
    let signature = sign(secret, &timestamp, body);
    let in_window = (now - signed_at).abs() <= options.tolerance;

    // The published vectors, as published.
    if let Some(published) = v.signature
        && input.secret.is_none()
        && !input.custom_body
        && input.skew_seconds == 0
    {
        assert_eq!(timestamp, v.timestamp);
        assert_eq!(signature == published, v.valid, "vector {}", input.vector);
        let got = run(
            &Keys::single(secret, now),
            &VerifyOptions::default(),
            &headers(published, v.timestamp),
            body,
        );
        assert_eq!(got.is_ok(), v.valid, "vector {}: {got:?}", input.vector);
    }

    // What a request signed by `signer` (None: by no secret) must get under `keys`.
    let expect = |keys: &Keys, signer: Option<&[u8]>| {
        if keys.active().is_empty() && !options.accept_test_secret {
            Err(VerifyError::NoSecret)
        } else if !in_window {
            Err(VerifyError::StaleTimestamp)
        } else {
            let test = options.accept_test_secret
                && signer.is_some_and(|s| same_hmac_key(Hash::Sha256, s, TEST_SECRET.as_bytes()));
            match signer.and_then(|s| keys.slot_for(Hash::Sha256, s)) {
                Some(slot) => Ok(slot),
                None if test => Ok(SecretSlot::ProviderTest),
                None => Err(VerifyError::Mismatch),
            }
        }
    };

    let keys = if input.previous_slot {
        Keys::rotating(other, secret, input.previous_expired, now)
    } else {
        Keys::single(secret, now)
    };
    let signed = headers(&signature, &timestamp);

    // Round trip.
    let got = run(&keys, &options, &signed, body);
    assert_eq!(got, expect(&keys, Some(secret)), "round trip");
    assert_eq!(got, model(&keys, &options, &signed, body));

    // A flipped body byte.
    if let Some(tampered) = flipped(body, input.flip_at, input.flip_mask) {
        let got = run(&keys, &options, &signed, &tampered);
        assert_eq!(got, expect(&keys, None), "flipped body byte");
        assert_eq!(got, model(&keys, &options, &signed, &tampered));
    }

    // Another secret.
    let wrong = Keys::single(other, now);
    let got = run(&wrong, &options, &signed, body);
    assert_eq!(got, expect(&wrong, Some(secret)), "different secret");

    // Anything else in the headers.
    if input.signature.is_some() || input.timestamp.is_some() || input.headers.is_some() {
        let mut h = headers(
            input.signature.as_deref().unwrap_or(&signature),
            input.timestamp.as_deref().unwrap_or(&timestamp),
        );
        for (name, value) in input.headers.iter().flatten() {
            if let Some((name, value)) = crate::header(name, value) {
                h.append(name, value);
            }
        }
        let got = run(&keys, &options, &h, body);
        assert_eq!(got, model(&keys, &options, &h, body), "headers {h:?}");
    }
}
