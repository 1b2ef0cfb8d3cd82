//! `verify_slack`: Slack's `X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:" + timestamp +
//! ":" + body)>` with `X-Slack-Request-Timestamp` in Unix seconds.
//!
//! - The published slash-command vector and the SDK vectors (JSON handshake, form
//!   interactivity, UTF-8 text, a rotated-out secret) reproduce.
//! - A request signed as Slack signs verifies under the slot holding that secret when its
//!   timestamp is within the tolerance either way, and is stale outside it; an expired previous
//!   secret does not verify. Upper-case hex and padding change nothing.
//! - A flipped body byte never verifies; a different secret verifies only if it is the same
//!   HMAC key.
//! - Whatever the headers (junk signature, junk timestamp, extra or repeated headers), the
//!   answer equals an independent model of Slack's rule.

use arbitrary::Arbitrary;
use ebhook_handler::SecretSlot;
use ebhook_handler::providers::slack::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use ebhook_handler::verify::{SignedRequest, VerifyError, VerifyOptions};
use http::HeaderMap;
use time::{Duration, OffsetDateTime};

use crate::oracle::{Hash, Keys, hmac, in_window, same_hmac_key, unix_seconds};
use crate::{Bytes, append_headers, flipped, header_text, insert_headers};

pub struct Vector {
    pub secret: &'static str,
    /// Unix seconds as sent; the verifier's clock is set here.
    pub timestamp: &'static str,
    pub body: &'static [u8],
    pub signature: Option<&'static str>,
}

const SDK_SECRET: &str = "e8b7d6c5a4f3e2d1c0b9a8f7e6d5c4b3";
const SDK_TS: &str = "1795348800";
const HANDSHAKE: &[u8] =
    br#"{"token":"x","challenge":"c2hhbGxvbS1zbGFjaw","type":"url_verification"}"#;

/// Slack's published example, the vectors made with slack_sdk (the handler's unit tests) and a
/// realistic event.
pub const VECTORS: [Vector; 6] = [
    Vector {
        secret: "8f742231b10e8888abcd99yyyzzz85a5",
        timestamp: "1531420618",
        body: b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
        signature: Some("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"),
    },
    Vector {
        secret: SDK_SECRET,
        timestamp: SDK_TS,
        body: HANDSHAKE,
        signature: Some("v0=9cf0b6bf2f7d1a503d34f251e1df2ee5b7d92878998397f7148d88780727f500"),
    },
    Vector {
        secret: "0ld-s1gning-secret",
        timestamp: SDK_TS,
        body: HANDSHAKE,
        signature: Some("v0=9c3255b57ff0d5c0f75f973297d046bd1ed305dd8a40279341151942f1b805be"),
    },
    Vector {
        secret: SDK_SECRET,
        timestamp: SDK_TS,
        body: b"payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A%7B%22id%22%3A%22U123%22%7D%7D",
        signature: Some("v0=49d6588204a5eaab1c804dd5ce43af6e2d4bc55859798272140e7b3f6886e55a"),
    },
    Vector {
        secret: SDK_SECRET,
        timestamp: SDK_TS,
        body: "{\"type\":\"event_callback\",\"event\":{\"type\":\"message\",\"text\":\"caf\u{e9} \u{2615}\"}}"
            .as_bytes(),
        signature: Some("v0=82137d4d30fc43819d5c162174263c5b87d33448afe5bcda6b73faf4d894928d"),
    },
    Vector {
        secret: "d1c7a0f3b5e94c2a8e6f0b1d3a5c7e9f",
        timestamp: "1795348800",
        body: br#"{"token":"ebhook","team_id":"T0EBHOOK1","api_app_id":"A0EBHOOK1","event":{"type":"app_mention","user":"U0EBHOOK1","text":"<@U0EBHOOK2> hello","ts":"1795348800.000100","channel":"C0EBHOOK1","event_ts":"1795348800.000100"},"type":"event_callback","event_id":"Ev0EBHOOK01","event_time":1795348800}"#,
        signature: None,
    },
];

#[derive(Arbitrary, Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    pub vector: u8,
    /// 0: as Slack sends it; 1: hex upper-cased; 2: padded with spaces.
    pub style: u8,
    /// The request was signed this many seconds before the verifier's clock.
    pub skew_seconds: i16,
    /// The allowed window either way; 300 s (the default) when absent.
    pub tolerance_seconds: Option<u16>,
    /// Put the signing secret in the `previous` slot, behind another current one.
    pub previous_slot: bool,
    pub previous_expired: bool,
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
    tolerance: Duration,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<SecretSlot, VerifyError> {
    let req = SignedRequest {
        method: "POST",
        base_url: "https://example.lambda-url.us-east-1.on.aws",
        raw_path: "/slack/events",
        raw_query: "",
        headers,
        body,
    };
    let options = VerifyOptions {
        tolerance,
        accept_test_secret: false,
    };
    crate::provider("slack").verify(&req, &keys.set(), &options, keys.now)
}

/// Slack's rule, written from "Verifying requests from Slack", with the handler's documented
/// bound: a timestamp of more than 12 digits is malformed (Unix seconds have 10 until 2286).
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
    let signature = header_text(headers, SIGNATURE_HEADER)
        .ok_or(VerifyError::MissingHeader(SIGNATURE_HEADER))?;
    let timestamp = header_text(headers, TIMESTAMP_HEADER)
        .ok_or(VerifyError::MissingHeader(TIMESTAMP_HEADER))?;
    let signed_at = unix_seconds(timestamp, 12).ok_or(VerifyError::MalformedTimestamp)?;
    if !in_window(signed_at, keys.now, tolerance) {
        return Err(VerifyError::StaleTimestamp);
    }
    let mac = signature
        .trim()
        .strip_prefix("v0=")
        .and_then(|h| hex::decode(h).ok())
        .filter(|m| m.len() == 32)
        .ok_or(VerifyError::MalformedSignature)?;
    candidates
        .into_iter()
        .find(|(_, key)| {
            hmac(
                Hash::Sha256,
                key,
                &[b"v0:", timestamp.as_bytes(), b":", body],
            ) == mac
        })
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
        .unwrap_or(b"another slack signing secret");
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

    let mac = hmac(
        Hash::Sha256,
        secret,
        &[b"v0:", timestamp.as_bytes(), b":", body],
    );
    let signature = format!("v0={}", hex::encode(&mac));
    assert_eq!(
        sign(secret, &timestamp, body),
        signature,
        "slack::sign is the model's"
    );

    // The published and SDK vectors, as published.
    if let Some(published) = v.signature
        && input.secret.is_none()
        && !input.custom_body
        && input.skew_seconds == 0
    {
        assert_eq!(timestamp, v.timestamp);
        assert_eq!(signature, published, "vector {}", input.vector);
        let got = run(
            &Keys::single(secret, now),
            Duration::minutes(5),
            &headers(published, v.timestamp),
            body,
        );
        assert_eq!(got, Ok(SecretSlot::Current), "vector {}", input.vector);
    }

    let sent = match input.style % 3 {
        1 => format!("v0={}", hex::encode_upper(&mac)),
        2 => format!("  {signature} "),
        _ => signature.clone(),
    };
    let signed = headers(&sent, &timestamp);

    // What a request signed by `signer` (None: by no secret) must get under `keys`.
    let expect = |keys: &Keys, signer: Option<&[u8]>| {
        if keys.active().is_empty() {
            Err(VerifyError::NoSecret)
        } else if !in_time {
            Err(VerifyError::StaleTimestamp)
        } else {
            signer
                .and_then(|s| keys.slot_for(Hash::Sha256, s))
                .ok_or(VerifyError::Mismatch)
        }
    };

    let keys = if input.previous_slot {
        Keys::rotating(other, secret, input.previous_expired, now)
    } else {
        Keys::single(secret, now)
    };

    // Round trip.
    let got = run(&keys, tolerance, &signed, body);
    assert_eq!(got, expect(&keys, Some(secret)), "round trip");
    assert_eq!(got, model(&keys, tolerance, &signed, body));

    // A flipped body byte.
    if let Some(tampered) = flipped(body, input.flip_at, input.flip_mask) {
        let got = run(&keys, tolerance, &signed, &tampered);
        assert_eq!(got, expect(&keys, None), "flipped body byte");
        assert_eq!(got, model(&keys, tolerance, &signed, &tampered));
    }

    // Another secret.
    let wrong = Keys::single(other, now);
    let got = run(&wrong, tolerance, &signed, body);
    assert_eq!(got, expect(&wrong, Some(secret)), "different secret");
    if got.is_ok() {
        assert!(same_hmac_key(Hash::Sha256, other, secret));
    }

    // Anything else in the headers.
    if input.signature.is_some() || input.timestamp.is_some() || input.headers.is_some() {
        let mut h = headers(
            input.signature.as_deref().unwrap_or(&sent),
            input.timestamp.as_deref().unwrap_or(&timestamp),
        );
        append_headers(&mut h, input.headers.as_deref().unwrap_or_default());
        let got = run(&keys, tolerance, &h, body);
        assert_eq!(got, model(&keys, tolerance, &h, body), "headers {h:?}");
    }
}
