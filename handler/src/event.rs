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
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

use crate::request::{self, RawBody};
pub use top_level::MAX_NESTING;
pub use top_level::TopLevel;

/// The top-level key of every `Detail` that holds ebhook's delivery metadata.
pub const RESERVED_KEY: &str = "ebhook";

/// PutEvents' per-entry limit since 29 January 2026 (it was 256 KB before), counted as
/// [`Entry::size`] counts it. Configurable (`EBHOOK_MAX_ENTRY_BYTES`) for a region or an account
/// that differs.
pub const DEFAULT_MAX_ENTRY_BYTES: usize = 1024 * 1024;
const MAX_DETAIL_TYPE_CHARS: usize = 128;
/// The DetailType of an event whose provider names no event.
pub const FALLBACK_DETAIL_TYPE: &str = "webhook";

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
    /// The provider's id of the event, where one event may be delivered more than once under
    /// different delivery ids (Shopify's `X-Shopify-Event-Id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<&'a str>,
    pub received_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<&'a str>,
    pub method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<&'a str>,
    /// The URL's query parameters when the provider's signature covers them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<serde_json::Map<String, serde_json::Value>>,
    /// The URL's query parameters when the signature does not cover them: anyone who can
    /// replay a delivery can change these.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsigned_query: Option<serde_json::Map<String, serde_json::Value>>,
    /// Set when the payload could not be the Detail itself and sits under this key instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wrapped_in: Option<&'static str>,
    /// Lower-case hex SHA-256 of the body exactly as received: a consumer can dedupe on it,
    /// since unlike the id headers of most providers it is covered by the signature.
    pub body_sha256: &'a str,
    /// What the verified signature covers (`body`, `timestamp`, `url`, `deliveryId`); empty
    /// when nothing is signed (a bearer token): then every field is as sent, unproven.
    pub signed: &'static [&'static str],
    /// The timestamp the signature covers, exactly as the provider sent it (ISO-8601 for
    /// Zendesk, Unix seconds for the others).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<&'a str>,
}

/// What a verified request's signature covers, for the metadata (see [`Metadata::signed`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Signed<'a> {
    pub covers: &'static [&'static str],
    /// The signed timestamp as sent, where the provider signs one.
    pub at: Option<&'a str>,
}

impl<'a> Signed<'a> {
    /// Nothing signed: the request was proven by a bearer token or credentials alone.
    pub const NOTHING: Signed<'static> = Signed {
        covers: &[],
        at: None,
    };

    pub const fn covering(covers: &'static [&'static str]) -> Self {
        Self { covers, at: None }
    }

    pub fn at(mut self, at: Option<&'a str>) -> Self {
        self.at = at;
        self
    }

    /// Whether the raw body is covered by the signature.
    pub fn body(&self) -> bool {
        self.covers.contains(&"body")
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The delivery as the mapper sees it: already verified.
#[derive(Clone, Copy, Debug)]
pub struct Delivery<'a> {
    /// The provider's name.
    pub provider: &'static str,
    /// Whether the provider's signature covers the query string.
    pub query_signed: bool,
    pub method: &'a str,
    pub headers: &'a http::HeaderMap,
    pub raw_query: &'a str,
    pub body: &'a RawBody<'a>,
    pub received_at: &'a str,
    pub request_id: Option<&'a str>,
    /// Lower-case hex SHA-256 of the body ([`sha256_hex`]), computed once per delivery: every
    /// entry's metadata carries it.
    pub body_sha256: &'a str,
    /// What the verified signature covers.
    pub signed: Signed<'a>,
}

impl<'a> Delivery<'a> {
    /// The body as text, which a JSON body must be.
    pub fn text(&self) -> Result<&'a str, MapError> {
        self.body
            .to_str()
            .map_err(|_| malformed("JSON body is not valid UTF-8"))
    }

    pub fn header(&self, name: &HeaderName) -> Option<&'a str> {
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
    #[error(
        "form of more than {limit} fields: no provider sends that many, and splitting it would take more memory than the function may have"
    )]
    TooManyFields { limit: usize },
}

/// More form fields (or query parameters) than any provider sends (Twilio's richest callbacks
/// have under a hundred). Splitting a form costs about a hundred bytes a field, so a 6 MB body
/// of empty fields would otherwise take hundreds of MB: more than the function has.
pub const MAX_FORM_FIELDS: usize = 1_000;

/// At least as many as the fields of a form (or query string), counted without decoding it:
/// one more than its `&`s (empty pieces are not fields, so this may count more, never fewer).
pub fn form_fields_bound(text: &[u8]) -> usize {
    1 + text.iter().filter(|&&b| b == b'&').count()
}

pub fn malformed(reason: impl Into<Cow<'static, str>>) -> MapError {
    MapError::Malformed(reason.into())
}

/// What a body is, by its Content-Type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    Empty,
    Json,
    Form,
    Other,
}

pub fn body_kind(delivery: &Delivery<'_>) -> BodyKind {
    if delivery.body.is_empty() {
        return BodyKind::Empty;
    }
    match request::media_type(delivery.headers) {
        Some(m) if request::is_json(m) => BodyKind::Json,
        Some(m) if request::is_form(m) => BodyKind::Form,
        _ => BodyKind::Other,
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
pub fn stored_payload_key(provider: &str, received_at: &str, sha256: &str) -> String {
    let day = received_at.get(..10).unwrap_or("unknown-day");
    format!("oversized/{provider}/{day}/{sha256}")
}

/// The event put instead of an oversized `entry`: the same Source, `oversized:` + its
/// DetailType, and a Detail that is only the metadata, with where the body is.
pub fn pointer_entry(oversized: &Entry, stored: &StoredPayload<'_>) -> Entry {
    let location = serde_json::to_string(stored).unwrap_or_default();
    let mut metadata = String::with_capacity(oversized.metadata.len() + location.len() + 20);
    // Exactly the object's own closing brace: the metadata may end with a nested object (the
    // query parameters), whose braces must stay.
    metadata.push_str(
        oversized
            .metadata
            .strip_suffix('}')
            .unwrap_or(&oversized.metadata),
    );
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

/// The metadata every provider's events carry; the provider adds its event name and ids.
/// The query string's parameters are in it, marked unsigned unless the provider signs them.
pub fn metadata<'a>(delivery: &Delivery<'a>) -> Metadata<'a> {
    let query = (!delivery.raw_query.is_empty())
        .then(|| form_object(form_urlencoded::parse(delivery.raw_query.as_bytes())));
    let (query, unsigned_query) = if delivery.query_signed {
        (query, None)
    } else {
        (None, query)
    };
    Metadata {
        provider: delivery.provider,
        received_at: delivery.received_at,
        request_id: delivery.request_id,
        method: delivery.method,
        content_type: delivery.header(&CONTENT_TYPE),
        query,
        unsigned_query,
        body_sha256: delivery.body_sha256,
        signed: delivery.signed.covers,
        signed_at: delivery.signed.at,
        ..Metadata::default()
    }
}

/// The one event a JSON delivery becomes (an empty body reads as `{}`). `name` completes the
/// metadata from the payload's top level; with no event name set, the event is the fallback.
pub fn json_event<'a>(
    d: &Delivery<'a>,
    settings: &EventSettings,
    mut meta: Metadata<'a>,
    name: impl FnOnce(&mut Metadata<'a>, &mut TopLevel),
) -> Result<Vec<Entry>, MapError> {
    let text = if d.body.is_empty() { "{}" } else { d.text()? };
    let mut payload = JsonPayload::parse(text)?;
    name(&mut meta, &mut payload.top);
    if meta.event.is_empty() {
        meta.event = Cow::Borrowed(FALLBACK_DETAIL_TYPE);
    }
    let detail = payload.into_detail(&mut meta)?;
    Ok(vec![entry(settings, &meta, detail)])
}

/// The entry for one event.
pub fn entry(settings: &EventSettings, meta: &Metadata<'_>, detail: Detail) -> Entry {
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

/// The first byte of `text` that is not whitespace.
pub fn first_byte(text: &str) -> Option<u8> {
    text.bytes().find(|b| !b.is_ascii_whitespace())
}

/// A Detail, and the metadata object it ends with (kept for a pointer event).
pub struct Detail {
    text: String,
    metadata: String,
}

/// `{...}` + `"ebhook": meta` as its last member.
pub fn object_with_metadata(object: &str, meta: &Metadata<'_>) -> Detail {
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
pub struct JsonPayload<'t> {
    text: &'t str,
    /// What the mapper reads of its top level.
    pub top: TopLevel,
}

impl<'t> JsonPayload<'t> {
    pub fn parse(text: &'t str) -> Result<Self, MapError> {
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
    pub fn into_detail(self, meta: &mut Metadata<'_>) -> Result<Detail, MapError> {
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

/// Form fields as a JSON object; a repeated name becomes an array of its values in order. More
/// than [`MAX_FORM_FIELDS`] is refused, after reading no more than that.
pub fn form_detail<'p>(
    params: impl Iterator<Item = (Cow<'p, str>, Cow<'p, str>)>,
    meta: &mut Metadata<'_>,
) -> Result<Detail, MapError> {
    let mut params = params.peekable();
    let object = form_object(params.by_ref().take(MAX_FORM_FIELDS));
    if params.peek().is_some() {
        return Err(MapError::TooManyFields {
            limit: MAX_FORM_FIELDS,
        });
    }
    let has_reserved = object.contains_key(RESERVED_KEY);
    let json = serde_json::Value::Object(object).to_string();
    Ok(if has_reserved {
        wrapped("payload", &json, meta)
    } else {
        object_with_metadata(&json, meta)
    })
}

/// Form fields (or query parameters) as a JSON object; a repeated name becomes an array of its
/// values in order.
fn form_object<'p>(
    params: impl Iterator<Item = (Cow<'p, str>, Cow<'p, str>)>,
) -> serde_json::Map<String, serde_json::Value> {
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
    object
}

/// A body that is neither JSON nor form (Zendesk trigger webhooks may send XML or text):
/// `{"body": "<text>"}`, or `{"bodyBase64": "..."}` if it is not UTF-8.
pub fn opaque_detail(body: &[u8], meta: &mut Metadata<'_>) -> Detail {
    match std::str::from_utf8(body) {
        Ok(text) => wrapped("body", &serde_json::Value::from(text).to_string(), meta),
        Err(_) => wrapped("bodyBase64", &format!("\"{}\"", B64.encode(body)), meta),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::{JSON, detail, map, settings};
    use serde_json::{Value, json};

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
                provider: "zendesk",
                query_signed: false,
                method: "POST",
                headers: &headers,
                raw_query: "",
                body: &RawBody::Text("{}"),
                received_at: "2026-11-22T12:00:00Z",
                request_id: None,
                body_sha256: "",
                signed: Signed::NOTHING,
            };
            assert_eq!(body_kind(&d), kind, "{content_type}");
        }
    }

    /// A verified form is split only up to the field limit, whoever sends it: a form of a
    /// million empty fields would take more memory than the function has.
    #[test]
    fn a_form_of_more_fields_than_any_provider_sends_is_refused() {
        use crate::providers::testing::FORM;
        let at_limit = vec!["a=1"; MAX_FORM_FIELDS].join("&");
        let over = "a=&".repeat(MAX_FORM_FIELDS + 1);
        for provider in ["zendesk", "slack", "twilio", "generic"] {
            let settings = settings();
            let ok = map(
                provider,
                "POST",
                &[FORM],
                "",
                at_limit.as_bytes(),
                &settings,
            );
            assert!(ok.is_ok(), "{provider}: {ok:?}");
            let refused = map(provider, "POST", &[FORM], "", over.as_bytes(), &settings);
            assert_eq!(
                refused.map(|_| ()),
                Err(MapError::TooManyFields {
                    limit: MAX_FORM_FIELDS
                }),
                "{provider}"
            );
        }
        // A Twilio GET carries its fields in the query string.
        let query = "a=&".repeat(MAX_FORM_FIELDS + 1);
        assert!(matches!(
            map("twilio", "GET", &[], &query, b"", &settings()),
            Err(MapError::TooManyFields { .. })
        ));
        assert_eq!(form_fields_bound(b""), 1);
        assert_eq!(form_fields_bound(b"a=1&b=2&&"), 4);
    }

    #[test]
    fn malformed_json_and_non_utf8_are_rejected() {
        for body in [
            &b"{\"a\":"[..],
            b"{\"a\":1} trailing",
            b"\xff\xfe{}",
            b"{\"a\":\"\xff\"}",
        ] {
            let r = map("github", "POST", &[JSON], "", body, &settings());
            assert!(matches!(r, Err(MapError::Malformed(_))), "{body:?}");
        }
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
            let e = map("zendesk", "POST", &[JSON], "", body, &settings()).unwrap();
            let d = detail(&e[0]);
            assert_eq!(d["payload"], wrapped);
            assert_eq!(d["ebhook"]["wrappedIn"], "payload");
            assert_eq!(d["ebhook"]["provider"], "zendesk");
        }
    }

    #[test]
    fn detail_type_override_and_limits() {
        let mut s = settings();
        s.detail_type = Some("Custom".into());
        let e = map(
            "github",
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
        let fits = map("github", "POST", &[JSON], "", body.as_bytes(), &s).unwrap();
        s.max_entry_bytes = fits[0].size();
        assert!(map("github", "POST", &[JSON], "", body.as_bytes(), &s).is_ok());
        s.max_entry_bytes -= 1;
        let err = map("github", "POST", &[JSON], "", body.as_bytes(), &s).unwrap_err();
        assert_eq!(
            err,
            MapError::TooLarge {
                size: s.max_entry_bytes + 1,
                limit: s.max_entry_bytes
            }
        );
    }

    #[test]
    fn a_pointer_event_keeps_query_parameters_that_end_the_metadata() {
        let mut s = settings();
        s.max_entry_bytes = usize::MAX;
        let e = map("github", "POST", &[JSON], "source=ci", b"{}", &s).unwrap();
        let stored = StoredPayload {
            bucket: "b",
            key: "k",
            size: 2,
            sha256: "ab",
            content_type: None,
        };
        let pointer = pointer_entry(&e[0], &stored);
        let d: Value = serde_json::from_str(&pointer.detail).expect("valid JSON");
        assert_eq!(d["ebhook"]["unsignedQuery"], json!({"source": "ci"}));
        assert_eq!(d["ebhook"]["storedPayload"]["bucket"], "b");
        assert_eq!(
            serde_json::from_str::<Value>(&pointer.metadata).unwrap(),
            d["ebhook"]
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
        let mapped = map("github", "POST", &headers, "", body, &s);
        assert!(matches!(mapped, Err(MapError::TooLarge { limit: 100, .. })));

        let mut unlimited = s.clone();
        unlimited.max_entry_bytes = usize::MAX;
        let entries = map("github", "POST", &headers, "", body, &unlimited).unwrap();
        assert!(check_sizes(&entries, &s).is_err());
        let key = stored_payload_key("github", "2026-11-22T12:00:00Z", "ab12");
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
        let e = json("zendesk", &deep(limit, "{\"a\":", "}")).unwrap();
        assert!(serde_json::from_str::<Value>(&e[0].detail).is_ok());
        for too_deep in [deep(limit + 1, "{\"a\":", "}"), deep(limit + 1, "[", "]")] {
            let r = json("zendesk", &too_deep);
            let Err(MapError::Malformed(why)) = r else {
                panic!("{r:?}")
            };
            assert!(why.contains("nested more than 127 levels"), "{why}");
        }
        // Wrapped under `payload`, an array one level short of the limit still reads back; at
        // the limit it could not, and neither could an object that uses the reserved key.
        let e = json("zendesk", &deep(limit - 1, "[", "]")).unwrap();
        assert_eq!(detail(&e[0])["ebhook"]["wrappedIn"], "payload");
        let reserved = format!("{{\"ebhook\":{}}}", deep(limit - 1, "[", "]"));
        for refused in [
            json("zendesk", &deep(limit, "[", "]")),
            json("github", &reserved),
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
        let e = map("zendesk", "POST", &[JSON], "", body.as_bytes(), &settings()).unwrap();
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
            let e = map("github", "POST", &[JSON], "", body, &settings()).unwrap();
            let d = detail(&e[0]);
            assert_eq!(d.as_object().unwrap().len(), 1, "{:?}", e[0].detail);
        }
    }
}
