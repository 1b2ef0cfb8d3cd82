//! `ebhook dev`: the handler as a local HTTP server with function URL semantics. Each request
//! becomes the event Lambda would deliver and goes through the handler's own pipeline, so the
//! answers are the deployed function's. Accepted events are printed as PutEvents entries (one
//! JSON line each) or, with `--event-bus`, really put on that bus.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use clap::Args;
use ebhook_handler::Provider;
use ebhook_handler::config::{self, Config};
use ebhook_handler::handler::{Pipeline, forwarder};
use ebhook_handler::local::{
    ACCEPT_BACKOFF_MAX, AcceptBackoff, BodyRefusal, Local, LocalRequest,
    Response as LambdaResponse, function_url_event, put_events_entry,
};
use ebhook_handler::secret_store::SecretStore;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body as _, Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::cli::{ProviderArg, SchemeArgs};
use crate::commands::common::AwsArgs;
use crate::error::Error;
use crate::secret_input::{self, SecretArgs, SecretError};

/// The bus named in printed entries when events are not forwarded.
const DEFAULT_BUS: &str = "default";

/// Out of file descriptors: this process's (EMFILE) or the system's (ENFILE), as Linux and
/// macOS number them.
const EMFILE: i32 = 24;
const ENFILE: i32 = 23;

#[derive(Debug, Args)]
pub struct DevArgs {
    /// The webhook provider whose signatures to check.
    #[arg(long, value_enum)]
    pub provider: ProviderArg,
    /// Port to listen on (0 picks a free one; the real port is printed).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on. Anything but loopback exposes the server to your network.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    #[command(flatten)]
    pub secret: SecretArgs,
    /// Put accepted events on this event bus (name or ARN) instead of printing them.
    #[arg(long)]
    pub event_bus: Option<String>,
    /// The public URL (https://host[/prefix]) the provider calls when a tunnel forwards to this
    /// server; Twilio signs the URL it called. Default: http://<Host header>.
    #[arg(long)]
    pub public_base_url: Option<String>,
    /// Close a connection whose request headers are not complete this long after it opened
    /// or after its last answer (1s, 500ms, ...).
    #[arg(long, default_value = "10s", value_parser = positive_duration)]
    pub header_timeout: Duration,
    /// Answer 408 and close the connection when a request body is not complete this long
    /// after its headers.
    #[arg(long, default_value = "30s", value_parser = positive_duration)]
    pub body_timeout: Duration,
    /// Connections served at once; further ones wait until one closes.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    #[command(flatten)]
    pub scheme: SchemeArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// A duration for a timeout flag: humantime's syntax, and more than zero, as a zero timeout
/// would refuse every request.
fn positive_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(d) if d.is_zero() => Err("must be more than zero (e.g. 10s)".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(format!("{e} (write e.g. 10s or 500ms)")),
    }
}

/// The handler configuration: the handler's own EBHOOK_* variables (source, tolerance,
/// limits) apply, except where the secret and the bus come from, which the flags decide.
fn handler_config(args: &DevArgs) -> Result<Config, Error> {
    let mut vars: HashMap<String, String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("EBHOOK_"))
        .filter(|(k, _)| {
            ![config::SECRET, config::SECRET_ARN, config::EVENT_BUS].contains(&k.as_str())
        })
        .collect();
    vars.insert(
        config::PROVIDER.into(),
        Provider::from(args.provider).as_str().into(),
    );
    if let Some(description) = args.scheme.description() {
        vars.insert(config::PROVIDER_SCHEME.into(), description);
    }
    if let Some(bus) = &args.event_bus {
        vars.insert(config::EVENT_BUS.into(), bus.clone());
    }
    if let Some(url) = &args.public_base_url {
        vars.insert(config::PUBLIC_BASE_URL.into(), url.clone());
    }
    Config::from_map(&vars).map_err(Error::HandlerConfig)
}

pub async fn run(args: DevArgs) -> Result<(), Error> {
    let Some(secret) = args.secret.read()? else {
        return Err(SecretError::NotGiven("--secret-env NAME or --secret-stdin").into());
    };
    let secrets = secret_input::secret_set(&secret)?;
    drop(secret);
    let config = handler_config(&args)?;
    let forwarder = match &args.event_bus {
        Some(bus) => {
            let aws = args.aws.connect().await?;
            Some(forwarder(&aws.config, bus.clone(), config.forward_budget))
        }
        None => None,
    };
    let bus = args.event_bus.clone().unwrap_or_else(|| DEFAULT_BUS.into());
    let local = Arc::new(Server {
        local: Local {
            pipeline: Pipeline::new(config, SecretStore::fixed(secrets)).plain_http(),
            forwarder,
        },
        bus,
        printing: args.event_bus.is_none(),
        counter: AtomicU64::new(0),
        body_timeout: args.body_timeout,
    });

    let listener = TcpListener::bind(SocketAddr::new(args.bind, args.port))
        .await
        .map_err(|source| Error::Listen {
            address: SocketAddr::new(args.bind, args.port).to_string(),
            source,
        })?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::io("reading the address the server listens on", e))?;
    let shown = match address {
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
        SocketAddr::V4(a) => a.to_string(),
    };
    eprintln!("Listening on http://{shown}");
    eprintln!(
        "{} webhooks: accepted events are {}. Ctrl-C to stop.",
        Provider::from(args.provider),
        match &args.event_bus {
            Some(bus) => format!("put on the event bus {bus}"),
            None => "printed as PutEvents entries (one JSON line each)".into(),
        }
    );

    let mut http = hyper::server::conn::http1::Builder::new();
    // hyper's own header timeout covers a connection from when it opens, and from each answer
    // to the next request, until the headers are complete; it needs a timer to run.
    http.timer(TokioTimer::new())
        .header_read_timeout(args.header_timeout);
    let header_timeout = args.header_timeout;
    // Permits are taken before accepting: connections beyond the cap wait in the kernel's
    // accept queue, costing this process no descriptor and no memory.
    let permits = Arc::new(Semaphore::new(args.max_connections as usize));
    let mut backoff = AcceptBackoff::default();

    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                // Never closed; if it were, no connection could be served.
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                let (delay, first) = backoff.failed();
                if first {
                    let hint = if cfg!(unix) && matches!(e.raw_os_error(), Some(EMFILE | ENFILE)) {
                        "; raise the limit of open files (`ulimit -n`) or lower --max-connections"
                    } else {
                        ""
                    };
                    eprintln!(
                        "cannot accept connections: {e}{hint}. Retrying, at most {}s apart, \
                         until it works.",
                        ACCEPT_BACKOFF_MAX.as_secs()
                    );
                }
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(delay) => continue,
                }
            }
        };
        let failures = backoff.succeeded();
        if failures > 0 {
            eprintln!("accepting connections again after {failures} failed attempt(s)");
        }
        let server = Arc::clone(&local);
        let http = http.clone();
        tokio::spawn(async move {
            // Held while the connection lives: its share of --max-connections.
            let _permit = permit;
            // hyper's header timeout also closes a kept-alive connection left idle after its
            // answers, which is normal client behaviour: only a connection that never sent a
            // whole request is worth a line.
            let served = Arc::new(AtomicBool::new(false));
            let seen = Arc::clone(&served);
            let service = hyper::service::service_fn(move |request| {
                seen.store(true, Ordering::Relaxed);
                let server = Arc::clone(&server);
                async move { Ok::<_, std::convert::Infallible>(server.serve(request, peer).await) }
            });
            if let Err(e) = http.serve_connection(TokioIo::new(stream), service).await
                && e.is_timeout()
                && !served.load(Ordering::Relaxed)
            {
                eprintln!(
                    "{peer}: connection closed: no complete request headers within {}s \
                     (--header-timeout)",
                    header_timeout.as_secs_f64()
                );
            }
        });
    }
    eprintln!("Stopped.");
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

struct Server {
    local: Local,
    bus: String,
    printing: bool,
    counter: AtomicU64,
    body_timeout: Duration,
}

impl Server {
    async fn serve(&self, request: Request<Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
        let max = self.local.pipeline.config().max_body_bytes;
        let (parts, body) = request.into_parts();
        let body = match self.read_body(body, max).await {
            Ok(body) => body,
            Err(refusal) => {
                let detail = match &refusal {
                    BodyRefusal::Unreadable(reason) => format!(": {reason}"),
                    _ => String::new(),
                };
                eprintln!(
                    "{} {} -> {} rejected ({}){detail}",
                    parts.method,
                    parts.uri.path(),
                    refusal.status(),
                    refusal.category()
                );
                return to_http(refusal.response());
            }
        };
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let request_id = format!("local-{n}");
        let local_request = LocalRequest {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers: &parts.headers,
            body: &body,
            source_ip: Some(peer.ip().to_string()),
        };
        let event = function_url_event(&local_request, &request_id);
        let outcome = self.local.handle(&event).await;
        let provider = self.local.pipeline.config().provider;
        let delivery = outcome
            .delivery_id
            .as_deref()
            .map(|d| format!(" delivery {d}"))
            .unwrap_or_default();
        match outcome.rejection {
            Some((status, reason)) => {
                let outcome = if status >= 500 { "failed" } else { "rejected" };
                eprintln!(
                    "{} {} -> {status} {outcome} ({reason}){delivery}",
                    parts.method,
                    parts.uri.path()
                );
            }
            None => {
                if self.printing {
                    use std::io::Write;
                    let mut out = std::io::stdout().lock();
                    for entry in &outcome.entries {
                        let _ = writeln!(out, "{}", put_events_entry(entry, &self.bus));
                    }
                    let _ = out.flush();
                }
                eprintln!(
                    "{} {} -> 200 accepted: {provider} {} event(s){delivery}{}",
                    parts.method,
                    parts.uri.path(),
                    outcome.entries.len(),
                    if self.printing {
                        String::new()
                    } else {
                        format!(" put on {} as {}", self.bus, outcome.event_ids.join(","))
                    }
                );
            }
        }
        to_http(outcome.response)
    }

    /// The whole body, at most one byte over `max` (enough for the pipeline to answer 413 as
    /// Lambda would), or why it is refused before the pipeline sees it.
    async fn read_body(&self, body: Incoming, max: usize) -> Result<Bytes, BodyRefusal> {
        // A Content-Length over the limit is refused before a byte of the body is read.
        if body.size_hint().lower() > u64::try_from(max).unwrap_or(u64::MAX) {
            return Err(BodyRefusal::TooLarge { limit: max });
        }
        let read = Limited::new(body, max.saturating_add(1)).collect();
        match tokio::time::timeout(self.body_timeout, read).await {
            Ok(Ok(collected)) => Ok(collected.to_bytes()),
            Ok(Err(e)) if e.is::<LengthLimitError>() => Err(BodyRefusal::TooLarge { limit: max }),
            Ok(Err(e)) => Err(BodyRefusal::Unreadable(error_chain(e.as_ref()))),
            Err(_) => Err(BodyRefusal::Timeout {
                after: self.body_timeout,
            }),
        }
    }
}

/// An error and its causes, as one line ("error reading a body from connection: Invalid chunk
/// size line: Invalid Size"): hyper puts the useful part in the source.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Accept errors that concern one connection only (it was reset before it was accepted):
/// nothing to wait for before accepting the next.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    )
}

fn to_http(lambda: LambdaResponse) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(lambda.body.unwrap_or_default())));
    *response.status_mut() = u16::try_from(lambda.status_code)
        .ok()
        .and_then(|s| hyper::StatusCode::from_u16(s).ok())
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    *response.headers_mut() = lambda.headers;
    response
}
