//! One invocation, start to finish: cheap checks, verification (with one re-read of a rotated
//! secret), mapping, forwarding, and one structured log line. Never panics, never a 500.

use std::time::{Duration, Instant};

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use aws_sdk_eventbridge::config::retry::RetryConfig;
use aws_sdk_eventbridge::config::timeout::TimeoutConfig;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::{Config, SecretSource};
use crate::event::map_delivery;
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
    config: Config,
    secrets: SecretStore,
    forwarder: Forwarder,
}

/// What one request did, for its log line.
#[derive(Default)]
struct Summary<'a> {
    delivery_id: Option<&'a str>,
    body_bytes: usize,
    detail_bytes: usize,
    entries: usize,
    secret: Option<SecretSlot>,
    attempts: Attempts,
}

impl Handler {
    pub fn new(config: Config, sdk: &aws_config::SdkConfig) -> Result<Self, SetupError> {
        let bus = config.event_bus.clone().ok_or(SetupError::NoEventBus)?;
        // Retries are ours (see forward.rs); the SDK's would double them and ignore the budget.
        let eventbridge = aws_sdk_eventbridge::config::Builder::from(sdk)
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(1))
                    .build(),
            )
            .build();
        if matches!(config.secret, SecretSource::Missing) {
            tracing::error!(
                provider = %config.provider,
                "no signing secret is configured (EBHOOK_SECRET_ARN): every request will be rejected until one is set with `ebhook rotate-secret`"
            );
        }
        Ok(Self {
            secrets: SecretStore::new(&config, sdk),
            forwarder: Forwarder::new(
                aws_sdk_eventbridge::Client::from_conf(eventbridge),
                bus,
                config.forward_budget,
            ),
            config,
        })
    }

    /// Read the secret ahead of the first request (at cold start).
    pub async fn warm_up(&self) {
        if let Err(e) = self.secrets.get().await {
            tracing::warn!(error = %e, "could not read the signing secret at start; will retry on the first request");
        }
    }

    pub async fn handle(&self, event: &LambdaFunctionUrlRequest) -> LambdaFunctionUrlResponse {
        let started = Instant::now();
        let mut summary = Summary::default();
        let result = self.process(event, &mut summary).await;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let provider = self.config.provider.as_str();
        let secret = summary.secret.map(SecretSlot::as_str);
        match result {
            Ok(ids) => {
                tracing::info!(
                    outcome = "accepted",
                    status = 200,
                    provider,
                    delivery_id = summary.delivery_id,
                    body_bytes = summary.body_bytes,
                    detail_bytes = summary.detail_bytes,
                    entries = summary.entries,
                    secret,
                    attempts = summary.attempts.0,
                    latency_ms,
                );
                accepted(self.config.provider, &ids)
            }
            Err(rejection) => {
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
        let config = &self.config;
        let inbound = Inbound::from_function_url(event, config.provider, config.max_body_bytes)?;
        summary.delivery_id = inbound.delivery_id(config.provider);
        summary.body_bytes = inbound.body.len();

        let now = OffsetDateTime::now_utc();
        let base_url = inbound.base_url(config.public_base_url.as_deref());
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
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        self.forwarder
            .put(&entries, &mut summary.attempts)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "could not put the event on the bus");
                Rejection::Unavailable {
                    reason: e.category(),
                }
            })
    }
}
