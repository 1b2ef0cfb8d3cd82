//! What the mapper needs from a JSON payload, read by serde_json in one pass without building a
//! tree: whether it is an object, its top-level `type` and `id` when they are strings, whether
//! the reserved key is taken, and how deeply it nests.
//!
//! serde_json validates the whole text as it reads it. Every value is read through
//! `deserialize_any`, so serde_json's own nesting limit applies ([`MAX_NESTING`]); its
//! `IgnoredAny` would skip nested values with no limit at all.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The deepest nesting serde_json reads: it refuses a 128th level of arrays or objects. A
/// Detail deeper than this could not be read back by a consumer written with serde_json.
pub const MAX_NESTING: u32 = 127;

/// A JSON payload's top level.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopLevel {
    /// Whether the payload is an object (else an array, string, number, boolean or null).
    pub object: bool,
    /// The last top-level `type` member, when its value is a string.
    pub event_type: Option<String>,
    /// The last top-level `id` member, when its value is a string.
    pub id: Option<String>,
    /// Whether a top-level member has the reserved name.
    pub has_reserved: bool,
    /// Levels of arrays and objects, the outermost included: 0 for a scalar.
    pub nesting: u32,
}

/// Read `text` as exactly one JSON value (whitespace around it allowed). The error is
/// serde_json's, with the line and column where the text stops being JSON.
pub fn read(text: &str, reserved: &str) -> Result<TopLevel, serde_json::Error> {
    let deepest = Cell::new(0);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let mut top = TopLevelSeed {
        reserved,
        deepest: &deepest,
    }
    .deserialize(&mut deserializer)?;
    // Only whitespace may follow the value.
    deserializer.end()?;
    top.nesting = deepest.get();
    Ok(top)
}

/// Whether serde_json refused the text for nesting past [`MAX_NESTING`].
pub fn is_too_deep(error: &serde_json::Error) -> bool {
    error.to_string().starts_with("recursion limit exceeded")
}

struct TopLevelSeed<'a> {
    reserved: &'a str,
    deepest: &'a Cell<u32>,
}

impl<'de> DeserializeSeed<'de> for TopLevelSeed<'_> {
    type Value = TopLevel;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<TopLevel, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopLevelSeed<'_> {
    type Value = TopLevel;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
        self.deepest.set(1);
        let value = |keep| Member {
            level: 1,
            keep,
            deepest: self.deepest,
        };
        let mut top = TopLevel {
            object: true,
            ..TopLevel::default()
        };
        while let Some(key) = map.next_key_seed(Key {
            reserved: self.reserved,
        })? {
            match key {
                Wanted::Type => top.event_type = map.next_value_seed(value(true))?,
                Wanted::Id => top.id = map.next_value_seed(value(true))?,
                Wanted::Reserved => {
                    top.has_reserved = true;
                    map.next_value_seed(value(false))?;
                }
                Wanted::Other => {
                    map.next_value_seed(value(false))?;
                }
            }
        }
        Ok(top)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<TopLevel, A::Error> {
        Member {
            level: 0,
            keep: false,
            deepest: self.deepest,
        }
        .visit_seq(seq)?;
        Ok(TopLevel::default())
    }

    fn visit_bool<E>(self, _: bool) -> Result<TopLevel, E> {
        Ok(TopLevel::default())
    }

    fn visit_i64<E>(self, _: i64) -> Result<TopLevel, E> {
        Ok(TopLevel::default())
    }

    fn visit_u64<E>(self, _: u64) -> Result<TopLevel, E> {
        Ok(TopLevel::default())
    }

    fn visit_f64<E>(self, _: f64) -> Result<TopLevel, E> {
        Ok(TopLevel::default())
    }

    fn visit_str<E>(self, _: &str) -> Result<TopLevel, E> {
        Ok(TopLevel::default())
    }

    fn visit_unit<E>(self) -> Result<TopLevel, E> {
        Ok(TopLevel::default())
    }
}

/// Which top-level member a key names.
enum Wanted {
    Type,
    Id,
    Reserved,
    Other,
}

struct Key<'a> {
    reserved: &'a str,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = Wanted;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Wanted, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = Wanted;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    /// Keys are compared after unescaping, so `"typ\u0065"` is `type`.
    fn visit_str<E>(self, key: &str) -> Result<Wanted, E> {
        Ok(match key {
            "type" => Wanted::Type,
            "id" => Wanted::Id,
            name if name == self.reserved => Wanted::Reserved,
            _ => Wanted::Other,
        })
    }
}

/// Any value inside the payload: checked and skipped, noting how deep it nests; the text of a
/// string when `keep` is set.
#[derive(Clone, Copy)]
struct Member<'a> {
    /// Levels of arrays and objects around the value.
    level: u32,
    keep: bool,
    deepest: &'a Cell<u32>,
}

impl Member<'_> {
    fn inside(self) -> Self {
        let level = self.level + 1;
        self.deepest.set(self.deepest.get().max(level));
        Self {
            level,
            keep: false,
            ..self
        }
    }
}

impl<'de> DeserializeSeed<'de> for Member<'_> {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Member<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let inner = self.inside();
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(inner)?;
        }
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let inner = self.inside();
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(None)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(self.keep.then(|| text.to_owned()))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn top(text: &str) -> TopLevel {
        read(text, "ebhook").unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn nested(levels: usize, open: &str, close: &str, inner: &str) -> String {
        format!("{}{inner}{}", open.repeat(levels), close.repeat(levels))
    }

    #[test]
    fn reads_type_id_and_the_reserved_key_of_an_object() {
        let t = top(
            r#" {"type":"zen:event-type:ticket.created","id":"e-1","ebhook":{"x":[1]},"n":2} "#,
        );
        assert!(t.object && t.has_reserved);
        assert_eq!(
            t.event_type.as_deref(),
            Some("zen:event-type:ticket.created")
        );
        assert_eq!(t.id.as_deref(), Some("e-1"));
        assert_eq!(t.nesting, 3);
        // Keys and values are compared and kept unescaped.
        let t = top(r#"{"typ\u0065":"a\"b","\u0069d":"\u00e9"}"#);
        assert_eq!(t.event_type.as_deref(), Some("a\"b"));
        assert_eq!(t.id.as_deref(), Some("é"));
        assert!(!t.has_reserved);
        // The last member wins, as in serde_json::Value; only a string is kept.
        let t = top(r#"{"type":"first","type":7,"id":"a","id":"b"}"#);
        assert_eq!(t.event_type, None);
        assert_eq!(t.id.as_deref(), Some("b"));
        // Nested `type`, `id` and reserved keys are not the top level's.
        let t = top(r#"{"detail":{"type":"inner","id":"i","ebhook":1}}"#);
        assert_eq!((t.event_type, t.id, t.has_reserved), (None, None, false));
    }

    #[test]
    fn anything_else_is_valid_but_not_an_object() {
        for (text, nesting) in [
            ("[1,{\"type\":\"x\"}]", 2),
            ("\"text\"", 0),
            ("-1.5e3", 0),
            ("18446744073709551616", 0),
            ("true", 0),
            ("null", 0),
            ("[]", 1),
        ] {
            let t = top(text);
            assert_eq!(
                t,
                TopLevel {
                    nesting,
                    ..TopLevel::default()
                },
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_what_serde_json_refuses() {
        for text in [
            "",
            " ",
            "{",
            "{\"a\":1,}",
            "[1,]",
            "{\"a\":1} x",
            "{\"a\":1}{}",
            "{'a':1}",
            "{\"a\":\"\u{1}\"}",
            "{\"a\":\"\\q\"}",
            "{\"a\":\"\\ud800\"}",
            "01",
            "NaN",
            // Out of f64's range: serde_json refuses it when it reads the number.
            "{\"a\":1e400}",
        ] {
            let ours = read(text, "ebhook");
            assert!(ours.is_err(), "{text:?} accepted");
            assert!(
                serde_json::from_str::<serde_json::Value>(text).is_err(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn nesting_stops_where_serde_json_stops() {
        let limit = MAX_NESTING as usize;
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let deepest = nested(limit, open, close, "1");
            assert_eq!(top(&deepest).nesting, MAX_NESTING);
            assert!(serde_json::from_str::<serde_json::Value>(&deepest).is_ok());
            let deeper = nested(limit + 1, open, close, "1");
            let error = read(&deeper, "ebhook").unwrap_err();
            assert!(is_too_deep(&error), "{error}");
            assert!(serde_json::from_str::<serde_json::Value>(&deeper).is_err());
            // An unclosed text that deep is refused for its depth first, not read to the end.
            assert!(is_too_deep(
                &read(&open.repeat(100_000), "ebhook").unwrap_err()
            ));
        }
        assert!(!is_too_deep(&read("[", "ebhook").unwrap_err()));
    }
}
