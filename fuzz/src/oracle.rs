//! Independent models the properties are checked against: HMACs computed with the `hmac` crate
//! directly, which secrets are active, Unix-seconds timestamps, Standard Webhooks keys, and
//! Twilio's URL and parameter rules written afresh.

use std::collections::BTreeSet;

use ebhook_handler::{Secret, SecretSet, SecretSlot};
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    Sha1,
    Sha256,
}

pub fn hmac(hash: Hash, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    fn run<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }
    match hash {
        Hash::Sha1 => run::<Hmac<Sha1>>(key, parts),
        Hash::Sha256 => run::<Hmac<Sha256>>(key, parts),
    }
}

/// HMAC keys that give the same MAC: a key longer than the 64-byte block is hashed first, and
/// the key is then padded with zero bytes, so `k` and `k\0` are the same key. "A different
/// secret must not verify" holds only for secrets that differ after this normalisation.
pub fn hmac_key(hash: Hash, key: &[u8]) -> Vec<u8> {
    let mut key = if key.len() > 64 {
        match hash {
            Hash::Sha1 => Sha1::digest(key).to_vec(),
            Hash::Sha256 => Sha256::digest(key).to_vec(),
        }
    } else {
        key.to_vec()
    };
    while key.last() == Some(&0) {
        key.pop();
    }
    key
}

pub fn same_hmac_key(hash: Hash, a: &[u8], b: &[u8]) -> bool {
    hmac_key(hash, a) == hmac_key(hash, b)
}

/// The secrets under test, as plain bytes: a current one and, during a rotation, a previous one
/// that may have expired.
#[derive(Clone, Debug)]
pub struct Keys {
    pub current: Vec<u8>,
    pub previous: Option<(Vec<u8>, bool)>,
    pub now: OffsetDateTime,
}

impl Keys {
    pub fn single(current: &[u8], now: OffsetDateTime) -> Self {
        Self {
            current: current.to_vec(),
            previous: None,
            now,
        }
    }

    pub fn rotating(current: &[u8], previous: &[u8], expired: bool, now: OffsetDateTime) -> Self {
        Self {
            current: current.to_vec(),
            previous: Some((previous.to_vec(), expired)),
            now,
        }
    }

    /// The handler's form of the same secrets.
    pub fn set(&self) -> SecretSet {
        match &self.previous {
            None => SecretSet::single(self.current.clone()),
            Some((previous, expired)) => {
                let expiry = if *expired {
                    self.now - Duration::minutes(1)
                } else {
                    self.now + Duration::hours(1)
                };
                SecretSet::new(
                    Some(Secret::new(self.current.clone())),
                    Some(Secret::new(previous.clone())),
                    Some(expiry),
                )
            }
        }
    }

    /// Secrets that verify at `now`, current first; an empty secret is "not set".
    pub fn active(&self) -> Vec<(SecretSlot, &[u8])> {
        let mut active = Vec::new();
        if !self.current.is_empty() {
            active.push((SecretSlot::Current, &self.current[..]));
        }
        if let Some((previous, false)) = &self.previous
            && !previous.is_empty()
        {
            active.push((SecretSlot::Previous, &previous[..]));
        }
        active
    }

    /// The slot a request signed with `signer` verifies under, if any.
    pub fn slot_for(&self, hash: Hash, signer: &[u8]) -> Option<SecretSlot> {
        self.active()
            .into_iter()
            .find(|(_, key)| same_hmac_key(hash, key, signer))
            .map(|(slot, _)| slot)
    }
}

/// A signed Unix time in whole seconds as Stripe, Slack and Standard Webhooks senders write it:
/// ASCII digits only (no sign, space or fraction), at most `max_digits` of them, and a time the
/// calendar can hold. Anything else is refused, so the text signed is the number checked.
pub fn unix_seconds(text: &str, max_digits: usize) -> Option<OffsetDateTime> {
    if text.is_empty() || text.len() > max_digits || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    OffsetDateTime::from_unix_timestamp(text.parse().ok()?).ok()
}

/// Whether `signed_at` is within `tolerance` of `now`, either way (the window is inclusive).
pub fn in_window(signed_at: OffsetDateTime, now: OffsetDateTime, tolerance: Duration) -> bool {
    (now - signed_at).abs() <= tolerance
}

/// The most signatures the handler reads from one header (Stripe's `v1=`, Standard Webhooks'
/// `v1,`); later ones are not examined. Repeated here so the model does not borrow the handler's.
pub const MAX_SIGNATURES: usize = 16;

/// The Standard Webhooks HMAC key of a stored secret: what follows an optional `whsec_`, without
/// surrounding ASCII whitespace, base64-decoded with or without `=` padding. `None` (the secret
/// verifies nothing) when that is not base64 or decodes to nothing.
pub fn standard_webhooks_key(secret: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::alphabet;
    use base64::engine::DecodePaddingMode;
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let text = secret
        .strip_prefix(b"whsec_")
        .unwrap_or(secret)
        .trim_ascii();
    LENIENT.decode(text).ok().filter(|key| !key.is_empty())
}

/// Twilio's parameter order, modelled with a set: every distinct (name, value) pair once,
/// ordered by name and then value.
pub fn canonical<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<(String, String)> {
    params
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The message Twilio signs: the URL, then each parameter's name and value.
pub fn twilio_message(url: &str, params: &[(String, String)]) -> String {
    params.iter().fold(url.to_owned(), |mut m, (k, v)| {
        m += k;
        m += v;
        m
    })
}

/// The URLs a Twilio signature may cover for a request to `url`, modelled on the SDKs: the URL
/// without its port, then with one (the scheme's default if it has none). One of them is the
/// URL as given. The port is whatever follows the authority's last colon outside an IPv6
/// literal's brackets.
pub fn twilio_urls(url: &str) -> [String; 2] {
    let Some((scheme, rest)) = url.split_once("://") else {
        return [url.to_owned(), url.to_owned()];
    };
    let end = rest
        .char_indices()
        .find(|&(_, c)| c == '/' || c == '?' || c == '#')
        .map_or(rest.len(), |(i, _)| i);
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => {
            [format!("{scheme}://{host}{tail}"), url.to_owned()]
        }
        _ => {
            let port = if scheme.eq_ignore_ascii_case("http") {
                "80"
            } else {
                "443"
            };
            [
                url.to_owned(),
                format!("{scheme}://{authority}:{port}{tail}"),
            ]
        }
    }
}

/// Whether `host` is an ordinary DNS name, for which a port can be added and removed cleanly.
pub fn plain_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}
