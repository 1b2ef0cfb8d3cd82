//! What every provider's verification shares: the signed parts of a request, the options, the
//! errors, and constant-time MAC comparison. Pure: no I/O, no clock (the caller passes `now`), so
//! every published vector runs as a unit test. Each provider's scheme is in `providers/`.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName};
use time::Duration;

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

impl SignedRequest<'_> {
    pub fn header(&self, name: &'static HeaderName) -> Result<&str, VerifyError> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or(VerifyError::MissingHeader(name.as_str()))
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
    #[error("timestamp header is not an ISO-8601 UTC time")]
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
