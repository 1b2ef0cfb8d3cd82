//! `form_query`: the form-encoded body and query-string parsing behind Twilio's signature and
//! the event mapping, and Twilio's URL handling.
//!
//! - `twilio::canonical_params` is sorted by name then value, holds each distinct pair once,
//!   equals a set-based model, and does not depend on the order (or repetition) of its input.
//! - `twilio::sign` is HMAC-SHA1 over the URL and that sorted-parameter string, so it too is
//!   independent of parameter order; a form body sent in any order verifies, and so does a GET
//!   whose query string carries the same parameters.
//! - Form encoding round-trips: encoding pairs and parsing them back gives the same pairs.
//! - `twilio::port_variants` never panics, always includes the URL as given, and equals an
//!   independent model (without the port, then with the scheme's default).
//! - The same parameters as a Twilio form body and as a Twilio GET query map to the same payload
//!   and DetailType; a Zendesk form body maps to its fields, repeated names as arrays in order.

use std::borrow::Cow;

use arbitrary::Arbitrary;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ebhook_handler::event::{Delivery, EventSettings};
use ebhook_handler::providers::twilio::{
    BODY_HASH_PARAM, SIGNATURE_HEADER, canonical_params, port_variants, sign,
};
use ebhook_handler::request::RawBody;
use ebhook_handler::verify::{SignedRequest, VerifyError, VerifyOptions};
use ebhook_handler::{Provider, SecretSet, SecretSlot};
use http::HeaderMap;
use serde_json::{Value, json};
use sha2::Digest;
use time::macros::datetime;

use crate::entry_builder::form_object;
use crate::oracle::{Hash, canonical, hmac, twilio_message, twilio_urls};
use crate::verify_twilio::shuffled;
use crate::{Bytes, check_entry, insert_headers, without_metadata};

pub const BASE: &str = "https://abcdefghijklmnop.lambda-url.us-east-1.on.aws";
const FORM: &str = "application/x-www-form-urlencoded";

#[derive(Arbitrary, Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    pub shuffle: u64,
    pub token: Option<Vec<u8>>,
    /// A URL for the signature and port checks (else the body read as text).
    pub url: Option<String>,
    /// Pairs to encode (else the ones parsed from the body).
    pub pairs: Option<Vec<(String, String)>>,
    /// A form body, or equally a query string.
    pub raw: Bytes,
}

fn cows(pairs: &[(String, String)]) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    pairs
        .iter()
        .map(|(k, v)| (Cow::Borrowed(k.as_str()), Cow::Borrowed(v.as_str())))
        .collect()
}

fn owned(pairs: &[(Cow<'_, str>, Cow<'_, str>)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn encode(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn twilio(
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
    token: &[u8],
) -> Result<SecretSlot, VerifyError> {
    let req = SignedRequest {
        method,
        base_url: BASE,
        raw_path: path,
        raw_query: query,
        headers,
        body,
    };
    let now = datetime!(2026-11-22 12:00 UTC);
    crate::provider("twilio").verify(
        &req,
        &SecretSet::single(token),
        &VerifyOptions::default(),
        now,
    )
}

/// The payload and DetailType a Twilio or Zendesk delivery maps to.
fn mapped(
    provider: Provider,
    method: &str,
    content_type: Option<&str>,
    query: &str,
    body: &[u8],
) -> (Value, String) {
    let mut headers = HeaderMap::new();
    if let Some(ct) = content_type {
        insert_headers(&mut headers, [("content-type", ct)]);
    }
    let settings = EventSettings {
        source: provider.default_source(),
        detail_type: None,
        max_entry_bytes: usize::MAX,
    };
    let delivery = Delivery {
        provider: provider.as_str(),
        query_signed: provider.signs_query(),
        method,
        headers: &headers,
        raw_query: query,
        body: &RawBody::Bytes(body.into()),
        received_at: "2026-11-22T12:00:00Z",
        request_id: None,
        body_sha256: "",
        signed: ebhook_handler::event::Signed::NOTHING,
    };
    let mut entries = provider
        .map_delivery(&delivery, &settings)
        .expect("form deliveries always map");
    assert_eq!(entries.len(), 1);
    let entry = entries.pop().expect("one entry");
    let detail = check_entry(&entry, provider, &settings);
    (without_metadata(detail).0, entry.detail_type)
}

pub fn check(input: &Input) {
    let parsed: Vec<(String, String)> = form_urlencoded::parse(&input.raw.0)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();

    // The parameter order Twilio signs in.
    let canon = canonical_params(cows(&parsed));
    let model = canonical(parsed.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    assert_eq!(
        owned(&canon),
        model,
        "canonical_params is the sorted set of pairs"
    );
    assert!(
        canon.windows(2).all(|w| w[0] < w[1]),
        "sorted, each pair once"
    );
    assert_eq!(canonical_params(canon.clone()), canon, "idempotent");
    let mut reordered = shuffled(&parsed, input.shuffle);
    reordered.extend(parsed.iter().cloned());
    assert_eq!(owned(&canonical_params(cows(&reordered))), model);

    // The signature over the URL and the sorted-parameter string.
    let text = String::from_utf8_lossy(&input.raw.0);
    let url = input.url.as_deref().unwrap_or(&text);
    let token = input.token.as_deref().unwrap_or(b"12345");
    let signature = sign(token, url, cows(&parsed));
    assert_eq!(
        signature,
        sign(token, url, cows(&reordered)),
        "order-independent"
    );
    let expected = hmac(Hash::Sha1, token, &[twilio_message(url, &model).as_bytes()]);
    assert_eq!(B64.decode(&signature).ok(), Some(expected));

    // Port variants, against the model.
    let variants = port_variants(url);
    assert!(
        variants.iter().any(|v| v == url),
        "the URL as given is tried"
    );
    assert_eq!(variants.map(|v| v.into_owned()), twilio_urls(url));

    // Encoding round trip, then a signed form POST (parameters in another order) and a signed
    // GET carrying them in its query string.
    let pairs = input.pairs.clone().unwrap_or_else(|| parsed.clone());
    let encoded = encode(&pairs);
    let back: Vec<(String, String)> = form_urlencoded::parse(encoded.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(back, pairs, "encode then parse");
    let want = if token.is_empty() {
        Err(VerifyError::NoSecret)
    } else {
        Ok(SecretSlot::Current)
    };
    let post_url = format!("{BASE}/twilio/sms");
    let post_signature = sign(token, &post_url, cows(&pairs));
    let mut headers = HeaderMap::new();
    insert_headers(
        &mut headers,
        [
            (SIGNATURE_HEADER, post_signature.as_str()),
            ("content-type", FORM),
        ],
    );
    let body = encode(&shuffled(&pairs, input.shuffle.rotate_left(17)));
    assert_eq!(
        twilio("POST", "/twilio/sms", "", &headers, body.as_bytes(), token),
        want,
        "form POST with parameters in another order"
    );
    let get_url = if encoded.is_empty() {
        format!("{BASE}/twilio/voice")
    } else {
        format!("{BASE}/twilio/voice?{encoded}")
    };
    // A `bodySHA256` parameter in a GET's query is a hash of the (empty) body.
    let empty_body_hash = sha2::Sha256::digest(b"").to_vec();
    let want_get = match pairs.iter().find(|(k, _)| k == BODY_HASH_PARAM) {
        Some((_, hash)) if want.is_ok() && hex::decode(hash).ok() != Some(empty_body_hash) => {
            Err(VerifyError::BodyHashMismatch)
        }
        _ => want.clone(),
    };
    let get_signature = sign(token, &get_url, std::iter::empty());
    let mut headers = HeaderMap::new();
    insert_headers(&mut headers, [(SIGNATURE_HEADER, get_signature.as_str())]);
    assert_eq!(
        twilio("GET", "/twilio/voice", &encoded, &headers, b"", token),
        want_get,
        "GET with the parameters in its query"
    );

    // The body parser and the query parser agree in the event mapping.
    if let Ok(text) = std::str::from_utf8(&input.raw.0) {
        let post = mapped(
            crate::provider("twilio"),
            "POST",
            Some(FORM),
            "",
            text.as_bytes(),
        );
        let get = mapped(crate::provider("twilio"), "GET", None, text, b"");
        assert_eq!(post, get, "form body and query string map alike");
    }
    let (zendesk, _) = mapped(
        crate::provider("zendesk"),
        "POST",
        Some(FORM),
        "",
        &input.raw.0,
    );
    let fields = form_object(parsed.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let want = if fields.get("ebhook").is_some() {
        json!({ "payload": fields })
    } else {
        fields
    };
    if !input.raw.0.is_empty() {
        assert_eq!(zendesk, want, "Zendesk form fields");
    }
}
