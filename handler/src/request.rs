//! The function URL request as ebhook sees it, the cheap checks made before any verification,
//! and the responses. Pure: no I/O.

use std::borrow::Cow;

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use http::{HeaderMap, HeaderValue, header};

use crate::event::{Delivery, MAX_FORM_FIELDS, MapError, Signed, form_fields_bound};
use crate::metrics::{Outcome, Reason};
use crate::verify::{SignedRequest, VerifyError};

/// A request after the function URL's encoding is undone.
#[derive(Debug)]
pub struct Inbound<'a> {
    pub method: &'a str,
    pub host: &'a str,
    pub raw_path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: RawBody<'a>,
    pub request_id: Option<&'a str>,
}

/// A body as it was received. The signature is checked over these bytes and the same value
/// is mapped and forwarded, so what was verified and what goes on the bus cannot drift apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawBody<'a> {
    /// It arrived as text (a JSON string in the function URL event, not base64): these bytes,
    /// already known to be UTF-8, so a large body is not checked twice.
    Text(&'a str),
    /// It arrived base64-encoded, or comes from elsewhere: bytes that may be anything.
    Bytes(Cow<'a, [u8]>),
}

impl RawBody<'_> {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(text) => text.as_bytes(),
            Self::Bytes(bytes) => bytes,
        }
    }

    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    /// The body as text: free when it arrived as text, checked otherwise.
    pub fn to_str(&self) -> Result<&str, std::str::Utf8Error> {
        match self {
            Self::Text(text) => Ok(text),
            Self::Bytes(bytes) => std::str::from_utf8(bytes),
        }
    }
}

impl<'a> Inbound<'a> {
    /// Undo the function URL's encoding, rejecting a method the provider never uses (one not
    /// in `methods`) or a body over `max_body` before any real work (the size is checked
    /// before base64 decoding).
    pub fn from_function_url(
        event: &'a LambdaFunctionUrlRequest,
        methods: &'static [&'static str],
        max_body: usize,
    ) -> Result<Self, Rejection> {
        let method = event.request_context.http.method.as_deref().unwrap_or("");
        if !methods.contains(&method) {
            return Err(Rejection::MethodNotAllowed { allowed: methods });
        }
        // Every event carries its query parameters as an object: more of them than any
        // provider sends is refused before anything splits them.
        let raw_query = event.raw_query_string.as_deref().unwrap_or("");
        let count = form_fields_bound(raw_query.as_bytes());
        if !raw_query.is_empty() && count > MAX_FORM_FIELDS {
            return Err(Rejection::TooManyParameters {
                count,
                limit: MAX_FORM_FIELDS,
            });
        }
        let raw = event.body.as_deref().unwrap_or("");
        let body = if event.is_base64_encoded {
            let estimate = base64::decoded_len_estimate(raw.len());
            // The estimate overshoots by at most two bytes of padding.
            if estimate.saturating_sub(2) > max_body {
                return Err(Rejection::BodyTooLarge {
                    size: estimate,
                    limit: max_body,
                });
            }
            RawBody::Bytes(Cow::Owned(
                B64.decode(raw).map_err(|_| Rejection::BadEncoding)?,
            ))
        } else {
            RawBody::Text(raw)
        };
        if body.len() > max_body {
            return Err(Rejection::BodyTooLarge {
                size: body.len(),
                limit: max_body,
            });
        }
        let host = event
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or(event.request_context.domain_name.as_deref())
            .unwrap_or("");
        Ok(Self {
            method,
            host,
            raw_path: event.raw_path.as_deref().unwrap_or("/"),
            raw_query: event.raw_query_string.as_deref().unwrap_or(""),
            headers: &event.headers,
            body,
            request_id: event.request_context.request_id.as_deref(),
        })
    }

    /// `<scheme>://<host>` as the provider addressed the server (`https` for a function URL,
    /// `http` for a local one), unless a public base URL (custom domain, CloudFront, a
    /// tunnel) is configured.
    pub fn base_url(&self, scheme: &str, configured: Option<&'a str>) -> Cow<'a, str> {
        match configured {
            Some(base) => Cow::Borrowed(base),
            // One allocation of the exact size: `format!` grew its buffer once more.
            None => Cow::Owned([scheme, "://", self.host].concat()),
        }
    }

    pub fn signed<'s>(&'s self, base_url: &'s str) -> SignedRequest<'s> {
        SignedRequest {
            method: self.method,
            base_url,
            raw_path: self.raw_path,
            raw_query: self.raw_query,
            headers: self.headers,
            body: self.body.as_bytes(),
        }
    }

    /// The request as the mapper sees it once `provider` has verified it.
    pub fn delivery<'s>(
        &'s self,
        provider: &'static str,
        query_signed: bool,
        received_at: &'s str,
        body_sha256: &'s str,
        signed: Signed<'s>,
    ) -> Delivery<'s> {
        Delivery {
            provider,
            query_signed,
            method: self.method,
            headers: self.headers,
            raw_query: self.raw_query,
            body: &self.body,
            received_at,
            request_id: self.request_id,
            body_sha256,
            signed,
        }
    }

    /// The Content-Type header as sent, if it is text.
    pub fn content_type(&self) -> Option<&'a str> {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    /// A header's value, if it is text.
    pub fn header(&self, name: &http::HeaderName) -> Option<&'a str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Every way a request can be turned away, each with its status. Nothing here is a 500: a
/// client's mistake is a 4xx, and a failure of ours to reach AWS is a retryable 503.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    MethodNotAllowed {
        allowed: &'static [&'static str],
    },
    BodyTooLarge {
        size: usize,
        limit: usize,
    },
    BadEncoding,
    /// A form body with more parameters than the provider ever sends, refused before it is
    /// split (at most `count` parameters: `&`s plus one).
    TooManyParameters {
        count: usize,
        limit: usize,
    },
    Unauthorized(VerifyError),
    Malformed(String),
    EntryTooLarge {
        size: usize,
        limit: usize,
    },
    /// The secret or the event bus could not be reached in time; the provider should retry.
    Unavailable {
        reason: &'static str,
    },
}

/// The media type of the Content-Type header, trimmed and without parameters
/// (`Application/JSON` of `Application/JSON; charset=utf-8`). Media types are case-insensitive:
/// compare it with [`is_json`], [`is_form`] or `eq_ignore_ascii_case`.
pub fn media_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
}

/// `application/json`, or any `application/...+json` (`cloudevents-batch+json`), in any case.
pub fn is_json(media_type: &str) -> bool {
    let m = media_type.as_bytes();
    let (head, tail) = (b"application/", b"+json");
    media_type.eq_ignore_ascii_case("application/json")
        || (m.len() >= head.len() + tail.len()
            && m[..head.len()].eq_ignore_ascii_case(head)
            && m[m.len() - tail.len()..].eq_ignore_ascii_case(tail))
}

/// `application/x-www-form-urlencoded`, in any case.
pub fn is_form(media_type: &str) -> bool {
    media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

/// Seconds a provider should wait before retrying a 503. Zendesk honours values under 60 s.
pub const RETRY_AFTER_SECONDS: u32 = 5;

impl From<MapError> for Rejection {
    fn from(e: MapError) -> Self {
        match e {
            MapError::Malformed(reason) => Self::Malformed(reason.into_owned()),
            MapError::TooLarge { size, limit } => Self::EntryTooLarge { size, limit },
            MapError::TooManyFields { limit } => Self::TooManyParameters {
                count: limit + 1,
                limit,
            },
        }
    }
}

impl Rejection {
    pub fn status(&self) -> u16 {
        match self {
            Self::MethodNotAllowed { .. } => 405,
            Self::BodyTooLarge { .. }
            | Self::EntryTooLarge { .. }
            | Self::TooManyParameters { .. } => 413,
            Self::BadEncoding | Self::Malformed(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Unavailable { .. } => 503,
        }
    }

    /// The outcome it counts as in metrics.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::MethodNotAllowed { .. } => Outcome::Rejected(Reason::Method),
            Self::BodyTooLarge { .. }
            | Self::EntryTooLarge { .. }
            | Self::TooManyParameters { .. } => Outcome::Rejected(Reason::TooLarge),
            Self::BadEncoding | Self::Malformed(_) => Outcome::Rejected(Reason::Malformed),
            Self::Unauthorized(VerifyError::StaleTimestamp) => Outcome::Rejected(Reason::Stale),
            Self::Unauthorized(_) => Outcome::Rejected(Reason::Signature),
            Self::Unavailable { .. } => Outcome::Failed,
        }
    }

    /// A short category for logs.
    pub fn category(&self) -> &'static str {
        match self {
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::BadEncoding => "bad_encoding",
            Self::TooManyParameters { .. } => "too_many_parameters",
            Self::Unauthorized(e) => e.category(),
            Self::Malformed(_) => "malformed_body",
            Self::EntryTooLarge { .. } => "entry_too_large",
            Self::Unavailable { reason } => reason,
        }
    }

    /// What the caller is told. A 401 says nothing about which check failed.
    fn public_message(&self) -> Cow<'static, str> {
        match self {
            Self::MethodNotAllowed { .. } => "method not allowed".into(),
            Self::BodyTooLarge { limit, .. } => format!("body exceeds {limit} bytes").into(),
            Self::BadEncoding => "body is not valid base64".into(),
            Self::TooManyParameters { limit, .. } => {
                format!("form body has more than {limit} parameters").into()
            }
            Self::Unauthorized(_) => "invalid signature".into(),
            Self::Malformed(reason) => format!("malformed body: {reason}").into(),
            Self::EntryTooLarge { size, limit } => {
                format!("event of {size} bytes exceeds the {limit}-byte EventBridge entry limit")
                    .into()
            }
            Self::Unavailable { .. } => {
                "temporarily unable to accept the event; retry later".into()
            }
        }
    }

    pub fn response(&self) -> LambdaFunctionUrlResponse {
        let body = serde_json::json!({ "error": self.public_message() }).to_string();
        let mut response = json_response(self.status(), body);
        match self {
            Self::MethodNotAllowed { allowed } => {
                let allow = allowed.join(", ");
                if let Ok(v) = HeaderValue::from_str(&allow) {
                    response.headers.insert(header::ALLOW, v);
                }
            }
            Self::Unavailable { .. } => {
                response
                    .headers
                    .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            }
            _ => {}
        }
        response
    }
}

/// A body a provider expects in answer instead of ebhook's JSON: Twilio's TwiML, Slack's
/// challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub content_type: &'static str,
    pub body: String,
}

impl Reply {
    /// A 200 with this body, for a handshake (nothing goes on the bus).
    pub fn response(&self) -> LambdaFunctionUrlResponse {
        let mut response = LambdaFunctionUrlResponse::default();
        response.status_code = 200;
        response.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        response.body = Some(self.body.clone());
        response
    }
}

/// The answer to an accepted delivery: the EventBridge event ids, in the body unless the
/// provider expects a `reply` of its own, and always in a header.
pub fn accepted(reply: Option<Reply>, event_ids: &[String]) -> LambdaFunctionUrlResponse {
    answered(reply, 200, "accepted", event_ids)
}

/// The answer when EventBridge would not take the delivery but it is safe in the dead-letter
/// queue (`ebhook replay` puts it on the bus later): 202, which no provider retries. `event_ids`
/// are those of any entries of the delivery that did reach the bus.
pub fn queued(reply: Option<Reply>, event_ids: &[String]) -> LambdaFunctionUrlResponse {
    answered(reply, 202, "queued", event_ids)
}

/// The answer to a copy of a delivery already on the bus or in the dead-letter queue: the
/// provider's success answer, so it stops sending it.
pub fn duplicate(reply: Option<Reply>) -> LambdaFunctionUrlResponse {
    answered(reply, 200, "duplicate", &[])
}

fn answered(
    reply: Option<Reply>,
    status: u16,
    word: &str,
    event_ids: &[String],
) -> LambdaFunctionUrlResponse {
    let mut response = match reply {
        Some(reply) => {
            let mut r = reply.response();
            r.status_code = i64::from(status);
            r
        }
        None => json_response(
            status,
            serde_json::json!({ "status": word, "eventIds": event_ids }).to_string(),
        ),
    };
    if let Ok(v) = HeaderValue::from_str(&event_ids.join(",")) {
        response.headers.insert("x-ebhook-event-ids", v);
    }
    response
}

pub(crate) fn json_response(status: u16, body: String) -> LambdaFunctionUrlResponse {
    let mut response = LambdaFunctionUrlResponse::default();
    response.status_code = i64::from(status);
    response.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response.body = Some(body);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const POST: &[&str] = &["POST"];

    fn event(method: &str, body: Option<&str>, base64: bool) -> LambdaFunctionUrlRequest {
        let mut e: LambdaFunctionUrlRequest = serde_json::from_value(serde_json::json!({
            "version": "2.0",
            "rawPath": "/hook",
            "rawQueryString": "a=1",
            "headers": {"host": "abc.lambda-url.us-east-1.on.aws", "content-type": "application/json"},
            "requestContext": {
                "domainName": "abc.lambda-url.us-east-1.on.aws",
                "requestId": "r-1",
                "timeEpoch": 0,
                "http": {"method": method, "path": "/hook", "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4", "userAgent": "x"}
            },
            "isBase64Encoded": base64
        }))
        .unwrap();
        e.body = body.map(str::to_owned);
        e
    }

    #[test]
    fn decodes_base64_and_missing_body() {
        let e = event("POST", Some("aGk="), true);
        let inbound = Inbound::from_function_url(&e, POST, 100).unwrap();
        assert_eq!(inbound.body, RawBody::Bytes(b"hi"[..].into()));
        assert_eq!(
            inbound.base_url("https", None),
            "https://abc.lambda-url.us-east-1.on.aws"
        );
        assert_eq!(
            inbound.base_url("https", Some("https://hooks.example.com")),
            "https://hooks.example.com"
        );
        assert_eq!(inbound.raw_query, "a=1");
        // Text stays text, so the mapper does not check its UTF-8 again; "aGk=" here is text.
        let e = event("POST", Some("aGk="), false);
        let inbound = Inbound::from_function_url(&e, POST, 100).unwrap();
        assert_eq!(inbound.body, RawBody::Text("aGk="));
        assert_eq!(inbound.body.to_str(), Ok("aGk="));
        let e = event("POST", None, false);
        assert!(
            Inbound::from_function_url(&e, POST, 100)
                .unwrap()
                .body
                .is_empty()
        );
    }

    #[test]
    fn each_rejection_counts_as_its_outcome() {
        let cases = [
            (
                Rejection::MethodNotAllowed { allowed: POST },
                "rejected_method",
            ),
            (
                Rejection::BodyTooLarge { size: 2, limit: 1 },
                "rejected_too_large",
            ),
            (
                Rejection::TooManyParameters { count: 2, limit: 1 },
                "rejected_too_large",
            ),
            (
                Rejection::EntryTooLarge { size: 2, limit: 1 },
                "rejected_too_large",
            ),
            (Rejection::BadEncoding, "rejected_malformed"),
            (Rejection::Malformed("x".into()), "rejected_malformed"),
            (
                Rejection::Unauthorized(VerifyError::Mismatch),
                "rejected_signature",
            ),
            (
                Rejection::Unauthorized(VerifyError::NoSecret),
                "rejected_signature",
            ),
            (
                Rejection::Unauthorized(VerifyError::StaleTimestamp),
                "rejected_stale",
            ),
            (Rejection::Unavailable { reason: "x" }, "failed"),
        ];
        for (rejection, outcome) in cases {
            assert_eq!(rejection.outcome().as_str(), outcome, "{rejection:?}");
        }
    }

    #[test]
    fn cheap_rejections() {
        let e = event("GET", Some("{}"), false);
        let r = Inbound::from_function_url(&e, POST, 100).unwrap_err();
        assert_eq!(r.status(), 405);
        assert_eq!(r.response().headers["allow"], "POST");
        assert!(Inbound::from_function_url(&e, &["POST", "GET"], 100).is_ok());

        let e = event("POST", Some("!!!not base64"), true);
        assert_eq!(
            Inbound::from_function_url(&e, POST, 100).unwrap_err(),
            Rejection::BadEncoding
        );
        // A truncated base64 body is refused too.
        let e = event("POST", Some("aGk"), true);
        assert_eq!(
            Inbound::from_function_url(&e, POST, 100).unwrap_err(),
            Rejection::BadEncoding
        );

        // Query parameters past what any provider sends are refused before anything splits
        // them (every event carries them as an object).
        let mut e = event("POST", Some("{}"), false);
        e.raw_query_string = Some(vec!["a="; MAX_FORM_FIELDS].join("&"));
        assert!(Inbound::from_function_url(&e, POST, 100).is_ok());
        e.raw_query_string = Some("a=&".repeat(MAX_FORM_FIELDS + 1));
        let r = Inbound::from_function_url(&e, POST, 100).unwrap_err();
        assert_eq!(r.status(), 413);
        assert!(matches!(r, Rejection::TooManyParameters { .. }));

        let big = "x".repeat(101);
        let e = event("POST", Some(&big), false);
        assert_eq!(
            Inbound::from_function_url(&e, POST, 100)
                .unwrap_err()
                .status(),
            413
        );
        let e = event("POST", Some(&B64.encode(big.as_bytes())), true);
        assert_eq!(
            Inbound::from_function_url(&e, POST, 100)
                .unwrap_err()
                .status(),
            413
        );
        let exact = B64.encode([7u8; 100]);
        let e = event("POST", Some(&exact), true);
        assert_eq!(
            Inbound::from_function_url(&e, POST, 100)
                .unwrap()
                .body
                .len(),
            100
        );
    }

    #[test]
    fn responses() {
        let r = Rejection::Unauthorized(VerifyError::StaleTimestamp).response();
        assert_eq!(r.status_code, 401);
        assert_eq!(r.body.as_deref(), Some(r#"{"error":"invalid signature"}"#));
        let r = Rejection::Unavailable {
            reason: "event_bus_unavailable",
        }
        .response();
        assert_eq!(r.status_code, 503);
        assert_eq!(r.headers["retry-after"], "5");
        let twiml = || {
            Some(Reply {
                content_type: "text/xml",
                body: "<Response/>".into(),
            })
        };
        let ok = accepted(None, &["id-1".into()]);
        assert_eq!(ok.status_code, 200);
        assert_eq!(
            ok.body.as_deref(),
            Some(r#"{"eventIds":["id-1"],"status":"accepted"}"#)
        );
        let ok = accepted(twiml(), &["a".into(), "b".into()]);
        assert_eq!(ok.headers["content-type"], "text/xml");
        assert_eq!(ok.body.as_deref(), Some("<Response/>"));
        assert_eq!(ok.headers["x-ebhook-event-ids"], "a,b");
        let q = queued(None, &[]);
        assert_eq!(q.status_code, 202);
        assert_eq!(
            q.body.as_deref(),
            Some(r#"{"eventIds":[],"status":"queued"}"#)
        );
        let q = queued(twiml(), &[]);
        assert_eq!(q.status_code, 202);
        assert_eq!(q.headers["content-type"], "text/xml");
    }
}
