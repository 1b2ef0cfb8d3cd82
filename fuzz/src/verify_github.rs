//! `verify_github`: GitHub's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`.
//!
//! - The published vectors reproduce.
//! - A body signed with `github::sign` verifies under the slot holding that secret, also with
//!   the hex digits upper-cased or the value padded with spaces.
//! - A flipped body byte never verifies; a different secret verifies only if it is the same
//!   HMAC key. The legacy SHA-1 `X-Hub-Signature` alone never verifies.
//! - Whatever the headers, the answer equals an independent model of GitHub's rule.

use arbitrary::Arbitrary;
use ebhook_handler::SecretSlot;
use ebhook_handler::providers::github::{SIGNATURE_HEADER, sign};
use ebhook_handler::verify::{SignedRequest, VerifyError, VerifyOptions};
use http::HeaderMap;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::oracle::{Hash, Keys, hmac};
use crate::{Bytes, flipped, header_text, insert_headers};

const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

pub struct Vector {
    pub secret: &'static str,
    pub body: &'static [u8],
    pub signature: Option<&'static str>,
}

/// GitHub's published vectors and a realistic `ping` delivery.
pub const VECTORS: [Vector; 3] = [
    Vector {
        secret: "It's a Secret to Everybody",
        body: b"Hello, World!",
        signature: Some("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
    },
    Vector {
        secret: "mysecret",
        body: b"{\n  \"foo\": \"bar\"\n}\n",
        signature: Some("sha256=e3eccac34c43c7dc1cbb905488b1b81347fcc700a7b025697a9d07862256023f"),
    },
    Vector {
        secret: "3f1c0b9e5d2a4c6e8f7a9b1d3c5e7f9a",
        body: br#"{"zen":"Keep it logically awesome.","hook_id":123456789,"hook":{"type":"Repository","id":123456789,"name":"web","active":true,"events":["push","pull_request"],"config":{"content_type":"json","insecure_ssl":"0","url":"https://abcdefghijklmnop.lambda-url.us-east-1.on.aws/"}},"repository":{"id":1296269,"full_name":"octocat/Hello-World","private":false},"sender":{"login":"octocat","id":1}}"#,
        signature: None,
    },
];

#[derive(Arbitrary, Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    pub vector: u8,
    /// 0: as GitHub sends it; 1: hex upper-cased; 2: padded with spaces; 3: only the legacy
    /// SHA-1 header.
    pub style: u8,
    pub previous_slot: bool,
    pub previous_expired: bool,
    pub flip_at: u16,
    pub flip_mask: u8,
    pub secret: Option<Vec<u8>>,
    pub other_secret: Option<Vec<u8>>,
    pub signature: Option<String>,
    pub headers: Option<Vec<(String, String)>>,
    /// Sign and send `body` instead of the vector's.
    pub custom_body: bool,
    pub body: Bytes,
}

fn run(keys: &Keys, headers: &HeaderMap, body: &[u8]) -> Result<SecretSlot, VerifyError> {
    let req = SignedRequest {
        method: "POST",
        base_url: "https://example.lambda-url.us-east-1.on.aws",
        raw_path: "/",
        raw_query: "",
        headers,
        body,
    };
    crate::provider("github").verify(&req, &keys.set(), &VerifyOptions::default(), keys.now)
}

/// GitHub's rule, written from its documentation.
fn model(keys: &Keys, headers: &HeaderMap, body: &[u8]) -> Result<SecretSlot, VerifyError> {
    let candidates = keys.active();
    if candidates.is_empty() {
        return Err(VerifyError::NoSecret);
    }
    let value = header_text(headers, SIGNATURE_HEADER)
        .ok_or(VerifyError::MissingHeader(SIGNATURE_HEADER))?;
    let mac = value
        .trim()
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
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
        .unwrap_or(b"another webhook secret");
    let body = if input.custom_body {
        &input.body.0[..]
    } else {
        v.body
    };
    let signature = sign(secret, body);

    if let Some(published) = v.signature
        && input.secret.is_none()
        && !input.custom_body
    {
        assert_eq!(signature, published);
    }
    assert!(signature.starts_with("sha256=") && signature.len() == 71);

    let sent = match input.style % 4 {
        1 => format!("sha256={}", signature[7..].to_ascii_uppercase()),
        2 => format!("  {signature} "),
        _ => signature.clone(),
    };
    let mut signed = HeaderMap::new();
    if input.style % 4 == 3 {
        let legacy = format!("sha1={}", hex::encode(hmac(Hash::Sha1, secret, &[body])));
        insert_headers(&mut signed, [("x-hub-signature", legacy.as_str())]);
    } else {
        insert_headers(&mut signed, [(SIGNATURE_HEADER, sent.as_str())]);
    }

    let expect = |keys: &Keys, signer: Option<&[u8]>| {
        if keys.active().is_empty() {
            Err(VerifyError::NoSecret)
        } else if input.style % 4 == 3 {
            Err(VerifyError::MissingHeader(SIGNATURE_HEADER))
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

    let got = run(&keys, &signed, body);
    assert_eq!(got, expect(&keys, Some(secret)), "round trip");
    assert_eq!(got, model(&keys, &signed, body));

    if let Some(tampered) = flipped(body, input.flip_at, input.flip_mask) {
        let got = run(&keys, &signed, &tampered);
        assert_eq!(got, expect(&keys, None), "flipped body byte");
        assert_eq!(got, model(&keys, &signed, &tampered));
    }

    let wrong = Keys::single(other, NOW);
    assert_eq!(
        run(&wrong, &signed, body),
        expect(&wrong, Some(secret)),
        "different secret"
    );

    if input.signature.is_some() || input.headers.is_some() {
        let mut h = signed.clone();
        if let Some(raw) = &input.signature {
            h.remove(SIGNATURE_HEADER);
            insert_headers(&mut h, [(SIGNATURE_HEADER, raw.as_str())]);
        }
        for (name, value) in input.headers.iter().flatten() {
            if let Some((name, value)) = crate::header(name, value) {
                h.append(name, value);
            }
        }
        assert_eq!(
            run(&keys, &h, body),
            model(&keys, &h, body),
            "headers {h:?}"
        );
    }
}
