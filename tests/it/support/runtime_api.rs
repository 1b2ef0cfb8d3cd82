//! An emulator of the Lambda Runtime API (version 2018-06-01), the HTTP API a
//! `provided.al2023` runtime polls for invocations and answers.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::{AbortHandle, JoinSet};

use super::process::lock;

pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:ebhook-test";
/// How long [`RuntimeApi::invoke`] waits for the function's answer.
pub const INVOKE_TIMEOUT: Duration = Duration::from_secs(30);
/// The time an invocation has, from when `/next` hands it out.
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(30);
const PREFIX: &str = "/2018-06-01/runtime/";

/// Why an invocation gave no response.
#[derive(Debug, Clone, PartialEq)]
pub enum InvocationError {
    /// The function posted to `/invocation/{id}/error`.
    Function {
        request_id: String,
        /// The `Lambda-Runtime-Function-Error-Type` header, if sent.
        error_type: Option<String>,
        /// The error document as posted (normally `{"errorType", "errorMessage"}`).
        body: String,
    },
    /// The runtime posted to `/init/error` (the error document as posted).
    Init(String),
    /// No answer within the timeout.
    Timeout {
        request_id: String,
        after: Duration,
        /// Whether a `/next` poll had taken the invocation.
        picked_up: bool,
        init_error: Option<String>,
    },
    /// The posted response was not JSON.
    InvalidResponse { request_id: String, body: String },
    /// The emulator is shutting down.
    Shutdown,
}

impl fmt::Display for InvocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Function {
                request_id,
                error_type,
                body,
            } => write!(
                f,
                "invocation {request_id} failed ({}): {body}",
                error_type.as_deref().unwrap_or("no error type")
            ),
            Self::Init(error) => write!(f, "the runtime failed to initialise: {error}"),
            Self::Timeout {
                request_id,
                after,
                picked_up,
                init_error,
            } => {
                write!(
                    f,
                    "invocation {request_id} got no response within {after:?}"
                )?;
                if !picked_up {
                    write!(f, "; the runtime never polled /next for it")?;
                }
                match init_error {
                    Some(error) => write!(f, "; init error: {error}"),
                    None => write!(f, "; no init error was reported"),
                }
            }
            Self::InvalidResponse { request_id, body } => {
                write!(
                    f,
                    "invocation {request_id} responded with non-JSON: {body:?}"
                )
            }
            Self::Shutdown => write!(f, "the Runtime API emulator shut down"),
        }
    }
}

impl std::error::Error for InvocationError {}

type Outcome = Result<Value, InvocationError>;

struct Queued {
    request_id: String,
    event: Bytes,
}

struct Pending {
    reply: oneshot::Sender<Outcome>,
    picked_up: bool,
}

#[derive(Default)]
struct State {
    first_next_at: Option<Instant>,
    init_error: Option<String>,
    pending: HashMap<String, Pending>,
}

struct Shared {
    state: Mutex<State>,
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
}

/// A Runtime API server on 127.0.0.1; dropping it shuts the server down.
pub struct RuntimeApi {
    address: String,
    shared: Arc<Shared>,
    queue: mpsc::UnboundedSender<Queued>,
    server: AbortHandle,
}

impl RuntimeApi {
    /// Starts the server on a free port.
    pub async fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the Runtime API emulator to 127.0.0.1");
        let address = listener.local_addr().expect("local address").to_string();
        let (queue, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            queue: tokio::sync::Mutex::new(receiver),
        });
        let server = tokio::spawn(serve(listener, Arc::clone(&shared))).abort_handle();
        RuntimeApi {
            address,
            shared,
            queue,
            server,
        }
    }

    /// `127.0.0.1:PORT`, the form of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.address.clone()
    }

    /// Queues `event` for the runtime and waits up to [`INVOKE_TIMEOUT`] for
    /// the function's response.
    pub async fn invoke(&self, event: Value) -> Result<Value, InvocationError> {
        self.invoke_with_timeout(event, INVOKE_TIMEOUT).await
    }

    /// [`invoke`](Self::invoke) with another timeout.
    pub async fn invoke_with_timeout(
        &self,
        event: Value,
        timeout: Duration,
    ) -> Result<Value, InvocationError> {
        let request_id = new_request_id();
        let (reply, outcome) = oneshot::channel();
        {
            let mut state = lock(&self.shared.state);
            if let Some(error) = &state.init_error {
                return Err(InvocationError::Init(error.clone()));
            }
            state.pending.insert(
                request_id.clone(),
                Pending {
                    reply,
                    picked_up: false,
                },
            );
        }
        let event = Bytes::from(serde_json::to_vec(&event).expect("serialise the event"));
        let queued = Queued {
            request_id: request_id.clone(),
            event,
        };
        if self.queue.send(queued).is_err() {
            lock(&self.shared.state).pending.remove(&request_id);
            return Err(InvocationError::Shutdown);
        }
        match tokio::time::timeout(timeout, outcome).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err(InvocationError::Shutdown),
            Err(_) => {
                let mut state = lock(&self.shared.state);
                let picked_up = state
                    .pending
                    .remove(&request_id)
                    .is_some_and(|pending| pending.picked_up);
                Err(InvocationError::Timeout {
                    request_id,
                    after: timeout,
                    picked_up,
                    init_error: state.init_error.clone(),
                })
            }
        }
    }

    /// When the first `/next` poll arrived (the end of the runtime's cold start).
    pub fn first_next_at(&self) -> Option<Instant> {
        lock(&self.shared.state).first_next_at
    }

    /// The error document the runtime posted to `/init/error`, if any.
    pub fn init_error(&self) -> Option<String> {
        lock(&self.shared.state).init_error.clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

static SEQUENCE: AtomicU64 = AtomicU64::new(1);

fn new_request_id() -> String {
    let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:08x}-{:04x}-4000-8000-{n:012x}",
        std::process::id(),
        n >> 48
    )
}

fn epoch_millis(at: SystemTime) -> u128 {
    at.duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis()
}

/// Accepts connections until aborted; aborting also drops (and so aborts)
/// every connection task.
async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let shared = Arc::clone(&shared);
                    connections.spawn(async move {
                        let service = service_fn(move |request| {
                            let shared = Arc::clone(&shared);
                            async move { Ok::<_, Infallible>(route(&shared, request).await) }
                        });
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                // E.g. out of file descriptors: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn route(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return error(StatusCode::NOT_FOUND, "UnknownPath", &path);
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let method = request.method().clone();
    match (method, segments.as_slice()) {
        (Method::GET, ["invocation", "next"]) => next(shared).await,
        (Method::POST, ["invocation", id, "response"]) => {
            let id = (*id).to_owned();
            let body = read_body(request).await;
            respond(shared, &id, body)
        }
        (Method::POST, ["invocation", id, "error"]) => {
            let id = (*id).to_owned();
            let error_type = error_type(&request);
            let body = read_body(request).await;
            let outcome = Err(InvocationError::Function {
                request_id: id.clone(),
                error_type,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            complete(shared, &id, outcome)
        }
        (Method::POST, ["init", "error"]) => {
            let error_type = error_type(&request);
            let body = read_body(request).await;
            let mut document = String::from_utf8_lossy(&body).into_owned();
            if document.trim().is_empty() {
                document = error_type.unwrap_or_else(|| "(empty init error)".to_owned());
            }
            let waiting: Vec<Pending> = {
                let mut state = lock(&shared.state);
                state.init_error = Some(document.clone());
                state.pending.drain().map(|(_, pending)| pending).collect()
            };
            for pending in waiting {
                let _ = pending
                    .reply
                    .send(Err(InvocationError::Init(document.clone())));
            }
            accepted()
        }
        (
            _,
            ["invocation", "next"] | ["invocation", _, "response" | "error"] | ["init", "error"],
        ) => error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", &path),
        _ => error(StatusCode::NOT_FOUND, "UnknownPath", &path),
    }
}

/// Long-polls until an invocation is queued, then hands it out.
async fn next(shared: &Shared) -> Response<Full<Bytes>> {
    lock(&shared.state)
        .first_next_at
        .get_or_insert_with(Instant::now);
    let mut queue = shared.queue.lock().await;
    loop {
        let Some(queued) = queue.recv().await else {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Shutdown",
                "the emulator is shutting down",
            );
        };
        // Skip invocations whose caller already gave up.
        match lock(&shared.state).pending.get_mut(&queued.request_id) {
            Some(pending) => pending.picked_up = true,
            None => continue,
        }
        let deadline = epoch_millis(SystemTime::now() + FUNCTION_TIMEOUT);
        let trace_id = format!(
            "Root=1-{:08x}-{:024x};Parent={:016x};Sampled=0",
            epoch_millis(SystemTime::now()) / 1000,
            SEQUENCE.load(Ordering::Relaxed),
            std::process::id()
        );
        return Response::builder()
            .status(StatusCode::OK)
            .header(CONTENT_TYPE, "application/json")
            .header("Lambda-Runtime-Aws-Request-Id", &queued.request_id)
            .header("Lambda-Runtime-Deadline-Ms", deadline.to_string())
            .header("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN)
            .header("Lambda-Runtime-Trace-Id", trace_id)
            .body(Full::new(queued.event))
            .expect("valid /next response");
    }
}

fn respond(shared: &Shared, id: &str, body: Bytes) -> Response<Full<Bytes>> {
    let outcome = serde_json::from_slice(&body).map_err(|_| InvocationError::InvalidResponse {
        request_id: id.to_owned(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    complete(shared, id, outcome)
}

fn complete(shared: &Shared, id: &str, outcome: Outcome) -> Response<Full<Bytes>> {
    let pending = lock(&shared.state).pending.remove(id);
    match pending {
        Some(pending) => {
            let _ = pending.reply.send(outcome);
            accepted()
        }
        None => error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            &format!("no invocation {id} is waiting for an answer"),
        ),
    }
}

fn error_type(request: &Request<Incoming>) -> Option<String> {
    request
        .headers()
        .get("Lambda-Runtime-Function-Error-Type")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

async fn read_body(request: Request<Incoming>) -> Bytes {
    match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    }
}

fn accepted() -> Response<Full<Bytes>> {
    json_response(StatusCode::ACCEPTED, &json!({ "status": "OK" }))
}

fn error(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    json_response(
        status,
        &json!({ "errorType": error_type, "errorMessage": message }),
    )
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("valid response")
}
