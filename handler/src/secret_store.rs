//! Where the handler gets its secrets: Secrets Manager (cached, refreshed at most every
//! `refresh`, and re-read at once after a failed verification but no more often than
//! `retry_after_failure`), an inline value for local runs, or nothing (fail closed).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use crate::config::{Config, SecretSource};
use crate::metrics;
use crate::secrets::{SecretFormatError, SecretSet};

/// A single Secrets Manager read may not eat the providers' whole timeout.
const FETCH_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "could not read the signing secret from Secrets Manager ({0}); check the function's role allows secretsmanager:GetSecretValue on it"
    )]
    Fetch(String),
    #[error("the secret in Secrets Manager has no SecretString; store it as text")]
    NotText,
    #[error("the secret in Secrets Manager is not valid: {0}")]
    Format(#[from] SecretFormatError),
}

pub struct SecretStore {
    source: Source,
}

enum Source {
    Fixed(Arc<SecretSet>),
    Remote(Remote),
}

struct Remote {
    client: aws_sdk_secretsmanager::Client,
    arn: String,
    refresh: Duration,
    retry_after_failure: Duration,
    state: Mutex<State>,
    /// The dimensions of the refresh-failure metric.
    stack: String,
    provider: &'static str,
}

#[derive(Default)]
struct State {
    set: Option<Arc<SecretSet>>,
    /// Last successful read: drives the periodic refresh.
    fetched_at: Option<Instant>,
    /// Last read of any outcome: rate-limits reads triggered by failed verifications.
    attempted_at: Option<Instant>,
    /// Last failed read: a failing Secrets Manager is not retried on every request.
    failed_at: Option<Instant>,
}

/// Whether `every` has passed since `since` (or it never happened).
fn due(now: Instant, since: Option<Instant>, every: Duration) -> bool {
    since.is_none_or(|t| now.saturating_duration_since(t) >= every)
}

impl SecretStore {
    pub fn new(config: &Config, sdk: &aws_config::SdkConfig) -> Self {
        let source = match &config.secret {
            SecretSource::Inline(set) => Source::Fixed(Arc::new(set.clone())),
            SecretSource::Missing => Source::Fixed(Arc::new(SecretSet::default())),
            SecretSource::SecretsManager { arn } => Source::Remote(Remote {
                client: aws_sdk_secretsmanager::Client::new(sdk),
                arn: arn.clone(),
                refresh: config.secret_refresh,
                retry_after_failure: config.secret_retry_after_failure,
                state: Mutex::new(State::default()),
                stack: config.stack.clone(),
                provider: config.provider.as_str(),
            }),
        };
        Self { source }
    }

    pub fn fixed(set: SecretSet) -> Self {
        Self {
            source: Source::Fixed(Arc::new(set)),
        }
    }

    /// The secrets to verify with now: cached unless the refresh interval has passed. If a
    /// refresh fails, the cached secrets keep serving; with none cached, the caller answers 503.
    pub async fn get(&self) -> Result<Arc<SecretSet>, SecretError> {
        let remote = match &self.source {
            Source::Fixed(set) => return Ok(set.clone()),
            Source::Remote(remote) => remote,
        };
        let mut state = remote.state.lock().await;
        let now = Instant::now();
        let stale = due(now, state.fetched_at, remote.refresh);
        if stale
            && due(now, state.failed_at, remote.retry_after_failure)
            && let Err(e) = remote.fetch_into(&mut state).await
        {
            match &state.set {
                Some(_) => {
                    tracing::warn!(error = %e, "secret refresh failed; using the cached secret");
                    remote.refresh_failed();
                }
                None => return Err(e),
            }
        }
        state.set.clone().ok_or_else(|| {
            SecretError::Fetch("an earlier read failed moments ago; retrying shortly".into())
        })
    }

    /// After a failed verification: read the secret again, unless that was done less than
    /// `retry_after_failure` ago (so bad requests cannot hammer Secrets Manager). Returns the
    /// new secrets if they were read.
    pub async fn refetch(&self) -> Option<Arc<SecretSet>> {
        let Source::Remote(remote) = &self.source else {
            return None;
        };
        let mut state = remote.state.lock().await;
        if !due(
            Instant::now(),
            state.attempted_at,
            remote.retry_after_failure,
        ) {
            return None;
        }
        match remote.fetch_into(&mut state).await {
            Ok(()) => state.set.clone(),
            Err(e) => {
                tracing::warn!(error = %e, "secret re-read after a failed verification failed");
                remote.refresh_failed();
                None
            }
        }
    }
}

impl Remote {
    /// Count a failed re-read in CloudWatch (the cached secret, if any, keeps serving).
    fn refresh_failed(&self) {
        let (timestamp, epoch_ms) = metrics::timestamp_now();
        crate::logging::write_line(metrics::secret_refresh_failure(
            &timestamp,
            epoch_ms,
            &self.stack,
            self.provider,
        ));
    }

    async fn fetch_into(&self, state: &mut State) -> Result<(), SecretError> {
        let started = Instant::now();
        state.attempted_at = Some(started);
        let result = self.fetch().await;
        match result {
            Ok(set) => {
                state.set = Some(Arc::new(set));
                state.fetched_at = Some(started);
                Ok(())
            }
            Err(e) => {
                state.failed_at = Some(started);
                Err(e)
            }
        }
    }

    async fn fetch(&self) -> Result<SecretSet, SecretError> {
        let request = self.client.get_secret_value().secret_id(&self.arn).send();
        let output = tokio::time::timeout(FETCH_TIMEOUT, request)
            .await
            .map_err(|_| SecretError::Fetch(format!("no answer within {FETCH_TIMEOUT:?}")))?
            .map_err(|e| SecretError::Fetch(crate::forward::describe_sdk_error(&e)))?;
        let text = output.secret_string().ok_or(SecretError::NotText)?;
        Ok(SecretSet::parse(text)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_after_interval_or_never_done() {
        let t0 = Instant::now();
        let every = Duration::from_secs(60);
        assert!(due(t0, None, every));
        assert!(!due(t0 + Duration::from_secs(59), Some(t0), every));
        assert!(due(t0 + Duration::from_secs(60), Some(t0), every));
        // A clock that appears to go backwards never makes a refresh due early.
        assert!(!due(t0, Some(t0 + Duration::from_secs(5)), every));
    }

    #[tokio::test]
    async fn fixed_store_never_refetches() {
        let store = SecretStore::fixed(SecretSet::single("s"));
        assert!(store.get().await.unwrap().current().is_some());
        assert!(store.refetch().await.is_none());
    }
}
