//! What the dead-letter queue holds: a delivery that was verified but that EventBridge would not
//! take, with everything needed to put it later (`ebhook replay`) and the body exactly as
//! received. Pure format, shared by the handler (which writes records) and the CLI (which
//! replays them).
//!
//! A record goes into one SQS message when it fits; otherwise it is stored in the payload bucket
//! and the message points to it ([`Message::Spilled`]).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::event::Entry;
use crate::request::RawBody;

/// The record format's version, so a later ebhook can still read today's records.
pub const VERSION: u32 = 1;
/// SQS's largest message since 29 January 2026 (1 MiB; it was 256 KiB), and the stack's
/// dead-letter queue's `MaximumMessageSize`. A larger record is spilled to the payload bucket.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// One verified delivery that did not reach the bus.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub version: u32,
    pub provider: String,
    pub event_bus: String,
    pub received_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_id: Option<String>,
    /// Why EventBridge did not take it, for the operator.
    pub failure: String,
    /// The entries still to put (those of a batch that were accepted are not repeated).
    pub entries: Vec<RecordEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Lower-case hex SHA-256 of the body as received, as in the events' metadata. Records
    /// written before it existed have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_sha256: Option<String>,
    /// What the verified signature covered (the metadata's `signed`); empty for a bearer token.
    #[serde(default)]
    pub signed: Vec<String>,
    /// The signed timestamp as sent, where the provider signs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<String>,
    #[serde(flatten)]
    pub body: Body,
}

/// A PutEvents entry; the Detail is kept as JSON, not as an escaped string.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecordEntry {
    pub source: String,
    pub detail_type: String,
    pub detail: Box<RawValue>,
}

/// The body as received: text when it is UTF-8, else base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Body {
    #[serde(rename = "body")]
    Text(String),
    #[serde(rename = "bodyBase64")]
    Base64(String),
}

impl Body {
    /// A body that arrived as text is kept as text without checking its UTF-8 again.
    pub fn new(body: &RawBody<'_>) -> Self {
        match body.to_str() {
            Ok(text) => Self::Text(text.to_owned()),
            Err(_) => Self::Base64(B64.encode(body.as_bytes())),
        }
    }
}

/// What one SQS message of the queue holds.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
// One message is read or written at a time: boxing the record would save nothing.
#[allow(clippy::large_enum_variant)]
pub enum Message {
    Record(Record),
    /// The record was too large for a message and is the object `key` of `bucket`.
    Spilled {
        bucket: String,
        key: String,
        size: usize,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("entry {index} has a Detail that is not JSON: {source}")]
    Detail {
        index: usize,
        source: serde_json::Error,
    },
    #[error("not an ebhook dead-letter message: {0}")]
    Unreadable(serde_json::Error),
    #[error("dead-letter record version {0} is newer than this ebhook understands; upgrade ebhook")]
    NewerVersion(u32),
}

impl RecordEntry {
    pub fn from_entry(entry: &Entry, index: usize) -> Result<Self, RecordError> {
        Ok(Self {
            source: entry.source.clone(),
            detail_type: entry.detail_type.clone(),
            detail: RawValue::from_string(entry.detail.clone())
                .map_err(|source| RecordError::Detail { index, source })?,
        })
    }

    /// Back to an entry for PutEvents. The metadata is not needed to put it.
    pub fn to_entry(&self) -> Entry {
        Entry {
            source: self.source.clone(),
            detail_type: self.detail_type.clone(),
            detail: self.detail.get().to_owned(),
            metadata: String::new(),
        }
    }
}

impl Message {
    pub fn to_json(&self) -> String {
        // Strings, numbers and already-valid JSON only: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn parse(text: &str) -> Result<Self, RecordError> {
        let message: Self = serde_json::from_str(text).map_err(RecordError::Unreadable)?;
        if let Self::Record(record) = &message {
            record.check_version()?;
        }
        Ok(message)
    }
}

impl Record {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn parse(text: &str) -> Result<Self, RecordError> {
        let record: Self = serde_json::from_str(text).map_err(RecordError::Unreadable)?;
        record.check_version()?;
        Ok(record)
    }

    fn check_version(&self) -> Result<(), RecordError> {
        if self.version > VERSION {
            return Err(RecordError::NewerVersion(self.version));
        }
        Ok(())
    }

    pub fn entries(&self) -> Vec<Entry> {
        self.entries.iter().map(RecordEntry::to_entry).collect()
    }
}

/// The message for a record already serialised with [`Record::to_json`] (what
/// `Message::Record(record).to_json()` gives, without serialising the record twice).
pub fn record_message(record_json: &str) -> String {
    format!("{{\"record\":{record_json}}}")
}

/// The object key for a record too large for one message.
pub fn spill_key(provider: &str, received_at: &str, id: &str) -> String {
    let day = received_at.get(..10).unwrap_or("unknown-day");
    format!("dead-letter/{provider}/{day}/{id}.json")
}

/// The SHA-256 (lower-case hex) that a key made by [`spill_key`] names, so a reader can check the
/// object it fetches; `None` for any other key.
pub fn spill_key_sha256(key: &str) -> Option<&str> {
    let mut parts = key.split('/');
    let (Some("dead-letter"), Some(provider), Some(day), Some(name), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let hex = name.strip_suffix(".json")?;
    let well_formed = !provider.is_empty()
        && !day.is_empty()
        && hex.len() == 64
        && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    well_formed.then_some(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spill_keys_name_the_hash_of_their_record() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let key = spill_key("github", "2026-11-22T12:00:00Z", hex);
        assert_eq!(spill_key_sha256(&key), Some(hex));
        for other in [
            "oversized/github/2026-11-22/x.json".to_owned(),
            format!("dead-letter/github/2026-11-22/{}.json", &hex[1..]),
            format!("dead-letter/github/2026-11-22/{}.json", hex.to_uppercase()),
            format!("dead-letter/github/2026-11-22/x/{hex}.json"),
            format!("dead-letter//2026-11-22/{hex}.json"),
            format!("dead-letter/github/2026-11-22/{hex}"),
        ] {
            assert_eq!(spill_key_sha256(&other), None, "{other}");
        }
    }

    fn record(body: &[u8]) -> Record {
        let entry = Entry {
            source: "ebhook.github".into(),
            detail_type: "push".into(),
            detail: r#"{"a":"é\"","ebhook":{"event":"push"}}"#.into(),
            metadata: r#"{"event":"push"}"#.into(),
        };
        Record {
            version: VERSION,
            provider: "github".into(),
            event_bus: "bus".into(),
            received_at: "2026-11-22T12:00:00Z".into(),
            delivery_id: Some("d-1".into()),
            failure: "ThrottlingException".into(),
            entries: vec![RecordEntry::from_entry(&entry, 0).unwrap()],
            content_type: Some("application/json".into()),
            body_sha256: Some(crate::event::sha256_hex(body)),
            signed: vec!["body".into()],
            signed_at: None,
            body: Body::new(&RawBody::Bytes(body.into())),
        }
    }

    #[test]
    fn records_round_trip_with_the_detail_as_json() {
        let record = record(br#"{"a":"x"}"#);
        let json = record_message(&record.to_json());
        assert_eq!(json, Message::Record(record).to_json());
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["record"]["entries"][0]["Detail"]["a"], "é\"");
        assert_eq!(value["record"]["body"], r#"{"a":"x"}"#);
        assert_eq!(value["record"]["deliveryId"], "d-1");
        assert_eq!(value["record"]["signed"], serde_json::json!(["body"]));
        assert_eq!(
            value["record"]["bodySha256"],
            crate::event::sha256_hex(br#"{"a":"x"}"#)
        );
        let Message::Record(back) = Message::parse(&json).unwrap() else {
            panic!("not a record");
        };
        let entries = back.entries();
        assert_eq!(
            entries[0].detail,
            r#"{"a":"é\"","ebhook":{"event":"push"}}"#
        );
        assert_eq!(entries[0].detail_type, "push");
        assert_eq!(back.body, Body::Text(r#"{"a":"x"}"#.into()));
    }

    /// A record written before the signed fields existed still reads, without them.
    #[test]
    fn records_without_the_signed_fields_still_read() {
        let old = r#"{"record":{"version":1,"provider":"github","eventBus":"b","receivedAt":"2026-11-22T12:00:00Z","failure":"x","entries":[],"body":"{}"}}"#;
        let Message::Record(record) = Message::parse(old).unwrap() else {
            panic!("not a record");
        };
        assert_eq!(record.body_sha256, None);
        assert!(record.signed.is_empty());
    }

    #[test]
    fn binary_bodies_are_base64_and_spills_point_to_s3() {
        let json = Message::Record(record(&[0xff, 0x00, 0x41])).to_json();
        assert!(json.contains(r#""bodyBase64":"/wBB""#), "{json}");
        let spilled = Message::Spilled {
            bucket: "b".into(),
            key: spill_key("github", "2026-11-22T12:00:00Z", "r-1"),
            size: 300_000,
        };
        let json = spilled.to_json();
        assert_eq!(
            json,
            r#"{"spilled":{"bucket":"b","key":"dead-letter/github/2026-11-22/r-1.json","size":300000}}"#
        );
        assert!(matches!(
            Message::parse(&json).unwrap(),
            Message::Spilled { .. }
        ));
    }

    #[test]
    fn unreadable_and_newer_records_are_refused_with_a_reason() {
        assert!(matches!(
            Message::parse("{\"nope\":1}"),
            Err(RecordError::Unreadable(_))
        ));
        let mut newer = record(b"{}");
        newer.version = VERSION + 1;
        let e = Message::parse(&Message::Record(newer).to_json()).unwrap_err();
        assert!(e.to_string().contains("upgrade ebhook"), "{e}");
    }
}
