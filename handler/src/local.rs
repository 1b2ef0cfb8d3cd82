//! The handler run outside Lambda (`ebhook dev`): an HTTP request is turned into the function
//! URL event Lambda would deliver and goes through the same [`Pipeline`], so statuses, bodies
//! and entries are those of the deployed function. Accepted entries are either returned to be
//! printed (with generated local event ids) or really put on a bus through a [`Forwarder`].

use std::collections::HashMap;
use std::time::Duration;

pub use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest as Request, LambdaFunctionUrlResponse as Response,
};
use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use http::{HeaderMap, HeaderValue, header};
use time::OffsetDateTime;

use crate::event::Entry;
use crate::forward::{Attempts, Forwarder};
use crate::handler::{Pipeline, Summary, put};
use crate::request::{self, Rejection, accepted};

/// An HTTP request as a local server received it.
#[derive(Debug)]
pub struct LocalRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// Without the `?`; empty when there is none.
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub source_ip: Option<String>,
}

/// Whether the function URL would pass this body as text (else base64).
fn is_textual(headers: &HeaderMap) -> bool {
    request::media_type(headers).is_some_and(|m| {
        request::is_json(m) || m.get(..5).is_some_and(|t| t.eq_ignore_ascii_case("text/"))
    })
}

/// The event Lambda hands the function for this request: header names lower-case (as
/// `http` keeps them), repeated headers joined with commas, JSON and text bodies as text and
/// any other body base64-encoded.
pub fn function_url_event(
    request: &LocalRequest<'_>,
    request_id: &str,
) -> LambdaFunctionUrlRequest {
    let mut headers = HeaderMap::new();
    for name in request.headers.keys() {
        let values: Vec<&[u8]> = request
            .headers
            .get_all(name)
            .iter()
            .map(HeaderValue::as_bytes)
            .collect();
        if let Ok(joined) = HeaderValue::from_bytes(&values.join(&b","[..])) {
            headers.insert(name.clone(), joined);
        }
    }
    let mut query_parameters: HashMap<String, String> = HashMap::new();
    for (k, v) in form_urlencoded::parse(request.query.as_bytes()) {
        query_parameters
            .entry(k.into_owned())
            .and_modify(|existing| {
                existing.push(',');
                existing.push_str(&v);
            })
            .or_insert_with(|| v.into_owned());
    }
    let (body, base64) = match std::str::from_utf8(request.body) {
        _ if request.body.is_empty() => (None, false),
        Ok(text) if is_textual(request.headers) => (Some(text.to_owned()), false),
        _ => (Some(B64.encode(request.body)), true),
    };
    let now = OffsetDateTime::now_utc();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);

    let mut event = LambdaFunctionUrlRequest::default();
    event.version = Some("2.0".into());
    event.raw_path = Some(request.path.to_owned());
    event.raw_query_string = Some(request.query.to_owned());
    event.headers = headers;
    event.query_string_parameters = query_parameters;
    event.body = body;
    event.is_base64_encoded = base64;
    let context = &mut event.request_context;
    context.account_id = Some("anonymous".into());
    context.request_id = Some(request_id.to_owned());
    context.domain_name = host;
    context.time_epoch = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    context.http.method = Some(request.method.to_owned());
    context.http.path = Some(request.path.to_owned());
    context.http.protocol = Some("HTTP/1.1".into());
    context.http.source_ip = request.source_ip.clone();
    context.http.user_agent = user_agent;
    event
}

/// A random id shaped like EventBridge's (a UUID), so local output looks like the real thing.
pub fn local_id() -> String {
    let hex = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    format!(
        "{}-{}-4{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// What became of one local request.
pub struct Outcome {
    pub response: LambdaFunctionUrlResponse,
    /// Accepted entries (empty when rejected).
    pub entries: Vec<Entry>,
    /// The event ids in the response (generated locally, or EventBridge's).
    pub event_ids: Vec<String>,
    /// Why the request was refused, as a log category, with its status.
    pub rejection: Option<(u16, &'static str)>,
    pub delivery_id: Option<String>,
}

/// The handler for a local server: the pipeline, and a bus to put events on if one is given.
pub struct Local {
    pub pipeline: Pipeline,
    pub forwarder: Option<Forwarder>,
}

impl Local {
    pub async fn handle(&self, event: &LambdaFunctionUrlRequest) -> Outcome {
        let provider = self.pipeline.config().provider;
        let mut summary = Summary::default();
        let prepared = match self.pipeline.prepare(event, &mut summary).await {
            Ok(p) => p,
            Err(rejection) => {
                return rejected(&rejection, summary.delivery_id.map(str::to_owned));
            }
        };
        if let Some(reply) = prepared.handshake {
            return Outcome {
                response: reply.response(),
                entries: Vec::new(),
                event_ids: Vec::new(),
                rejection: None,
                delivery_id: summary.delivery_id.map(str::to_owned),
            };
        }
        let mapped = match prepared.too_large {
            Some(e) => Err(Rejection::from(e)),
            None => Ok(prepared.entries),
        };
        let result = match mapped {
            Ok(entries) if entries.is_empty() => Ok((entries, Vec::new())),
            Ok(entries) => match &self.forwarder {
                Some(forwarder) => put(forwarder, &entries, &mut Attempts::default())
                    .await
                    .map(|ids| (entries, ids)),
                None => {
                    let ids = entries.iter().map(|_| local_id()).collect();
                    Ok((entries, ids))
                }
            },
            Err(rejection) => Err(rejection),
        };
        let delivery_id = summary.delivery_id.map(str::to_owned);
        match result {
            Ok((entries, event_ids)) => Outcome {
                response: accepted(provider.success_body(), &event_ids),
                entries,
                event_ids,
                rejection: None,
                delivery_id,
            },
            Err(rejection) => rejected(&rejection, delivery_id),
        }
    }
}

fn rejected(rejection: &Rejection, delivery_id: Option<String>) -> Outcome {
    Outcome {
        response: rejection.response(),
        entries: Vec::new(),
        event_ids: Vec::new(),
        rejection: Some((rejection.status(), rejection.category())),
        delivery_id,
    }
}

/// The PutEvents request entry for `entry` on `bus`, as JSON (`Detail` is a string, as
/// PutEvents takes it).
pub fn put_events_entry(entry: &Entry, bus: &str) -> serde_json::Value {
    serde_json::json!({
        "Source": entry.source,
        "DetailType": entry.detail_type,
        "Detail": entry.detail,
        "EventBusName": bus,
    })
}

/// Why a local server answered a request itself, before the pipeline: its body could not be
/// read whole. Lambda's function URL never hands such a request to the function, so these
/// answers are the local server's own; the rest of the body is left unread, so each closes the
/// connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyRefusal {
    /// Over `limit` bytes, by its Content-Length or by what arrived.
    TooLarge { limit: usize },
    /// Not complete `after` its headers.
    Timeout { after: Duration },
    /// Not readable as HTTP framing (a bad chunk size), or cut off by the client.
    Unreadable(String),
}

impl BodyRefusal {
    pub fn status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } => 413,
            Self::Timeout { .. } => 408,
            Self::Unreadable(_) => 400,
        }
    }

    /// The log category, as [`Rejection::category`] names the pipeline's.
    pub fn category(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "body_too_large",
            Self::Timeout { .. } => "body_timeout",
            Self::Unreadable(_) => "bad_body",
        }
    }

    pub fn response(&self) -> LambdaFunctionUrlResponse {
        let mut response = match self {
            // The function URL's own answer to a body over the limit.
            Self::TooLarge { limit } => Rejection::BodyTooLarge {
                size: limit.saturating_add(1),
                limit: *limit,
            }
            .response(),
            Self::Timeout { after } => request::json_response(
                self.status(),
                serde_json::json!({
                    "error": format!(
                        "request body not complete within {}s; send it whole and retry",
                        after.as_secs_f64()
                    )
                })
                .to_string(),
            ),
            Self::Unreadable(reason) => request::json_response(
                self.status(),
                serde_json::json!({ "error": format!("request body unreadable: {reason}") })
                    .to_string(),
            ),
        };
        response
            .headers
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    }
}

/// The first pause after a failed `accept`, doubled after each further failure up to
/// [`ACCEPT_BACKOFF_MAX`].
pub const ACCEPT_BACKOFF_FIRST: Duration = Duration::from_millis(100);
pub const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Pauses between failed `accept`s. When file descriptors run out the listener stays ready and
/// each retry fails at once, so a loop that neither waits nor stays quiet spins and floods the
/// log; a burst of failures is logged once, when it starts.
#[derive(Debug, Default)]
pub struct AcceptBackoff {
    failures: u32,
}

impl AcceptBackoff {
    /// One more failure: how long to wait before accepting again, and whether this failure
    /// starts a burst (the one worth logging).
    pub fn failed(&mut self) -> (Duration, bool) {
        let first = self.failures == 0;
        let doublings = self.failures.min(16);
        let delay = ACCEPT_BACKOFF_FIRST
            .saturating_mul(1 << doublings)
            .min(ACCEPT_BACKOFF_MAX);
        self.failures = self.failures.saturating_add(1);
        (delay, first)
    }

    /// A connection was accepted: ends any burst, returning how many failures it had.
    pub fn succeeded(&mut self) -> u32 {
        std::mem::take(&mut self.failures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_is_what_a_function_url_delivers() {
        let mut headers = HeaderMap::new();
        headers.insert("Host", "127.0.0.1:8080".parse().unwrap());
        headers.insert(
            "Content-Type",
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        headers.append("X-Thing", "a".parse().unwrap());
        headers.append("x-thing", "b".parse().unwrap());
        let request = LocalRequest {
            method: "POST",
            path: "/sms",
            query: "a=1&a=2&b=3",
            headers: &headers,
            body: b"x=1&y=2",
            source_ip: None,
        };
        let event = function_url_event(&request, "r-1");
        assert_eq!(event.headers["x-thing"], "a,b");
        assert_eq!(event.headers["host"], "127.0.0.1:8080");
        assert!(event.is_base64_encoded);
        assert_eq!(event.body.as_deref(), Some("eD0xJnk9Mg=="));
        assert_eq!(event.raw_query_string.as_deref(), Some("a=1&a=2&b=3"));
        assert_eq!(event.query_string_parameters["a"], "1,2");
        assert_eq!(event.request_context.http.method.as_deref(), Some("POST"));

        headers.insert(
            "content-type",
            "application/json; charset=utf-8".parse().unwrap(),
        );
        let request = LocalRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: br#"{"a":1}"#,
            source_ip: None,
        };
        let event = function_url_event(&request, "r-2");
        assert!(!event.is_base64_encoded);
        assert_eq!(event.body.as_deref(), Some(r#"{"a":1}"#));
    }

    #[test]
    fn local_ids_look_like_uuids() {
        let id = local_id();
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(id.matches('-').count(), 4, "{id}");
        assert_ne!(id, local_id());
    }

    #[test]
    fn body_refusals_close_the_connection_with_their_status() {
        let cases = [
            (BodyRefusal::TooLarge { limit: 10 }, 413, "body_too_large"),
            (
                BodyRefusal::Timeout {
                    after: Duration::from_millis(1500),
                },
                408,
                "body_timeout",
            ),
            (
                BodyRefusal::Unreadable("bad chunk size".into()),
                400,
                "bad_body",
            ),
        ];
        for (refusal, status, category) in cases {
            let response = refusal.response();
            assert_eq!(response.status_code, i64::from(status));
            assert_eq!(refusal.status(), status);
            assert_eq!(refusal.category(), category);
            assert_eq!(response.headers[header::CONNECTION], "close");
            let body: serde_json::Value =
                serde_json::from_str(response.body.as_deref().unwrap_or_default()).unwrap();
            assert!(body["error"].is_string(), "{body}");
        }
        let timeout = BodyRefusal::Timeout {
            after: Duration::from_millis(1500),
        };
        assert!(
            timeout
                .response()
                .body
                .unwrap_or_default()
                .contains("within 1.5s")
        );
        assert_eq!(
            BodyRefusal::TooLarge { limit: 10 }
                .response()
                .body
                .as_deref(),
            Some(r#"{"error":"body exceeds 10 bytes"}"#)
        );
    }

    #[test]
    fn accept_backoff_doubles_to_a_second_and_logs_once_per_burst() {
        let mut backoff = AcceptBackoff::default();
        let burst: Vec<(Duration, bool)> = (0..7).map(|_| backoff.failed()).collect();
        let ms: Vec<u128> = burst.iter().map(|(d, _)| d.as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1000, 1000, 1000]);
        let logged: Vec<bool> = burst.iter().map(|(_, log)| *log).collect();
        assert_eq!(logged, [true, false, false, false, false, false, false]);
        assert_eq!(backoff.succeeded(), 7);
        assert_eq!(backoff.succeeded(), 0);
        assert_eq!(backoff.failed(), (Duration::from_millis(100), true));
        for _ in 0..100 {
            backoff.failed();
        }
        assert_eq!(backoff.failed(), (ACCEPT_BACKOFF_MAX, false));
    }
}
