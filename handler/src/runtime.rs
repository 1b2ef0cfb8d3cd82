//! The Lambda Runtime API loop: ask for the next invocation, answer it, repeat.
//!
//! Why not `lambda_runtime`'s loop: on every invocation it copies the X-Ray trace header into
//! `_X_AMZN_TRACE_ID` with `std::env::set_var`, and glibc's `setenv` keeps every value it was
//! ever given, so a warm function grows by about 150 bytes per invocation without end
//! (measured by the load benchmark, BENCHMARKS.md). Only its Lambda Managed Instances mode
//! skips that, and there is no switch. ebhook does not use X-Ray, so this loop is the runtime
//! contract without the variable. It talks through `lambda_runtime_api_client`, the HTTP client
//! `lambda_runtime` itself uses.
//!
//! Without the variable the SDK's recursion detection sends no `X-Amzn-Trace-Id` on the
//! handler's AWS calls. That header only lets Lambda stop a function that invokes itself in a
//! loop; nothing the handler calls (EventBridge, SQS, S3, Secrets Manager) can invoke it back as
//! a function URL request.
//!
//! The paths, the request-id check and the error document are pure, and unit-tested here; the
//! loop is exercised by every integration test that runs the real `bootstrap`.

use std::future::Future;

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use http_body_util::BodyExt;
use lambda_runtime_api_client::body::Body;
use lambda_runtime_api_client::{PooledClient, build_request};

const API: &str = "/2018-06-01/runtime";
const REQUEST_ID_HEADER: &str = "lambda-runtime-aws-request-id";
const ERROR_TYPE_HEADER: &str = "lambda-runtime-function-error-type";
const INVOCATION_ID_HEADER: &str = "lambda-runtime-invocation-id";

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(
        "AWS_LAMBDA_RUNTIME_API is not set: this binary is a Lambda `bootstrap`; run it in Lambda, or use `ebhook dev` locally"
    )]
    NoEndpoint,
    #[error(
        "AWS_LAMBDA_RUNTIME_API is not a host:port ({0:?}); Lambda sets it, so outside Lambda set it to the address of a Runtime API emulator"
    )]
    BadEndpoint(String),
    #[error(
        "could not build the request for {path}: {source}; this is a bug in ebhook, please report it"
    )]
    BadRequest { path: String, source: http::Error },
    #[error(
        "the Lambda Runtime API did not answer {path}: {source}; the execution environment is broken, and Lambda starts a new one"
    )]
    Unreachable {
        path: String,
        source: lambda_runtime_api_client::BoxError,
    },
    #[error("the Lambda Runtime API answered {path} with {status}: {body}")]
    Status {
        path: String,
        status: StatusCode,
        /// Lambda's error document, shortened.
        body: String,
    },
    #[error(
        "the Lambda Runtime API handed out an invocation without a usable {REQUEST_ID_HEADER} ({0:?}), so it cannot be answered; Lambda starts a new execution environment"
    )]
    NoRequestId(String),
}

impl RuntimeError {
    /// Lambda refused one answer (too large, too late, already answered) but the environment
    /// still works: the loop logs it and serves the next invocation, as `lambda_runtime` does.
    pub fn refused_answer(&self) -> bool {
        matches!(self, Self::Status { status, .. } if status.is_client_error())
    }
}

/// At most `max` characters of an error text from elsewhere, for a log line or an error.
fn shortened(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// One invocation as `/next` hands it out.
#[derive(Debug)]
pub struct Invocation {
    pub request_id: String,
    /// Sent back with the answer when Lambda sends it, so Lambda can tell a late answer to a
    /// timed-out invocation from the answer to the current one.
    pub invocation_id: Option<HeaderValue>,
    pub body: bytes::Bytes,
}

/// The request id from `/next`'s headers. It goes into the answer's path, so anything that is
/// not a plain path segment is refused rather than sent.
pub fn request_id(headers: &HeaderMap) -> Result<String, RuntimeError> {
    let id = headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| RuntimeError::NoRequestId(String::new()))?;
    let plain = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if plain {
        Ok(id.to_owned())
    } else {
        Err(RuntimeError::NoRequestId(shortened(id, 80)))
    }
}

/// The base URI for `AWS_LAMBDA_RUNTIME_API`'s `host:port`.
pub fn endpoint(address: &str) -> Result<Uri, RuntimeError> {
    let bad = || RuntimeError::BadEndpoint(address.to_owned());
    let base: Uri = format!("http://{address}").parse().map_err(|_| bad())?;
    let plain = base.authority().is_some_and(|a| a.port().is_some())
        && base.path() == "/"
        && base.query().is_none();
    if plain { Ok(base) } else { Err(bad()) }
}

pub fn next_path() -> String {
    format!("{API}/invocation/next")
}

pub fn response_path(request_id: &str) -> String {
    format!("{API}/invocation/{request_id}/response")
}

pub fn error_path(request_id: &str) -> String {
    format!("{API}/invocation/{request_id}/error")
}

pub fn init_error_path() -> String {
    format!("{API}/init/error")
}

/// The error document Lambda records for a failed invocation or start.
pub fn error_document(error_type: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "errorType": error_type,
        "errorMessage": message,
    }))
    .unwrap_or_default()
}

pub struct RuntimeApi {
    client: PooledClient,
}

impl RuntimeApi {
    /// The Runtime API named by `AWS_LAMBDA_RUNTIME_API`, as Lambda sets it (`host:port`).
    pub fn from_env() -> Result<Self, RuntimeError> {
        let address =
            std::env::var("AWS_LAMBDA_RUNTIME_API").map_err(|_| RuntimeError::NoEndpoint)?;
        let base = endpoint(&address)?;
        Ok(Self {
            client: PooledClient::builder().with_endpoint(base).build(),
        })
    }

    async fn send(
        &self,
        method: Method,
        path: String,
        headers: &[(&str, HeaderValue)],
        body: Body,
    ) -> Result<(http::response::Parts, bytes::Bytes), RuntimeError> {
        let mut request = build_request().method(method).uri(path.as_str());
        for (name, value) in headers {
            request = request.header(*name, value.clone());
        }
        let request = match request.body(body) {
            Ok(request) => request,
            Err(source) => return Err(RuntimeError::BadRequest { path, source }),
        };
        let unreachable = |source| RuntimeError::Unreachable {
            path: path.clone(),
            source,
        };
        let response = self.client.call(request).await.map_err(unreachable)?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| unreachable(e.into()))?
            .to_bytes();
        if !parts.status.is_success() {
            return Err(RuntimeError::Status {
                path,
                status: parts.status,
                body: shortened(&String::from_utf8_lossy(&body), 300),
            });
        }
        Ok((parts, body))
    }

    /// Wait for the next invocation.
    pub async fn next(&self) -> Result<Invocation, RuntimeError> {
        let (parts, body) = self
            .send(Method::GET, next_path(), &[], Body::empty())
            .await?;
        Ok(Invocation {
            request_id: request_id(&parts.headers)?,
            invocation_id: parts.headers.get(INVOCATION_ID_HEADER).cloned(),
            body,
        })
    }

    fn answer_headers(invocation: &Invocation) -> Vec<(&'static str, HeaderValue)> {
        invocation
            .invocation_id
            .iter()
            .map(|id| (INVOCATION_ID_HEADER, id.clone()))
            .collect()
    }

    pub async fn respond(
        &self,
        invocation: &Invocation,
        document: Vec<u8>,
    ) -> Result<(), RuntimeError> {
        let headers = Self::answer_headers(invocation);
        self.send(
            Method::POST,
            response_path(&invocation.request_id),
            &headers,
            Body::from(document),
        )
        .await
        .map(drop)
    }

    pub async fn fail(
        &self,
        invocation: &Invocation,
        error_type: &'static str,
        message: &str,
    ) -> Result<(), RuntimeError> {
        let mut headers = Self::answer_headers(invocation);
        headers.push((ERROR_TYPE_HEADER, HeaderValue::from_static(error_type)));
        self.send(
            Method::POST,
            error_path(&invocation.request_id),
            &headers,
            Body::from(error_document(error_type, message)),
        )
        .await
        .map(drop)
    }

    /// Tell Lambda the function could not start, so the reason shows in its logs and console.
    pub async fn init_failed(
        &self,
        error_type: &'static str,
        message: &str,
    ) -> Result<(), RuntimeError> {
        self.send(
            Method::POST,
            init_error_path(),
            &[(ERROR_TYPE_HEADER, HeaderValue::from_static(error_type))],
            Body::from(error_document(error_type, message)),
        )
        .await
        .map(drop)
    }

    /// Serve function URL invocations one at a time, for as long as the environment lives.
    /// Returns only when the Runtime API fails, which ends the environment.
    pub async fn serve<F, Fut>(&self, handler: F) -> Result<(), RuntimeError>
    where
        F: Fn(LambdaFunctionUrlRequest) -> Fut,
        Fut: Future<Output = LambdaFunctionUrlResponse>,
    {
        loop {
            let invocation = self.next().await?;
            let answered = match serde_json::from_slice::<LambdaFunctionUrlRequest>(
                &invocation.body,
            ) {
                Ok(event) => match serde_json::to_vec(&handler(event).await) {
                    Ok(document) => self.respond(&invocation, document).await,
                    Err(e) => {
                        // Every header value the handler sets is built from text; should one
                        // ever not serialise, the invocation fails rather than answer nothing.
                        tracing::error!(request_id = %invocation.request_id, error = %e, "the response could not be serialised");
                        let message = "the handler's response could not be serialised; this is a bug in ebhook, please report it";
                        self.fail(&invocation, "Runtime.SerializationError", message)
                            .await
                    }
                },
                Err(e) => {
                    // Someone invoked the function directly. The error's position and category
                    // are enough; its text could quote the event.
                    let why = format!(
                        "{:?} error at line {} column {}",
                        e.classify(),
                        e.line(),
                        e.column()
                    );
                    tracing::error!(request_id = %invocation.request_id, error = %why, "the invocation is not a function URL event");
                    let message = format!(
                        "the event is not a Lambda function URL request ({why}); invoke this function through its function URL"
                    );
                    self.fail(&invocation, "Runtime.InvalidEvent", &message)
                        .await
                }
            };
            match answered {
                Ok(()) => {}
                Err(e) if e.refused_answer() => {
                    tracing::error!(request_id = %invocation.request_id, error = %e, "Lambda refused the answer to this invocation; serving the next one");
                }
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(id: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, id.parse().unwrap());
        headers
    }

    #[test]
    fn request_id_is_taken_only_when_it_is_a_plain_path_segment() {
        assert_eq!(
            request_id(&headers("8476a536-e9f4-11e8-9739-2dfe598c3fcd")).unwrap(),
            "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
        );
        for bad in ["", "a/b", "../init/error", "a?b", "a b", "a%2F"] {
            assert!(
                matches!(request_id(&headers(bad)), Err(RuntimeError::NoRequestId(_))),
                "{bad:?} accepted"
            );
        }
        assert!(matches!(
            request_id(&HeaderMap::new()),
            Err(RuntimeError::NoRequestId(_))
        ));
    }

    #[test]
    fn paths_follow_the_runtime_api() {
        assert_eq!(next_path(), "/2018-06-01/runtime/invocation/next");
        assert_eq!(
            response_path("abc"),
            "/2018-06-01/runtime/invocation/abc/response"
        );
        assert_eq!(
            error_path("abc"),
            "/2018-06-01/runtime/invocation/abc/error"
        );
        assert_eq!(init_error_path(), "/2018-06-01/runtime/init/error");
    }

    #[test]
    fn error_document_has_the_two_fields_lambda_reads() {
        let document: serde_json::Value =
            serde_json::from_slice(&error_document("Runtime.InvalidEvent", "say \"why\"")).unwrap();
        assert_eq!(
            document,
            serde_json::json!({"errorType": "Runtime.InvalidEvent", "errorMessage": "say \"why\""})
        );
    }

    #[test]
    fn only_a_refused_answer_lets_the_loop_go_on() {
        let status = |status| RuntimeError::Status {
            path: response_path("abc"),
            status,
            body: String::new(),
        };
        assert!(status(StatusCode::BAD_REQUEST).refused_answer());
        assert!(status(StatusCode::PAYLOAD_TOO_LARGE).refused_answer());
        assert!(status(StatusCode::GONE).refused_answer());
        assert!(!status(StatusCode::INTERNAL_SERVER_ERROR).refused_answer());
        assert!(!RuntimeError::NoRequestId(String::new()).refused_answer());
    }

    #[test]
    fn long_error_texts_are_shortened_on_a_character_boundary() {
        assert_eq!(shortened("abc", 5), "abc");
        assert_eq!(shortened("ééééé", 2), "éé…");
    }

    #[test]
    fn the_endpoint_must_be_host_and_port() {
        let base = endpoint("127.0.0.1:9001").unwrap();
        assert_eq!(base.authority().unwrap().as_str(), "127.0.0.1:9001");
        for bad in ["", "not a host", "127.0.0.1", "127.0.0.1:9001/x", "h:1?q"] {
            assert!(
                matches!(endpoint(bad), Err(RuntimeError::BadEndpoint(_))),
                "{bad:?} accepted"
            );
        }
    }
}
