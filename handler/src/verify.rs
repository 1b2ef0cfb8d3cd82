//! What every provider's verification shares: the signed parts of a request, the options, the
//! errors, and constant-time MAC comparison. Pure: no I/O, no clock (the caller passes `now`), so
//! every published vector runs as a unit test. Each provider's scheme is in `providers/`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use crate::secrets::{Secret, SecretSlot};

/// The parts of an HTTP request that signatures cover, as the function URL received it.
#[derive(Clone, Copy, Debug)]
pub struct SignedRequest<'a> {
    /// Upper-case method.
    pub method: &'a str,
    /// `https://host` as the provider addressed it, or the configured public base URL.
    pub base_url: &'a str,
    /// Path exactly as received (`rawPath`).
    pub raw_path: &'a str,
    /// Query string exactly as received, without `?` (`rawQueryString`).
    pub raw_query: &'a str,
    /// Header names are lower-case (function URLs lower-case them).
    pub headers: &'a HeaderMap,
    /// The raw body bytes, base64-decoded if the function URL encoded them.
    pub body: &'a [u8],
}

impl<'a> SignedRequest<'a> {
    pub fn header(&self, name: &'static HeaderName) -> Result<&str, VerifyError> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or(VerifyError::MissingHeader(name.as_str()))
    }

    /// A header's value, if it is text, for as long as the request lives.
    pub fn text(&self, name: &HeaderName) -> Option<&'a str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The full public URL the provider requested.
    pub fn url(&self) -> String {
        let mut url = String::with_capacity(
            self.base_url.len() + self.raw_path.len() + self.raw_query.len() + 1,
        );
        url.push_str(self.base_url.trim_end_matches('/'));
        url.push_str(self.raw_path);
        if !self.raw_query.is_empty() {
            url.push('?');
            url.push_str(self.raw_query);
        }
        url
    }
}

#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// How far a signed timestamp may be from now, either way (Zendesk).
    pub tolerance: Duration,
    /// Accept the secret a provider publishes for its own test sends (Zendesk's webhook
    /// builder). Off unless asked for.
    pub accept_test_secret: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            tolerance: Duration::minutes(5),
            accept_test_secret: false,
        }
    }
}

/// Why a request failed verification. All of these answer 401 with no detail; the variant is
/// only logged, as a category, never with the signature itself.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("no signing secret is configured; set one with `ebhook rotate-secret`")]
    NoSecret,
    #[error("missing or non-text header {0}")]
    MissingHeader(&'static str),
    #[error("signature header is not in the provider's format")]
    MalformedSignature,
    #[error("signature settings name an algorithm ebhook does not support")]
    UnsupportedAlgorithm,
    #[error("timestamp header is not in the provider's format")]
    MalformedTimestamp,
    #[error("timestamp is outside the allowed window (replayed or clock skew)")]
    StaleTimestamp,
    #[error("body is not covered by the signature")]
    UnsignedBody,
    #[error("body does not match its signed SHA-256")]
    BodyHashMismatch,
    #[error("signature does not match any active secret")]
    Mismatch,
}

impl VerifyError {
    /// A short category for logs and metrics.
    pub fn category(&self) -> &'static str {
        match self {
            Self::NoSecret => "no_secret",
            Self::MissingHeader(_) => "missing_header",
            Self::MalformedSignature => "malformed_signature",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::MalformedTimestamp => "malformed_timestamp",
            Self::StaleTimestamp => "stale_timestamp",
            Self::UnsignedBody => "unsigned_body",
            Self::BodyHashMismatch => "body_hash_mismatch",
            Self::Mismatch => "mismatch",
        }
    }

    /// Whether a fresher copy of the secret could change the answer.
    pub fn may_be_stale_secret(&self) -> bool {
        matches!(self, Self::Mismatch | Self::NoSecret)
    }
}

/// Try each secret in turn: a MAC over `parts` compared in constant time with `expected`.
pub(crate) fn first_match<'s, M>(
    secrets: impl IntoIterator<Item = (SecretSlot, &'s Secret)>,
    parts: &[&[u8]],
    expected: &[u8],
) -> Option<SecretSlot>
where
    M: Mac + KeyInit,
{
    secrets.into_iter().find_map(|(slot, secret)| {
        let mut mac = <M as KeyInit>::new_from_slice(secret.as_bytes()).ok()?;
        for part in parts {
            mac.update(part);
        }
        mac.verify_slice(expected).ok().map(|()| slot)
    })
}

/// The most signatures read from one header (Stripe's `v1=`, Standard Webhooks' `v1,`). Senders
/// put one per live secret, two during a rotation; the cap keeps a header of thousands of entries
/// as cheap as one of sixteen for a request nobody has verified yet.
pub(crate) const MAX_SIGNATURES: usize = 16;

/// Like [`first_match`] for a header carrying several signatures: each secret's MAC is computed
/// once and compared in constant time with every candidate, so a long list costs one MAC over the
/// body per secret, not one per candidate.
pub(crate) fn first_match_any<'s, M>(
    secrets: impl IntoIterator<Item = (SecretSlot, &'s Secret)>,
    parts: &[&[u8]],
    candidates: &[[u8; 32]],
) -> Option<SecretSlot>
where
    M: Mac + KeyInit,
{
    secrets.into_iter().find_map(|(slot, secret)| {
        let mut mac = <M as KeyInit>::new_from_slice(secret.as_bytes()).ok()?;
        for part in parts {
            mac.update(part);
        }
        let tag = mac.finalize().into_bytes();
        candidates
            .iter()
            .any(|c| bool::from(tag.as_slice().ct_eq(c)))
            .then_some(slot)
    })
}

/// The slot of the secret equal to `sent` (a bearer token, basic auth's credentials). Their
/// SHA-256 digests are compared, in constant time: comparing the values themselves would stop
/// at a length difference and so tell the secret's length.
pub(crate) fn first_equal<'s>(
    secrets: impl IntoIterator<Item = (SecretSlot, &'s Secret)>,
    sent: &[u8],
) -> Result<SecretSlot, VerifyError> {
    use sha2::Digest;
    let sent = sha2::Sha256::digest(sent);
    secrets
        .into_iter()
        .find_map(|(slot, secret)| {
            let stored = sha2::Sha256::digest(secret.as_bytes());
            bool::from(stored.as_slice().ct_eq(sent.as_slice())).then_some(slot)
        })
        .ok_or(VerifyError::Mismatch)
}

/// A Unix time in whole seconds as senders write it: ASCII digits only (no sign, space or
/// fraction), so the text that was signed is exactly the number that is checked.
pub(crate) fn parse_unix_seconds(text: &str) -> Option<OffsetDateTime> {
    // 18 digits always fit an i64; real timestamps have 10.
    if text.is_empty() || text.len() > 18 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    OffsetDateTime::from_unix_timestamp(text.parse().ok()?).ok()
}

/// Whether `signed_at` is within `tolerance` of `now`, either way.
pub(crate) fn within(signed_at: OffsetDateTime, now: OffsetDateTime, tolerance: Duration) -> bool {
    (now - signed_at).abs() <= tolerance
}

/// A MAC of exactly `len` bytes from standard, padded base64. The header is not verified yet, so
/// its length is checked before it is decoded: nothing is allocated beyond the MAC itself.
pub(crate) fn decode_base64_mac(text: &str, len: usize) -> Result<Vec<u8>, VerifyError> {
    if text.len() != len.div_ceil(3) * 4 {
        return Err(VerifyError::MalformedSignature);
    }
    let mac = B64
        .decode(text)
        .map_err(|_| VerifyError::MalformedSignature)?;
    if mac.len() != len {
        return Err(VerifyError::MalformedSignature);
    }
    Ok(mac)
}

pub(crate) type HmacSha256 = Hmac<sha2::Sha256>;
pub(crate) type HmacSha1 = Hmac<sha1::Sha1>;

pub(crate) fn mac_bytes<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <M as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}
