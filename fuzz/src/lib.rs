//! The properties the fuzz targets in `fuzz_targets/` check, one module per target, and the
//! inputs they take. They live in a library so that the seed writer (`examples/seeds.rs`) shares
//! the input types, and so that each target is one line: `fuzz_target!(|x| module::check(x))`.
//!
//! Every check panics (so libFuzzer reports a crash) when a property does not hold. Where a
//! property needs an expected answer, it comes from an independent model in [`oracle`], not from
//! the code under test.

pub mod entry_builder;
pub mod form_query;
pub mod function_url_event;
pub mod oracle;
pub mod verify_github;
pub mod verify_gitlab;
pub mod verify_shopify;
pub mod verify_slack;
pub mod verify_standard_webhooks;
pub mod verify_stripe;
pub mod verify_twilio;
pub mod verify_twilio_shared_key;
pub mod verify_zendesk;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use arbitrary::{Arbitrary, Unstructured};
use ebhook_handler::Provider;
use ebhook_handler::event::{Entry, EventSettings, RESERVED_KEY, clean_detail_type};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

/// The providers the request and mapping targets model (their oracles are written per
/// provider). Every provider's verifier has a `verify_*` target of its own.
pub const MODELLED: [&str; 3] = ["zendesk", "github", "twilio"];

/// A provider by name (the handler's list names them; the models here are per provider).
pub fn provider(name: &str) -> Provider {
    name.parse().expect("a provider the handler knows")
}

/// Bytes that, as an input's last field, take the rest of the fuzzer's input as they are (the
/// derive for `Vec<u8>` would interleave a flag byte before each byte), so a seed is a short
/// prefix of field bytes followed by a plain body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl<'a> Arbitrary<'a> for Bytes {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self(<&[u8]>::arbitrary(u)?.to_vec()))
    }

    fn arbitrary_take_rest(u: Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self(u.take_rest().to_vec()))
    }
}

/// Run a future that never waits on I/O (the pipeline with a fixed secret store) to completion.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the pipeline waited on I/O with a fixed secret store"),
    }
}

/// A header pair as a request can carry it, or `None` if HTTP cannot (bad name or value).
pub fn header(name: &str, value: &str) -> Option<(HeaderName, HeaderValue)> {
    Some((
        HeaderName::from_bytes(name.as_bytes()).ok()?,
        HeaderValue::from_str(value).ok()?,
    ))
}

/// Insert the pairs HTTP can carry, replacing earlier values of the same name.
pub fn insert_headers<'a>(
    map: &mut HeaderMap,
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) {
    for (name, value) in pairs {
        if let Some((name, value)) = header(name, value) {
            map.insert(name, value);
        }
    }
}

/// Append the pairs HTTP can carry (a name already present gets a second value).
pub fn append_headers(map: &mut HeaderMap, pairs: &[(String, String)]) {
    for (name, value) in pairs {
        if let Some((name, value)) = header(name, value) {
            map.append(name, value);
        }
    }
}

/// The first value of a header as text, the way every reader in the handler takes it.
pub fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Flip the bits of `mask` (never zero) in the byte at `at` (modulo the length).
pub fn flipped(bytes: &[u8], at: u16, mask: u8) -> Option<Vec<u8>> {
    if bytes.is_empty() {
        return None;
    }
    let mut out = bytes.to_vec();
    out[usize::from(at) % bytes.len()] ^= if mask == 0 { 1 } else { mask };
    Some(out)
}

/// What every PutEvents entry must be, whatever the request. Returns the Detail as a tree.
pub fn check_entry(entry: &Entry, provider: Provider, settings: &EventSettings) -> Value {
    assert_eq!(
        entry.source, settings.source,
        "Source is the configured one"
    );
    assert_eq!(
        entry.size(),
        entry.source.len() + entry.detail_type.len() + entry.detail.len()
    );
    assert!(
        entry.size() <= settings.max_entry_bytes,
        "entry of {} bytes over the {}-byte limit",
        entry.size(),
        settings.max_entry_bytes
    );
    let chars = entry.detail_type.chars().count();
    assert!(
        (1..=128).contains(&chars),
        "DetailType of {chars} characters: {:?}",
        entry.detail_type
    );
    assert!(
        !entry.detail_type.chars().any(char::is_control),
        "control character in DetailType {:?}",
        entry.detail_type
    );
    // Not asserted: that it is trimmed. `clean_detail_type` trims before it drops control
    // characters, so "\u{1} x" becomes " x" (TESTING.md, findings).
    if let Some(fixed) = &settings.detail_type {
        assert_eq!(entry.detail_type, clean_detail_type(fixed));
    }
    // The metadata alone (kept for a pointer event) is exactly what closes the Detail.
    assert!(
        entry
            .detail
            .ends_with(&format!("\"{RESERVED_KEY}\":{}}}", entry.metadata)),
        "Detail {:?} does not end with its metadata {:?}",
        entry.detail,
        entry.metadata
    );
    // The handler holds payloads to serde_json's own limits (nesting, numbers), so every Detail
    // reads back with serde_json as it is configured by default.
    let detail: Value = serde_json::from_str(&entry.detail).unwrap_or_else(|e| {
        panic!(
            "Detail does not read back with serde_json ({e}): {:?}",
            entry.detail
        )
    });
    let object = detail.as_object().expect("Detail is a JSON object");
    let meta = object
        .get(RESERVED_KEY)
        .and_then(Value::as_object)
        .expect("Detail has the ebhook metadata object");
    assert_eq!(meta["provider"], provider.as_str());
    let alone: Value = serde_json::from_str(&entry.metadata).expect("metadata is JSON");
    assert_eq!(&alone, &object[RESERVED_KEY], "the metadata kept alone");
    for (key, value) in meta {
        match key.as_str() {
            // The URL's parameters (kept since Zendesk's GET webhooks carry their data there):
            // an object of strings, a repeated name an array of its strings, and `query` only
            // where the signature covers the URL.
            "query" | "unsignedQuery" => {
                assert_eq!(
                    key == "query",
                    provider.signs_query(),
                    "metadata {key} for {provider}"
                );
                let params = value
                    .as_object()
                    .unwrap_or_else(|| panic!("metadata {key} is {value}"));
                for v in params.values() {
                    let strings = match v {
                        Value::String(_) => true,
                        Value::Array(all) => all.len() > 1 && all.iter().all(Value::is_string),
                        _ => false,
                    };
                    assert!(strings, "metadata {key} holds {v}");
                }
            }
            // What the signature covers: names of the request's parts.
            "signed" => {
                let parts = value
                    .as_array()
                    .unwrap_or_else(|| panic!("metadata signed is {value}"));
                assert!(parts.iter().all(Value::is_string), "metadata signed is {value}");
            }
            // Everything else is strings only: nothing of the payload leaks into it as
            // structure.
            _ => assert!(value.is_string(), "metadata {key} is {value}"),
        }
    }
    detail
}

/// What an oversized entry's pointer event must be: same Source, `oversized:` + its DetailType
/// (still at most 128 characters), and a Detail that is only the metadata plus where the body
/// was stored.
pub fn check_pointer(entry: &Entry, provider: Provider, received_at: &str, body: &[u8]) {
    use ebhook_handler::event::{
        OVERSIZED_PREFIX, StoredPayload, pointer_entry, stored_payload_key,
    };
    use sha2::Digest;
    let sha256 = hex::encode(sha2::Sha256::digest(body));
    let key = stored_payload_key(provider.as_str(), received_at, &sha256);
    let day = received_at.get(..10).unwrap_or("unknown-day");
    assert_eq!(key, format!("oversized/{provider}/{day}/{sha256}"));
    let stored = StoredPayload {
        bucket: "ebhook-payloads-123456789012-us-east-1",
        key: &key,
        size: body.len(),
        sha256: &sha256,
        content_type: Some("application/json"),
    };
    let pointer = pointer_entry(entry, &stored);
    assert_eq!(pointer.source, entry.source);
    assert!(pointer.detail_type.starts_with(OVERSIZED_PREFIX));
    assert!(pointer.detail_type.chars().count() <= 128);
    assert_eq!(
        pointer.detail_type,
        clean_detail_type(&format!("{OVERSIZED_PREFIX}{}", entry.detail_type))
    );
    let detail: Value = serde_json::from_str(&pointer.detail).expect("pointer Detail is JSON");
    let object = detail.as_object().expect("pointer Detail is an object");
    assert_eq!(
        object.len(),
        1,
        "pointer Detail is the metadata alone: {detail}"
    );
    let alone: Value = serde_json::from_str(&pointer.metadata).expect("pointer metadata");
    assert_eq!(alone, object[RESERVED_KEY]);
    let mut want: Value = serde_json::from_str(&entry.metadata).expect("metadata is JSON");
    want["storedPayload"] = serde_json::json!({
        "bucket": stored.bucket,
        "key": key,
        "size": body.len(),
        "sha256": sha256,
        "contentType": "application/json",
    });
    assert_eq!(alone, want, "pointer metadata");
    assert!(pointer.size() < entry.source.len() + entry.metadata.len() + 512);
}

/// The Detail without ebhook's metadata: what the payload became.
pub fn without_metadata(mut detail: Value) -> (Value, serde_json::Map<String, Value>) {
    let object = detail.as_object_mut().expect("Detail is a JSON object");
    let meta = match object.remove(RESERVED_KEY) {
        Some(Value::Object(meta)) => meta,
        other => panic!("metadata is not an object: {other:?}"),
    };
    (detail, meta)
}
