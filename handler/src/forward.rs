//! Putting entries on the bus: PutEvents with our own retry loop, because per-entry failures
//! (`FailedEntryCount`) are invisible to the SDK's retries. Only throttling and internal
//! failures are retried, with full-jitter backoff, inside a total time budget that stays well
//! under the providers' timeouts (Twilio 5 s, GitHub 10 s).

use std::time::{Duration, Instant};

use aws_sdk_eventbridge::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::event::{DEFAULT_MAX_ENTRY_BYTES, Entry};

/// PutEvents takes at most ten entries a call, and as many bytes of entries in all, counted as
/// for one entry, as one entry may have ([`Forwarder::max_call_bytes`]).
const MAX_ENTRIES_PER_CALL: usize = 10;
const BACKOFF_BASE: Duration = Duration::from_millis(50);
const BACKOFF_CAP: Duration = Duration::from_millis(800);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ForwardError {
    #[error("EventBridge refused the event with {code}: {message}")]
    Refused { code: String, message: String },
    #[error(
        "EventBridge did not accept the event within {budget:?} ({attempts} attempts; last: {last})"
    )]
    Exhausted {
        budget: Duration,
        attempts: u32,
        last: String,
    },
}

/// Entries that did not reach the bus, and why.
#[derive(Debug)]
pub struct Unforwarded {
    pub error: ForwardError,
    /// Indexes into the entries given to [`Forwarder::put`] that were not accepted (those
    /// before and after may have been).
    pub pending: Vec<usize>,
    /// Event ids of the entries that were accepted, in order.
    pub accepted: Vec<String>,
}

/// Group the entries at `pending` into PutEvents calls: at most ten entries and `max_bytes`
/// each, in order. An entry larger than the whole limit goes alone, for EventBridge to refuse.
pub fn batches(
    pending: &[usize],
    max_bytes: usize,
    sizes: impl Fn(usize) -> usize,
) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut bytes = 0;
    for &i in pending {
        let size = sizes(i);
        match out.last_mut() {
            Some(batch) if batch.len() < MAX_ENTRIES_PER_CALL && bytes + size <= max_bytes => {
                batch.push(i);
                bytes += size;
            }
            _ => {
                out.push(vec![i]);
                bytes = size;
            }
        }
    }
    out
}

impl ForwardError {
    pub fn category(&self) -> &'static str {
        match self {
            Self::Refused { .. } => "event_bus_refused",
            Self::Exhausted { .. } => "event_bus_unavailable",
        }
    }
}

/// Per-entry error codes worth another try; everything else (access denied, malformed detail,
/// invalid argument) would fail again.
pub fn retryable_entry_code(code: &str) -> bool {
    matches!(
        code,
        "ThrottlingException" | "InternalFailure" | "InternalException"
    )
}

/// Full jitter: a random wait up to an exponentially growing cap.
pub fn backoff(attempt: u32) -> Duration {
    let cap = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.min(10))
        .min(BACKOFF_CAP);
    cap.mul_f64(fastrand::f64())
}

/// A concise, secret-free description of an SDK error for logs and messages.
pub fn describe_sdk_error<E: ProvideErrorMetadata + std::error::Error>(e: &SdkError<E>) -> String {
    match e {
        SdkError::ServiceError(s) => format!(
            "{}: {}",
            s.err().code().unwrap_or("ServiceError"),
            s.err().message().unwrap_or("no message")
        ),
        SdkError::TimeoutError(_) => "request timed out".into(),
        SdkError::DispatchFailure(d) => format!("could not connect: {:?}", d.as_connector_error()),
        SdkError::ResponseError(_) => "unreadable response".into(),
        other => other.to_string(),
    }
}

/// Whether a whole-request failure is worth another try.
fn transient<E: ProvideErrorMetadata>(e: &SdkError<E>) -> bool {
    match e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(s) => {
            s.raw().status().is_server_error()
                || s.raw().status().as_u16() == 429
                || matches!(
                    s.err().code(),
                    Some(
                        "ThrottlingException"
                            | "InternalFailure"
                            | "InternalException"
                            | "ServiceUnavailable"
                    )
                )
        }
        _ => false,
    }
}

pub struct Forwarder {
    client: aws_sdk_eventbridge::Client,
    bus: String,
    budget: Duration,
    max_call_bytes: usize,
}

/// How a batch of attempts ended, for logs.
#[derive(Debug, Default, Clone, Copy)]
pub struct Attempts(pub u32);

impl Forwarder {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: String, budget: Duration) -> Self {
        Self {
            client,
            bus,
            budget,
            max_call_bytes: DEFAULT_MAX_ENTRY_BYTES,
        }
    }

    /// The most bytes of entries one call may carry: the entry limit (`EBHOOK_MAX_ENTRY_BYTES`),
    /// since PutEvents limits a request as it limits one entry.
    pub fn max_call_bytes(mut self, bytes: usize) -> Self {
        self.max_call_bytes = bytes;
        self
    }

    /// Put every entry; returns their event ids in order, or which could not be put and why.
    pub async fn put(
        &self,
        entries: &[Entry],
        attempts: &mut Attempts,
    ) -> Result<Vec<String>, Unforwarded> {
        let mut ids: Vec<Option<String>> = vec![None; entries.len()];
        match self.put_all(entries, &mut ids, attempts).await {
            Ok(()) => Ok(ids.into_iter().flatten().collect()),
            Err(error) => Err(Unforwarded {
                error,
                pending: (0..entries.len()).filter(|&i| ids[i].is_none()).collect(),
                accepted: ids.into_iter().flatten().collect(),
            }),
        }
    }

    async fn put_all(
        &self,
        entries: &[Entry],
        ids: &mut [Option<String>],
        attempts: &mut Attempts,
    ) -> Result<(), ForwardError> {
        let deadline = Instant::now() + self.budget;
        let mut last = String::new();
        loop {
            let pending: Vec<usize> = (0..entries.len()).filter(|&i| ids[i].is_none()).collect();
            if pending.is_empty() {
                return Ok(());
            }
            for chunk in &batches(&pending, self.max_call_bytes, |i| entries[i].size()) {
                attempts.0 += 1;
                let remaining = deadline.saturating_duration_since(Instant::now());
                let request = self
                    .client
                    .put_events()
                    .set_entries(Some(
                        chunk.iter().map(|&i| self.sdk_entry(&entries[i])).collect(),
                    ))
                    .send();
                let result = match tokio::time::timeout(remaining, request).await {
                    Ok(result) => result,
                    Err(_) => {
                        last = "request timed out".into();
                        break;
                    }
                };
                match result {
                    Ok(output) => {
                        for (slot, result) in chunk.iter().zip(output.entries()) {
                            if let Some(id) = result.event_id() {
                                ids[*slot] = Some(id.to_owned());
                            } else {
                                let code = result.error_code().unwrap_or("UnknownError");
                                let message = result.error_message().unwrap_or("no message");
                                if !retryable_entry_code(code) {
                                    return Err(ForwardError::Refused {
                                        code: code.into(),
                                        message: message.into(),
                                    });
                                }
                                last = format!("{code}: {message}");
                            }
                        }
                    }
                    Err(e) if transient(&e) => last = describe_sdk_error(&e),
                    Err(e) => {
                        return Err(ForwardError::Refused {
                            code: e.code().unwrap_or("RequestFailed").to_owned(),
                            message: describe_sdk_error(&e),
                        });
                    }
                }
            }
            if ids.iter().all(Option::is_some) {
                continue;
            }
            let wait = backoff(attempts.0);
            if Instant::now() + wait >= deadline {
                return Err(ForwardError::Exhausted {
                    budget: self.budget,
                    attempts: attempts.0,
                    last,
                });
            }
            tokio::time::sleep(wait).await;
        }
    }

    fn sdk_entry(&self, entry: &Entry) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(&entry.source)
            .detail_type(&entry.detail_type)
            .detail(&entry.detail)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_throttling_and_internal_failures_are_retried() {
        assert!(retryable_entry_code("ThrottlingException"));
        assert!(retryable_entry_code("InternalFailure"));
        for code in [
            "AccessDeniedException",
            "InvalidArgument",
            "MalformedDetail",
            "NotAuthorizedForSourceException",
        ] {
            assert!(!retryable_entry_code(code), "{code}");
        }
    }

    #[test]
    fn batches_respect_count_and_size_limits() {
        let all: Vec<usize> = (0..25).collect();
        let small = batches(&all, DEFAULT_MAX_ENTRY_BYTES, |_| 100);
        assert_eq!(small.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 5]);
        assert_eq!(small.concat(), all, "order kept, nothing lost");

        let sizes = |i| [200_000, 60_000, 3_000, 300_000][i];
        let big = batches(&[0, 1, 2, 3], 256 * 1024, sizes);
        assert_eq!(big, [vec![0, 1], vec![2], vec![3]]);
        // At 1 MiB, the limit since 2026, they all fit in one call.
        let big = batches(&[0, 1, 2, 3], DEFAULT_MAX_ENTRY_BYTES, sizes);
        assert_eq!(big, [vec![0, 1, 2, 3]]);
        let full = batches(&[0, 1], DEFAULT_MAX_ENTRY_BYTES, |_| {
            DEFAULT_MAX_ENTRY_BYTES
        });
        assert_eq!(full, [vec![0], vec![1]]);
        assert!(batches(&[], DEFAULT_MAX_ENTRY_BYTES, |_| 1).is_empty());
    }

    #[test]
    fn backoff_is_jittered_and_capped() {
        for attempt in 0..40 {
            let d = backoff(attempt);
            assert!(d <= BACKOFF_CAP, "{attempt}: {d:?}");
            assert!(d <= BACKOFF_BASE.saturating_mul(1 << attempt.min(10)));
        }
        let samples: std::collections::HashSet<_> = (0..20).map(|_| backoff(5)).collect();
        assert!(samples.len() > 1, "no jitter");
    }
}
