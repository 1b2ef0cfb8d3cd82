//! Reading the handler's delivery lines back (`ebhook logs`): which lines to ask CloudWatch Logs
//! for, and how one delivery reads, for people and as JSON. Pure: no AWS calls here.

use ebhook_handler::metrics::Outcome;
use serde::Deserialize;
use serde_json::json;

/// Which deliveries to show: `--outcome` and `--delivery`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// `rejected` (every refusal) or any outcome by name (`rejected_signature`, `accepted`...).
    pub outcome: Option<String>,
    pub delivery_id: Option<String>,
}

/// `--outcome`: `rejected` for every refusal, or any outcome by its name.
pub fn parse_outcome(value: &str) -> Result<String, String> {
    if value == REJECTED || Outcome::from_name(value).is_some() {
        Ok(value.to_owned())
    } else {
        let names: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
        Err(format!("choose {REJECTED}, or one of {}", names.join(", ")))
    }
}

/// The `outcome` field of every refusal's line (`Outcome::kind`).
const REJECTED: &str = "rejected";

/// `--delivery`: a provider's delivery id, as the filter pattern can quote it.
pub fn parse_delivery_id(value: &str) -> Result<String, String> {
    if value.is_empty() || value.len() > 256 {
        Err("give the delivery id the provider sent (1 to 256 characters)".to_owned())
    } else if value
        .chars()
        .any(|c| c == '"' || c == '\\' || c.is_control())
    {
        Err("a delivery id has no quotes, backslashes or control characters".to_owned())
    } else {
        Ok(value.to_owned())
    }
}

impl Filter {
    /// The CloudWatch Logs filter pattern selecting these deliveries, so only they cross the
    /// network. [`Filter::matches`] checks again what comes back.
    pub fn pattern(&self) -> String {
        let mut terms = vec![r#"$.message = "delivery""#.to_owned()];
        match self.outcome.as_deref() {
            Some(REJECTED) => terms.push(format!(r#"$.outcome = "{REJECTED}""#)),
            Some(name) => terms.push(format!(r#"$.Outcome = "{name}""#)),
            None => {}
        }
        if let Some(id) = &self.delivery_id {
            terms.push(format!(r#"$.delivery_id = "{id}""#));
        }
        format!("{{ {} }}", terms.join(" && "))
    }

    pub fn matches(&self, d: &Delivery) -> bool {
        let outcome = match self.outcome.as_deref() {
            None => true,
            Some(REJECTED) => d.outcome == REJECTED,
            Some(name) => d.dimension.as_deref() == Some(name),
        };
        outcome
            && self
                .delivery_id
                .as_ref()
                .is_none_or(|id| d.delivery_id.as_ref() == Some(id))
    }
}

/// One delivery, as its log line tells it (fields the handler writes; see
/// `ebhook_handler::metrics::DeliveryLine`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Delivery {
    pub message: String,
    pub timestamp: Option<String>,
    pub outcome: String,
    /// The outcome as the metrics count it (`rejected_signature`).
    #[serde(rename = "Outcome")]
    pub dimension: Option<String>,
    pub reason: Option<String>,
    pub status: Option<u16>,
    pub provider: Option<String>,
    pub event: Option<String>,
    pub delivery_id: Option<String>,
    pub body_sha256: Option<String>,
    pub body_bytes: Option<u64>,
    pub entries: Option<u64>,
    pub events_put: Option<u64>,
    pub attempts: Option<u64>,
    pub latency_ms: Option<f64>,
}

impl Delivery {
    /// The delivery a log message tells of; `None` for the handler's other lines and Lambda's
    /// own (`START`, `REPORT`...).
    pub fn parse(message: &str) -> Option<Self> {
        let message = message.trim();
        if !message.starts_with('{') {
            return None;
        }
        serde_json::from_str::<Self>(message)
            .ok()
            .filter(|d| d.message == "delivery")
    }

    /// One line for people: time, outcome, event, delivery id, size, latency, and why when it
    /// was refused or failed. `at_ms` is the log event's time, used when the line has none.
    pub fn text(&self, at_ms: i64) -> String {
        let time = self
            .timestamp
            .as_deref()
            .map(|t| t.replacen('T', " ", 1))
            .unwrap_or_else(|| format_ms(at_ms));
        let outcome = self.dimension.as_deref().unwrap_or(&self.outcome);
        let mut line = format!(
            "{time:<24}  {outcome:<18} {event:<24} {id:<38} {size:>9} {latency:>9}",
            event = self.event.as_deref().unwrap_or("-"),
            id = self.delivery_id.as_deref().unwrap_or("-"),
            size = self.body_bytes.map_or_else(|| "-".to_owned(), size),
            latency = self
                .latency_ms
                .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.0} ms")),
        );
        if let Some(reason) = &self.reason {
            line.push_str(&format!("  ({reason}"));
            if let Some(status) = self.status {
                line.push_str(&format!(", {status}"));
            }
            line.push(')');
        }
        line.trim_end().to_owned()
    }

    /// One JSON object for scripts, camelCase like ebhook's other JSON output.
    pub fn json(&self, at_ms: i64) -> serde_json::Value {
        json!({
            "time": self.timestamp.clone().unwrap_or_else(|| format_ms(at_ms)),
            "outcome": self.dimension.as_deref().unwrap_or(&self.outcome),
            "reason": self.reason,
            "status": self.status,
            "provider": self.provider,
            "event": self.event,
            "deliveryId": self.delivery_id,
            "bodySha256": self.body_sha256,
            "bodyBytes": self.body_bytes,
            "entries": self.entries,
            "eventsPut": self.events_put,
            "attempts": self.attempts,
            "latencyMs": self.latency_ms,
        })
    }
}

/// The column headings of [`Delivery::text`].
pub fn heading() -> String {
    format!(
        "{:<24}  {:<18} {:<24} {:<38} {:>9} {:>9}",
        "time", "outcome", "event", "delivery id", "size", "latency"
    )
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// Milliseconds since the epoch as RFC 3339 (UTC), with a space for the `T`.
pub fn format_ms(ms: i64) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCEPTED: &str = r#"{"timestamp":"2026-12-03T12:00:00.123Z","provider":"github","status":200,"event":"push","delivery_id":"d-1","body_sha256":"ab","body_bytes":2048,"entries":1,"latency_ms":35.2,"level":"INFO","message":"delivery","outcome":"accepted","events_put":1,"attempts":1,"Stack":"s","Provider":"github","Outcome":"accepted","Deliveries":1,"_aws":{}}"#;
    const REFUSED: &str = r#"{"timestamp":"2026-12-03T12:00:01.000Z","provider":"github","status":401,"reason":"mismatch","body_bytes":10,"entries":0,"latency_ms":0.4,"level":"WARN","message":"delivery","outcome":"rejected","Outcome":"rejected_signature","_aws":{}}"#;

    #[test]
    fn only_delivery_lines_are_deliveries() {
        assert!(Delivery::parse(ACCEPTED).is_some());
        assert!(Delivery::parse("START RequestId: 1 Version: $LATEST").is_none());
        assert!(Delivery::parse(r#"{"level":"WARN","message":"secret refresh failed"}"#).is_none());
        assert!(Delivery::parse("{not json").is_none());
    }

    #[test]
    fn a_delivery_reads_as_one_line() {
        let d = Delivery::parse(ACCEPTED).unwrap();
        let line = d.text(0);
        assert!(line.starts_with("2026-12-03 12:00:00.123Z"), "{line}");
        for part in ["accepted", "push", "d-1", "2.0 KiB", "35 ms"] {
            assert!(line.contains(part), "{part} in {line}");
        }
        let r = Delivery::parse(REFUSED).unwrap().text(0);
        assert!(r.contains("rejected_signature"), "{r}");
        assert!(r.ends_with("(mismatch, 401)"), "{r}");
        assert_eq!(
            Delivery::parse(REFUSED).unwrap().json(0)["outcome"],
            "rejected_signature"
        );
    }

    #[test]
    fn filters_become_patterns_and_are_checked_again() {
        let all = Filter::default();
        assert_eq!(all.pattern(), r#"{ $.message = "delivery" }"#);
        let refused = Filter {
            outcome: Some("rejected".into()),
            delivery_id: Some("d-1".into()),
        };
        assert_eq!(
            refused.pattern(),
            r#"{ $.message = "delivery" && $.outcome = "rejected" && $.delivery_id = "d-1" }"#
        );
        let signature = Filter {
            outcome: Some("rejected_signature".into()),
            delivery_id: None,
        };
        assert!(
            signature
                .pattern()
                .contains(r#"$.Outcome = "rejected_signature""#)
        );
        let accepted = Delivery::parse(ACCEPTED).unwrap();
        let rejected = Delivery::parse(REFUSED).unwrap();
        assert!(all.matches(&accepted) && all.matches(&rejected));
        assert!(!refused.matches(&accepted) && !refused.matches(&rejected));
        assert!(signature.matches(&rejected) && !signature.matches(&accepted));
    }

    #[test]
    fn arguments_are_checked() {
        assert!(parse_outcome("rejected").is_ok());
        assert!(parse_outcome("dead_lettered").is_ok());
        assert!(
            parse_outcome("lost")
                .unwrap_err()
                .contains("rejected_signature")
        );
        assert!(parse_delivery_id("72d3162e-cc78-11e3-81ab-4c9367dc0958").is_ok());
        assert!(parse_delivery_id(r#"x" || $.a = "b"#).is_err());
        assert!(parse_delivery_id("").is_err());
    }

    #[test]
    fn times_are_utc_with_milliseconds() {
        assert_eq!(format_ms(1_796_299_200_123), "2026-12-03 12:00:00.123Z");
    }
}
