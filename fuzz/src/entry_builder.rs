//! `entry_builder`: `event::map_delivery` for any provider, method, headers, query, body and
//! settings.
//!
//! - Never panics, and maps the same delivery the same way twice.
//! - On success every entry passes [`crate::check_entry`]: the Detail is a JSON object with the
//!   metadata object (strings only), the DetailType is 1-128 characters with no control
//!   characters, and the entry fits the configured limit.
//! - A failure is `Malformed` exactly when the same delivery fails with no size limit, and
//!   `TooLarge` exactly when it maps with no limit but an entry is bigger than the limit, naming
//!   the largest entry's size; `map_unchecked` then `check_sizes` is `map_delivery`. The
//!   pointer event that replaces an oversized entry passes [`crate::check_pointer`].
//! - The entries equal an independent model of the mapping: which bodies are refused, the
//!   payload kept byte-for-byte equal as JSON (or wrapped under `payload`, `body` or
//!   `bodyBase64`), form fields as strings or arrays of strings, Event Streams batches split,
//!   the derived event names and every metadata field.

use arbitrary::Arbitrary;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ebhook_handler::Provider;
use ebhook_handler::event::{
    Delivery, Entry, EventSettings, MAX_FORM_FIELDS, MapError, RESERVED_KEY,
};
use ebhook_handler::request::RawBody;
use ebhook_handler::verify::SignedRequest;
use http::HeaderMap;
use serde_json::{Map, Value, json};

use crate::{Bytes, check_entry, header_text, insert_headers, without_metadata};

pub const METHODS: [&str; 5] = ["POST", "GET", "PUT", "PATCH", "DELETE"];
pub const CONTENT_TYPES: [&str; 12] = [
    "",
    "application/json",
    "application/json; charset=utf-8",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=UTF-8",
    "text/plain",
    "application/xml",
    "application/cloudevents-batch+json",
    "APPLICATION/JSON",
    "application/octet-stream",
    " application/json ;charset=utf-8",
    "multipart/form-data; boundary=x",
];
pub const RECEIVED_AT: &str = "2026-11-22T12:00:00Z";

#[derive(Arbitrary, Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    pub provider: u8,
    pub method: u8,
    pub content_type: u8,
    /// Leave out the provider's usual delivery headers.
    pub bare: bool,
    pub max_entry_bytes: Option<u32>,
    pub custom_content_type: Option<String>,
    /// Set after the usual ones (replacing a header of the same name).
    pub headers: Option<Vec<(String, String)>>,
    pub query: Option<String>,
    pub source: Option<String>,
    pub detail_type: Option<String>,
    pub request_id: Option<String>,
    pub body: Bytes,
}

fn provider_headers(provider: Provider) -> &'static [(&'static str, &'static str)] {
    match provider.as_str() {
        "github" => &[
            ("x-github-event", "ping"),
            ("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
            ("x-github-hook-id", "42"),
        ],
        "zendesk" => &[
            ("x-zendesk-webhook-id", "01GXYZ0000000000000000000"),
            (
                "x-zendesk-webhook-invocation-id",
                "8347312397492384723984723",
            ),
            ("x-zendesk-account-id", "22129848"),
        ],
        "twilio" => &[(
            "i-twilio-idempotency-token",
            "0b4b8d5e-95b1-4a8f-a1d7-6b5d2b0a1f3c",
        )],
        _ => &[],
    }
}

/// The delivery the input describes, with its settings.
pub struct Case {
    pub provider: Provider,
    pub method: &'static str,
    pub headers: HeaderMap,
    pub query: String,
    /// Always `Bytes`: the mapper then checks UTF-8 itself (the `Text` path, taken for a body
    /// that arrived as text, runs in `function_url_event` through the real `Inbound`).
    pub body: RawBody<'static>,
    pub request_id: Option<String>,
    /// The body's digest as the handler computes it once per delivery (the model below
    /// computes its own).
    pub body_sha256: String,
    pub settings: EventSettings,
}

impl Case {
    pub fn new(input: &Input) -> Self {
        let provider = crate::provider(crate::MODELLED[usize::from(input.provider) % 3]);
        let mut headers = HeaderMap::new();
        if !input.bare {
            insert_headers(&mut headers, provider_headers(provider).iter().copied());
        }
        let content_type = input
            .custom_content_type
            .as_deref()
            .unwrap_or(CONTENT_TYPES[usize::from(input.content_type) % CONTENT_TYPES.len()]);
        if !content_type.is_empty() {
            insert_headers(&mut headers, [("content-type", content_type)]);
        }
        insert_headers(
            &mut headers,
            input
                .headers
                .iter()
                .flatten()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        Self {
            provider,
            method: METHODS[usize::from(input.method) % METHODS.len()],
            headers,
            query: input.query.clone().unwrap_or_default(),
            body: RawBody::Bytes(input.body.0.clone().into()),
            request_id: input.request_id.clone(),
            body_sha256: ebhook_handler::event::sha256_hex(&input.body.0),
            settings: EventSettings {
                source: input
                    .source
                    .clone()
                    .unwrap_or_else(|| provider.default_source()),
                detail_type: input.detail_type.clone(),
                max_entry_bytes: input
                    .max_entry_bytes
                    .map_or(ebhook_handler::event::DEFAULT_MAX_ENTRY_BYTES, |n| {
                        n as usize
                    }),
            },
        }
    }

    pub fn delivery(&self) -> Delivery<'_> {
        let request = SignedRequest {
            method: self.method,
            base_url: "https://u.example",
            raw_path: "/",
            raw_query: &self.query,
            headers: &self.headers,
            body: self.body.as_bytes(),
        };
        Delivery {
            provider: self.provider.as_str(),
            query_signed: self.provider.signs_query(),
            method: self.method,
            headers: &self.headers,
            raw_query: &self.query,
            body: &self.body,
            received_at: RECEIVED_AT,
            request_id: self.request_id.as_deref(),
            body_sha256: &self.body_sha256,
            // None of the modelled providers' answers depends on the secret.
            signed: self.provider.signed(&request, b""),
        }
    }

    pub fn map(&self, max_entry_bytes: usize) -> Result<Vec<Entry>, MapError> {
        let settings = EventSettings {
            max_entry_bytes,
            ..self.settings.clone()
        };
        self.provider.map_delivery(&self.delivery(), &settings)
    }
}

/// One entry as the model expects it: the Detail without its metadata, and the metadata.
#[derive(Debug)]
pub struct Expected {
    pub payload: Value,
    pub meta: Map<String, Value>,
}

/// What the model says of a delivery.
#[derive(Debug)]
pub enum Model {
    Entries(Vec<Expected>),
    Malformed,
    /// A form of more fields than any provider sends.
    TooManyFields,
}

/// Why the model stopped: the body is malformed.
struct Malformed;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Empty,
    Json,
    Form,
    Other,
}

fn kind(case: &Case) -> Kind {
    if case.body.as_bytes().is_empty() {
        return Kind::Empty;
    }
    let media = header_text(&case.headers, "content-type")
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    match media.as_deref() {
        Some("application/json") => Kind::Json,
        Some(m) if m.starts_with("application/") && m.ends_with("+json") => Kind::Json,
        Some("application/x-www-form-urlencoded") => Kind::Form,
        _ => Kind::Other,
    }
}

/// Form fields as the Detail holds them: each name once, a repeated name as an array of its
/// values in order.
pub fn form_object<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
    let mut names: Vec<&str> = Vec::new();
    let mut values: std::collections::HashMap<&str, Vec<&str>> = Default::default();
    for (name, value) in pairs {
        let entry = values.entry(name).or_default();
        if entry.is_empty() {
            names.push(name);
        }
        entry.push(value);
    }
    let mut object = Map::new();
    for name in names {
        let all = &values[name];
        let value = if all.len() == 1 {
            json!(all[0])
        } else {
            json!(all)
        };
        object.insert(name.to_owned(), value);
    }
    Value::Object(object)
}

/// Twilio's form callbacks named from their resource and status.
fn twilio_event(pairs: &[(String, String)]) -> String {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (resource, status) = if get("TranscriptionSid").is_some() {
        ("transcription", get("TranscriptionStatus"))
    } else if get("RecordingSid").is_some() {
        ("recording", get("RecordingStatus"))
    } else if get("MessageSid").is_some() || get("SmsSid").is_some() {
        ("message", get("MessageStatus").or(get("SmsStatus")))
    } else if get("CallSid").is_some() {
        ("call", get("CallStatus"))
    } else {
        return "webhook".to_owned();
    };
    match status {
        Some(s)
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            format!("{resource}.{s}")
        }
        _ => resource.to_owned(),
    }
}

/// A JSON payload as the Detail carries it: an object without the reserved key as itself,
/// anything else under `payload`. Also returns its `type` and `id` when they are strings.
/// A payload is taken exactly when serde_json, as configured by default (127 levels of nesting,
/// numbers within f64's range), reads it, and reads it back once wrapped if it must be wrapped.
fn json_payload(
    text: &str,
    meta: &mut Map<String, Value>,
) -> Result<(Value, Option<String>, Option<String>), Malformed> {
    let value: Value = serde_json::from_str(text).map_err(|_| Malformed)?;
    let field = |name: &str| {
        value
            .as_object()
            .and_then(|o| o.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let (event_type, id) = (field("type"), field("id"));
    let plain_object = value
        .as_object()
        .is_some_and(|o| !o.contains_key(RESERVED_KEY));
    let payload = if plain_object {
        value
    } else {
        let wrapped_text = format!("{{\"payload\":{text}}}");
        if serde_json::from_str::<Value>(&wrapped_text).is_err() {
            return Err(Malformed);
        }
        meta.insert("wrappedIn".into(), json!("payload"));
        json!({ "payload": value })
    };
    Ok((payload, event_type, id))
}

fn form_payload(object: Value, meta: &mut Map<String, Value>) -> Value {
    if object
        .as_object()
        .is_some_and(|o| o.contains_key(RESERVED_KEY))
    {
        meta.insert("wrappedIn".into(), json!("payload"));
        json!({ "payload": object })
    } else {
        object
    }
}

/// The mapping, modelled.
pub fn model(case: &Case) -> Model {
    // Zendesk splits a form into fields up to the limit; Twilio counts its form (or a GET's
    // query) by its `&`s first, since it must collect every field to name the event.
    let fields = |text: &[u8]| form_urlencoded::parse(text).count();
    let bound = |text: &[u8]| 1 + text.iter().filter(|&&b| b == b'&').count();
    let too_many = match (case.provider.as_str(), kind(case)) {
        ("zendesk", Kind::Form) => fields(case.body.as_bytes()) > MAX_FORM_FIELDS,
        ("twilio", Kind::Form) => bound(case.body.as_bytes()) > MAX_FORM_FIELDS,
        ("twilio", Kind::Empty) => bound(case.query.as_bytes()) > MAX_FORM_FIELDS,
        _ => false,
    };
    if too_many {
        return Model::TooManyFields;
    }
    match entries(case) {
        Ok(entries) => Model::Entries(entries),
        Err(Malformed) => Model::Malformed,
    }
}

fn entries(case: &Case) -> Result<Vec<Expected>, Malformed> {
    let text = |name: &str| header_text(&case.headers, name).map(|v| json!(v));
    let mut meta = Map::new();
    meta.insert("provider".into(), json!(case.provider.as_str()));
    meta.insert("receivedAt".into(), json!(RECEIVED_AT));
    meta.insert("method".into(), json!(case.method));
    if let Some(id) = &case.request_id {
        meta.insert("requestId".into(), json!(id));
    }
    if let Some(ct) = text("content-type") {
        meta.insert("contentType".into(), ct);
    }
    // What each provider's signature covers, written from its published scheme.
    {
        use sha2::Digest;
        let digest = hex::encode(sha2::Sha256::digest(case.body.as_bytes()));
        meta.insert("bodySha256".into(), json!(digest));
    }
    let covers = match case.provider.as_str() {
        "zendesk" => {
            if let Some(at) = text("x-zendesk-webhook-signature-timestamp") {
                meta.insert("signedAt".into(), at);
            }
            json!(["timestamp", "body"])
        }
        "twilio" if case.body.as_bytes().is_empty() => json!(["url"]),
        "twilio" => json!(["url", "body"]),
        _ => json!(["body"]),
    };
    meta.insert("signed".into(), covers);
    let set_event = |meta: &mut Map<String, Value>, event: &str| {
        meta.insert("event".into(), json!(event));
    };
    let utf8 = || std::str::from_utf8(case.body.as_bytes()).map_err(|_| Malformed);
    // The URL's parameters, marked unsigned unless the provider signs the URL (Twilio).
    let signs_url = case.provider.as_str() == "twilio";
    if !case.query.is_empty() {
        let pairs: Vec<_> = form_urlencoded::parse(case.query.as_bytes()).collect();
        let object = form_object(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));
        let key = if signs_url { "query" } else { "unsignedQuery" };
        meta.insert(key.into(), object);
    }
    let one = |payload, meta| Ok(vec![Expected { payload, meta }]);
    match case.provider.as_str() {
        "github" => {
            let event = header_text(&case.headers, "x-github-event").unwrap_or("webhook");
            set_event(&mut meta, event);
            if let Some(v) = text("x-github-delivery") {
                meta.insert("deliveryId".into(), v);
            }
            if let Some(v) = text("x-github-hook-id") {
                meta.insert("webhookId".into(), v);
            }
            let form_field;
            let json_text = match kind(case) {
                Kind::Json => utf8()?,
                Kind::Form => {
                    form_field = form_urlencoded::parse(case.body.as_bytes())
                        .find(|(k, _)| k == "payload")
                        .map(|(_, v)| v.into_owned())
                        .ok_or(Malformed)?;
                    &form_field
                }
                Kind::Empty => "{}",
                Kind::Other => return Err(Malformed),
            };
            let (payload, _, _) = json_payload(json_text, &mut meta)?;
            one(payload, meta)
        }
        "zendesk" => {
            if let Some(v) = text("x-zendesk-webhook-invocation-id") {
                meta.insert("deliveryId".into(), v);
            }
            if let Some(v) = text("x-zendesk-webhook-id") {
                meta.insert("webhookId".into(), v);
            }
            if let Some(v) = text("x-zendesk-account-id") {
                meta.insert("accountId".into(), v);
            }
            set_event(&mut meta, "webhook");
            let payload = match kind(case) {
                Kind::Json => {
                    let (payload, event_type, _) = json_payload(utf8()?, &mut meta)?;
                    if let Some(t) = event_type {
                        set_event(&mut meta, &t);
                    }
                    payload
                }
                Kind::Form => {
                    let pairs: Vec<_> = form_urlencoded::parse(case.body.as_bytes()).collect();
                    let object = form_object(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));
                    form_payload(object, &mut meta)
                }
                Kind::Empty => json!({}),
                Kind::Other => match std::str::from_utf8(case.body.as_bytes()) {
                    Ok(text) => {
                        meta.insert("wrappedIn".into(), json!("body"));
                        json!({ "body": text })
                    }
                    Err(_) => {
                        meta.insert("wrappedIn".into(), json!("bodyBase64"));
                        json!({ "bodyBase64": B64.encode(case.body.as_bytes()) })
                    }
                },
            };
            one(payload, meta)
        }
        "twilio" => {
            if let Some(v) = text("i-twilio-idempotency-token") {
                meta.insert("deliveryId".into(), v);
            }
            match kind(case) {
                Kind::Json => {
                    let body = utf8()?;
                    let first = body.bytes().find(|b| !b.is_ascii_whitespace());
                    if first == Some(b'[') {
                        return event_stream(body, &meta);
                    }
                    let (payload, event_type, _) = json_payload(body, &mut meta)?;
                    set_event(&mut meta, event_type.as_deref().unwrap_or("webhook"));
                    one(payload, meta)
                }
                k @ (Kind::Form | Kind::Empty) => {
                    // A GET's parameters are its payload, not metadata.
                    let source = if k == Kind::Form {
                        case.body.as_bytes()
                    } else {
                        meta.remove("query");
                        case.query.as_bytes()
                    };
                    let pairs: Vec<(String, String)> = form_urlencoded::parse(source)
                        .filter(|(k, _)| k != "bodySHA256")
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect();
                    set_event(&mut meta, &twilio_event(&pairs));
                    let object = form_object(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                    let payload = form_payload(object, &mut meta);
                    one(payload, meta)
                }
                Kind::Other => Err(Malformed),
            }
        }
        other => panic!("no model of {other}'s mapping: add one"),
    }
}

/// A Twilio Event Streams batch: one entry per CloudEvent, named by its `type` and deduplicated
/// by its `id`.
fn event_stream(body: &str, meta: &Map<String, Value>) -> Result<Vec<Expected>, Malformed> {
    let items: Vec<&serde_json::value::RawValue> =
        serde_json::from_str(body).map_err(|_| Malformed)?;
    items
        .into_iter()
        .map(|item| {
            let mut meta = meta.clone();
            let (payload, event_type, id) = json_payload(item.get(), &mut meta)?;
            meta.insert(
                "event".into(),
                json!(event_type.as_deref().unwrap_or("webhook")),
            );
            if let Some(id) = id {
                meta.insert("deliveryId".into(), json!(id));
            }
            Ok(Expected { payload, meta })
        })
        .collect()
}

/// The DetailType a name becomes: its visible characters (controls dropped), without
/// surrounding whitespace, at most 128 characters, never empty.
fn detail_type(name: &str) -> String {
    let visible: String = name.chars().filter(|c| !c.is_control()).collect();
    let first_128: String = visible.trim().chars().take(128).collect();
    match first_128.trim_end() {
        "" => "webhook".into(),
        kept => kept.into(),
    }
}

/// Check one delivery's entries against the model; `entries` mapped with no size limit.
pub fn check_against_model(case: &Case, entries: &Result<Vec<Entry>, MapError>) {
    let unlimited = EventSettings {
        max_entry_bytes: usize::MAX,
        ..case.settings.clone()
    };
    let expected = match (entries, model(case)) {
        (Err(MapError::Malformed(_)), Model::Malformed)
        | (Err(MapError::TooManyFields { .. }), Model::TooManyFields) => return,
        (Ok(entries), Model::Entries(expected)) => {
            assert_eq!(entries.len(), expected.len(), "entry count");
            entries.iter().zip(expected).collect::<Vec<_>>()
        }
        (got, want) => panic!("mapped to {got:?}, the model says {want:?}"),
    };
    for (entry, want) in expected {
        let detail = check_entry(entry, case.provider, &unlimited);
        let event = want.meta["event"].as_str().expect("event name");
        let name = case.settings.detail_type.as_deref().unwrap_or(event);
        assert_eq!(entry.detail_type, detail_type(name), "DetailType");
        let (rest, meta) = without_metadata(detail);
        assert_eq!(meta, want.meta, "metadata");
        assert_eq!(rest, want.payload, "payload");
    }
}

pub fn check(input: &Input) {
    let case = Case::new(input);
    let limit = case.settings.max_entry_bytes;
    let got = case.map(limit);
    assert_eq!(got, case.map(limit), "the same delivery maps the same way");
    let unlimited = case.map(usize::MAX);
    let unchecked = case.provider.map(&case.delivery(), &case.settings);
    assert_eq!(
        unchecked, unlimited,
        "map_unchecked is map_delivery without the size check"
    );
    if let Ok(all) = &unchecked {
        let checked = ebhook_handler::event::check_sizes(all, &case.settings);
        assert_eq!(checked.err(), got.clone().err(), "check_sizes");
    }
    check_against_model(&case, &unlimited);
    match (&got, &unlimited) {
        (Ok(entries), Ok(all)) => {
            assert_eq!(entries, all);
            for entry in entries {
                check_entry(entry, case.provider, &case.settings);
            }
        }
        (Err(MapError::TooLarge { size, limit: l }), Ok(all)) => {
            assert_eq!(*l, limit);
            let largest = all.iter().map(Entry::size).max();
            assert_eq!(largest, Some(*size), "the largest entry's size");
            assert!(*size > limit);
            // The handler stores such a body and puts a pointer event instead.
            for entry in all {
                crate::check_pointer(entry, case.provider, RECEIVED_AT, case.body.as_bytes());
            }
        }
        (Err(e @ (MapError::Malformed(_) | MapError::TooManyFields { .. })), Err(u)) => {
            assert_eq!(e, u)
        }
        (got, unlimited) => panic!("limited {got:?}, unlimited {unlimited:?}"),
    }
    if let Ok(all) = &unlimited
        && all.iter().any(|e| e.size() > limit)
    {
        assert!(got.is_err(), "an oversize entry was let through");
    }
}
