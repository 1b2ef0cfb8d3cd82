//! The signing secrets the handler accepts, and the format they are stored in.
//!
//! Stored value (Secrets Manager `SecretString`, or `EBHOOK_SECRET` for local runs):
//!
//! ```json
//! {"current": "new-secret", "previous": "old-secret", "previousExpiresAt": "2026-11-23T20:00:00Z"}
//! ```
//!
//! `previous` and `previousExpiresAt` are optional; a `previous` without an expiry stays valid
//! until it is removed. An empty or absent `current` means "not set yet" and every request is
//! rejected. A value that does not start with `{` is taken whole as the current secret.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// One signing secret. `Debug` is redacted so a secret cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Box<[u8]>);

impl Secret {
    pub fn new(value: impl Into<Vec<u8>>) -> Self {
        Self(value.into().into_boxed_slice())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Which of the configured secrets verified a request: logged, so an operator can see when a
/// provider has switched over to a rotated secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretSlot {
    Current,
    Previous,
    /// The secret a provider publishes for its own test sends, only when explicitly enabled.
    ProviderTest,
}

impl SecretSlot {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Previous => "previous",
            Self::ProviderTest => "provider-test",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretFormatError {
    #[error(
        "the stored secret looks like JSON but is not the ebhook secret format (error at {0}); expected {{\"current\": \"...\", \"previous\": \"...\", \"previousExpiresAt\": \"...\"}} with string values, or the bare secret"
    )]
    Json(String),
    #[error(
        "previousExpiresAt must be an RFC 3339 time such as 2026-11-23T20:00:00Z; fix the stored secret"
    )]
    Expiry,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Stored {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    current: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous_expires_at: Option<String>,
}

/// The current secret and, during a rotation, the previous one with its expiry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecretSet {
    current: Option<Secret>,
    previous: Option<Secret>,
    previous_expires_at: Option<OffsetDateTime>,
}

impl SecretSet {
    pub fn new(
        current: Option<Secret>,
        previous: Option<Secret>,
        previous_expires_at: Option<OffsetDateTime>,
    ) -> Self {
        let non_empty = |s: Option<Secret>| s.filter(|s| !s.as_bytes().is_empty());
        Self {
            current: non_empty(current),
            previous: non_empty(previous),
            previous_expires_at,
        }
    }

    pub fn single(secret: impl Into<Vec<u8>>) -> Self {
        Self::new(Some(Secret::new(secret)), None, None)
    }

    pub fn parse(value: &str) -> Result<Self, SecretFormatError> {
        if !value.trim_start().starts_with('{') {
            return Ok(Self::single(value));
        }
        // Only the position goes into the error: serde's message may quote the secret itself.
        let stored: Stored = serde_json::from_str(value).map_err(|e| {
            SecretFormatError::Json(format!("line {} column {}", e.line(), e.column()))
        })?;
        let expires = stored
            .previous_expires_at
            .as_deref()
            .map(|t| OffsetDateTime::parse(t, &Rfc3339).map_err(|_| SecretFormatError::Expiry))
            .transpose()?;
        Ok(Self::new(
            stored.current.map(Secret::new),
            stored.previous.map(Secret::new),
            expires,
        ))
    }

    /// The stored form, for writing back to Secrets Manager.
    pub fn to_json(&self) -> String {
        let text = |s: &Option<Secret>| {
            s.as_ref()
                .map(|s| String::from_utf8_lossy(s.as_bytes()).into_owned())
        };
        let stored = Stored {
            current: text(&self.current),
            previous: text(&self.previous),
            previous_expires_at: self
                .previous_expires_at
                .and_then(|t| t.format(&Rfc3339).ok()),
        };
        // Serialising a struct of strings cannot fail.
        serde_json::to_string(&stored).unwrap_or_default()
    }

    /// Secrets that verify requests at `now`, current first.
    pub fn active(&self, now: OffsetDateTime) -> impl Iterator<Item = (SecretSlot, &Secret)> {
        let previous = self
            .previous
            .as_ref()
            .filter(|_| self.previous_expires_at.is_none_or(|t| now < t));
        self.current
            .as_ref()
            .map(|s| (SecretSlot::Current, s))
            .into_iter()
            .chain(previous.map(|s| (SecretSlot::Previous, s)))
    }

    pub fn has_active(&self, now: OffsetDateTime) -> bool {
        self.active(now).next().is_some()
    }

    pub fn current(&self) -> Option<&Secret> {
        self.current.as_ref()
    }

    /// The secret in `slot`, if there is one.
    pub fn get(&self, slot: SecretSlot) -> Option<&Secret> {
        match slot {
            SecretSlot::Current => self.current.as_ref(),
            SecretSlot::Previous => self.previous.as_ref(),
            SecretSlot::ProviderTest => None,
        }
    }

    pub fn previous(&self) -> Option<(&Secret, Option<OffsetDateTime>)> {
        self.previous
            .as_ref()
            .map(|s| (s, self.previous_expires_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn bare_value_is_the_current_secret() {
        let set = SecretSet::parse("It's a Secret to Everybody").unwrap();
        let now = datetime!(2026-01-01 0:00 UTC);
        let active: Vec<_> = set.active(now).collect();
        assert_eq!(active.len(), 1);
        assert_eq!(active[0].0, SecretSlot::Current);
        assert_eq!(active[0].1.as_bytes(), b"It's a Secret to Everybody");
    }

    #[test]
    fn previous_expires() {
        let set = SecretSet::parse(
            r#"{"current":"new","previous":"old","previousExpiresAt":"2026-01-02T00:00:00Z"}"#,
        )
        .unwrap();
        let before = datetime!(2026-01-01 23:59:59 UTC);
        let after = datetime!(2026-01-02 0:00 UTC);
        assert_eq!(set.active(before).count(), 2);
        let slots: Vec<_> = set.active(after).map(|(slot, _)| slot).collect();
        assert_eq!(slots, [SecretSlot::Current]);
    }

    #[test]
    fn previous_without_expiry_stays() {
        let set = SecretSet::parse(r#"{"current":"new","previous":"old"}"#).unwrap();
        assert_eq!(set.active(datetime!(2099-01-01 0:00 UTC)).count(), 2);
    }

    #[test]
    fn empty_current_means_not_set() {
        for value in [r#"{"current":""}"#, "{}", ""] {
            let set = SecretSet::parse(value).unwrap();
            assert!(!set.has_active(datetime!(2026-01-01 0:00 UTC)), "{value}");
        }
    }

    #[test]
    fn format_errors_are_explained() {
        assert!(matches!(
            SecretSet::parse(r#"{"curent":"x"}"#),
            Err(SecretFormatError::Json(_))
        ));
        assert_eq!(
            SecretSet::parse(r#"{"current":"x","previous":"y","previousExpiresAt":"tomorrow"}"#),
            Err(SecretFormatError::Expiry)
        );
    }

    #[test]
    fn format_errors_never_quote_values() {
        let err = SecretSet::parse(r#"{"current": 918273645}"#).unwrap_err();
        assert!(!err.to_string().contains("918273645"), "{err}");
    }

    #[test]
    fn round_trips_and_debug_is_redacted() {
        let set = SecretSet::new(
            Some(Secret::new("a")),
            Some(Secret::new("b")),
            Some(datetime!(2026-01-02 0:00 UTC)),
        );
        assert_eq!(SecretSet::parse(&set.to_json()).unwrap(), set);
        let debug = format!("{set:?}");
        assert!(
            !debug.contains("\"a\"") && debug.contains("redacted"),
            "{debug}"
        );
    }
}
