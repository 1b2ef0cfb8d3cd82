//! `verify_twilio_shared_key`: Twilio's SharedKey signing. A Webhook Rule makes Twilio sign the
//! same string as with the auth token (URL + sorted form parameters, or the URL with
//! `bodySHA256`) with a SharedKey secret, with the hash named in
//! `X-Twilio-Webhooks-Signature-Settings: key=<id>,algorithm=HMAC_SHA256` (or `HMAC_SHA1`).
//!
//! - The SDK vectors (twilio 9.13.0: HMAC_SHA256 with and without the port, JSON, HMAC_SHA1)
//!   reproduce and verify.
//! - Every property of `verify_twilio` holds for a request signed this way, with the settings
//!   header spelt as Twilio's SDKs read it (entries in either order, the name in any case,
//!   spaces around names and values, an entry Twilio may add).
//! - An algorithm Twilio does not name fails closed (`UnsupportedAlgorithm`), as does a header
//!   naming none (`MalformedSignature`); a signature of another hash than the one named is
//!   malformed.
//! - Any settings header (junk text, sent twice, not text) never panics, and the answer equals
//!   the model ([`crate::verify_twilio::settings_hash`] and Twilio's rule).

use arbitrary::Arbitrary;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ebhook_handler::SecretSet;
use ebhook_handler::SecretSlot;
use ebhook_handler::providers::twilio::{Algorithm, sign_with};
use ebhook_handler::providers::twilio::{
    SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER, body_hash, settings_header,
};
use ebhook_handler::verify::{SignedRequest, VerifyError, VerifyOptions};
use http::HeaderMap;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::insert_headers;
use crate::oracle::{Hash, canonical, hmac, twilio_message};
use crate::verify_twilio::{self, Signing, settings_hash};

const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

/// The SharedKey secret of the SDK vectors.
pub const SHARED_SECRET: &str = "sharedkey-secret-ebhook-test";
const KEY_ID: &str = "webhooks_sharedkey_example";
const VOICE: &[(&str, &str)] = &[
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
];
const JSON_BODY: &[u8] = br#"{"property": "value", "boolean": true}"#;

/// Names Twilio does not sign with: each must fail closed.
const UNKNOWN: [&str; 6] = [
    "HMAC_SHA512",
    "RSA_SHA256",
    "HMAC-SHA256",
    "SHA256",
    "HMAC_SHA2",
    "none",
];

#[derive(Arbitrary, Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    /// 0: HMAC_SHA256; 1: HMAC_SHA1; 2: an unknown algorithm; 3: no algorithm named; 4:
    /// HMAC_SHA256 named, signed with SHA-1; 5: HMAC_SHA1 named, signed with SHA-256.
    pub algorithm: u8,
    /// Bit 0: `algorithm` first; bit 1: its name in lower case; bit 2: spaces around names and
    /// values; bit 3: an extra entry; bits 4-7: which unknown name.
    pub spelling: u8,
    /// The SharedKey's id instead of the example's (used when it is an id Twilio would make).
    pub key_id: Option<String>,
    /// Sent as the settings header instead, whatever it says.
    pub settings: Option<String>,
    /// The request, as `verify_twilio` builds it; its token is the SharedKey secret, the SDK
    /// vectors' when absent.
    pub twilio: verify_twilio::Input,
}

/// The SDK vectors: (URL, parameters, JSON body, hash, signature).
const SDK_VECTORS: [(&str, bool, Hash, &str); 4] = [
    (
        "https://mycompany.com/myapp.php?foo=1&bar=2",
        false,
        Hash::Sha256,
        "E4jjcnLMd4l7MFpel6fiqPUiFbPjFvIS1jSguswpuqY=",
    ),
    (
        "https://mycompany.com:443/myapp.php?foo=1&bar=2",
        false,
        Hash::Sha256,
        "28iDnK6s32oDPCwGn8yCusDAPFOSbbIqKyqgNw5JPCg=",
    ),
    (
        "https://mycompany.com/myapp.php?foo=1&bar=2",
        true,
        Hash::Sha256,
        "4H4OJ7mH2d49ABTYD4rjYV7uQ8BOykJMNylpAyIkY0o=",
    ),
    (
        "https://mycompany.com/myapp.php?foo=1&bar=2",
        false,
        Hash::Sha1,
        "DR3DrJBm3lpZ8uh7boXzPrg6Zgs=",
    ),
];

/// The SDK vectors reproduce from the model and from `sign_with`, and verify.
fn sdk_vectors() {
    let secret = SHARED_SECRET.as_bytes();
    for (url, json, hash, published) in SDK_VECTORS {
        let (url, params, body, content_type) = if json {
            let url = format!("{url}&bodySHA256={}", body_hash(JSON_BODY));
            (url, Vec::new(), JSON_BODY.to_vec(), "application/json")
        } else {
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(VOICE)
                .finish()
                .into_bytes();
            let params = canonical(VOICE.iter().copied());
            (
                url.to_owned(),
                params,
                body,
                "application/x-www-form-urlencoded",
            )
        };
        let model = B64.encode(hmac(
            hash,
            secret,
            &[twilio_message(&url, &params).as_bytes()],
        ));
        assert_eq!(model, published, "{url}");
        let algorithm = match hash {
            Hash::Sha1 => Algorithm::HmacSha1,
            Hash::Sha256 => Algorithm::HmacSha256,
        };
        let cow = params
            .iter()
            .map(|(k, v)| (k.as_str().into(), v.as_str().into()));
        assert_eq!(sign_with(algorithm, secret, &url, cow), published);
        let settings = settings_header(KEY_ID, algorithm);
        let (base, rest) = url.split_at("https://mycompany.com".len());
        let rest = rest.strip_prefix(":443").unwrap_or(rest);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut headers = HeaderMap::new();
        insert_headers(
            &mut headers,
            [
                (SIGNATURE_HEADER, published),
                (SIGNATURE_SETTINGS_HEADER, settings.as_str()),
                ("content-type", content_type),
            ],
        );
        let req = SignedRequest {
            method: "POST",
            base_url: base,
            raw_path: path,
            raw_query: query,
            headers: &headers,
            body: &body,
        };
        let got = crate::provider("twilio").verify(
            &req,
            &SecretSet::single(SHARED_SECRET),
            &VerifyOptions::default(),
            NOW,
        );
        assert_eq!(got, Ok(SecretSlot::Current), "{url}");
    }
}

/// A SharedKey id as Twilio makes them: letters, digits, `_` and `-`.
fn plain_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The settings header for the structured choices, and the signing it describes.
fn structured(input: &Input) -> Signing {
    let key = input
        .key_id
        .as_deref()
        .filter(|id| plain_id(id))
        .unwrap_or(KEY_ID);
    let unknown = UNKNOWN[usize::from(input.spelling >> 4) % UNKNOWN.len()];
    let (named, hash, outcome) = match input.algorithm % 6 {
        0 => (Some("HMAC_SHA256"), Hash::Sha256, Ok(())),
        1 => (Some("HMAC_SHA1"), Hash::Sha1, Ok(())),
        2 => (
            Some(unknown),
            Hash::Sha256,
            Err(VerifyError::UnsupportedAlgorithm),
        ),
        3 => (None, Hash::Sha256, Err(VerifyError::MalformedSignature)),
        4 => (
            Some("HMAC_SHA256"),
            Hash::Sha1,
            Err(VerifyError::MalformedSignature),
        ),
        _ => (
            Some("HMAC_SHA1"),
            Hash::Sha256,
            Err(VerifyError::MalformedSignature),
        ),
    };
    let lower = input.spelling & 2 != 0;
    let pad = if input.spelling & 4 != 0 { " " } else { "" };
    let entry = |name: &str, value: &str| format!("{pad}{name}{pad}={pad}{value}{pad}");
    let mut entries = vec![entry("key", key)];
    if let Some(name) = named {
        let name = if lower {
            name.to_ascii_lowercase()
        } else {
            name.to_owned()
        };
        let algorithm = entry("algorithm", &name);
        if input.spelling & 1 != 0 {
            entries.insert(0, algorithm);
        } else {
            entries.push(algorithm);
        }
    }
    if input.spelling & 8 != 0 {
        entries.push(entry("version", "2"));
    }
    Signing {
        hash,
        settings: Some(entries.join(",")),
        outcome,
    }
}

/// A settings header as given: the hash it names signs, and the model says what follows.
fn raw(settings: &str) -> Signing {
    let mut headers = HeaderMap::new();
    insert_headers(&mut headers, [(SIGNATURE_SETTINGS_HEADER, settings)]);
    let named = settings_hash(&headers);
    Signing {
        hash: *named.as_ref().unwrap_or(&Hash::Sha256),
        settings: Some(settings.to_owned()),
        outcome: named.map(|_| ()),
    }
}

pub fn check(input: &Input) {
    if input.twilio.token.is_none() {
        sdk_vectors();
    }
    let signing = match &input.settings {
        Some(settings) => raw(settings),
        None => structured(input),
    };
    if input.settings.is_none() && signing.outcome.is_ok() {
        let named = match signing.hash {
            Hash::Sha1 => Algorithm::HmacSha1,
            Hash::Sha256 => Algorithm::HmacSha256,
        };
        let plain = settings_header(KEY_ID, named);
        let mut h = HeaderMap::new();
        insert_headers(&mut h, [(SIGNATURE_SETTINGS_HEADER, plain.as_str())]);
        assert_eq!(settings_hash(&h), Ok(signing.hash), "settings_header");
    }
    let mut twilio = input.twilio.clone();
    twilio
        .token
        .get_or_insert_with(|| SHARED_SECRET.as_bytes().to_vec());
    verify_twilio::check_signed(&twilio, &signing);
}
