//! The webhook senders ebhook knows. Each lives in one file that holds everything that is that
//! sender's: how it signs, the methods it sends, how a delivery becomes events, the answer it
//! expects, and what the CLI tells a user about it. [`ALL`] is the one list that names them;
//! adding a sender is its file, its tests and one line there.
//!
//! A delivery goes one way: the request (`request`) is checked by [`Scheme::precheck`],
//! verified by [`Scheme::verify`], answered early by [`Scheme::handshake`] or mapped by
//! [`Scheme::map`] into entries (`event`), and forwarded. Nothing here imports the forwarder.

pub mod generic;
pub mod github;
pub mod gitlab;
pub mod shopify;
pub mod slack;
pub mod standard_webhooks;
pub mod stripe;
pub mod twilio;
pub mod zendesk;

use std::fmt;
use std::str::FromStr;

use http::HeaderName;
use time::OffsetDateTime;

use crate::event::{Delivery, Entry, EventSettings, MapError, Signed, check_sizes};
use crate::request::{Inbound, Rejection, Reply};
use crate::secrets::{SecretSet, SecretSlot};
pub(crate) use crate::verify::{
    HmacSha1, HmacSha256, MAX_SIGNATURES, SignedRequest, VerifyError, VerifyOptions,
    decode_base64_mac, first_equal, first_match, first_match_any, mac_bytes, parse_unix_seconds,
    within,
};

/// Every provider, in the order `ebhook providers` and `init`'s menu list them.
pub static ALL: &[&dyn Scheme] = &[
    &zendesk::Zendesk,
    &github::Github,
    &twilio::Twilio,
    &stripe::Stripe,
    &slack::Slack,
    &shopify::Shopify,
    &standard_webhooks::StandardWebhooks,
    &gitlab::Gitlab,
    &generic::GENERIC,
];

/// Everything that is one provider's. Pure: no I/O, no clock (`now` is passed in).
pub trait Scheme: Sync {
    /// The name users give to `--provider`, the stack's `Provider` parameter, and the end of
    /// the default event Source (`ebhook.<name>`).
    fn name(&self) -> &'static str;

    /// How it signs, in one line (`ebhook providers`).
    fn signing(&self) -> &'static str;

    /// The methods it sends; anything else is refused with 405 before any other work.
    fn methods(&self) -> &'static [&'static str] {
        &["POST"]
    }

    /// Checks that bound the work [`Scheme::verify`] does on a request nobody has verified
    /// yet, beyond the body size limit every request has.
    fn precheck(&self, _request: &Inbound<'_>) -> Result<(), Rejection> {
        Ok(())
    }

    /// Which active secret (if any) signed the request.
    fn verify(
        &self,
        request: &SignedRequest<'_>,
        secrets: &SecretSet,
        options: &VerifyOptions,
        now: OffsetDateTime,
    ) -> Result<SecretSlot, VerifyError>;

    /// What the signature of a request this provider verified covers, and the timestamp it
    /// signed, for the metadata (`signed`, `signedAt`). `secret` is the one that verified it
    /// (GitLab's checks differ by the kind of secret). Runs only after verification.
    fn signed<'r>(&self, request: &SignedRequest<'r>, secret: &[u8]) -> Signed<'r>;

    /// Whether the signature covers the URL's query string; if not, the query parameters are
    /// put in the event marked as unsigned.
    fn signs_query(&self) -> bool {
        false
    }

    /// The header holding the provider's id for a delivery (for logs before mapping).
    fn delivery_id_header(&self) -> Option<&'static HeaderName>;

    /// A verified request the provider expects answered rather than put on the bus (a
    /// handshake), with that answer.
    fn handshake(&self, _delivery: &Delivery<'_>) -> Option<Reply> {
        None
    }

    /// The events a verified delivery becomes, not yet checked against the size limit.
    fn map(
        &self,
        delivery: &Delivery<'_>,
        settings: &EventSettings,
    ) -> Result<Vec<Entry>, MapError>;

    /// The body of a successful answer when the provider expects one of its own (Twilio's
    /// TwiML); `None` answers JSON with the event ids.
    fn success_body(&self) -> Option<Reply> {
        None
    }

    /// A secret the provider publishes for its own test sends, accepted only when a user
    /// asks for it (`EBHOOK_ACCEPT_TEST_SECRET`).
    fn test_secret(&self) -> Option<&'static str> {
        None
    }

    /// Where the signing secret comes from.
    fn secret_origin(&self) -> SecretOrigin;

    /// The exact steps that connect the provider to `url`, printed by `ebhook init`.
    fn setup_steps(&self, url: &str, stack: &str) -> String;

    /// What to do at the provider after `ebhook rotate-secret`.
    fn after_rotation(&self) -> &'static str;

    /// A realistic delivery to `url`, signed with `secret` as the provider would sign it at
    /// `now` (`ebhook send-test`, `ebhook dev`'s tests). `random` makes its ids unique.
    fn sample(
        &'static self,
        url: &str,
        secret: &[u8],
        now: OffsetDateTime,
        random: [u8; 16],
    ) -> Sample;

    /// `this` provider with the description of how it signs given at `init`
    /// (`EBHOOK_PROVIDER_SCHEME`), for a provider described rather than known in advance.
    /// Every other provider signs one way and takes none.
    fn describe(&self, this: Provider, description: Option<&str>) -> Result<Provider, String> {
        match description {
            None => Ok(this),
            Some(_) => Err(format!(
                "{} signs in one known way: a description of the signing scheme is only for a provider described at init (see `ebhook providers`)",
                self.name()
            )),
        }
    }
}

/// Where a provider's signing secret comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretOrigin {
    /// ebhook generates it and the user pastes it into the provider.
    Generated,
    /// The provider has it and the user must give it before anything verifies.
    Provider {
        /// What to ask for, and where the user finds it.
        prompt: &'static str,
    },
    /// The provider creates it only once the webhook exists, so the stack is deployed first
    /// and the secret given afterwards.
    AfterWebhook {
        /// What to ask for once the URL exists.
        prompt: &'static str,
    },
}

/// A signed sample delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub method: &'static str,
    /// The URL to send it to: `url`, or `url` with what the provider adds to it.
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// One provider: a handle on its [`Scheme`], compared by name.
#[derive(Clone, Copy)]
pub struct Provider(&'static dyn Scheme);

impl Provider {
    /// A provider configured at start (see [`Scheme::configure`]).
    pub fn configured(scheme: &'static dyn Scheme) -> Self {
        Self(scheme)
    }

    /// The provider with the description of how it signs, if it takes one (see
    /// [`Scheme::describe`]).
    pub fn configure(self, description: Option<&str>) -> Result<Provider, String> {
        self.0.describe(self, description)
    }

    /// See [`Scheme::sample`].
    pub fn sample(self, url: &str, secret: &[u8], now: OffsetDateTime, random: [u8; 16]) -> Sample {
        self.0.sample(url, secret, now, random)
    }

    /// Every provider, from [`ALL`].
    pub fn all() -> impl ExactSizeIterator<Item = Provider> {
        ALL.iter().map(|&scheme| Provider(scheme))
    }

    pub fn as_str(self) -> &'static str {
        self.0.name()
    }

    pub fn scheme(self) -> &'static dyn Scheme {
        self.0
    }

    pub fn allows_method(self, method: &str) -> bool {
        self.0.methods().contains(&method)
    }

    /// The default EventBridge `Source` for this provider's events.
    pub fn default_source(self) -> String {
        format!("ebhook.{}", self.as_str())
    }

    /// Verify `request` against the secrets active at `now` (and the provider's published test
    /// secret, when the options allow it).
    pub fn verify(
        self,
        request: &SignedRequest<'_>,
        secrets: &SecretSet,
        options: &VerifyOptions,
        now: OffsetDateTime,
    ) -> Result<SecretSlot, VerifyError> {
        let test_secret = options.accept_test_secret && self.0.test_secret().is_some();
        if !secrets.has_active(now) && !test_secret {
            return Err(VerifyError::NoSecret);
        }
        self.0.verify(request, secrets, options, now)
    }

    /// The events a verified delivery becomes, each checked against the size limit.
    pub fn map_delivery(
        self,
        delivery: &Delivery<'_>,
        settings: &EventSettings,
    ) -> Result<Vec<Entry>, MapError> {
        let entries = self.0.map(delivery, settings)?;
        check_sizes(&entries, settings)?;
        Ok(entries)
    }

    /// The names of every provider, for messages.
    pub fn names() -> String {
        ALL.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
    }
}

impl std::ops::Deref for Provider {
    type Target = dyn Scheme;

    fn deref(&self) -> &Self::Target {
        self.0
    }
}

impl PartialEq for Provider {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Provider {}

impl std::hash::Hash for Provider {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Provider({})", self.as_str())
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown provider {given:?}: use one of {known} (`ebhook providers` lists them)")]
pub struct UnknownProvider {
    pub given: String,
    pub known: String,
}

impl FromStr for Provider {
    type Err = UnknownProvider;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::all()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownProvider {
                given: s.to_owned(),
                known: Self::names(),
            })
    }
}

/// What the tests of the providers and of `event` share.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::request::RawBody;

    /// A provider by name.
    pub fn named(name: &str) -> Provider {
        name.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Map a delivery of `provider` as if verified, with its sizes checked.
    pub fn map(
        provider: &str,
        method: &str,
        headers: &[(&str, &str)],
        query: &str,
        body: &[u8],
        settings: &EventSettings,
    ) -> Result<Vec<Entry>, MapError> {
        let provider = named(provider);
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let request = SignedRequest {
            method,
            base_url: "https://u.example",
            raw_path: "/",
            raw_query: query,
            headers: &map,
            body,
        };
        // As if verified with a secret that is not a GitLab signing token.
        let signed = provider.signed(&request, b"");
        let body_sha256 = crate::event::sha256_hex(body);
        let body = RawBody::Bytes(body.into());
        let d = Delivery {
            provider: provider.as_str(),
            query_signed: provider.signs_query(),
            method,
            headers: &map,
            raw_query: query,
            body: &body,
            received_at: "2026-11-22T12:00:00Z",
            request_id: Some("req-1"),
            body_sha256: &body_sha256,
            signed,
        };
        provider.map_delivery(&d, settings)
    }

    pub fn settings() -> EventSettings {
        EventSettings {
            source: "ebhook.test".into(),
            detail_type: None,
            max_entry_bytes: crate::event::DEFAULT_MAX_ENTRY_BYTES,
        }
    }

    pub fn detail(e: &Entry) -> serde_json::Value {
        serde_json::from_str(&e.detail).expect("detail is valid JSON")
    }

    pub const JSON: (&str, &str) = ("content-type", "application/json");
    pub const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lower_case_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for p in Provider::all() {
            let name = p.as_str();
            assert!(seen.insert(name), "{name} listed twice");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{name}"
            );
            assert_eq!(name.parse::<Provider>().unwrap(), p);
            assert_eq!(name.to_uppercase().parse::<Provider>().unwrap(), p);
            assert!(!p.methods().is_empty() && !p.signing().is_empty());
        }
        let e = "mailchimp".parse::<Provider>().unwrap_err();
        assert!(e.to_string().contains(&Provider::names()), "{e}");
    }

    /// The metadata says what the signature covers: `bodySha256` of the body as received,
    /// `signedAt` where a timestamp is signed, and `signed` empty for a bearer token. The
    /// headers GitHub does not sign change the event's name and id but not `bodySha256`.
    #[test]
    fn metadata_says_what_is_signed() {
        use testing::{JSON, detail, map, settings};
        let body = br#"{"id":"evt_1","type":"invoice.paid"}"#;
        let meta = |provider: &str, headers: &[(&str, &str)]| {
            let e = map(provider, "POST", headers, "", body, &settings()).unwrap();
            detail(&e[0])["ebhook"].clone()
        };
        let digest = crate::event::sha256_hex(body);
        let zendesk = meta(
            "zendesk",
            &[
                JSON,
                (
                    "x-zendesk-webhook-signature-timestamp",
                    "2026-11-22T12:00:00Z",
                ),
            ],
        );
        assert_eq!(zendesk["bodySha256"], digest.as_str());
        assert_eq!(zendesk["signedAt"], "2026-11-22T12:00:00Z");
        assert_eq!(zendesk["signed"], serde_json::json!(["timestamp", "body"]));
        let stripe = meta(
            "stripe",
            &[JSON, ("stripe-signature", "t=1764000000,v1=ab")],
        );
        assert_eq!(stripe["signedAt"], "1764000000");
        let slack = meta(
            "slack",
            &[JSON, ("x-slack-request-timestamp", "1764000001")],
        );
        assert_eq!(slack["signedAt"], "1764000001");

        let push = meta(
            "github",
            &[
                JSON,
                ("x-github-event", "push"),
                ("x-github-delivery", "d-1"),
            ],
        );
        let replayed = meta(
            "github",
            &[
                JSON,
                ("x-github-event", "release"),
                ("x-github-delivery", "d-2"),
            ],
        );
        assert_ne!(push["event"], replayed["event"]);
        assert_ne!(push["deliveryId"], replayed["deliveryId"]);
        assert_eq!(push["bodySha256"], replayed["bodySha256"]);
        assert_eq!(push["bodySha256"], digest.as_str());
        assert_eq!(push["signed"], serde_json::json!(["body"]));
        assert!(push.get("signedAt").is_none(), "{push}");

        // GitLab's secret token signs nothing; its signing token signs as Standard Webhooks.
        let token = meta("gitlab", &[JSON, ("x-gitlab-token", "t")]);
        assert_eq!(token["signed"], serde_json::json!([]));
        assert_eq!(token["bodySha256"], digest.as_str());
        let mut headers = http::HeaderMap::new();
        headers.insert("webhook-timestamp", "1764000002".parse().unwrap());
        let request = SignedRequest {
            method: "POST",
            base_url: "https://u.example",
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            body,
        };
        let gitlab = testing::named("gitlab");
        let signing = gitlab.signed(&request, b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert_eq!(signing.covers, ["idHeader", "timestamp", "body"]);
        assert_eq!(signing.at, Some("1764000002"));
        assert_eq!(gitlab.signed(&request, b"plain"), Signed::NOTHING);
    }

    /// Every provider's sample is signed as the provider signs: it verifies with its secret,
    /// not with another or once tampered with, and maps to events.
    #[test]
    fn every_sample_verifies_and_maps() {
        // Valid for every scheme: text for the HMAC keys, base64 after `whsec_` for Standard
        // Webhooks (and a GitLab signing token).
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let other = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
        let now = time::macros::datetime!(2026-11-22 12:00 UTC);
        for provider in Provider::all() {
            let sample = provider.sample(
                "https://u.example/hook?x=1",
                secret.as_bytes(),
                now,
                [7; 16],
            );
            assert!(provider.allows_method(sample.method), "{provider}");
            let url: http::Uri = sample.url.parse().unwrap();
            let mut headers = http::HeaderMap::new();
            for (k, v) in &sample.headers {
                headers.append(*k, v.parse().unwrap());
            }
            let check = |secret: &str, body: &[u8]| {
                let request = SignedRequest {
                    method: sample.method,
                    base_url: "https://u.example",
                    raw_path: url.path(),
                    raw_query: url.query().unwrap_or(""),
                    headers: &headers,
                    body,
                };
                provider.verify(
                    &request,
                    &SecretSet::single(secret),
                    &VerifyOptions::default(),
                    now,
                )
            };
            assert_eq!(
                check(secret, &sample.body),
                Ok(SecretSlot::Current),
                "{provider}"
            );
            assert!(
                check(other, &sample.body).is_err(),
                "{provider}: another secret"
            );
            let mut tampered = sample.body.clone();
            tampered.push(b' ');
            assert!(check(secret, &tampered).is_err(), "{provider}: tampered");
            let pairs: Vec<_> = sample
                .headers
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect();
            let entries = testing::map(
                provider.as_str(),
                sample.method,
                &pairs,
                url.query().unwrap_or(""),
                &sample.body,
                &testing::settings(),
            )
            .unwrap();
            assert_eq!(entries.len(), 1, "{provider}");
            assert_ne!(
                entries[0].detail_type,
                crate::event::FALLBACK_DETAIL_TYPE,
                "{provider}: named"
            );
            let detail = testing::detail(&entries[0]);
            assert_eq!(detail["ebhook"]["provider"], provider.as_str());
            assert!(
                detail["ebhook"]["deliveryId"].is_string(),
                "{provider}: {detail}"
            );
        }
    }

    #[test]
    fn every_provider_has_steps_naming_the_url() {
        for provider in Provider::all() {
            let steps = provider.setup_steps("https://u.example/hook", "my-stack");
            assert!(steps.contains("https://u.example/hook"), "{provider}");
            assert!(!provider.after_rotation().is_empty());
            if let SecretOrigin::AfterWebhook { .. } = provider.secret_origin() {
                assert!(
                    steps.contains("--stack-name my-stack"),
                    "{provider}: how to give the secret"
                );
            }
        }
    }
}
