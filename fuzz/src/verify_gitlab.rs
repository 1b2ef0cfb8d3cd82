//! `verify_gitlab`: GitLab proves a request with its secret token (`X-Gitlab-Token`, sent as it
//! is) or its signing token (`whsec_...`: a Standard Webhooks `webhook-signature` over
//! `webhook-id.webhook-timestamp.body`). A stored secret starting with `whsec_` is a signing
//! token and only ever an HMAC key; any other is a secret token and only ever compared with
//! `X-Gitlab-Token`.
//!
//! - The SDK vector for the signing token (standardwebhooks 1.1.0) reproduces, and the secret
//!   token is sent as it is.
//! - A request sent as GitLab sends it verifies under the slot holding its token, the signature
//!   only when its timestamp is within the tolerance either way; an expired previous secret does
//!   not verify. With both tokens sent (a webhook that has both), a stack holding either
//!   verifies, the signature checked first. Moving from a secret token to a signing token is a
//!   rotation like any other.
//! - A flipped body byte never verifies a signature; a secret token does not cover the body, so
//!   it still verifies (a bearer secret: what the signing token is for). A different secret
//!   verifies only if it is the same token (or decodes to the same HMAC key).
//! - A stack holding only signing tokens refuses a request without a signature, whatever its
//!   `X-Gitlab-Token` says, even the signing token itself.
//! - Whatever the headers, the answer equals an independent model of GitLab's rule.

use arbitrary::Arbitrary;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ebhook_handler::SecretSlot;
use ebhook_handler::providers::gitlab::{
    ID_HEADER, IDEMPOTENCY_KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, TOKEN_HEADER, sign,
};
use ebhook_handler::verify::{SignedRequest, VerifyError, VerifyOptions};
use http::HeaderMap;
use time::{Duration, OffsetDateTime};

use crate::oracle::{Hash, Keys, same_hmac_key, standard_webhooks_key};
use crate::verify_standard_webhooks::{model_signature, usable_id, v1};
use crate::{Bytes, append_headers, flipped, header_text, insert_headers};

pub struct Vector {
    pub secret: &'static str,
    pub id: &'static str,
    /// Unix seconds as sent; the verifier's clock is set here.
    pub timestamp: &'static str,
    pub body: &'static [u8],
    /// The published `webhook-signature`, for a signing token.
    pub signature: Option<&'static str>,
}

const SDK_ID: &str = "6f1c1bd2-5d41-4f8e-9a27-0c3b2f1e9a10";
const SDK_TS: &str = "1795348800";
const SDK_BODY: &[u8] = br#"{"object_kind":"push","ref":"refs/heads/main"}"#;
const PUSH: &[u8] = br#"{"object_kind":"push","event_name":"push","before":"0000000000000000000000000000000000000000","after":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","ref":"refs/heads/main","user_username":"jsmith","project":{"id":15,"name":"Diaspora","path_with_namespace":"mike/diaspora"},"commits":[],"total_commits_count":0}"#;

/// GitLab's example signing token with the SDK vector (the handler's unit tests), a secret
/// token, and realistic pushes with each kind.
pub const VECTORS: [Vector; 4] = [
    Vector {
        secret: "whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q=",
        id: SDK_ID,
        timestamp: SDK_TS,
        body: SDK_BODY,
        signature: Some("v1,nzf1bLsohl4ddNZw2v1NIyz5/54ZVEx05IcRQRlwkBg="),
    },
    Vector {
        secret: "gitlab secret token 123",
        id: SDK_ID,
        timestamp: SDK_TS,
        body: SDK_BODY,
        signature: None,
    },
    Vector {
        secret: "whsec_ZWJob29rLWZ1enotZ2l0bGFiLXNpZ25pbmcta2V5ISE=",
        id: "9d6c5e1a-3b7f-4c2d-8e0a-1f2b3c4d5e6f",
        timestamp: "1795348800",
        body: PUSH,
        signature: None,
    },
    Vector {
        secret: "glpat-style-but-any-text-0123456789",
        id: "9d6c5e1a-3b7f-4c2d-8e0a-1f2b3c4d5e6f",
        timestamp: "1795348800",
        body: PUSH,
        signature: None,
    },
];

#[derive(Arbitrary, Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    pub vector: u8,
    /// `secret` is a key to store as a signing token (`whsec_` + base64), not a secret token.
    pub signing: bool,
    /// The same for `other_secret`, and the kind of the default other secret.
    pub other_signing: bool,
    /// Send the other secret's proof too, when it is of the other kind (GitLab sends both
    /// when a webhook has both tokens).
    pub both: bool,
    /// The request was signed this many seconds before the verifier's clock.
    pub skew_seconds: i16,
    /// The allowed window either way; 300 s (the default) when absent.
    pub tolerance_seconds: Option<u16>,
    /// Put the sending secret in the `previous` slot, behind the other one.
    pub previous_slot: bool,
    pub previous_expired: bool,
    pub flip_at: u16,
    pub flip_mask: u8,
    pub secret: Option<Vec<u8>>,
    pub other_secret: Option<Vec<u8>>,
    /// The delivery id instead of the vector's.
    pub id: Option<String>,
    /// Sent as `X-Gitlab-Token` instead of any token.
    pub token: Option<String>,
    /// Sent instead of the right signature.
    pub signature: Option<String>,
    /// Sent instead of the signed timestamp.
    pub timestamp: Option<String>,
    /// Added after the headers (a repeated name adds a second value).
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
    crate::provider("gitlab").verify(&req, &keys.set(), &options, keys.now)
}

fn is_signing(secret: &[u8]) -> bool {
    secret.starts_with(b"whsec_")
}

/// GitLab's rule, written from its merge requests (see the handler's module comment): each
/// active secret checked its own way, signing tokens first; when both checks fail, the error of
/// the one that got further (a missing signature says less than a wrong token).
fn model(
    keys: &Keys,
    tolerance: Duration,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<SecretSlot, VerifyError> {
    let active = keys.active();
    if active.is_empty() {
        return Err(VerifyError::NoSecret);
    }
    let (signing, tokens): (Vec<_>, Vec<_>) = active.into_iter().partition(|(_, s)| is_signing(s));
    let mut signature_error = None;
    if !signing.is_empty() {
        match model_signature(&signing, tolerance, keys.now, headers, body) {
            Ok(slot) => return Ok(slot),
            Err(e) => signature_error = Some(e),
        }
    }
    let mut token_error = None;
    if !tokens.is_empty() {
        match header_text(headers, TOKEN_HEADER) {
            None => token_error = Some(VerifyError::MissingHeader(TOKEN_HEADER)),
            Some(sent) => match tokens.iter().find(|(_, s)| *s == sent.as_bytes()) {
                Some((slot, _)) => return Ok(*slot),
                None => token_error = Some(VerifyError::Mismatch),
            },
        }
    }
    Err(match (signature_error, token_error) {
        (Some(VerifyError::MissingHeader(_)), Some(token)) => token,
        (Some(e), _) | (None, Some(e)) => e,
        (None, None) => unreachable!("an active secret was checked"),
    })
}

/// A stored secret from the input: a key made a signing token, or the bytes as they are.
fn stored(bytes: &[u8], signing: bool) -> Vec<u8> {
    if signing {
        format!("whsec_{}", B64.encode(bytes)).into_bytes()
    } else {
        bytes.to_vec()
    }
}

/// What proves a request: a signature by a decoded key, and a token as sent.
#[derive(Clone, Default)]
struct Proofs {
    key: Option<Vec<u8>>,
    token: Option<String>,
}

/// Whether HTTP carries `text` as a header value the verifier reads as text.
fn header_safe(text: &[u8]) -> bool {
    text.iter()
        .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b))
}

pub fn check(input: &Input) {
    let v = &VECTORS[usize::from(input.vector) % VECTORS.len()];
    let secret = match &input.secret {
        Some(bytes) => stored(bytes, input.signing),
        None => v.secret.as_bytes().to_vec(),
    };
    let other = match &input.other_secret {
        Some(bytes) => stored(bytes, input.other_signing),
        None if input.other_signing => b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_vec(),
        None => b"another gitlab secret token".to_vec(),
    };
    let id = input.id.as_deref().unwrap_or(v.id);
    let body = if input.custom_body {
        &input.body.0[..]
    } else {
        v.body
    };
    let vector_ts: i64 = v.timestamp.parse().expect("vector timestamp");
    let now = OffsetDateTime::from_unix_timestamp(vector_ts).expect("vector time");
    let tolerance = Duration::seconds(input.tolerance_seconds.map_or(300, i64::from));
    let t = vector_ts - i64::from(input.skew_seconds);
    let timestamp = t.to_string();
    let in_time = i64::from(input.skew_seconds).abs() <= tolerance.whole_seconds();

    // What GitLab sends for a secret: a signature by its key, or the token itself.
    let proof = |s: &[u8]| -> Proofs {
        if is_signing(s) {
            Proofs {
                key: standard_webhooks_key(s),
                token: None,
            }
        } else {
            Proofs {
                key: None,
                token: std::str::from_utf8(s).ok().map(str::to_owned),
            }
        }
    };
    let mine = proof(&secret);
    let mut proofs = mine.clone();
    if input.both && is_signing(&secret) != is_signing(&other) {
        let theirs = proof(&other);
        proofs.key = proofs.key.or(theirs.key);
        proofs.token = proofs.token.or(theirs.token);
    }

    // The headers, built from the model, and `gitlab::sign` held to them.
    let mut sent: Vec<(&str, String)> = vec![(IDEMPOTENCY_KEY_HEADER, id.to_owned())];
    let signature = proofs.key.as_ref().map(|k| v1(k, id, &timestamp, body));
    if let Some(signature) = &signature {
        sent.push((ID_HEADER, id.to_owned()));
        sent.push((TIMESTAMP_HEADER, timestamp.clone()));
        sent.push((SIGNATURE_HEADER, signature.clone()));
    }
    if let Some(token) = &proofs.token {
        sent.push((TOKEN_HEADER, token.clone()));
    }
    if !input.both || is_signing(&secret) == is_signing(&other) {
        let expected = (mine.key.is_some() || mine.token.is_some()).then(|| sent.clone());
        assert_eq!(
            sign(&secret, id, t, body),
            expected,
            "gitlab::sign is the model's"
        );
    }

    // The published vector, as published.
    if let Some(published) = v.signature
        && input.secret.is_none()
        && input.id.is_none()
        && !input.custom_body
        && input.skew_seconds == 0
    {
        assert_eq!(signature.as_deref(), Some(published), "vector");
    }

    let mut signed = HeaderMap::new();
    insert_headers(&mut signed, sent.iter().map(|(k, v)| (*k, v.as_str())));

    // Which slot a request with these proofs verifies under, if any: signing tokens first
    // (current, then previous), then secret tokens.
    let expect = |keys: &Keys, proofs: &Proofs| -> Option<SecretSlot> {
        let active = keys.active();
        let by_signature = proofs
            .key
            .as_ref()
            .filter(|_| usable_id(id) && in_time)
            .and_then(|k| {
                active.iter().find(|(_, s)| {
                    is_signing(s)
                        && standard_webhooks_key(s)
                            .is_some_and(|d| same_hmac_key(Hash::Sha256, &d, k))
                })
            });
        let by_token = proofs
            .token
            .as_ref()
            .filter(|t| header_safe(t.as_bytes()))
            .and_then(|t| {
                active
                    .iter()
                    .find(|(_, s)| !is_signing(s) && *s == t.as_bytes())
            });
        by_signature.or(by_token).map(|(slot, _)| *slot)
    };

    let keys = if input.previous_slot {
        Keys::rotating(&other, &secret, input.previous_expired, now)
    } else {
        Keys::single(&secret, now)
    };

    // Round trip.
    let got = run(&keys, tolerance, &signed, body);
    assert_eq!(got, model(&keys, tolerance, &signed, body), "round trip");
    assert_eq!(
        got.clone().ok(),
        expect(&keys, &proofs),
        "round trip {got:?}"
    );

    // A flipped body byte: the signature no longer holds; a token still does.
    if let Some(tampered) = flipped(body, input.flip_at, input.flip_mask) {
        let after = run(&keys, tolerance, &signed, &tampered);
        assert_eq!(after, model(&keys, tolerance, &signed, &tampered));
        let unsigned = Proofs {
            key: None,
            ..proofs.clone()
        };
        assert_eq!(after.ok(), expect(&keys, &unsigned), "flipped body byte");
    }

    // Another secret.
    let wrong = Keys::single(&other, now);
    let got = run(&wrong, tolerance, &signed, body);
    assert_eq!(got, model(&wrong, tolerance, &signed, body), "other secret");
    assert_eq!(got.ok(), expect(&wrong, &proofs), "other secret");

    // Only signing tokens held: a token alone, any token, is refused.
    let active = keys.active();
    if !active.is_empty() && active.iter().all(|(_, s)| is_signing(s)) {
        for (_, s) in &active {
            let mut h = HeaderMap::new();
            let token = String::from_utf8_lossy(s);
            insert_headers(
                &mut h,
                [(IDEMPOTENCY_KEY_HEADER, id), (TOKEN_HEADER, token.as_ref())],
            );
            assert_eq!(
                run(&keys, tolerance, &h, body),
                Err(VerifyError::MissingHeader(SIGNATURE_HEADER)),
                "a token alone passed a signing-token stack"
            );
        }
    }

    // Anything else in the headers.
    if input.token.is_some()
        || input.signature.is_some()
        || input.timestamp.is_some()
        || input.headers.is_some()
    {
        let mut h = HeaderMap::new();
        insert_headers(
            &mut h,
            [
                (IDEMPOTENCY_KEY_HEADER, id),
                (ID_HEADER, id),
                (
                    TIMESTAMP_HEADER,
                    input.timestamp.as_deref().unwrap_or(&timestamp),
                ),
            ],
        );
        if let Some(signature) = input.signature.as_ref().or(signature.as_ref()) {
            insert_headers(&mut h, [(SIGNATURE_HEADER, signature.as_str())]);
        }
        if let Some(token) = input.token.as_ref().or(proofs.token.as_ref()) {
            insert_headers(&mut h, [(TOKEN_HEADER, token.as_str())]);
        }
        append_headers(&mut h, input.headers.as_deref().unwrap_or_default());
        let got = run(&keys, tolerance, &h, body);
        assert_eq!(got, model(&keys, tolerance, &h, body), "headers {h:?}");
    }
}
