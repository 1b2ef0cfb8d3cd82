//! `verify_twilio`: Twilio's `X-Twilio-Signature` = base64(HMAC-SHA1(auth token, URL + sorted
//! POST parameters)), with `bodySHA256` in the URL for JSON bodies.
//!
//! - The published vectors reproduce, with and without the default port.
//! - A request signed with `twilio::sign` verifies under the slot holding that token, whatever
//!   the order its form parameters are sent in, and when Twilio signed the URL with the default
//!   port and the request names none (or the reverse).
//! - A flipped body byte: a JSON body fails on its hash; a form body fails exactly when the
//!   message Twilio signed is not among those the verifier tries: the URL, with and without the
//!   port, then the sorted names and values run together with no separator. So different
//!   parameters can sign the same (`a=bc` and `ab=c`; a byte turned into `&` between two halves
//!   of one invalid UTF-8 sequence, each decoded to U+FFFD), as can the equivalent spellings of
//!   form encoding, and, for a URL that ends with its authority, a parameter name starting with
//!   what the port variant drops (`https://h:` signed with no parameters, sent as `https://h`
//!   with a parameter `:`). A flipped query byte never verifies. A different token verifies
//!   only if it is the same HMAC key.
//! - Whatever the request, the answer equals an independent model of Twilio's rule, including
//!   an `X-Twilio-Webhooks-Signature-Settings` header among the junk headers (it selects the
//!   hash; see `verify_twilio_shared_key`, which runs these same properties with SharedKeys).

use std::borrow::Cow;

use arbitrary::Arbitrary;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ebhook_handler::SecretSlot;
use ebhook_handler::providers::twilio::{
    Algorithm, BODY_HASH_PARAM, SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER, body_hash, sign,
    sign_with,
};
use ebhook_handler::verify::{SignedRequest, VerifyError, VerifyOptions};
use http::HeaderMap;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::oracle::{Hash, Keys, canonical, hmac, plain_host, twilio_message, twilio_urls};
use crate::{Bytes, flipped, header_text, insert_headers};

const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);
const FORM: &str = "application/x-www-form-urlencoded";

/// The most comma-separated entries the handler reads from the settings header (Twilio sends
/// two); a longer header is refused.
const MAX_SETTINGS_ENTRIES: usize = 8;

/// The hash `X-Twilio-Webhooks-Signature-Settings` selects, written from Twilio's Webhooks
/// configuration documentation and SDKs (`key=<id>,algorithm=<name>`, the name in any case),
/// with the handler's documented refusals: the header sent twice, not text, over
/// [`MAX_SETTINGS_ENTRIES`] entries, an entry without `=` or with an empty name or value, `key`
/// or `algorithm` given twice, or no algorithm, is malformed; an algorithm other than
/// HMAC_SHA1 and HMAC_SHA256 is unsupported. No header is the auth token's HMAC-SHA1.
pub fn settings_hash(headers: &HeaderMap) -> Result<Hash, VerifyError> {
    let mut values = headers.get_all(SIGNATURE_SETTINGS_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(Hash::Sha1);
    };
    if values.next().is_some() {
        return Err(VerifyError::MalformedSignature);
    }
    let text = value
        .to_str()
        .map_err(|_| VerifyError::MalformedSignature)?;
    let entries: Vec<&str> = text.split(',').collect();
    if entries.len() > MAX_SETTINGS_ENTRIES {
        return Err(VerifyError::MalformedSignature);
    }
    let (mut key, mut algorithm) = (None, None);
    for entry in entries {
        let (name, value) = entry
            .split_once('=')
            .ok_or(VerifyError::MalformedSignature)?;
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() || value.is_empty() {
            return Err(VerifyError::MalformedSignature);
        }
        let slot = match name {
            "key" => &mut key,
            "algorithm" => &mut algorithm,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(VerifyError::MalformedSignature);
        }
    }
    match algorithm.ok_or(VerifyError::MalformedSignature)? {
        a if a.eq_ignore_ascii_case("HMAC_SHA1") => Ok(Hash::Sha1),
        a if a.eq_ignore_ascii_case("HMAC_SHA256") => Ok(Hash::Sha256),
        _ => Err(VerifyError::UnsupportedAlgorithm),
    }
}

/// How Twilio signed a request: with the auth token (HMAC-SHA1, no settings header,
/// [`Signing::AUTH_TOKEN`]) or with a SharedKey named in the settings header.
#[derive(Clone, Debug)]
pub struct Signing {
    /// The hash the signature was made with.
    pub hash: Hash,
    /// The `X-Twilio-Webhooks-Signature-Settings` value sent, if any.
    pub settings: Option<String>,
    /// What the settings header makes of the request: `Ok` when it names `hash` (or is absent
    /// and `hash` is SHA-1), else the error every such request gets once a secret is set.
    pub outcome: Result<(), VerifyError>,
}

impl Signing {
    pub const AUTH_TOKEN: Self = Self {
        hash: Hash::Sha1,
        settings: None,
        outcome: Ok(()),
    };

    fn algorithm(&self) -> Algorithm {
        match self.hash {
            Hash::Sha1 => Algorithm::HmacSha1,
            Hash::Sha256 => Algorithm::HmacSha256,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A form POST: the parameters are signed.
    Form(&'static [(&'static str, &'static str)]),
    /// A JSON POST: the body's hash goes in the URL, which alone is signed.
    Json(&'static [u8]),
    /// A GET: the URL alone is signed.
    Get,
}

pub struct Vector {
    pub token: &'static str,
    pub host: &'static str,
    pub path: &'static str,
    /// Without `bodySHA256`, which is added for JSON bodies.
    pub query: &'static str,
    pub kind: Kind,
    pub content_type: &'static str,
    /// The published signatures for the URL signed without and with the default port.
    pub signatures: [Option<&'static str>; 2],
}

const VOICE: &[(&str, &str)] = &[
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
];

/// Twilio's published vectors and realistic callbacks.
pub const VECTORS: [Vector; 6] = [
    Vector {
        token: "12345",
        host: "mycompany.com",
        path: "/myapp.php",
        query: "foo=1&bar=2",
        kind: Kind::Form(VOICE),
        content_type: "application/x-www-form-urlencoded; charset=utf-8",
        signatures: [
            Some("RSOYDt4T1cUTdK1PDd93/VVr8B8="),
            Some("kvajT1Ptam85bY51eRf/AJRuM3w="),
        ],
    },
    Vector {
        token: "12345",
        host: "mycompany.com",
        path: "/myapp.php",
        query: "foo=1&bar=2",
        kind: Kind::Form(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ]),
        content_type: FORM,
        signatures: [Some("IK+Dwps556ElfBT0I3Rgjkr1wJU="), None],
    },
    Vector {
        token: "12345",
        host: "mycompany.com",
        path: "/myapp.php",
        query: "foo=1&bar=2",
        kind: Kind::Json(br#"{"property": "value", "boolean": true}"#),
        content_type: "application/json",
        signatures: [Some("a9nBmqA0ju/hNViExpshrM61xv4="), None],
    },
    Vector {
        token: "12345",
        host: "mycompany.com",
        path: "/myapp.php",
        query: "foo=1&bar=2",
        kind: Kind::Json(b"{}"),
        content_type: "application/json",
        signatures: [None, Some("Ldidvp12m26NI7eqEvxnEpkd9Hc=")],
    },
    Vector {
        token: "12345",
        host: "h.example",
        path: "/hook",
        query: "b=2&a=1",
        kind: Kind::Get,
        content_type: "",
        signatures: [None, None],
    },
    Vector {
        token: "9c1e6f3a2b4d5e6f7a8b9c0d1e2f3a4b",
        host: "abcdefghijklmnop.lambda-url.us-east-1.on.aws",
        path: "/",
        query: "",
        kind: Kind::Form(&[
            ("ToCountry", "US"),
            ("SmsMessageSid", "SM0123456789abcdef0123456789abcdef"),
            ("NumMedia", "0"),
            ("SmsSid", "SM0123456789abcdef0123456789abcdef"),
            ("SmsStatus", "received"),
            ("Body", "Hello from Twilio & friends: 100% ✓"),
            ("To", "+15005550006"),
            ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
            ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
            ("From", "+14155551234"),
            ("ApiVersion", "2010-04-01"),
        ]),
        content_type: "application/x-www-form-urlencoded; charset=UTF-8",
        signatures: [None, None],
    },
];

#[derive(Arbitrary, Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    pub vector: u8,
    pub previous_slot: bool,
    pub previous_expired: bool,
    pub plain_http: bool,
    /// Bit 0: Twilio signed the URL with the default port; bit 1: the request's URL has it.
    pub port: u8,
    /// Sends the form parameters in another order.
    pub shuffle: u64,
    pub flip_at: u16,
    pub flip_mask: u8,
    pub token: Option<Vec<u8>>,
    pub other_token: Option<Vec<u8>>,
    pub host: Option<String>,
    pub path: Option<String>,
    pub query: Option<String>,
    pub params: Option<Vec<(String, String)>>,
    pub content_type: Option<String>,
    pub signature: Option<String>,
    pub headers: Option<Vec<(String, String)>>,
    /// Use `body`: a JSON vector's body, or a form vector's raw form body (replacing its
    /// parameters).
    pub custom_body: bool,
    pub body: Bytes,
}

struct Request {
    method: &'static str,
    base: String,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Request {
    fn url(&self) -> String {
        let mut url = format!("{}{}", self.base.trim_end_matches('/'), self.path);
        if !self.query.is_empty() {
            url.push('?');
            url.push_str(&self.query);
        }
        url
    }

    fn run(&self, keys: &Keys) -> Result<SecretSlot, VerifyError> {
        let req = SignedRequest {
            method: self.method,
            base_url: &self.base,
            raw_path: &self.path,
            raw_query: &self.query,
            headers: &self.headers,
            body: &self.body,
        };
        crate::provider("twilio").verify(&req, &keys.set(), &VerifyOptions::default(), keys.now)
    }

    /// Twilio's rule, written from its documentation and SDKs.
    fn model(&self, keys: &Keys) -> Result<SecretSlot, VerifyError> {
        let candidates = keys.active();
        if candidates.is_empty() {
            return Err(VerifyError::NoSecret);
        }
        let signature = header_text(&self.headers, SIGNATURE_HEADER)
            .ok_or(VerifyError::MissingHeader(SIGNATURE_HEADER))?;
        let hash = settings_hash(&self.headers)?;
        let mac_len = match hash {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
        };
        let mac = B64
            .decode(signature.trim())
            .ok()
            .filter(|m| m.len() == mac_len)
            .ok_or(VerifyError::MalformedSignature)?;
        let body_hash = form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == BODY_HASH_PARAM)
            .map(|(_, v)| v.into_owned());
        let is_form = header_text(&self.headers, "content-type")
            .and_then(|ct| ct.split(';').next())
            .is_some_and(|m| m.trim().eq_ignore_ascii_case(FORM));
        let params = match body_hash {
            Some(body_hash) => {
                let digest = Sha256::digest(&self.body);
                if hex::decode(body_hash).ok().as_deref() != Some(digest.as_slice()) {
                    return Err(VerifyError::BodyHashMismatch);
                }
                Vec::new()
            }
            None if self.method == "POST" && is_form => form_params(&self.body),
            None if self.body.is_empty() => Vec::new(),
            None => return Err(VerifyError::UnsignedBody),
        };
        for url in twilio_urls(&self.url()) {
            let message = twilio_message(&url, &params);
            if let Some((slot, _)) = candidates
                .iter()
                .find(|(_, key)| hmac(hash, key, &[message.as_bytes()]) == mac)
            {
                return Ok(*slot);
            }
        }
        Err(VerifyError::Mismatch)
    }
}

fn form_params(body: &[u8]) -> Vec<(String, String)> {
    let pairs: Vec<_> = form_urlencoded::parse(body).collect();
    canonical(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))
}

/// The messages the verifier tries for a form POST to `url` with this body: the URL with and
/// without the port, each followed by every distinct pair, sorted, names and values run
/// together.
fn tried_messages(url: &str, body: &[u8]) -> Vec<String> {
    let params = form_params(body);
    twilio_urls(url)
        .iter()
        .map(|u| twilio_message(u, &params))
        .collect()
}

/// A permutation of `items` drawn from `seed` (a small xorshift; any order will do).
pub fn shuffled<T: Clone>(items: &[T], seed: u64) -> Vec<T> {
    let mut out = items.to_vec();
    let mut state = seed | 1;
    for i in (1..out.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.swap(i, (state % (i as u64 + 1)) as usize);
    }
    out
}

fn encode(params: &[(String, String)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
        .into_bytes()
}

pub fn check(input: &Input) {
    check_signed(input, &Signing::AUTH_TOKEN);
}

/// The properties for a request Twilio signed as `signing` says.
pub fn check_signed(input: &Input, signing: &Signing) {
    let v = &VECTORS[usize::from(input.vector) % VECTORS.len()];
    let token = input.token.as_deref().unwrap_or(v.token.as_bytes());
    let other = input
        .other_token
        .as_deref()
        .unwrap_or(b"0000000000000000another-auth-token");
    let scheme = if input.plain_http { "http" } else { "https" };
    let default_port = if input.plain_http { 80 } else { 443 };
    let host = input.host.as_deref().unwrap_or(v.host);
    let path = input.path.as_deref().unwrap_or(v.path);
    let mut query = input.query.as_deref().unwrap_or(v.query).to_owned();
    let custom_body = input.custom_body.then_some(&input.body.0);
    let content_type = input.content_type.as_deref().unwrap_or(v.content_type);
    let signed_with_port = input.port & 1 != 0;
    let sent_with_port = input.port & 2 != 0;
    let base = |with_port: bool| {
        if with_port {
            format!("{scheme}://{host}:{default_port}")
        } else {
            format!("{scheme}://{host}")
        }
    };

    // The parameters Twilio signs, in the order it sends them, and the body.
    let (method, params, body): (_, Vec<(String, String)>, Vec<u8>) = match v.kind {
        Kind::Form(vector_params) => {
            let params: Vec<(String, String)> = match (&input.params, custom_body) {
                (_, Some(raw)) => form_urlencoded::parse(raw)
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect(),
                (Some(params), None) => params.clone(),
                (None, None) => vector_params
                    .iter()
                    .map(|&(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            };
            let body = match custom_body {
                Some(raw) => raw.clone(),
                None => encode(&shuffled(&params, input.shuffle)),
            };
            ("POST", params, body)
        }
        Kind::Json(vector_body) => {
            let body = custom_body.map_or_else(|| vector_body.to_vec(), Clone::clone);
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(BODY_HASH_PARAM);
            query.push('=');
            query.push_str(&body_hash(&body));
            ("POST", Vec::new(), body)
        }
        Kind::Get => ("GET", Vec::new(), Vec::new()),
    };
    let mut request = Request {
        method,
        base: base(sent_with_port),
        path: path.to_owned(),
        query,
        headers: HeaderMap::new(),
        body,
    };
    let signed_url = Request {
        base: base(signed_with_port),
        headers: HeaderMap::new(),
        body: Vec::new(),
        query: request.query.clone(),
        path: request.path.clone(),
        ..request
    }
    .url();
    let cow = |p: &[(String, String)]| -> Vec<(Cow<'static, str>, Cow<'static, str>)> {
        p.iter()
            .map(|(k, v)| (Cow::Owned(k.clone()), Cow::Owned(v.clone())))
            .collect()
    };
    let signature = sign_with(signing.algorithm(), token, &signed_url, cow(&params));
    if signing.hash == Hash::Sha1 {
        assert_eq!(signature, sign(token, &signed_url, cow(&params)));
    }
    // What Twilio signed: the URL as it addressed it, then the sorted parameters.
    let signed_message = twilio_message(
        &signed_url,
        &canonical(params.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
    );
    assert_eq!(
        B64.decode(&signature).ok(),
        Some(hmac(signing.hash, token, &[signed_message.as_bytes()])),
        "sign() is the HMAC over the URL and the sorted parameters"
    );
    // Sending the parameters in any order, or twice, signs the same.
    let mut twice = shuffled(&params, input.shuffle);
    twice.extend(params.iter().cloned());
    assert_eq!(
        signature,
        sign_with(signing.algorithm(), token, &signed_url, cow(&twice))
    );

    let untouched = input.token.is_none()
        && input.host.is_none()
        && input.path.is_none()
        && input.query.is_none()
        && input.params.is_none()
        && !input.custom_body
        && !input.plain_http;
    // The published signatures are the auth token's.
    if untouched
        && signing.settings.is_none()
        && let Some(published) = v.signatures[usize::from(signed_with_port)]
    {
        assert_eq!(signature, published, "vector {}", input.vector);
    }

    let mut headers = vec![(SIGNATURE_HEADER, signature.as_str())];
    if !content_type.is_empty() {
        headers.push(("content-type", content_type));
    }
    if let Some(settings) = &signing.settings {
        headers.push((SIGNATURE_SETTINGS_HEADER, settings));
    }
    insert_headers(&mut request.headers, headers);

    let keys = if input.previous_slot {
        Keys::rotating(other, token, input.previous_expired, NOW)
    } else {
        Keys::single(token, NOW)
    };
    let got = request.run(&keys);
    assert_eq!(got, request.model(&keys), "round trip");
    // Settings that do not name the hash the request was signed with fail every request,
    // whatever else it holds: an unknown algorithm fails closed.
    if let Err(refused) = &signing.outcome
        && !keys.active().is_empty()
    {
        assert_eq!(got, Err(refused.clone()), "settings {:?}", signing.settings);
    }
    // Where the request is one Twilio would really send, it must verify.
    let user_query = input.query.as_deref().unwrap_or(v.query);
    let realistic = v.content_type == content_type
        && !form_urlencoded::parse(user_query.as_bytes()).any(|(k, _)| k == BODY_HASH_PARAM)
        && (signed_with_port == sent_with_port
            || (plain_host(host) && (path.is_empty() || path.starts_with(['/', '?', '#']))));
    if realistic && signing.outcome.is_ok() && !keys.active().is_empty() {
        assert_eq!(
            got.clone().ok(),
            keys.slot_for(signing.hash, token),
            "round trip to {signed_url}"
        );
        if keys.slot_for(signing.hash, token).is_none() {
            assert_eq!(got, Err(VerifyError::Mismatch));
        }
    }

    // A flipped body byte.
    if let Some(tampered) = flipped(&request.body, input.flip_at, input.flip_mask) {
        let original = std::mem::replace(&mut request.body, tampered);
        let after = request.run(&keys);
        assert_eq!(after, request.model(&keys), "flipped body byte");
        let hashed =
            form_urlencoded::parse(request.query.as_bytes()).any(|(k, _)| k == BODY_HASH_PARAM);
        if got.is_ok() {
            if hashed {
                assert_eq!(after, Err(VerifyError::BodyHashMismatch));
            } else if tried_messages(&request.url(), &request.body).contains(&signed_message) {
                assert_eq!(after, got, "the signed message, spelt differently");
            } else {
                assert!(after.is_err(), "tampered body verified: {after:?}");
            }
        }
        request.body = original;
    }

    // A flipped query byte (when it stays text).
    if let Some(query) = flipped(request.query.as_bytes(), input.flip_at, input.flip_mask)
        .and_then(|q| String::from_utf8(q).ok())
    {
        let original = std::mem::replace(&mut request.query, query);
        let after = request.run(&keys);
        assert_eq!(after, request.model(&keys), "flipped query byte");
        assert!(after.is_err(), "tampered query verified: {after:?}");
        request.query = original;
    }

    // Another token.
    let wrong = Keys::single(other, NOW);
    let got_wrong = request.run(&wrong);
    assert_eq!(got_wrong, request.model(&wrong), "different token");
    if got_wrong.is_ok() {
        assert!(crate::oracle::same_hmac_key(signing.hash, other, token));
    }

    // Anything else in the headers.
    if input.signature.is_some() || input.headers.is_some() {
        if let Some(raw) = &input.signature {
            request.headers.remove(SIGNATURE_HEADER);
            insert_headers(&mut request.headers, [(SIGNATURE_HEADER, raw.as_str())]);
        }
        for (name, value) in input.headers.iter().flatten() {
            if let Some((name, value)) = crate::header(name, value) {
                request.headers.append(name, value);
            }
        }
        assert_eq!(request.run(&keys), request.model(&keys), "headers");
    }
}
