//! Turning a verified delivery into EventBridge entries: `Source`, `DetailType` and a `Detail`
//! that is the provider's payload as a JSON object plus delivery metadata under one reserved key.
//!
//! JSON payloads are read once by serde_json, for their top-level keys and their validity, and
//! copied as they are: never built into a tree, never re-serialised.

mod top_level;

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use http::HeaderName;
use http::header::CONTENT_TYPE;
use serde::Serialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

use crate::provider::Provider;
use crate::request::{self, RawBody};
use crate::verify::{github, twilio, zendesk};
pub use top_level::MAX_NESTING;
use top_level::TopLevel;

/// The top-level key of every `Detail` that holds ebhook's delivery metadata.
pub const RESERVED_KEY: &str = "ebhook";

/// PutEvents' per-entry limit since 29 January 2026 (it was 256 KB before), counted as
/// [`Entry::size`] counts it. Configurable (`EBHOOK_MAX_ENTRY_BYTES`) for a region or an account
/// that differs.
pub const DEFAULT_MAX_ENTRY_BYTES: usize = 1024 * 1024;
const MAX_DETAIL_TYPE_CHARS: usize = 128;
const FALLBACK_DETAIL_TYPE: &str = "webhook";

/// One PutEvents entry, without the bus (the forwarder adds it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub source: String,
    pub detail_type: String,
    pub detail: String,
    /// The metadata object alone (the value under [`RESERVED_KEY`] in `detail`), for the
    /// pointer event that replaces an oversized entry.
    pub metadata: String,
}

impl Entry {
    /// The size EventBridge counts against its limit: the UTF-8 bytes of Source, DetailType and
    /// Detail (no Resources, and no Time: ebhook leaves both unset).
    pub fn size(&self) -> usize {
        self.source.len() + self.detail_type.len() + self.detail.len()
    }
}

/// How events are named and bounded; from the handler configuration.
#[derive(Clone, Debug)]
pub struct EventSettings {
    pub source: String,
    /// Replaces the derived DetailType for every event when set.
    pub detail_type: Option<String>,
    pub max_entry_bytes: usize,
}

/// What ebhook knows about a delivery besides its payload. Serialised under [`RESERVED_KEY`].
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata<'a> {
    pub provider: &'a str,
    /// The provider's event name (GitHub's `X-GitHub-Event`, Zendesk's `type`, ...).
    pub event: Cow<'a, str>,
    /// The provider's id for this delivery: the key to dedupe on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_id: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<&'a str>,
    pub received_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<&'a str>,
    pub method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<&'a str>,
    /// Set when the payload could not be the Detail itself and sits under this key instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wrapped_in: Option<&'static str>,
}

/// The delivery as the mapper sees it: already verified.
#[derive(Clone, Copy, Debug)]
pub struct Delivery<'a> {
    pub provider: Provider,
    pub method: &'a str,
    pub headers: &'a http::HeaderMap,
    pub raw_query: &'a str,
    pub body: &'a RawBody<'a>,
    pub received_at: &'a str,
    pub request_id: Option<&'a str>,
}

impl<'a> Delivery<'a> {
    fn text(&self) -> Result<&'a str, MapError> {
        self.body
            .to_str()
            .map_err(|_| malformed("JSON body is not valid UTF-8"))
    }

    fn header(&self, name: &HeaderName) -> Option<&'a str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum MapError {
    #[error("malformed body: {0}")]
    Malformed(Cow<'static, str>),
    #[error(
        "event of {size} bytes exceeds the {limit}-byte PutEvents entry limit (EBHOOK_MAX_ENTRY_BYTES)"
    )]
    TooLarge { size: usize, limit: usize },
}

fn malformed(reason: impl Into<Cow<'static, str>>) -> MapError {
    MapError::Malformed(reason.into())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyKind {
    Empty,
    Json,
    Form,
    Other,
}

fn body_kind(delivery: &Delivery<'_>) -> BodyKind {
    if delivery.body.is_empty() {
        return BodyKind::Empty;
    }
    match request::media_type(delivery.headers) {
        Some(m) if request::is_json(m) => BodyKind::Json,
        Some(m) if request::is_form(m) => BodyKind::Form,
        _ => BodyKind::Other,
    }
}

/// Map a verified delivery to its entries: one, or one per element of a Twilio Event Streams
/// batch. Every entry is checked against the size limit.
pub fn map_delivery(
    delivery: &Delivery<'_>,
    settings: &EventSettings,
) -> Result<Vec<Entry>, MapError> {
    let entries = map_unchecked(delivery, settings)?;
    check_sizes(&entries, settings)?;
    Ok(entries)
}

/// [`map_delivery`] without the size check, for a caller that can store what does not fit.
pub fn map_unchecked(
    delivery: &Delivery<'_>,
    settings: &EventSettings,
) -> Result<Vec<Entry>, MapError> {
    match delivery.provider {
        Provider::Github => map_github(delivery, settings),
        Provider::Zendesk => map_zendesk(delivery, settings),
        Provider::Twilio => map_twilio(delivery, settings),
    }
}

/// The first entry over the PutEvents limit, as an error.
pub fn check_sizes(entries: &[Entry], settings: &EventSettings) -> Result<(), MapError> {
    match entries.iter().map(Entry::size).max() {
        Some(size) if size > settings.max_entry_bytes => Err(MapError::TooLarge {
            size,
            limit: settings.max_entry_bytes,
        }),
        _ => Ok(()),
    }
}

/// `receivedAt` in the metadata: RFC 3339 in UTC to the millisecond, always 24 characters
/// (`2026-11-22T12:00:00.120Z`), so the size of an entry does not depend on the instant.
pub fn received_at(now: OffsetDateTime) -> String {
    const FORMAT: &[BorrowedFormatItem<'_>] =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    // Every UTC instant of years 0 to 9999 has this form.
    now.to_offset(time::UtcOffset::UTC)
        .format(FORMAT)
        .unwrap_or_default()
}

/// DetailType prefix of a pointer event: `oversized:push`, `oversized:zen:event-type:...`.
pub const OVERSIZED_PREFIX: &str = "oversized:";

/// Where an oversized body was stored. Serialised under `storedPayload` in the pointer event's
/// metadata.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredPayload<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    /// Bytes of the body exactly as the provider sent (and signed) it.
    pub size: usize,
    /// Lower-case hex SHA-256 of those bytes.
    pub sha256: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<&'a str>,
}

/// The object key for an oversized body: by provider and day, named by its SHA-256, so a
/// retried delivery overwrites its own copy instead of adding another.
pub fn stored_payload_key(provider: Provider, received_at: &str, sha256: &str) -> String {
    let day = received_at.get(..10).unwrap_or("unknown-day");
    format!("oversized/{}/{day}/{sha256}", provider.as_str())
}

/// The event put instead of an oversized `entry`: the same Source, `oversized:` + its
/// DetailType, and a Detail that is only the metadata, with where the body is.
pub fn pointer_entry(oversized: &Entry, stored: &StoredPayload<'_>) -> Entry {
    let location = serde_json::to_string(stored).unwrap_or_default();
    let mut metadata = String::with_capacity(oversized.metadata.len() + location.len() + 20);
    metadata.push_str(oversized.metadata.trim_end_matches('}'));
    metadata.push_str(",\"storedPayload\":");
    metadata.push_str(&location);
    metadata.push('}');
    Entry {
        source: oversized.source.clone(),
        detail_type: clean_detail_type(&format!("{OVERSIZED_PREFIX}{}", oversized.detail_type)),
        detail: format!("{{\"{RESERVED_KEY}\":{metadata}}}"),
        metadata,
    }
}

fn base_metadata<'a>(delivery: &Delivery<'a>) -> Metadata<'a> {
    Metadata {
        provider: delivery.provider.as_str(),
        received_at: delivery.received_at,
        request_id: delivery.request_id,
        method: delivery.method,
        content_type: delivery.header(&CONTENT_TYPE),
        ..Metadata::default()
    }
}

fn map_github(d: &Delivery<'_>, settings: &EventSettings) -> Result<Vec<Entry>, MapError> {
    let mut meta = base_metadata(d);
    meta.event = Cow::Borrowed(d.header(&github::EVENT).unwrap_or(FALLBACK_DETAIL_TYPE));
    meta.delivery_id = d.header(&github::DELIVERY).map(Cow::Borrowed);
    meta.webhook_id = d.header(&github::HOOK_ID);
    let form_payload;
    let json = match body_kind(d) {
        BodyKind::Json => d.text()?,
        BodyKind::Form => {
            form_payload = form_urlencoded::parse(d.body.as_bytes())
                .find(|(k, _)| k == "payload")
                .map(|(_, v)| v)
                .ok_or_else(|| malformed("GitHub form body has no `payload` field"))?;
            &form_payload
        }
        BodyKind::Empty => "{}",
        BodyKind::Other => {
            return Err(malformed(
                "GitHub sends application/json or application/x-www-form-urlencoded bodies",
            ));
        }
    };
    let detail = JsonPayload::parse(json)?.into_detail(&mut meta)?;
    Ok(vec![entry(settings, &meta, detail)])
}

fn map_zendesk(d: &Delivery<'_>, settings: &EventSettings) -> Result<Vec<Entry>, MapError> {
    let mut meta = base_metadata(d);
    meta.delivery_id = d.header(&zendesk::INVOCATION_ID).map(Cow::Borrowed);
    meta.webhook_id = d.header(&zendesk::WEBHOOK_ID);
    meta.account_id = d.header(&zendesk::ACCOUNT_ID);
    meta.event = Cow::Borrowed(FALLBACK_DETAIL_TYPE);
    let detail = match body_kind(d) {
        BodyKind::Json => {
            let mut payload = JsonPayload::parse(d.text()?)?;
            if let Some(t) = payload.top.event_type.take() {
                meta.event = Cow::Owned(t);
            }
            payload.into_detail(&mut meta)?
        }
        BodyKind::Form => form_detail(form_urlencoded::parse(d.body.as_bytes()), &mut meta),
        BodyKind::Empty => object_with_metadata("{}", &meta),
        BodyKind::Other => opaque_detail(d.body.as_bytes(), &mut meta),
    };
    Ok(vec![entry(settings, &meta, detail)])
}

fn map_twilio(d: &Delivery<'_>, settings: &EventSettings) -> Result<Vec<Entry>, MapError> {
    let mut meta = base_metadata(d);
    meta.delivery_id = d.header(&twilio::IDEMPOTENCY).map(Cow::Borrowed);
    match body_kind(d) {
        BodyKind::Json => {
            let text = d.text()?;
            if first_byte(text) == Some(b'[') {
                return event_stream_entries(text, &meta, settings);
            }
            let mut payload = JsonPayload::parse(text)?;
            meta.event = Cow::Owned(
                payload
                    .top
                    .event_type
                    .take()
                    .unwrap_or_else(|| FALLBACK_DETAIL_TYPE.to_owned()),
            );
            let detail = payload.into_detail(&mut meta)?;
            Ok(vec![entry(settings, &meta, detail)])
        }
        kind @ (BodyKind::Form | BodyKind::Empty) => {
            // GET webhooks carry their parameters in the query string.
            let source = if kind == BodyKind::Form {
                d.body.as_bytes()
            } else {
                d.raw_query.as_bytes()
            };
            let params: Vec<_> = form_urlencoded::parse(source)
                .filter(|(k, _)| k != crate::verify::twilio::BODY_HASH_PARAM)
                .collect();
            meta.event = Cow::Owned(twilio_form_event(&params));
            let detail = form_detail(params.into_iter(), &mut meta);
            Ok(vec![entry(settings, &meta, detail)])
        }
        BodyKind::Other => Err(malformed(
            "Twilio sends application/x-www-form-urlencoded or application/json bodies",
        )),
    }
}

/// Event Streams posts a JSON array of CloudEvents: each becomes its own event, named by its
/// CloudEvent `type` and deduplicated by its CloudEvent `id`.
fn event_stream_entries(
    text: &str,
    meta: &Metadata<'_>,
    settings: &EventSettings,
) -> Result<Vec<Entry>, MapError> {
    let items: Vec<&RawValue> =
        serde_json::from_str(text).map_err(|e| malformed(format!("invalid JSON: {e}")))?;
    items
        .into_iter()
        .map(|item| {
            let mut meta = meta.clone();
            let mut payload = JsonPayload::parse(item.get())?;
            meta.event = Cow::Owned(
                payload
                    .top
                    .event_type
                    .take()
                    .unwrap_or_else(|| FALLBACK_DETAIL_TYPE.to_owned()),
            );
            if let Some(id) = payload.top.id.take() {
                meta.delivery_id = Some(Cow::Owned(id));
            }
            let detail = payload.into_detail(&mut meta)?;
            Ok(entry(settings, &meta, detail))
        })
        .collect()
}

/// Twilio form callbacks have no event name; derive one from the resource and its status, e.g.
/// `message.received`, `message.delivered`, `call.ringing`, `recording.completed`.
fn twilio_form_event(params: &[(Cow<'_, str>, Cow<'_, str>)]) -> String {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
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
        return FALLBACK_DETAIL_TYPE.to_owned();
    };
    match status.filter(|s| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) {
        Some(s) => format!("{resource}.{s}"),
        None => resource.to_owned(),
    }
}

fn entry(settings: &EventSettings, meta: &Metadata<'_>, detail: Detail) -> Entry {
    let detail_type = settings.detail_type.as_deref().unwrap_or(&meta.event);
    Entry {
        source: settings.source.clone(),
        detail_type: clean_detail_type(detail_type),
        detail: detail.text,
        metadata: detail.metadata,
    }
}

/// DetailType is at most 128 characters and never empty; control characters are dropped.
pub fn clean_detail_type(name: &str) -> String {
    // Nearly every name is short printable ASCII with nothing to trim: one copy.
    let printable = |b: u8| (b' '..=b'~').contains(&b);
    if (1..=MAX_DETAIL_TYPE_CHARS).contains(&name.len())
        && name.bytes().all(printable)
        && !name.starts_with(' ')
        && !name.ends_with(' ')
    {
        return name.to_owned();
    }
    cleaned_detail_type(name)
}

/// The general rule behind [`clean_detail_type`].
fn cleaned_detail_type(name: &str) -> String {
    // Control characters go first, so none can shield a space from the trim.
    let visible: String = name.chars().filter(|c| !c.is_control()).collect();
    let cut: String = visible.trim().chars().take(MAX_DETAIL_TYPE_CHARS).collect();
    let cleaned = cut.trim_end();
    if cleaned.is_empty() {
        FALLBACK_DETAIL_TYPE.to_owned()
    } else {
        cleaned.to_owned()
    }
}

fn first_byte(text: &str) -> Option<u8> {
    text.bytes().find(|b| !b.is_ascii_whitespace())
}

/// A Detail, and the metadata object it ends with (kept for a pointer event).
struct Detail {
    text: String,
    metadata: String,
}

/// `{...}` + `"ebhook": meta` as its last member.
fn object_with_metadata(object: &str, meta: &Metadata<'_>) -> Detail {
    // Metadata is strings only, which always serialise.
    let metadata = serde_json::to_string(meta).unwrap_or_default();
    let object = object.trim_matches(|c: char| c.is_ascii_whitespace());
    let open = &object[..object.len() - 1];
    let empty = open[1..]
        .trim_matches(|c: char| c.is_ascii_whitespace())
        .is_empty();
    let mut text = String::with_capacity(object.len() + metadata.len() + RESERVED_KEY.len() + 4);
    text.push_str(open);
    if !empty {
        text.push(',');
    }
    text.push('"');
    text.push_str(RESERVED_KEY);
    text.push_str("\":");
    text.push_str(&metadata);
    text.push('}');
    Detail { text, metadata }
}

/// `{"<key>": value, "ebhook": meta}` for payloads that cannot be the Detail themselves.
fn wrapped(key: &'static str, value_json: &str, meta: &mut Metadata<'_>) -> Detail {
    meta.wrapped_in = Some(key);
    let mut object = String::with_capacity(value_json.len() + key.len() + 8);
    object.push_str("{\"");
    object.push_str(key);
    object.push_str("\":");
    object.push_str(value_json.trim_matches(|c: char| c.is_ascii_whitespace()));
    object.push('}');
    object_with_metadata(&object, meta)
}

/// A validated JSON payload, turned into a Detail once its metadata is complete.
struct JsonPayload<'t> {
    text: &'t str,
    top: TopLevel,
}

impl<'t> JsonPayload<'t> {
    fn parse(text: &'t str) -> Result<Self, MapError> {
        let top = top_level::read(text, RESERVED_KEY).map_err(|e| {
            if top_level::is_too_deep(&e) {
                malformed(format!(
                    "JSON nested more than {MAX_NESTING} levels deep (serde_json's limit; {e})"
                ))
            } else {
                malformed(format!("invalid JSON: {e}"))
            }
        })?;
        Ok(Self { text, top })
    }

    /// Objects as they are, plus metadata; anything else, or an object that already uses the
    /// reserved key, wrapped under `payload` so nothing is overwritten. A payload nested as deep
    /// as serde_json reads cannot be wrapped: its Detail could not be read back.
    fn into_detail(self, meta: &mut Metadata<'_>) -> Result<Detail, MapError> {
        if self.top.object && !self.top.has_reserved {
            return Ok(object_with_metadata(self.text, meta));
        }
        if self.top.nesting >= MAX_NESTING {
            return Err(malformed(format!(
                "JSON nested {MAX_NESTING} levels deep cannot be wrapped under `payload` (serde_json reads at most {MAX_NESTING} levels)"
            )));
        }
        Ok(wrapped("payload", self.text, meta))
    }
}

/// Form fields as a JSON object; a repeated name becomes an array of its values in order.
fn form_detail<'p>(
    params: impl Iterator<Item = (Cow<'p, str>, Cow<'p, str>)>,
    meta: &mut Metadata<'_>,
) -> Detail {
    let mut object = serde_json::Map::new();
    for (name, value) in params {
        let value = serde_json::Value::String(value.into_owned());
        match object.get_mut(name.as_ref()) {
            None => {
                object.insert(name.into_owned(), value);
            }
            Some(serde_json::Value::Array(values)) => values.push(value),
            Some(first) => {
                let first = first.take();
                object.insert(
                    name.into_owned(),
                    serde_json::Value::Array(vec![first, value]),
                );
            }
        }
    }
    let has_reserved = object.contains_key(RESERVED_KEY);
    let json = serde_json::Value::Object(object).to_string();
    if has_reserved {
        wrapped("payload", &json, meta)
    } else {
        object_with_metadata(&json, meta)
    }
}

/// A body that is neither JSON nor form (Zendesk trigger webhooks may send XML or text):
/// `{"body": "<text>"}`, or `{"bodyBase64": "..."}` if it is not UTF-8.
fn opaque_detail(body: &[u8], meta: &mut Metadata<'_>) -> Detail {
    match std::str::from_utf8(body) {
        Ok(text) => wrapped("body", &serde_json::Value::from(text).to_string(), meta),
        Err(_) => wrapped("bodyBase64", &format!("\"{}\"", B64.encode(body)), meta),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn settings() -> EventSettings {
        EventSettings {
            source: "ebhook.test".into(),
            detail_type: None,
            max_entry_bytes: DEFAULT_MAX_ENTRY_BYTES,
        }
    }

    fn map(
        provider: Provider,
        method: &str,
        headers: &[(&str, &str)],
        query: &str,
        body: &[u8],
        settings: &EventSettings,
    ) -> Result<Vec<Entry>, MapError> {
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let body = RawBody::Bytes(body.into());
        let d = Delivery {
            provider,
            method,
            headers: &map,
            raw_query: query,
            body: &body,
            received_at: "2026-11-22T12:00:00Z",
            request_id: Some("req-1"),
        };
        map_delivery(&d, settings)
    }

    #[test]
    fn media_types_are_matched_without_case() {
        let cases = [
            ("application/json", BodyKind::Json),
            ("Application/JSON; charset=utf-8", BodyKind::Json),
            ("application/cloudevents-batch+json", BodyKind::Json),
            ("APPLICATION/VND.GITHUB+JSON", BodyKind::Json),
            (
                "application/x-www-form-urlencoded; charset=UTF-8",
                BodyKind::Form,
            ),
            ("Application/X-WWW-Form-Urlencoded", BodyKind::Form),
            ("text/json", BodyKind::Other),
            ("+json", BodyKind::Other),
            ("application/", BodyKind::Other),
            ("application/jsonx", BodyKind::Other),
            ("text/plain", BodyKind::Other),
        ];
        for (content_type, kind) in cases {
            let mut headers = http::HeaderMap::new();
            headers.insert("content-type", content_type.parse().unwrap());
            let d = Delivery {
                provider: Provider::Zendesk,
                method: "POST",
                headers: &headers,
                raw_query: "",
                body: &RawBody::Text("{}"),
                received_at: "2026-11-22T12:00:00Z",
                request_id: None,
            };
            assert_eq!(body_kind(&d), kind, "{content_type}");
        }
    }

    fn detail(e: &Entry) -> Value {
        serde_json::from_str(&e.detail).expect("detail is valid JSON")
    }

    const JSON: (&str, &str) = ("content-type", "application/json");
    const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

    #[test]
    fn github_json_keeps_payload_and_adds_metadata() {
        let body = b"{\n  \"zen\": \"Keep it logically awesome.\",\n  \"hook_id\": 1\n}\n";
        let headers = [
            JSON,
            ("x-github-event", "ping"),
            ("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
            ("x-github-hook-id", "42"),
        ];
        let entries = map(Provider::Github, "POST", &headers, "", body, &settings()).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].source, "ebhook.test");
        assert_eq!(entries[0].detail_type, "ping");
        assert_eq!(
            detail(&entries[0]),
            json!({
                "zen": "Keep it logically awesome.",
                "hook_id": 1,
                "ebhook": {
                    "provider": "github",
                    "event": "ping",
                    "deliveryId": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
                    "webhookId": "42",
                    "receivedAt": "2026-11-22T12:00:00Z",
                    "requestId": "req-1",
                    "method": "POST",
                    "contentType": "application/json"
                }
            })
        );
    }

    #[test]
    fn github_form_payload_field_is_the_detail() {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("payload", r#"{"action":"opened","number":7}"#)
            .finish();
        let headers = [FORM, ("x-github-event", "pull_request")];
        let e = map(
            Provider::Github,
            "POST",
            &headers,
            "",
            body.as_bytes(),
            &settings(),
        )
        .unwrap();
        let d = detail(&e[0]);
        assert_eq!(d["action"], "opened");
        assert_eq!(d["number"], 7);
        assert_eq!(e[0].detail_type, "pull_request");
        let err = map(
            Provider::Github,
            "POST",
            &[FORM],
            "",
            b"other=1",
            &settings(),
        );
        assert!(matches!(err, Err(MapError::Malformed(_))));
        let err = map(
            Provider::Github,
            "POST",
            &[("content-type", "text/plain")],
            "",
            b"hi",
            &settings(),
        );
        assert!(matches!(err, Err(MapError::Malformed(_))));
    }

    #[test]
    fn malformed_json_and_non_utf8_are_rejected() {
        for body in [
            &b"{\"a\":"[..],
            b"{\"a\":1} trailing",
            b"\xff\xfe{}",
            b"{\"a\":\"\xff\"}",
        ] {
            let r = map(Provider::Github, "POST", &[JSON], "", body, &settings());
            assert!(matches!(r, Err(MapError::Malformed(_))), "{body:?}");
        }
    }

    #[test]
    fn zendesk_event_type_names_the_event() {
        let body = br#"{"type":"zen:event-type:ticket.created","account_id":1,"id":"e1","detail":{"id":"5"}}"#;
        let headers = [
            JSON,
            ("x-zendesk-webhook-id", "01W"),
            ("x-zendesk-webhook-invocation-id", "inv-9"),
            ("x-zendesk-account-id", "123"),
        ];
        let e = map(Provider::Zendesk, "POST", &headers, "", body, &settings()).unwrap();
        assert_eq!(e[0].detail_type, "zen:event-type:ticket.created");
        let d = detail(&e[0]);
        assert_eq!(d["detail"]["id"], "5");
        assert_eq!(d["ebhook"]["deliveryId"], "inv-9");
        assert_eq!(d["ebhook"]["webhookId"], "01W");
        assert_eq!(d["ebhook"]["accountId"], "123");
        assert_eq!(d["ebhook"]["event"], "zen:event-type:ticket.created");
    }

    #[test]
    fn arrays_scalars_and_reserved_key_are_wrapped() {
        for (body, wrapped) in [
            (&br#"[1,2,3]"#[..], json!([1, 2, 3])),
            (b" \"text\" ", json!("text")),
            (b"42", json!(42)),
            (b"null", json!(null)),
            (br#"{"ebhook":"mine"}"#, json!({"ebhook": "mine"})),
        ] {
            let e = map(Provider::Zendesk, "POST", &[JSON], "", body, &settings()).unwrap();
            let d = detail(&e[0]);
            assert_eq!(d["payload"], wrapped);
            assert_eq!(d["ebhook"]["wrappedIn"], "payload");
            assert_eq!(d["ebhook"]["provider"], "zendesk");
        }
    }

    #[test]
    fn zendesk_trigger_bodies_of_any_kind() {
        let xml = b"<ticket><id>1</id></ticket>";
        let e = map(
            Provider::Zendesk,
            "PUT",
            &[("content-type", "application/xml")],
            "",
            xml,
            &settings(),
        )
        .unwrap();
        assert_eq!(detail(&e[0])["body"], "<ticket><id>1</id></ticket>");
        assert_eq!(e[0].detail_type, "webhook");
        let binary = [0xffu8, 0x00, 0x10];
        let e = map(
            Provider::Zendesk,
            "POST",
            &[("content-type", "application/octet-stream")],
            "",
            &binary,
            &settings(),
        )
        .unwrap();
        assert_eq!(detail(&e[0])["bodyBase64"], "/wAQ");
        let e = map(Provider::Zendesk, "DELETE", &[], "", b"", &settings()).unwrap();
        let d = detail(&e[0]);
        assert_eq!(d.as_object().unwrap().len(), 1);
        assert_eq!(d["ebhook"]["method"], "DELETE");
        let e = map(
            Provider::Zendesk,
            "POST",
            &[FORM],
            "",
            b"a=1&b=x+y",
            &settings(),
        )
        .unwrap();
        assert_eq!(detail(&e[0])["b"], "x y");
    }

    #[test]
    fn twilio_form_callbacks_are_named_and_keep_repeated_values() {
        let body =
            b"MessageSid=SM1&SmsStatus=received&Body=hi+there&MediaUrl=a&MediaUrl=b&MediaUrl=c";
        let headers = [FORM, ("i-twilio-idempotency-token", "idem-1")];
        let e = map(Provider::Twilio, "POST", &headers, "", body, &settings()).unwrap();
        assert_eq!(e[0].detail_type, "message.received");
        let d = detail(&e[0]);
        assert_eq!(d["Body"], "hi there");
        assert_eq!(d["MediaUrl"], json!(["a", "b", "c"]));
        assert_eq!(d["ebhook"]["deliveryId"], "idem-1");
        for (body, name) in [
            (&b"CallSid=CA1&CallStatus=ringing"[..], "call.ringing"),
            (
                b"CallSid=CA1&RecordingSid=RE1&RecordingStatus=completed",
                "recording.completed",
            ),
            (
                b"MessageSid=SM1&MessageStatus=delivered",
                "message.delivered",
            ),
            (b"TranscriptionSid=TR1", "transcription"),
            (b"CallSid=CA1&CallStatus=bad%20status", "call"),
            (b"Foo=bar", "webhook"),
        ] {
            let e = map(Provider::Twilio, "POST", &[FORM], "", body, &settings()).unwrap();
            assert_eq!(e[0].detail_type, name);
        }
    }

    #[test]
    fn twilio_get_uses_query_parameters() {
        let e = map(
            Provider::Twilio,
            "GET",
            &[],
            "CallSid=CA9&CallStatus=completed&From=%2B1555",
            b"",
            &settings(),
        )
        .unwrap();
        let d = detail(&e[0]);
        assert_eq!(d["From"], "+1555");
        assert_eq!(e[0].detail_type, "call.completed");
    }

    #[test]
    fn twilio_event_streams_batch_is_split() {
        let body = br#"[
            {"specversion":"1.0","type":"com.twilio.messaging.message.delivered","id":"EZ1","data":{"to":"+1"}},
            {"specversion":"1.0","type":"com.twilio.messaging.message.sent","id":"EZ2","data":{}}
        ]"#;
        let headers = [("content-type", "application/json; charset=utf-8")];
        let e = map(
            Provider::Twilio,
            "POST",
            &headers,
            "bodySHA256=00",
            body,
            &settings(),
        )
        .unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].detail_type, "com.twilio.messaging.message.delivered");
        assert_eq!(e[1].detail_type, "com.twilio.messaging.message.sent");
        let d0 = detail(&e[0]);
        assert_eq!(d0["data"]["to"], "+1");
        assert_eq!(d0["ebhook"]["deliveryId"], "EZ1");
        assert_eq!(detail(&e[1])["ebhook"]["deliveryId"], "EZ2");
        let json_object = map(
            Provider::Twilio,
            "POST",
            &[JSON],
            "",
            br#"{"type":"x.y"}"#,
            &settings(),
        )
        .unwrap();
        assert_eq!(json_object[0].detail_type, "x.y");
    }

    #[test]
    fn detail_type_override_and_limits() {
        let mut s = settings();
        s.detail_type = Some("Custom".into());
        let e = map(
            Provider::Github,
            "POST",
            &[JSON, ("x-github-event", "push")],
            "",
            b"{}",
            &s,
        )
        .unwrap();
        assert_eq!(e[0].detail_type, "Custom");
        assert_eq!(detail(&e[0])["ebhook"]["event"], "push");
        let long = "é".repeat(300);
        assert_eq!(clean_detail_type(&long).chars().count(), 128);
        // The one-copy shortcut answers as the general rule does.
        let mut rng = fastrand::Rng::with_seed(0xde7a);
        let pieces = [
            "a", "Z", " ", "~", "\u{7f}", "\t", "\u{85}", "\u{a0}", "é", ".", ":",
        ];
        for _ in 0..20_000 {
            let name: String = (0..rng.usize(0..140))
                .map(|_| pieces[rng.usize(..pieces.len())])
                .collect();
            assert_eq!(
                clean_detail_type(&name),
                cleaned_detail_type(&name),
                "{name:?}"
            );
        }
        assert_eq!(clean_detail_type(" \n"), "webhook");
        // Found by the entry_builder fuzz target: control characters around spaces.
        assert_eq!(clean_detail_type("\u{1} x"), "x");
        assert_eq!(clean_detail_type("\u{1} \u{1}"), "webhook");
        let cut_at_a_space = format!("{} x", "a".repeat(127));
        assert_eq!(clean_detail_type(&cut_at_a_space), "a".repeat(127));
    }

    #[test]
    fn entry_size_counts_utf8_bytes_and_limit_is_enforced() {
        let entry = Entry {
            source: "é".into(),
            detail_type: "ab".into(),
            detail: "{\"k\":\"€\"}".into(),
            metadata: "{}".into(),
        };
        assert_eq!(entry.size(), 2 + 2 + 11);
        let mut s = settings();
        let body = format!("{{\"k\":\"{}\"}}", "x".repeat(1000));
        let fits = map(Provider::Github, "POST", &[JSON], "", body.as_bytes(), &s).unwrap();
        s.max_entry_bytes = fits[0].size();
        assert!(map(Provider::Github, "POST", &[JSON], "", body.as_bytes(), &s).is_ok());
        s.max_entry_bytes -= 1;
        let err = map(Provider::Github, "POST", &[JSON], "", body.as_bytes(), &s).unwrap_err();
        assert_eq!(
            err,
            MapError::TooLarge {
                size: s.max_entry_bytes + 1,
                limit: s.max_entry_bytes
            }
        );
    }

    #[test]
    fn oversized_entries_become_pointer_events() {
        let mut s = settings();
        s.max_entry_bytes = 100;
        let body = format!("{{\"k\":\"{}\"}}", "x".repeat(1000));
        let body = body.as_bytes();
        let headers = [
            JSON,
            ("x-github-event", "push"),
            ("x-github-delivery", "d-1"),
        ];
        let mapped = map(Provider::Github, "POST", &headers, "", body, &s);
        assert!(matches!(mapped, Err(MapError::TooLarge { limit: 100, .. })));

        let mut unlimited = s.clone();
        unlimited.max_entry_bytes = usize::MAX;
        let entries = map(Provider::Github, "POST", &headers, "", body, &unlimited).unwrap();
        assert!(check_sizes(&entries, &s).is_err());
        let key = stored_payload_key(Provider::Github, "2026-11-22T12:00:00Z", "ab12");
        assert_eq!(key, "oversized/github/2026-11-22/ab12");
        let stored = StoredPayload {
            bucket: "payloads",
            key: &key,
            size: body.len(),
            sha256: "ab12",
            content_type: Some("application/json"),
        };
        let pointer = pointer_entry(&entries[0], &stored);
        assert_eq!(pointer.source, "ebhook.test");
        assert_eq!(pointer.detail_type, "oversized:push");
        let detail = detail(&pointer);
        assert_eq!(detail.as_object().unwrap().len(), 1, "{detail}");
        assert_eq!(detail["ebhook"]["event"], "push");
        assert_eq!(detail["ebhook"]["deliveryId"], "d-1");
        assert_eq!(
            detail["ebhook"]["storedPayload"],
            json!({"bucket": "payloads", "key": key, "size": body.len(), "sha256": "ab12",
                   "contentType": "application/json"})
        );
        assert_eq!(
            serde_json::from_str::<Value>(&pointer.metadata).unwrap(),
            detail["ebhook"]
        );
        assert!(pointer.size() < 1000);

        let long = Entry {
            detail_type: "t".repeat(128),
            ..entries[0].clone()
        };
        assert_eq!(
            pointer_entry(&long, &stored).detail_type.chars().count(),
            128
        );
        assert!(
            pointer_entry(&long, &stored)
                .detail_type
                .starts_with(OVERSIZED_PREFIX)
        );
    }

    #[test]
    fn nesting_is_held_to_what_serde_json_reads_back() {
        let limit = MAX_NESTING as usize;
        let deep = |levels: usize, open: &str, close: &str| {
            format!("{}1{}", open.repeat(levels), close.repeat(levels))
        };
        let json =
            |provider, body: &str| map(provider, "POST", &[JSON], "", body.as_bytes(), &settings());
        let e = json(Provider::Zendesk, &deep(limit, "{\"a\":", "}")).unwrap();
        assert!(serde_json::from_str::<Value>(&e[0].detail).is_ok());
        for too_deep in [deep(limit + 1, "{\"a\":", "}"), deep(limit + 1, "[", "]")] {
            let r = json(Provider::Zendesk, &too_deep);
            let Err(MapError::Malformed(why)) = r else {
                panic!("{r:?}")
            };
            assert!(why.contains("nested more than 127 levels"), "{why}");
        }
        // Wrapped under `payload`, an array one level short of the limit still reads back; at
        // the limit it could not, and neither could an object that uses the reserved key.
        let e = json(Provider::Zendesk, &deep(limit - 1, "[", "]")).unwrap();
        assert_eq!(detail(&e[0])["ebhook"]["wrappedIn"], "payload");
        let reserved = format!("{{\"ebhook\":{}}}", deep(limit - 1, "[", "]"));
        for refused in [
            json(Provider::Zendesk, &deep(limit, "[", "]")),
            json(Provider::Github, &reserved),
        ] {
            assert!(
                matches!(refused, Err(MapError::Malformed(_))),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn a_json_payload_is_copied_byte_for_byte() {
        let body = "{\"type\" : \"t\",\n \"n\": 1.50, \"s\":\"\\u00e9\\/\", \"big\": 123456789012345678901234567890}";
        let e = map(
            Provider::Zendesk,
            "POST",
            &[JSON],
            "",
            body.as_bytes(),
            &settings(),
        )
        .unwrap();
        let metadata = format!(",\"ebhook\":{}}}", e[0].metadata);
        assert_eq!(
            e[0].detail,
            format!("{}{metadata}", body.strip_suffix('}').unwrap())
        );
        assert_eq!(e[0].detail_type, "t");
    }

    #[test]
    fn received_at_has_one_length_whatever_the_instant() {
        use time::macros::datetime;
        for (at, text) in [
            (datetime!(2026-11-22 12:00 UTC), "2026-11-22T12:00:00.000Z"),
            (
                datetime!(2026-11-22 12:00:00.1 UTC),
                "2026-11-22T12:00:00.100Z",
            ),
            (
                datetime!(2026-01-02 03:04:05.678_999 UTC),
                "2026-01-02T03:04:05.678Z",
            ),
            (
                datetime!(2026-11-22 13:00:00.5 +01:00),
                "2026-11-22T12:00:00.500Z",
            ),
        ] {
            assert_eq!(received_at(at), text);
            assert!(
                OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).is_ok()
            );
        }
    }

    #[test]
    fn empty_object_and_whitespace() {
        for body in [&b"{}"[..], b" { } \n", b"{\n}"] {
            let e = map(Provider::Github, "POST", &[JSON], "", body, &settings()).unwrap();
            let d = detail(&e[0]);
            assert_eq!(d.as_object().unwrap().len(), 1, "{:?}", e[0].detail);
        }
    }
}
