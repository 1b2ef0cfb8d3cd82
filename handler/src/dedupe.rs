//! Exactly once onto the bus, when the stack asks for it (`EBHOOK_DEDUPE_TABLE`): providers
//! retry and redeliver (GitHub, Zendesk and Stripe document duplicates), so each delivery is
//! claimed in a DynamoDB table before it is put, and a copy of one already put is answered as
//! the provider expects without being put again.
//!
//! The key is the provider, its delivery id and a digest of the signed material (the body, and
//! the URL's query where the provider signs it). Delivery ids are unsigned headers for most
//! providers, so the digest is what makes a suppression safe: a copy is suppressed only when its
//! signed content is exactly that of an earlier delivery, never because someone reused an id.
//!
//! One item per key, with the states:
//! - `in-flight`: claimed by an attempt that has not finished. Another copy gets 503 and the
//!   provider retries later; a claim older than [`STALE_AFTER_SECONDS`] (longer than the
//!   function may run) belongs to an attempt that died, and is taken over.
//! - `done`: the delivery is on the bus or in the dead-letter queue. A copy is a duplicate.
//!
//! An attempt that fails (the provider gets 5xx, or any other answer than success) deletes its
//! claim, so the provider's retry is never suppressed. Items expire after the window (a TTL
//! attribute; DynamoDB deletes lazily, so an expired item is also treated as absent).
//!
//! The role may only put, update and delete items: the earlier item is read from the failed
//! conditional put itself (`ReturnValuesOnConditionCheckFailure=ALL_OLD`). When the table
//! cannot be reached the delivery goes on without dedupe: a duplicate is better than a loss.
//!
//! The decisions are pure functions, unit-tested here; [`Dedupe`] does the I/O.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

/// A claim older than this is of an attempt that can no longer be running (the function's
/// timeout is 10 s), so a copy may take it over.
pub const STALE_AFTER_SECONDS: i64 = 60;
/// Delivery ids longer than this are hashed into the key (a partition key holds 2 KB).
const MAX_ID_IN_KEY: usize = 512;

const KEY: &str = "pk";
const STATE: &str = "state";
const CLAIMED_AT: &str = "claimedAt";
/// The table's TTL attribute (the template names it).
pub const EXPIRES_AT: &str = "expiresAt";
const OWNER: &str = "owner";
const IN_FLIGHT: &str = "in-flight";
const DONE: &str = "done";

/// The condition of a claim: nothing live under the key, or only a stale claim.
const CLAIM_CONDITION: &str =
    "attribute_not_exists(#k) OR #e < :now OR (#s = :inflight AND #c < :stale)";

/// The digest of what the provider signed, for the key: the body's SHA-256, and where the
/// provider signs the URL (Twilio), the query string too, so a GET with other parameters under
/// the same id is another delivery.
pub fn signed_digest(body_sha256: &str, signed_query: Option<&str>) -> String {
    match signed_query {
        Some(query) if !query.is_empty() => {
            crate::event::sha256_hex(format!("{body_sha256}?{query}").as_bytes())
        }
        _ => body_sha256.to_owned(),
    }
}

/// The item's key: provider, delivery id and signed digest.
pub fn key(provider: &str, delivery_id: &str, digest: &str) -> String {
    if delivery_id.len() > MAX_ID_IN_KEY {
        let id = crate::event::sha256_hex(delivery_id.as_bytes());
        format!("{provider}#sha256:{id}#{digest}")
    } else {
        format!("{provider}#{delivery_id}#{digest}")
    }
}

/// What a claim found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This attempt owns the key: put the delivery, then [`Dedupe::finish`].
    Claimed(Claimed),
    /// An earlier copy is on the bus or in the dead-letter queue.
    Duplicate,
    /// An earlier copy is being put right now: answer 503 so the provider retries later.
    InFlight,
    /// The table could not be used: deliver without dedupe.
    Unavailable,
}

/// An attempt's claim on a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claimed {
    pub key: String,
    /// Only the owner may finish or release the claim, so an attempt that was taken over
    /// cannot undo its successor's.
    pub owner: String,
}

/// How an attempt that claimed its key ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// On the bus or in the dead-letter queue: later copies are duplicates.
    Done,
    /// Not taken (the provider got an error): the claim goes, so a retry is not suppressed.
    Release,
}

/// What the earlier item returned by a failed claim means. An item that cannot be read as
/// ebhook's (or none, if the table did not return it) is treated as in flight: the provider's
/// retry is safe, a lost event is not.
pub fn on_conflict(old: Option<&HashMap<String, AttributeValue>>) -> Claim {
    let state = old
        .and_then(|item| item.get(STATE))
        .and_then(|v| v.as_s().ok());
    match state.map(String::as_str) {
        Some(DONE) => Claim::Duplicate,
        _ => Claim::InFlight,
    }
}

/// The values of [`CLAIM_CONDITION`] and of the new item at `now` (Unix seconds).
fn claim_item(key: &str, owner: &str, now: i64, window: i64) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (KEY.to_owned(), AttributeValue::S(key.to_owned())),
        (STATE.to_owned(), AttributeValue::S(IN_FLIGHT.to_owned())),
        (CLAIMED_AT.to_owned(), number(now)),
        (EXPIRES_AT.to_owned(), number(now.saturating_add(window))),
        (OWNER.to_owned(), AttributeValue::S(owner.to_owned())),
    ])
}

fn number(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

/// Claims, finishes and releases keys in the dedupe table.
pub struct Dedupe {
    client: aws_sdk_dynamodb::Client,
    table: String,
    window: Duration,
}

impl Dedupe {
    pub fn new(sdk: &aws_config::SdkConfig, table: String, window: Duration) -> Self {
        // The table is a help, not a dependency: a slow table must not hold a delivery up, so
        // one retry and a short budget, then the delivery goes on without it.
        let config = aws_sdk_dynamodb::config::Builder::from(sdk)
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(1))
                    .operation_timeout(Duration::from_millis(1500))
                    .build(),
            )
            .build();
        Self {
            client: aws_sdk_dynamodb::Client::from_conf(config),
            table,
            window,
        }
    }

    /// Claim `key` for this attempt at `now` (Unix seconds).
    pub async fn claim(&self, key: String, now: i64) -> Claim {
        let owner = format!("{:032x}", fastrand::u128(..));
        let window = i64::try_from(self.window.as_secs()).unwrap_or(i64::MAX);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(claim_item(&key, &owner, now, window)))
            .condition_expression(CLAIM_CONDITION)
            .expression_attribute_names("#k", KEY)
            .expression_attribute_names("#e", EXPIRES_AT)
            .expression_attribute_names("#s", STATE)
            .expression_attribute_names("#c", CLAIMED_AT)
            .expression_attribute_values(":now", number(now))
            .expression_attribute_values(":inflight", AttributeValue::S(IN_FLIGHT.to_owned()))
            .expression_attribute_values(":stale", number(now - STALE_AFTER_SECONDS))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Claim::Claimed(Claimed { key, owner }),
            Err(SdkError::ServiceError(e)) => match e.err() {
                PutItemError::ConditionalCheckFailedException(conflict) => {
                    on_conflict(conflict.item())
                }
                other => {
                    tracing::error!(table = %self.table, error = %other, "could not claim the delivery in the dedupe table; delivering without dedupe (check the table and the function's role)");
                    Claim::Unavailable
                }
            },
            Err(e) => {
                tracing::error!(table = %self.table, error = %e, "the dedupe table did not answer; delivering without dedupe");
                Claim::Unavailable
            }
        }
    }

    /// Mark the claim done, or release it, as the attempt ended. A failure is logged: a claim
    /// left in flight is taken over after [`STALE_AFTER_SECONDS`], so the worst case is a
    /// duplicate, never a loss.
    pub async fn finish(&self, claimed: &Claimed, finish: Finish) {
        let owned = "#o = :mine";
        let result = match finish {
            Finish::Done => self
                .client
                .update_item()
                .table_name(&self.table)
                .key(KEY, AttributeValue::S(claimed.key.clone()))
                .update_expression("SET #s = :done")
                .condition_expression(owned)
                .expression_attribute_names("#s", STATE)
                .expression_attribute_names("#o", OWNER)
                .expression_attribute_values(":done", AttributeValue::S(DONE.to_owned()))
                .expression_attribute_values(":mine", AttributeValue::S(claimed.owner.clone()))
                .send()
                .await
                .map(drop)
                .map_err(|e| e.into_service_error().to_string()),
            Finish::Release => self
                .client
                .delete_item()
                .table_name(&self.table)
                .key(KEY, AttributeValue::S(claimed.key.clone()))
                .condition_expression(owned)
                .expression_attribute_names("#o", OWNER)
                .expression_attribute_values(":mine", AttributeValue::S(claimed.owner.clone()))
                .send()
                .await
                .map(drop)
                .map_err(|e| e.into_service_error().to_string()),
        };
        if let Err(error) = result {
            tracing::warn!(table = %self.table, ?finish, %error, "could not update the delivery's dedupe claim; a copy may wait up to a minute, then be put again");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(state: &str) -> HashMap<String, AttributeValue> {
        claim_item("k", "o", 100, 60)
            .into_iter()
            .chain([(STATE.to_owned(), AttributeValue::S(state.to_owned()))])
            .collect()
    }

    #[test]
    fn a_copy_is_a_duplicate_only_once_the_earlier_one_is_done() {
        assert_eq!(on_conflict(Some(&item(DONE))), Claim::Duplicate);
        assert_eq!(on_conflict(Some(&item(IN_FLIGHT))), Claim::InFlight);
        // Unknown, unreadable or absent: never suppressed, the provider retries.
        assert_eq!(on_conflict(Some(&item("other"))), Claim::InFlight);
        let mut number = item(DONE);
        number.insert(STATE.to_owned(), AttributeValue::N("1".into()));
        assert_eq!(on_conflict(Some(&number)), Claim::InFlight);
        assert_eq!(on_conflict(None), Claim::InFlight);
    }

    #[test]
    fn a_claim_is_in_flight_and_expires_after_the_window() {
        let claim = claim_item("github#d-1#ab", "me", 1_000, 86_400);
        assert_eq!(claim[KEY], AttributeValue::S("github#d-1#ab".into()));
        assert_eq!(claim[STATE], AttributeValue::S(IN_FLIGHT.into()));
        assert_eq!(claim[CLAIMED_AT], AttributeValue::N("1000".into()));
        assert_eq!(claim[EXPIRES_AT], AttributeValue::N("87400".into()));
        assert_eq!(claim[OWNER], AttributeValue::S("me".into()));
        assert_eq!(
            claim_item("k", "o", i64::MAX - 1, 10)[EXPIRES_AT],
            number(i64::MAX)
        );
        // Expired items and stale claims are free to take, whatever DynamoDB's TTL has done.
        assert!(CLAIM_CONDITION.contains("attribute_not_exists(#k)"));
        assert!(CLAIM_CONDITION.contains("#e < :now"));
        assert!(CLAIM_CONDITION.contains("#s = :inflight AND #c < :stale"));
    }

    #[test]
    fn the_key_holds_the_signed_digest_so_another_body_is_another_delivery() {
        let a = crate::event::sha256_hex(b"{\"a\":1}");
        let b = crate::event::sha256_hex(b"{\"a\":2}");
        assert_ne!(key("github", "d-1", &a), key("github", "d-1", &b));
        assert_ne!(key("github", "d-1", &a), key("github", "d-2", &a));
        assert_ne!(key("github", "d-1", &a), key("gitlab", "d-1", &a));
        assert_eq!(key("github", "d-1", &a), format!("github#d-1#{a}"));
        let long = "x".repeat(MAX_ID_IN_KEY + 1);
        let hashed = key("github", &long, &a);
        assert!(hashed.len() < 200, "{hashed}");
        assert_ne!(hashed, key("github", &"x".repeat(MAX_ID_IN_KEY + 2), &a));
        // The signed query is part of a URL-signing provider's digest.
        assert_eq!(signed_digest(&a, None), a);
        assert_eq!(signed_digest(&a, Some("")), a);
        assert_ne!(
            signed_digest(&a, Some("x=1")),
            signed_digest(&a, Some("x=2"))
        );
    }
}
