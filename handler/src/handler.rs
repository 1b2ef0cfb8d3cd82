//! One invocation, start to finish: cheap checks, verification (with one re-read of a rotated
//! secret), mapping, forwarding, and one log line that is also the delivery's metrics
//! ([`crate::metrics`]). Never panics, never a 500.
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

use crate::capture::{Capture, sha256};
use crate::config::{Config, SecretSource};
use crate::dead_letter::{Body, Record, RecordEntry, VERSION};
#[cfg(feature = "dedupe")]
use crate::dedupe::{Claim, Dedupe, Finish};
use crate::event::{
    Entry, MapError, StoredPayload, check_sizes, pointer_entry, stored_payload_key,
};
use crate::forward::{Attempts, Forwarder, Unforwarded};
use crate::metrics::{DeliveryLine, Outcome, PutStats};
use crate::request::{Inbound, Rejection, Reply, accepted, duplicate, queued};
use crate::secret_store::SecretStore;
use crate::secrets::SecretSlot;
use crate::verify::VerifyError;

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
    capture: Capture,
    bus: String,
    #[cfg(feature = "dedupe")]
    dedupe: Option<Dedupe>,
}

/// What one request did, for its log line.
#[derive(Default)]
pub struct Summary<'a> {
    pub delivery_id: Option<&'a str>,
    pub body_bytes: usize,
    pub entries: usize,
    pub secret: Option<SecretSlot>,
    pub attempts: Attempts,
    /// The body went to the payload bucket and a pointer event to the bus.
    pub stored: bool,
    /// Hex SHA-256 of the body, once its signature is verified.
    pub body_sha256: Option<String>,
    /// The first entry's DetailType.
    pub event: Option<String>,
    /// Set once PutEvents was called.
    pub put: Option<PutStats>,
}

/// A verified, mapped request, before anything is put anywhere.
pub struct Prepared<'e> {
    pub inbound: Inbound<'e>,
    pub received_at: String,
    pub entries: Vec<Entry>,
    /// Set when an entry is over the PutEvents limit.
    pub too_large: Option<MapError>,
    /// Set when the request is a handshake to answer, with nothing to put on the bus.
    pub handshake: Option<Reply>,
    /// Lower-case hex SHA-256 of the body as received.
    pub body_sha256: String,
    /// What the verified signature covered, and the signed timestamp as sent.
    pub signed: &'static [&'static str],
    pub signed_at: Option<String>,
}

/// How a delivery that passed every check ended.
pub enum Delivered {
    /// On the bus: the event ids.
    Accepted(Vec<String>),
    /// In the dead-letter queue (all of it, or the entries the bus did not take): the ids of
    /// any entries that did reach the bus.
    Queued(Vec<String>),
    /// A handshake, answered as the provider expects; nothing went on the bus.
    Answered(Reply),
    /// A copy of a delivery already on the bus or in the dead-letter queue: answered as a
    /// success, and not put again.
    Duplicate,
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

    /// Check, verify and map one request: the entries to put on the bus. An entry over the
    /// PutEvents limit is a rejection (413) here; [`Handler`] stores such bodies instead.
    pub async fn entries<'e>(
        &self,
        event: &'e LambdaFunctionUrlRequest,
        summary: &mut Summary<'e>,
    ) -> Result<Vec<Entry>, Rejection> {
        let prepared = self.prepare(event, summary).await?;
        match prepared.too_large {
            Some(e) => Err(e.into()),
            None => Ok(prepared.entries),
        }
    }

    /// Check, verify and map one request, keeping the request for what comes next.
    pub async fn prepare<'e>(
        &self,
        event: &'e LambdaFunctionUrlRequest,
        summary: &mut Summary<'e>,
    ) -> Result<Prepared<'e>, Rejection> {
        let config = &self.config;
        let provider = config.provider;
        let inbound = Inbound::from_function_url(event, provider.methods(), config.max_body_bytes)?;
        summary.delivery_id = provider
            .delivery_id_header()
            .and_then(|name| inbound.header(name));
        summary.body_bytes = inbound.body.len();
        provider.precheck(&inbound)?;

        let now = OffsetDateTime::now_utc();
        let base_url = inbound.base_url(self.scheme, config.public_base_url.as_deref());
        let signed = inbound.signed(&base_url);
        let secrets = self.secrets.get().await.map_err(|e| {
            tracing::error!(error = %e, "signing secret unavailable");
            Rejection::Unavailable {
                reason: "secret_unavailable",
            }
        })?;
        let (verified, secrets) = match provider.verify(&signed, &secrets, &config.verify, now) {
            Err(e) if e.may_be_stale_secret() => match self.secrets.refetch().await {
                // The secret may have been rotated since it was cached.
                Some(fresh) => (provider.verify(&signed, &fresh, &config.verify, now), fresh),
                None => (Err(e), secrets),
            },
            other => (other, secrets),
        };
        let slot = verified.map_err(|e| {
            if e == VerifyError::NoSecret {
                tracing::error!(
                    "no signing secret is set: rejecting; set one with `ebhook rotate-secret`"
                );
            }
            Rejection::Unauthorized(e)
        })?;
        summary.secret = Some(slot);
        let secret = secrets.get(slot).map(|s| s.as_bytes()).unwrap_or_default();
        let covered = provider.signed(&signed, secret);

        let body_sha256 = crate::event::sha256_hex(inbound.body.as_bytes());
        summary.body_sha256 = Some(body_sha256.clone());
        let (covers, signed_at) = (covered.covers, covered.at.map(str::to_owned));
        let received_at = crate::event::received_at(now);
        let delivery = inbound.delivery(
            provider.as_str(),
            provider.signs_query(),
            &received_at,
            &body_sha256,
            covered,
        );
        if let Some(reply) = provider.handshake(&delivery) {
            return Ok(Prepared {
                inbound,
                received_at,
                entries: Vec::new(),
                too_large: None,
                handshake: Some(reply),
                body_sha256,
                signed: covers,
                signed_at,
            });
        }
        let entries = provider.map(&delivery, &config.events)?;
        summary.entries = entries.len();
        summary.event = entries.first().map(|e| e.detail_type.clone());
        let too_large = check_sizes(&entries, &config.events).err();
        Ok(Prepared {
            inbound,
            received_at,
            entries,
            too_large,
            handshake: None,
            body_sha256,
            signed: covers,
            signed_at,
        })
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
        if config.dead_letter_queue_url.is_none() {
            tracing::warn!(
                "no dead-letter queue is configured (EBHOOK_DEAD_LETTER_QUEUE_URL): deliveries EventBridge refuses get 503 and rely on the provider's retries"
            );
        }
        let secrets = SecretStore::new(&config, sdk);
        let forwarder = forwarder(sdk, bus.clone(), config.forward_budget)
            .max_call_bytes(config.events.max_entry_bytes);
        let capture = Capture::new(&config, sdk);
        #[cfg(feature = "dedupe")]
        let dedupe = config
            .dedupe
            .clone()
            .map(|(table, window)| Dedupe::new(sdk, table, window));
        #[cfg(not(feature = "dedupe"))]
        if config.dedupe.is_some() {
            tracing::error!(
                "EBHOOK_DEDUPE_TABLE is set but this handler was built without dedupe: deliveries go on the bus without it; run `ebhook update-function` to deploy a build with it"
            );
        }
        Ok(Self {
            pipeline: Pipeline::new(config, secrets),
            forwarder,
            capture,
            bus,
            #[cfg(feature = "dedupe")]
            dedupe,
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
        let provider = self.pipeline.config.provider;
        let (outcome, reason, response) = match &result {
            Ok(Delivered::Accepted(ids)) => {
                let outcome = if summary.stored {
                    Outcome::Stored
                } else {
                    Outcome::Accepted
                };
                (outcome, None, accepted(provider.success_body(), ids))
            }
            Ok(Delivered::Queued(ids)) => (
                Outcome::DeadLettered,
                None,
                queued(provider.success_body(), ids),
            ),
            Ok(Delivered::Answered(reply)) => (Outcome::Answered, None, reply.response()),
            Ok(Delivered::Duplicate) => {
                (Outcome::Duplicate, None, duplicate(provider.success_body()))
            }
            Err(rejection) => (
                rejection.outcome(),
                Some(rejection.category()),
                rejection.response(),
            ),
        };
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let (timestamp, epoch_ms) = crate::metrics::timestamp_now();
        let line = DeliveryLine {
            timestamp: &timestamp,
            epoch_ms,
            stack: &self.pipeline.config.stack,
            outcome,
            provider: provider.as_str(),
            status: u16::try_from(response.status_code).unwrap_or_default(),
            reason,
            event: summary.event.as_deref(),
            delivery_id: summary.delivery_id,
            body_sha256: summary.body_sha256.as_deref(),
            body_bytes: summary.body_bytes,
            entries: summary.entries,
            secret: summary.secret.map(SecretSlot::as_str),
            latency_ms,
            put: summary.put,
        };
        // Whatever EBHOOK_LOG says: the metrics are made from this line.
        crate::logging::write_line(line.to_json());
        response
    }

    async fn process<'e>(
        &self,
        event: &'e LambdaFunctionUrlRequest,
        summary: &mut Summary<'e>,
    ) -> Result<Delivered, Rejection> {
        let mut prepared = self.pipeline.prepare(event, summary).await?;
        if let Some(reply) = prepared.handshake.take() {
            return Ok(Delivered::Answered(reply));
        }
        #[cfg(feature = "dedupe")]
        if let Some(dedupe) = &self.dedupe {
            return self.deliver_once(dedupe, &mut prepared, summary).await;
        }
        self.deliver(&mut prepared, summary).await
    }

    /// Deliver unless the dedupe table knows this delivery is already on the bus.
    #[cfg(feature = "dedupe")]
    async fn deliver_once<'e>(
        &self,
        dedupe: &Dedupe,
        prepared: &mut Prepared<'e>,
        summary: &mut Summary<'e>,
    ) -> Result<Delivered, Rejection> {
        let claimed = match self.claim(dedupe, prepared).await {
            None | Some(Claim::Unavailable) => return self.deliver(prepared, summary).await,
            Some(Claim::Duplicate) => return Ok(Delivered::Duplicate),
            Some(Claim::InFlight) => {
                return Err(Rejection::Unavailable {
                    reason: "duplicate_in_flight",
                });
            }
            Some(Claim::Claimed(claimed)) => claimed,
        };
        let result = self.deliver(prepared, summary).await;
        dedupe.finish(&claimed, finish_for(&result)).await;
        result
    }

    /// Claim the delivery in the dedupe table; `None` when it has no delivery id to dedupe on.
    #[cfg(feature = "dedupe")]
    async fn claim(&self, dedupe: &Dedupe, prepared: &Prepared<'_>) -> Option<Claim> {
        let provider = self.pipeline.config.provider;
        let id = prepared
            .entries
            .first()
            .and_then(|e| delivery_id(&e.metadata))?;
        let query = provider.signs_query().then_some(prepared.inbound.raw_query);
        let digest = crate::dedupe::signed_digest(&prepared.body_sha256, query);
        let key = crate::dedupe::key(provider.as_str(), &id, &digest);
        let now = OffsetDateTime::now_utc().unix_timestamp();
        Some(dedupe.claim(key, now).await)
    }

    /// Put the prepared entries on the bus (a pointer event for an oversized body), or keep
    /// them in the dead-letter queue.
    async fn deliver<'e>(
        &self,
        prepared: &mut Prepared<'e>,
        summary: &mut Summary<'e>,
    ) -> Result<Delivered, Rejection> {
        if let Some(too_large) = prepared.too_large.take() {
            let pointer = self
                .store_oversized(prepared)
                .await
                .map_err(|e| e.unwrap_or_else(|| Rejection::from(too_large)))?;
            summary.stored = true;
            prepared.entries = vec![pointer];
        }
        let entries = &prepared.entries;
        if entries.is_empty() {
            return Ok(Delivered::Accepted(Vec::new()));
        }
        let put_started = Instant::now();
        let put = self.forwarder.put(entries, &mut summary.attempts).await;
        summary.put = Some(PutStats {
            events: match &put {
                Ok(ids) => ids.len(),
                Err(unforwarded) => unforwarded.accepted.len(),
            },
            attempts: summary.attempts.0,
            latency_ms: put_started.elapsed().as_secs_f64() * 1000.0,
            failed: put.is_err(),
        });
        match put {
            Ok(ids) => Ok(Delivered::Accepted(ids)),
            Err(unforwarded) => self.dead_letter(prepared, unforwarded).await,
        }
    }

    /// Store the body in the payload bucket; the pointer event to put instead. `Err(None)`
    /// when no bucket is configured (the delivery is then refused as too large).
    async fn store_oversized(&self, prepared: &Prepared<'_>) -> Result<Entry, Option<Rejection>> {
        let (Some(bucket), Some(first)) = (self.capture.bucket(), prepared.entries.first()) else {
            return Err(None);
        };
        let provider = self.pipeline.config.provider;
        let body = prepared.inbound.body.as_bytes();
        let (hex, base64) = sha256(body);
        let key = stored_payload_key(provider.as_str(), &prepared.received_at, &hex);
        let content_type = prepared.inbound.content_type();
        self.capture
            .store(&key, body.to_vec(), content_type, &base64)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "could not store an oversized body");
                Some(Rejection::Unavailable {
                    reason: "payload_store_failed",
                })
            })?;
        Ok(pointer_entry(
            first,
            &StoredPayload {
                bucket,
                key: &key,
                size: body.len(),
                sha256: &hex,
                content_type,
            },
        ))
    }

    /// Keep what the bus did not take in the dead-letter queue: 202 if that worked, else 503
    /// so that a provider that retries will.
    async fn dead_letter(
        &self,
        prepared: &Prepared<'_>,
        unforwarded: Unforwarded,
    ) -> Result<Delivered, Rejection> {
        let entries = &prepared.entries;
        let Unforwarded {
            error,
            pending,
            accepted,
        } = unforwarded;
        tracing::error!(error = %error, "could not put the event on the bus");
        let unavailable = Rejection::Unavailable {
            reason: error.category(),
        };
        if !self.capture.has_queue() {
            return Err(unavailable);
        }
        let provider = self.pipeline.config.provider;
        let record_entries = pending
            .iter()
            .map(|&i| RecordEntry::from_entry(&entries[i], i))
            .collect::<Result<Vec<_>, _>>();
        let record_entries = match record_entries {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(error = %e, "could not write a dead-letter record");
                return Err(unavailable);
            }
        };
        let inbound = &prepared.inbound;
        let record = Record {
            version: VERSION,
            provider: provider.as_str().to_owned(),
            event_bus: self.bus.clone(),
            received_at: prepared.received_at.clone(),
            delivery_id: provider
                .delivery_id_header()
                .and_then(|name| inbound.header(name))
                .map(str::to_owned),
            failure: error.to_string(),
            entries: record_entries,
            content_type: inbound.content_type().map(str::to_owned),
            body_sha256: Some(prepared.body_sha256.clone()),
            signed: prepared.signed.iter().map(|&s| s.to_owned()).collect(),
            signed_at: prepared.signed_at.clone(),
            body: Body::new(&inbound.body),
        };
        match self.capture.dead_letter(record).await {
            Ok(()) => {
                tracing::warn!(
                    entries = pending.len(),
                    "kept the delivery in the dead-letter queue; `ebhook replay` puts it on the bus"
                );
                Ok(Delivered::Queued(accepted))
            }
            Err(e) => {
                tracing::error!(error = %e, "could not keep the delivery in the dead-letter queue");
                Err(unavailable)
            }
        }
    }
}

/// How a claimed delivery's attempt ends in the dedupe table: done once it is on the bus or in
/// the dead-letter queue (200 or 202), released on any error so the provider's retry goes
/// through.
#[cfg(feature = "dedupe")]
fn finish_for(result: &Result<Delivered, Rejection>) -> Finish {
    match result {
        Ok(Delivered::Accepted(_) | Delivered::Queued(_)) => Finish::Done,
        // Not put, so nothing to remember (not reached: neither is ever claimed).
        Ok(Delivered::Answered(_) | Delivered::Duplicate) | Err(_) => Finish::Release,
    }
}

/// The `deliveryId` of an entry's metadata, if it has one.
#[cfg(feature = "dedupe")]
fn delivery_id(metadata: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Id {
        #[serde(rename = "deliveryId")]
        delivery_id: Option<String>,
    }
    serde_json::from_str::<Id>(metadata)
        .ok()?
        .delivery_id
        .filter(|id| !id.is_empty())
}

/// Put `entries` with `forwarder`, as a rejection (503) if the bus cannot take them.
pub async fn put(
    forwarder: &Forwarder,
    entries: &[Entry],
    attempts: &mut Attempts,
) -> Result<Vec<String>, Rejection> {
    forwarder.put(entries, attempts).await.map_err(|u| {
        tracing::error!(error = %u.error, "could not put the event on the bus");
        Rejection::Unavailable {
            reason: u.error.category(),
        }
    })
}

#[cfg(all(test, feature = "dedupe"))]
mod tests {
    use super::*;

    #[test]
    fn only_a_delivery_on_the_bus_or_in_the_dead_letter_queue_is_remembered() {
        assert_eq!(
            finish_for(&Ok(Delivered::Accepted(vec!["e".into()]))),
            Finish::Done
        );
        assert_eq!(finish_for(&Ok(Delivered::Queued(Vec::new()))), Finish::Done);
        for failed in [
            Rejection::Unavailable {
                reason: "event_bus_unavailable",
            },
            Rejection::Malformed("x".into()),
        ] {
            assert_eq!(finish_for(&Err(failed)), Finish::Release);
        }
        assert_eq!(finish_for(&Ok(Delivered::Duplicate)), Finish::Release);
    }

    #[test]
    fn the_delivery_id_is_read_from_the_metadata() {
        assert_eq!(
            delivery_id(r#"{"provider":"github","deliveryId":"d-1"}"#).as_deref(),
            Some("d-1")
        );
        assert_eq!(delivery_id(r#"{"provider":"github"}"#), None);
        assert_eq!(delivery_id(r#"{"deliveryId":""}"#), None);
        assert_eq!(delivery_id("not json"), None);
    }
}
