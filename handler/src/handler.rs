//! One invocation, start to finish: cheap checks, verification (with one re-read of a rotated
//! secret), mapping, forwarding, and one structured log line. Never panics, never a 500.
//!
//! The verify-and-map half is [`Pipeline`], shared with `ebhook dev`, which runs the same
//! checks locally and prints or forwards what Lambda would put on the bus.

use std::time::{Duration, Instant};

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use aws_sdk_eventbridge::config::retry::RetryConfig;
use aws_sdk_eventbridge::config::timeout::TimeoutConfig;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::{Config, SecretSource};
use crate::event::{Entry, map_delivery};
use crate::forward::{Attempts, Forwarder};
use crate::request::{Inbound, Rejection, accepted};
use crate::secret_store::SecretStore;
use crate::secrets::SecretSlot;
use crate::verify::{VerifyError, verify};

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "EBHOOK_EVENT_BUS is not set: set it to the name or ARN of the event bus to forward to"
    )]
    NoEventBus,
}

pub struct Handler {
    pipeline: Pipeline,
    forwarder: Forwarder,
}

/// What one request did, for its log line.
#[derive(Default)]
pub struct Summary<'a> {
    pub delivery_id: Option<&'a str>,
    pub body_bytes: usize,
    pub detail_bytes: usize,
    pub entries: usize,
    pub secret: Option<SecretSlot>,
    pub attempts: Attempts,
}

/// A forwarder for `bus` with the handler's settings: no SDK retries (the forwarder's own
/// loop has the budget), and a short connect timeout.
pub fn forwarder(sdk: &aws_config::SdkConfig, bus: String, budget: Duration) -> Forwarder {
    // Retries are ours (see forward.rs); the SDK's would double them and ignore the budget.
    let eventbridge = aws_sdk_eventbridge::config::Builder::from(sdk)
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .build(),
        )
        .build();
    Forwarder::new(
        aws_sdk_eventbridge::Client::from_conf(eventbridge),
        bus,
        budget,
    )
}

/// The checks and the mapping, without forwarding: a request in, the entries it maps to (or
/// why it is refused) out.
pub struct Pipeline {
    config: Config,
    secrets: SecretStore,
    /// The scheme of the URL the provider called when no public base URL is configured:
    /// `https` for function URLs, `http` for a local server.
    scheme: &'static str,
}

impl Pipeline {
    pub fn new(config: Config, secrets: SecretStore) -> Self {
        Self {
            config,
            secrets,
            scheme: "https",
        }
    }

    /// Rebuild the signed URL as `http://<host>` (a local server) unless a public base URL is
    /// configured.
    pub fn plain_http(mut self) -> Self {
        self.scheme = "http";
        self
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Read the secret ahead of the first request.
    pub async fn warm_up(&self) {
        if let Err(e) = self.secrets.get().await {
            tracing::warn!(error = %e, "could not read the signing secret at start; will retry on the first request");
        }
    }

    /// Check, verify and map one request: the entries to put on the bus.
    pub async fn entries<'e>(
        &self,
        event: &'e LambdaFunctionUrlRequest,
        summary: &mut Summary<'e>,
    ) -> Result<Vec<Entry>, Rejection> {
        let config = &self.config;
        let inbound = Inbound::from_function_url(event, config.provider, config.max_body_bytes)?;
        summary.delivery_id = inbound.delivery_id(config.provider);
        summary.body_bytes = inbound.body.len();

        let now = OffsetDateTime::now_utc();
        let base_url = inbound.base_url(self.scheme, config.public_base_url.as_deref());
        let signed = inbound.signed(&base_url);
        let secrets = self.secrets.get().await.map_err(|e| {
            tracing::error!(error = %e, "signing secret unavailable");
            Rejection::Unavailable {
                reason: "secret_unavailable",
            }
        })?;
        let verified = match verify(config.provider, &signed, &secrets, &config.verify, now) {
            Err(e) if e.may_be_stale_secret() => match self.secrets.refetch().await {
                // The secret may have been rotated since it was cached.
                Some(fresh) => verify(config.provider, &signed, &fresh, &config.verify, now),
                None => Err(e),
            },
            other => other,
        };
        summary.secret = Some(verified.map_err(|e| {
            if e == VerifyError::NoSecret {
                tracing::error!(
                    "no signing secret is set: rejecting; set one with `ebhook rotate-secret`"
                );
            }
            Rejection::Unauthorized(e)
        })?);

        let received_at = now.format(&Rfc3339).unwrap_or_default();
        let entries = map_delivery(
            &inbound.delivery(config.provider, &received_at),
            &config.events,
        )?;
        summary.entries = entries.len();
        summary.detail_bytes = entries.iter().map(|e| e.detail.len()).sum();
        Ok(entries)
    }
}

impl Handler {
    pub fn new(config: Config, sdk: &aws_config::SdkConfig) -> Result<Self, SetupError> {
        let bus = config.event_bus.clone().ok_or(SetupError::NoEventBus)?;
        if matches!(config.secret, SecretSource::Missing) {
            tracing::error!(
                provider = %config.provider,
                "no signing secret is configured (EBHOOK_SECRET_ARN): every request will be rejected until one is set with `ebhook rotate-secret`"
            );
        }
        let secrets = SecretStore::new(&config, sdk);
        let forwarder = forwarder(sdk, bus, config.forward_budget);
        Ok(Self {
            pipeline: Pipeline::new(config, secrets),
            forwarder,
        })
    }

    /// Read the secret ahead of the first request (at cold start).
    pub async fn warm_up(&self) {
        self.pipeline.warm_up().await;
    }

    pub async fn handle(&self, event: &LambdaFunctionUrlRequest) -> LambdaFunctionUrlResponse {
        let started = Instant::now();
        let mut summary = Summary::default();
        let result = self.process(event, &mut summary).await;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let provider = self.pipeline.config.provider;
        let secret = summary.secret.map(SecretSlot::as_str);
        match result {
            Ok(ids) => {
                tracing::info!(
                    outcome = "accepted",
                    status = 200,
                    provider = provider.as_str(),
                    delivery_id = summary.delivery_id,
                    body_bytes = summary.body_bytes,
                    detail_bytes = summary.detail_bytes,
                    entries = summary.entries,
                    secret,
                    attempts = summary.attempts.0,
                    latency_ms,
                );
                accepted(provider, &ids)
            }
            Err(rejection) => {
                let provider = provider.as_str();
                let status = rejection.status();
                let reason = rejection.category();
                if status >= 500 {
                    tracing::error!(
                        outcome = "failed",
                        status,
                        reason,
                        provider,
                        delivery_id = summary.delivery_id,
                        body_bytes = summary.body_bytes,
                        entries = summary.entries,
                        attempts = summary.attempts.0,
                        latency_ms
                    );
                } else {
                    tracing::warn!(
                        outcome = "rejected",
                        status,
                        reason,
                        provider,
                        delivery_id = summary.delivery_id,
                        body_bytes = summary.body_bytes,
                        latency_ms
                    );
                }
                rejection.response()
            }
        }
    }

    async fn process<'e>(
        &self,
        event: &'e LambdaFunctionUrlRequest,
        summary: &mut Summary<'e>,
    ) -> Result<Vec<String>, Rejection> {
        let entries = self.pipeline.entries(event, summary).await?;
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        put(&self.forwarder, &entries, &mut summary.attempts).await
    }
}

/// Put `entries` with `forwarder`, as a rejection (503) if the bus cannot take them.
pub async fn put(
    forwarder: &Forwarder,
    entries: &[Entry],
    attempts: &mut Attempts,
) -> Result<Vec<String>, Rejection> {
    forwarder.put(entries, attempts).await.map_err(|e| {
        tracing::error!(error = %e, "could not put the event on the bus");
        Rejection::Unavailable {
            reason: e.category(),
        }
    })
}
