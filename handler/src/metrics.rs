//! Each delivery's one log line, which is also its CloudWatch metrics in the embedded metric
//! format (EMF): Lambda's log shipping turns the line into metrics with no API call and no
//! added latency, and a log query finds the delivery by its fields.
//!
//! Dimensions stay low in cardinality (stack, provider, outcome); ids, digests and sizes are
//! plain fields of the line, never dimensions.

use serde::Serialize;
use serde_json::{Map, Value, json};

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
#[derive(Clone, Debug, Serialize)]
pub struct DeliveryLine<'a> {
    /// RFC 3339, as the handler's other log lines.
    pub timestamp: &'a str,
    #[serde(skip)]
    pub epoch_ms: i64,
    #[serde(skip)]
    pub stack: &'a str,
    #[serde(skip)]
    pub outcome: Outcome,
    pub provider: &'a str,
    pub status: u16,
    /// The precise cause of a refusal or failure (`mismatch`, `stale_timestamp`,
    /// `event_bus_unavailable`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    /// The first event's DetailType.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_id: Option<&'a str>,
    /// SHA-256 of the body as received (hex), once the signature is verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_sha256: Option<&'a str>,
    pub body_bytes: usize,
    pub entries: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<&'a str>,
    pub latency_ms: f64,
    #[serde(skip)]
    pub put: Option<PutStats>,
}

impl DeliveryLine<'_> {
    /// The line: the fields above, `outcome`, `level` and `message`, the metrics' values and
    /// dimensions, and the `_aws` block that names them.
    pub fn to_json(&self) -> String {
        let mut line = match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let level = match self.outcome {
            Outcome::Failed => "ERROR",
            Outcome::Rejected(_) | Outcome::DeadLettered => "WARN",
            _ => "INFO",
        };
        line.insert("level".into(), level.into());
        line.insert("message".into(), "delivery".into());
        line.insert("outcome".into(), self.outcome.kind().into());
        // Only Deliveries is by outcome; the rest are by stack and provider, so that each
        // outcome adds one custom metric, not six.
        let mut metrics = vec![(METRIC_LATENCY, "Milliseconds", json!(self.latency_ms))];
        if let Some(put) = self.put {
            line.insert("events_put".into(), put.events.into());
            line.insert("attempts".into(), put.attempts.into());
            line.insert("put_latency_ms".into(), json!(put.latency_ms));
            metrics.extend([
                (METRIC_EVENTS_PUT, "Count", json!(put.events)),
                (METRIC_PUT_EVENTS_ATTEMPTS, "Count", json!(put.attempts)),
                (
                    METRIC_PUT_EVENTS_LATENCY,
                    "Milliseconds",
                    json!(put.latency_ms),
                ),
                (
                    METRIC_PUT_EVENTS_FAILED,
                    "Count",
                    json!(u8::from(put.failed)),
                ),
            ]);
        }
        line.insert(DIMENSION_STACK.into(), self.stack.into());
        line.insert(DIMENSION_PROVIDER.into(), self.provider.into());
        line.insert(DIMENSION_OUTCOME.into(), self.outcome.as_str().into());
        let definitions: Vec<Value> = metrics
            .iter()
            .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
            .collect();
        for (name, _, value) in metrics {
            line.insert(name.into(), value);
        }
        line.insert(METRIC_DELIVERIES.into(), 1.into());
        line.insert(
            "_aws".into(),
            json!({
                "Timestamp": self.epoch_ms,
                "CloudWatchMetrics": [
                    directive(
                        &[DIMENSION_STACK, DIMENSION_PROVIDER, DIMENSION_OUTCOME],
                        vec![json!({"Name": METRIC_DELIVERIES, "Unit": "Count"})],
                    ),
                    directive(&[DIMENSION_STACK, DIMENSION_PROVIDER], definitions),
                ],
            }),
        );
        Value::Object(line).to_string()
    }
}

/// A line for a failed re-read of the signing secret: its metric, by stack and provider.
pub fn secret_refresh_failure(
    timestamp: &str,
    epoch_ms: i64,
    stack: &str,
    provider: &str,
) -> String {
    json!({
        "timestamp": timestamp,
        "level": "WARN",
        "message": "secret refresh failed; using the cached secret",
        DIMENSION_STACK: stack,
        DIMENSION_PROVIDER: provider,
        METRIC_SECRET_REFRESH_FAILURES: 1,
        "_aws": {
            "Timestamp": epoch_ms,
            "CloudWatchMetrics": [directive(
                &[DIMENSION_STACK, DIMENSION_PROVIDER],
                vec![json!({"Name": METRIC_SECRET_REFRESH_FAILURES, "Unit": "Count"})],
            )],
        },
    })
    .to_string()
}

/// One EMF metric directive: these metrics, under one set of dimensions.
fn directive(dimensions: &[&str], metrics: Vec<Value>) -> Value {
    json!({
        "Namespace": NAMESPACE,
        "Dimensions": [dimensions],
        "Metrics": metrics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
