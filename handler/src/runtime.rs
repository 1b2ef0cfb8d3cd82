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
//! The paths, the request-id check and the error document are pure, and unit-tested here; the
//! loop is exercised by every integration test that runs the real `bootstrap`.

use std::future::Future;

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use http::{HeaderMap, Method, StatusCode, Uri};
use http_body_util::BodyExt;
use lambda_runtime_api_client::body::Body;
use lambda_runtime_api_client::{Client, build_request};

const API: &str = "/2018-06-01/runtime";
const REQUEST_ID_HEADER: &str = "lambda-runtime-aws-request-id";
const ERROR_TYPE_HEADER: &str = "lambda-runtime-function-error-type";

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(
        "AWS_LAMBDA_RUNTIME_API is not set: this binary is a Lambda `bootstrap`; run it in Lambda, or use `ebhook dev` locally"
    )]
    NoEndpoint,
    #[error("AWS_LAMBDA_RUNTIME_API is not a host:port ({0:?})")]
    BadEndpoint(String),
    #[error("the Lambda Runtime API did not answer {path}: {source}")]
    Unreachable {
        path: String,
        source: lambda_runtime_api_client::BoxError,
    },
    #[error("the Lambda Runtime API answered {path} with {status}")]
    Status { path: String, status: StatusCode },
    #[error("the Lambda Runtime API gave an invocation without a usable {REQUEST_ID_HEADER}")]
    NoRequestId,
}

/// One invocation as `/next` hands it out.
#[derive(Debug)]
pub struct Invocation {
    pub request_id: String,
    pub body: bytes::Bytes,
}

/// The request id from `/next`'s headers. It goes into the answer's path, so anything that is
/// not a plain path segment is refused rather than sent.
pub fn request_id(headers: &HeaderMap) -> Result<String, RuntimeError> {
    let id = headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(RuntimeError::NoRequestId)?;
    let plain = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if plain {
        Ok(id.to_owned())
    } else {
        Err(RuntimeError::NoRequestId)
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
    client: Client,
}

impl RuntimeApi {
    /// The Runtime API named by `AWS_LAMBDA_RUNTIME_API`, as Lambda sets it (`host:port`).
    pub fn from_env() -> Result<Self, RuntimeError> {
        let address =
            std::env::var("AWS_LAMBDA_RUNTIME_API").map_err(|_| RuntimeError::NoEndpoint)?;
        let base = endpoint(&address)?;
        let client = Client::builder().with_endpoint(base).build().map_err(|e| {
            RuntimeError::Unreachable {
                path: String::new(),
                source: e.into_inner(),
            }
        })?;
        Ok(Self { client })
    }

    async fn send(
        &self,
        method: Method,
        path: String,
        error_type: Option<&str>,
        body: Body,
    ) -> Result<(http::response::Parts, bytes::Bytes), RuntimeError> {
        let mut request = build_request().method(method).uri(path.as_str());
        if let Some(error_type) = error_type {
            request = request.header(ERROR_TYPE_HEADER, error_type);
        }
        let request = request.body(body).map_err(|e| RuntimeError::Unreachable {
            path: path.clone(),
            source: e.into(),
        })?;
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
            });
        }
        Ok((parts, body))
    }

    /// Wait for the next invocation.
    pub async fn next(&self) -> Result<Invocation, RuntimeError> {
        let (parts, body) = self
            .send(Method::GET, next_path(), None, Body::empty())
            .await?;
        Ok(Invocation {
            request_id: request_id(&parts.headers)?,
            body,
        })
    }

    pub async fn respond(&self, request_id: &str, document: Vec<u8>) -> Result<(), RuntimeError> {
        self.send(
            Method::POST,
            response_path(request_id),
            None,
            Body::from(document),
        )
        .await
        .map(drop)
    }

    pub async fn fail(
        &self,
        request_id: &str,
        error_type: &str,
        message: &str,
    ) -> Result<(), RuntimeError> {
        self.send(
            Method::POST,
            error_path(request_id),
            Some(error_type),
            Body::from(error_document(error_type, message)),
        )
        .await
        .map(drop)
    }

    /// Tell Lambda the function could not start, so the reason shows in its logs and console.
    pub async fn init_failed(&self, error_type: &str, message: &str) -> Result<(), RuntimeError> {
        self.send(
            Method::POST,
            init_error_path(),
            Some(error_type),
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
            match serde_json::from_slice::<LambdaFunctionUrlRequest>(&invocation.body) {
                Ok(event) => {
                    let response = handler(event).await;
                    // A response of strings and numbers always serialises.
                    let document = serde_json::to_vec(&response).unwrap_or_default();
                    self.respond(&invocation.request_id, document).await?;
                }
                Err(e) => {
                    // Not a function URL event: someone invoked the function directly.
                    tracing::error!(request_id = %invocation.request_id, error = %e, "the invocation is not a function URL event");
                    let message = format!(
                        "the event is not a Lambda function URL request ({e}); invoke this function through its function URL"
                    );
                    self.fail(&invocation.request_id, "Runtime.InvalidEvent", &message)
                        .await?;
                }
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
                matches!(request_id(&headers(bad)), Err(RuntimeError::NoRequestId)),
                "{bad:?} accepted"
            );
        }
        assert!(matches!(
            request_id(&HeaderMap::new()),
            Err(RuntimeError::NoRequestId)
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
