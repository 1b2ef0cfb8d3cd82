//! `ebhook dev`: the handler as a local HTTP server with function URL semantics. Each request
//! becomes the event Lambda would deliver and goes through the handler's own pipeline, so the
//! answers are the deployed function's. Accepted events are printed as PutEvents entries (one
//! JSON line each) or, with `--event-bus`, really put on that bus.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::Args;
use ebhook_handler::Provider;
use ebhook_handler::config::{self, Config};
use ebhook_handler::handler::{Pipeline, forwarder};
use ebhook_handler::local::{
    Local, LocalRequest, Response as LambdaResponse, function_url_event, put_events_entry,
};
use ebhook_handler::request::Rejection;
use ebhook_handler::secret_store::SecretStore;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::cli::{ProviderArg, SchemeArgs};
use crate::commands::common::AwsArgs;
use crate::error::Error;
use crate::secret_input::{self, SecretArgs, SecretError};

/// The bus named in printed entries when events are not forwarded.
const DEFAULT_BUS: &str = "default";

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
    #[command(flatten)]
    pub scheme: SchemeArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
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

    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        eprintln!("accept failed: {e}");
                        continue;
                    }
                };
                let server = Arc::clone(&local);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let server = Arc::clone(&server);
                        async move { Ok::<_, std::convert::Infallible>(server.serve(request, peer).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
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
}

impl Server {
    async fn serve(&self, request: Request<Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
        let max = self.local.pipeline.config().max_body_bytes;
        let (parts, body) = request.into_parts();
        // One byte over the limit is enough for the pipeline to answer 413 as Lambda would.
        let body = match Limited::new(body, max.saturating_add(1)).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                eprintln!(
                    "{} {} -> 413 rejected (body_too_large)",
                    parts.method,
                    parts.uri.path()
                );
                return to_http(
                    Rejection::BodyTooLarge {
                        size: max.saturating_add(1),
                        limit: max,
                    }
                    .response(),
                );
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
