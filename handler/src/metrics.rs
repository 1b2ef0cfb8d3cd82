//! Each delivery's one log line, which is also its CloudWatch metrics in the embedded metric
//! format (EMF): Lambda's log shipping turns the line into metrics with no API call and no
//! added latency, and a log query finds the delivery by its fields.
//!
//! Dimensions stay low in cardinality (stack, provider, outcome); ids, digests and sizes are
//! plain fields of the line, never dimensions.

/// The CloudWatch namespace of every ebhook metric.
pub const NAMESPACE: &str = "ebhook";
pub const DIMENSION_STACK: &str = "Stack";
pub const DIMENSION_PROVIDER: &str = "Provider";
pub const DIMENSION_OUTCOME: &str = "Outcome";
/// One per delivery, by outcome.
pub const METRIC_DELIVERIES: &str = "Deliveries";
/// The whole delivery, request in to answer out.
pub const METRIC_LATENCY: &str = "Latency";
/// Events EventBridge took for the delivery.
pub const METRIC_EVENTS_PUT: &str = "EventsPut";
/// PutEvents calls made for the delivery, retries included.
pub const METRIC_PUT_EVENTS_ATTEMPTS: &str = "PutEventsAttempts";
/// Time spent in PutEvents, retries and back-off included.
pub const METRIC_PUT_EVENTS_LATENCY: &str = "PutEventsLatency";
/// 1 when EventBridge did not take every event (the delivery was dead-lettered or failed).
pub const METRIC_PUT_EVENTS_FAILED: &str = "PutEventsFailed";
/// 1 when the signing secret could not be re-read (the cached one is used meanwhile).
pub const METRIC_SECRET_REFRESH_FAILURES: &str = "SecretRefreshFailures";

/// A line's `timestamp` (RFC 3339 UTC, milliseconds) and its `_aws.Timestamp` (milliseconds
/// since the epoch), from the one instant.
pub fn timestamp(now: time::OffsetDateTime) -> (String, i64) {
    // Seconds and milliseconds, not nanoseconds: i128 division would add its code to the zip.
    let epoch_ms = now.unix_timestamp() * 1000 + i64::from(now.millisecond());
    (crate::event::received_at(now), epoch_ms)
}

/// [`timestamp`] of now. Not inlined (nor the writer below): each inlined copy of the clock
/// and the formatting is paid for in the zip, which must stay under 3 MB.
#[inline(never)]
pub fn timestamp_now() -> (String, i64) {
    timestamp(time::OffsetDateTime::now_utc())
}

/// Why a delivery was refused (4xx).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// No valid signature from any current secret (or no secret set).
    Signature,
    /// Validly signed, but outside the provider's time tolerance.
    Stale,
    /// A body or encoding the provider never sends.
    Malformed,
    /// A body, form or event over a limit.
    TooLarge,
    /// A method the provider never uses.
    Method,
}

/// What became of a delivery: the `Outcome` dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every event is on the bus.
    Accepted,
    /// On the bus as a pointer event; the body is in the payload bucket.
    Stored,
    /// EventBridge did not take it; it waits in the dead-letter queue for `ebhook replay`.
    DeadLettered,
    /// Already on the bus (dedupe); answered as a success, nothing put.
    Duplicate,
    /// A provider's handshake (a URL check), answered without an event.
    Answered,
    Rejected(Reason),
    /// 5xx: the secret, the bus and the dead-letter queue could not all be reached; the
    /// provider retries.
    Failed,
}

impl Outcome {
    /// Every outcome, in the order `ebhook status` shows them.
    pub const ALL: [Outcome; 11] = [
        Outcome::Accepted,
        Outcome::Stored,
        Outcome::DeadLettered,
        Outcome::Duplicate,
        Outcome::Answered,
        Outcome::Rejected(Reason::Signature),
        Outcome::Rejected(Reason::Stale),
        Outcome::Rejected(Reason::Malformed),
        Outcome::Rejected(Reason::TooLarge),
        Outcome::Rejected(Reason::Method),
        Outcome::Failed,
    ];

    /// The dimension's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Stored => "stored",
            Self::DeadLettered => "dead_lettered",
            Self::Duplicate => "duplicate",
            Self::Answered => "answered",
            Self::Rejected(Reason::Signature) => "rejected_signature",
            Self::Rejected(Reason::Stale) => "rejected_stale",
            Self::Rejected(Reason::Malformed) => "rejected_malformed",
            Self::Rejected(Reason::TooLarge) => "rejected_too_large",
            Self::Rejected(Reason::Method) => "rejected_method",
            Self::Failed => "failed",
        }
    }

    /// The line's `outcome` field: the dimension, with every refusal as `rejected` (its
    /// `reason` field says why).
    pub fn kind(self) -> &'static str {
        match self {
            Self::Rejected(_) => "rejected",
            other => other.as_str(),
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == name)
    }
}

/// The PutEvents side of a delivery that reached it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PutStats {
    pub events: usize,
    pub attempts: u32,
    pub latency_ms: f64,
    pub failed: bool,
}

/// One delivery as its log line tells it.
#[derive(Clone, Debug)]
pub struct DeliveryLine<'a> {
    /// RFC 3339, as the handler's other log lines.
    pub timestamp: &'a str,
    pub epoch_ms: i64,
    pub stack: &'a str,
    pub outcome: Outcome,
    pub provider: &'a str,
    pub status: u16,
    /// The precise cause of a refusal or failure (`mismatch`, `stale_timestamp`,
    /// `event_bus_unavailable`...).
    pub reason: Option<&'a str>,
    /// The first event's DetailType.
    pub event: Option<&'a str>,
    pub delivery_id: Option<&'a str>,
    /// SHA-256 of the body as received (hex), once the signature is verified.
    pub body_sha256: Option<&'a str>,
    pub body_bytes: usize,
    pub entries: usize,
    pub secret: Option<&'a str>,
    pub latency_ms: f64,
    pub put: Option<PutStats>,
}

impl DeliveryLine<'_> {
    /// The line: the fields above, `outcome`, `level` and `message`, the metrics' values and
    /// dimensions, and the `_aws` block that names them.
    pub fn to_json(&self) -> String {
        let level = match self.outcome {
            Outcome::Failed => "ERROR",
            Outcome::Rejected(_) | Outcome::DeadLettered => "WARN",
            _ => "INFO",
        };
        let mut line = Line::start(self.timestamp, level, "delivery");
        line.text("outcome", self.outcome.kind());
        line.maybe("reason", self.reason);
        line.count("status", self.status.into());
        line.text("provider", self.provider);
        line.maybe("event", self.event);
        line.maybe("delivery_id", self.delivery_id);
        line.maybe("body_sha256", self.body_sha256);
        line.count("body_bytes", self.body_bytes as u64);
        line.count("entries", self.entries as u64);
        line.maybe("secret", self.secret);
        line.millis("latency_ms", self.latency_ms);
        if let Some(put) = self.put {
            line.count("events_put", put.events as u64);
            line.count("attempts", put.attempts.into());
            line.millis("put_latency_ms", put.latency_ms);
        }
        line.text(DIMENSION_STACK, self.stack);
        line.text(DIMENSION_PROVIDER, self.provider);
        line.text(DIMENSION_OUTCOME, self.outcome.as_str());
        line.count(METRIC_DELIVERIES, 1);
        line.millis(METRIC_LATENCY, self.latency_ms);
        let by_stack = match self.put {
            Some(put) => {
                line.count(METRIC_EVENTS_PUT, put.events as u64);
                line.count(METRIC_PUT_EVENTS_ATTEMPTS, put.attempts.into());
                line.millis(METRIC_PUT_EVENTS_LATENCY, put.latency_ms);
                line.count(METRIC_PUT_EVENTS_FAILED, put.failed.into());
                BY_STACK_WITH_PUT
            }
            None => BY_STACK,
        };
        line.finish(self.epoch_ms, &[BY_OUTCOME, by_stack])
    }
}

/// A line for a failed re-read of the signing secret: its metric, by stack and provider.
#[inline(never)]
pub fn secret_refresh_failure(
    timestamp: &str,
    epoch_ms: i64,
    stack: &str,
    provider: &str,
) -> String {
    let mut line = Line::start(
        timestamp,
        "WARN",
        "secret refresh failed; using the cached secret",
    );
    line.text(DIMENSION_STACK, stack);
    line.text(DIMENSION_PROVIDER, provider);
    line.count(METRIC_SECRET_REFRESH_FAILURES, 1);
    line.finish(epoch_ms, &[SECRET_REFRESH])
}

// The EMF metric directives, written out: the `_aws` block is the same for every line but its
// Timestamp, and building it from the names cost the zip more. A test checks them against the
// names above. Only Deliveries is by outcome; the rest are by stack and provider, so that each
// outcome adds one custom metric, not six.
const BY_OUTCOME: &str = r#"{"Namespace":"ebhook","Dimensions":[["Stack","Provider","Outcome"]],"Metrics":[{"Name":"Deliveries","Unit":"Count"}]}"#;
const BY_STACK: &str = r#"{"Namespace":"ebhook","Dimensions":[["Stack","Provider"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"}]}"#;
const BY_STACK_WITH_PUT: &str = r#"{"Namespace":"ebhook","Dimensions":[["Stack","Provider"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"},{"Name":"EventsPut","Unit":"Count"},{"Name":"PutEventsAttempts","Unit":"Count"},{"Name":"PutEventsLatency","Unit":"Milliseconds"},{"Name":"PutEventsFailed","Unit":"Count"}]}"#;
const SECRET_REFRESH: &str = r#"{"Namespace":"ebhook","Dimensions":[["Stack","Provider"]],"Metrics":[{"Name":"SecretRefreshFailures","Unit":"Count"}]}"#;

/// A JSON object written straight into bytes, its strings and numbers by serde_json's own
/// writers (code the handler has anyway). The handler's zip must stay under 3 MB: building the
/// line as a `serde_json::Value` map cost it 9 KB. Keys are this module's own names, which
/// need no escaping.
struct Line(Vec<u8>);

impl Line {
    #[inline(never)]
    fn start(timestamp: &str, level: &str, message: &str) -> Self {
        let mut line = Self(Vec::with_capacity(1024));
        line.0.extend_from_slice(b"{\"timestamp\":");
        line.value(timestamp);
        line.text("level", level);
        line.text("message", message);
        line
    }

    #[inline(never)]
    fn raw(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    /// `,"key":`.
    #[inline(never)]
    fn key(&mut self, key: &str) {
        self.raw(b",\"");
        self.raw(key.as_bytes());
        self.raw(b"\":");
    }

    /// A JSON string, escaped.
    #[inline(never)]
    fn value(&mut self, text: &str) {
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.0, text);
    }

    #[inline(never)]
    fn text(&mut self, key: &str, text: &str) {
        self.key(key);
        self.value(text);
    }

    fn maybe(&mut self, key: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.text(key, text);
        }
    }

    #[inline(never)]
    fn count(&mut self, key: &str, n: u64) {
        self.key(key);
        let _ = serde_json::to_writer(&mut self.0, &n);
    }

    /// Milliseconds to the microsecond, with integers only: no float formatting is linked
    /// for this.
    #[inline(never)]
    fn millis(&mut self, key: &str, ms: f64) {
        // `as` saturates: a negative or NaN duration (never measured) is written as 0.
        let micros = (ms * 1000.0).round() as u64;
        self.count(key, micros / 1000);
        let fraction = micros % 1000;
        self.0.extend_from_slice(&[
            b'.',
            b'0' + (fraction / 100) as u8,
            b'0' + (fraction / 10 % 10) as u8,
            b'0' + (fraction % 10) as u8,
        ]);
    }

    /// Close the object with its `_aws` block, dated `epoch_ms`, naming these directives.
    #[inline(never)]
    fn finish(mut self, epoch_ms: i64, directives: &[&str]) -> String {
        self.key("_aws");
        self.raw(b"{\"Timestamp\":");
        let _ = serde_json::to_writer(&mut self.0, &u64::try_from(epoch_ms).unwrap_or(0));
        self.raw(b",\"CloudWatchMetrics\":[");
        for (i, directive) in directives.iter().enumerate() {
            if i > 0 {
                self.raw(b",");
            }
            self.raw(directive.as_bytes());
        }
        self.raw(b"]}}");
        // Only UTF-8 was written: its pieces are all `str`s.
        String::from_utf8(self.0).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn line(outcome: Outcome, put: Option<PutStats>) -> Value {
        let l = DeliveryLine {
            timestamp: "2026-12-03T12:00:00.000Z",
            epoch_ms: 1_796_299_200_000,
            stack: "orders",
            outcome,
            provider: "github",
            status: 200,
            reason: None,
            event: Some("push"),
            delivery_id: Some("d-1"),
            body_sha256: Some("ab"),
            body_bytes: 10,
            entries: 1,
            secret: Some("current"),
            latency_ms: 12.5,
            put,
        };
        serde_json::from_str(&l.to_json()).unwrap()
    }

    /// Every metric the `_aws` block names has a number at the top level, and every dimension
    /// a string, as CloudWatch requires of EMF.
    fn assert_valid_emf(v: &Value) {
        let aws = &v["_aws"];
        assert!(aws["Timestamp"].is_i64(), "{v}");
        for d in aws["CloudWatchMetrics"].as_array().unwrap() {
            assert_eq!(d["Namespace"], NAMESPACE);
            for set in d["Dimensions"].as_array().unwrap() {
                for name in set.as_array().unwrap() {
                    assert!(v[name.as_str().unwrap()].is_string(), "{name} in {v}");
                }
            }
            for m in d["Metrics"].as_array().unwrap() {
                let name = m["Name"].as_str().unwrap();
                assert!(v[name].is_number(), "{name} in {v}");
            }
        }
    }

    /// (dimensions, metric names) of each directive.
    fn directives(v: &Value) -> Vec<(Value, Vec<String>)> {
        v["_aws"]["CloudWatchMetrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let names = d["Metrics"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["Name"].as_str().unwrap().to_owned())
                    .collect();
                (d["Dimensions"].clone(), names)
            })
            .collect()
    }

    #[test]
    fn a_delivery_line_is_valid_emf_with_its_fields() {
        let accepted = line(
            Outcome::Accepted,
            Some(PutStats {
                events: 1,
                attempts: 2,
                latency_ms: 30.0,
                failed: false,
            }),
        );
        assert_valid_emf(&accepted);
        assert_eq!(accepted["outcome"], "accepted");
        assert_eq!(accepted["Outcome"], "accepted");
        assert_eq!(accepted["Deliveries"], 1);
        assert_eq!(accepted["PutEventsAttempts"], 2);
        assert_eq!(accepted["PutEventsFailed"], 0);
        assert_eq!(accepted["delivery_id"], "d-1");
        assert_eq!(accepted["event"], "push");
        assert_eq!(accepted["message"], "delivery");

        let refused = line(Outcome::Rejected(Reason::Signature), None);
        assert_valid_emf(&refused);
        assert_eq!(refused["outcome"], "rejected");
        assert_eq!(refused["Outcome"], "rejected_signature");
        assert_eq!(refused["level"], "WARN");
        // No PutEvents metrics where PutEvents was not called.
        assert!(refused.get("PutEventsAttempts").is_none());
        assert_eq!(
            directives(&refused),
            [
                (
                    json!([["Stack", "Provider", "Outcome"]]),
                    vec![METRIC_DELIVERIES.to_owned()]
                ),
                (
                    json!([["Stack", "Provider"]]),
                    vec![METRIC_LATENCY.to_owned()]
                ),
            ]
        );
        assert_eq!(directives(&accepted)[1].1.len(), 5);
    }

    #[test]
    fn ids_are_fields_never_dimensions() {
        let v = line(Outcome::Accepted, None);
        for (dimensions, _) in directives(&v) {
            for name in dimensions[0].as_array().unwrap() {
                assert!(["Stack", "Provider", "Outcome"].contains(&name.as_str().unwrap()));
            }
        }
    }

    #[test]
    fn text_fields_are_escaped_and_times_written_to_the_microsecond() {
        let id = "a\"b\\c\nd\u{1}e\u{7f}é😀";
        let l = DeliveryLine {
            timestamp: "2026-12-03T12:00:00.000Z",
            epoch_ms: 1,
            stack: "s",
            outcome: Outcome::Failed,
            provider: "github",
            status: 503,
            reason: Some("event_bus_unavailable"),
            event: None,
            delivery_id: Some(id),
            body_sha256: None,
            body_bytes: 0,
            entries: 0,
            secret: None,
            latency_ms: 1234.5678,
            put: Some(PutStats {
                events: 0,
                attempts: 3,
                latency_ms: 0.0004,
                failed: true,
            }),
        };
        let text = l.to_json();
        assert!(!text.contains('\n'), "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_valid_emf(&v);
        assert_eq!(v["delivery_id"], id);
        assert_eq!(v["level"], "ERROR");
        assert_eq!(v["outcome"], "failed");
        assert_eq!(v["reason"], "event_bus_unavailable");
        assert_eq!(v["latency_ms"].as_f64(), Some(1234.568));
        assert_eq!(v["Latency"].as_f64(), Some(1234.568));
        assert_eq!(v["put_latency_ms"].as_f64(), Some(0.0));
        assert_eq!(v["PutEventsFailed"], 1);
        assert_eq!(v["events_put"], 0);
        // Absent, not null: a field that does not apply is left out.
        assert!(v.get("event").is_none() && v.get("secret").is_none(), "{v}");
    }

    #[test]
    fn the_written_out_directives_name_the_metrics_and_dimensions() {
        let parse = |d: &str| serde_json::from_str::<Value>(d).unwrap();
        let metrics = |names: &[(&str, &str)]| {
            names
                .iter()
                .map(|(name, unit)| json!({"Name": name, "Unit": unit}))
                .collect::<Vec<_>>()
        };
        let by_stack = json!([[DIMENSION_STACK, DIMENSION_PROVIDER]]);
        let expected = [
            (
                BY_OUTCOME,
                json!([[DIMENSION_STACK, DIMENSION_PROVIDER, DIMENSION_OUTCOME]]),
                metrics(&[(METRIC_DELIVERIES, "Count")]),
            ),
            (
                BY_STACK,
                by_stack.clone(),
                metrics(&[(METRIC_LATENCY, "Milliseconds")]),
            ),
            (
                BY_STACK_WITH_PUT,
                by_stack.clone(),
                metrics(&[
                    (METRIC_LATENCY, "Milliseconds"),
                    (METRIC_EVENTS_PUT, "Count"),
                    (METRIC_PUT_EVENTS_ATTEMPTS, "Count"),
                    (METRIC_PUT_EVENTS_LATENCY, "Milliseconds"),
                    (METRIC_PUT_EVENTS_FAILED, "Count"),
                ]),
            ),
            (
                SECRET_REFRESH,
                by_stack,
                metrics(&[(METRIC_SECRET_REFRESH_FAILURES, "Count")]),
            ),
        ];
        for (directive, dimensions, names) in expected {
            assert_eq!(
                parse(directive),
                json!({"Namespace": NAMESPACE, "Dimensions": dimensions, "Metrics": names}),
                "{directive}"
            );
        }
    }

    #[test]
    fn outcome_names_are_distinct_and_read_back() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::from_name(o.as_str()), Some(o));
        }
        assert_eq!(Outcome::from_name("rejected"), None);
    }

    #[test]
    fn a_secret_refresh_failure_is_its_own_metric() {
        let v: Value = serde_json::from_str(&secret_refresh_failure(
            "2026-12-03T12:00:00.000Z",
            1,
            "orders",
            "github",
        ))
        .unwrap();
        assert_valid_emf(&v);
        assert_eq!(v["SecretRefreshFailures"], 1);
    }
}
