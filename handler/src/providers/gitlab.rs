//! GitLab: a webhook proves it comes from GitLab in one of two ways, each set on the webhook.
//!
//! - Secret token: sent as it is in `X-Gitlab-Token`. A bearer secret: anyone who has seen one
//!   request can replay it or forge others.
//! - Signing token (`whsec_` + base64 of a 32-byte key, webhook API field `signing_token`): GitLab
//!   signs as Standard Webhooks does, `webhook-signature: v1,<base64 HMAC-SHA256>` over
//!   `webhook-id + "." + webhook-timestamp + "." + body`, keyed with the decoded token, with
//!   `webhook-id` (the `Idempotency-Key` value) and `webhook-timestamp` (Unix seconds) beside it.
//!   Sources: <https://gitlab.com/gitlab-org/gitlab/-/merge_requests/230944> (headers, signed
//!   string, format), <https://gitlab.com/gitlab-org/gitlab/-/merge_requests/231325> (token
//!   format, both tokens on one webhook), <https://gitlab.com/gitlab-org/gitlab/-/issues/596374>
//!   (rollout). GitLab sets no replay window; the Standard Webhooks 5 minutes is the default here.
//!
//! A webhook may have both tokens, and GitLab then sends both. ebhook keeps one secret per stack
//! (current, and previous during a rotation), so each stored secret says how it is checked:
//!
//! - a secret starting with `whsec_` is a signing token: only ever an HMAC key, never compared
//!   with `X-Gitlab-Token`;
//! - any other secret is a secret token: only ever compared with `X-Gitlab-Token`.
//!
//! A request passes when an active secret verifies it in that secret's own way. So no request
//! passes with neither header, and a stack whose secret is a signing token refuses a request that
//! carries only `X-Gitlab-Token` (the token is ignored even when GitLab sends it): storing the
//! signing token is what turns on replay protection, and dropping the signature headers cannot
//! get round it. Moving from a secret token to a signing token is an ordinary rotation: the signing
//! token becomes current and the old token stays previous until its expiry, after which token-only
//! requests stop passing. A GitLab secret token that itself begins with `whsec_` is read as a
//! signing token, so it must not.

use http::HeaderName;
use time::{Duration, OffsetDateTime};

use super::standard_webhooks::{self, SECRET_PREFIX, verify_parts};
use super::{Sample, Scheme, SecretOrigin, VerifyOptions};
use super::{SignedRequest, VerifyError, first_equal};
use crate::event::Signed;
use crate::event::{self, Delivery, Entry, EventSettings, MapError};
use crate::secrets::{Secret, SecretSet, SecretSlot};
use std::borrow::Cow;

// The signature headers are Standard Webhooks'.
pub use super::standard_webhooks::{
    ID, ID_HEADER, SIGNATURE, SIGNATURE_HEADER, TIMESTAMP, TIMESTAMP_HEADER,
};

pub const TOKEN_HEADER: &str = "x-gitlab-token";
pub const EVENT_HEADER: &str = "x-gitlab-event";
pub const EVENT_UUID_HEADER: &str = "x-gitlab-event-uuid";
pub const WEBHOOK_UUID_HEADER: &str = "x-gitlab-webhook-uuid";
pub const INSTANCE_HEADER: &str = "x-gitlab-instance";
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
// The same names as `HeaderName`s, which the verifier, the mapper and the logs look up (a lookup
// by `&str` parses the name each time).
pub static TOKEN: HeaderName = HeaderName::from_static(TOKEN_HEADER);
pub static EVENT: HeaderName = HeaderName::from_static(EVENT_HEADER);
pub static EVENT_UUID: HeaderName = HeaderName::from_static(EVENT_UUID_HEADER);
pub static WEBHOOK_UUID: HeaderName = HeaderName::from_static(WEBHOOK_UUID_HEADER);
pub static INSTANCE: HeaderName = HeaderName::from_static(INSTANCE_HEADER);
pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static(IDEMPOTENCY_KEY_HEADER);

/// The window for `webhook-timestamp`, either way: GitLab documents none, so the spec's.
pub const DEFAULT_TOLERANCE: Duration = standard_webhooks::DEFAULT_TOLERANCE;

/// Whether a stored secret is a signing token rather than a secret token (module comment).
pub fn is_signing_token(secret: &[u8]) -> bool {
    secret.starts_with(SECRET_PREFIX.as_bytes())
}

/// The headers GitLab sends for `body` that prove where it came from, when the webhook's token is
/// `secret`: a signing token gives `webhook-id`, `webhook-timestamp` and `webhook-signature`, a
/// secret token `X-Gitlab-Token`; both come with `Idempotency-Key`, which `webhook-id` repeats.
/// `None` if a signing token is not base64, or a secret token not UTF-8.
pub fn sign(
    secret: &[u8],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Option<Vec<(&'static str, String)>> {
    let mut headers = vec![(IDEMPOTENCY_KEY_HEADER, id.to_owned())];
    if is_signing_token(secret) {
        let signature = standard_webhooks::sign(secret, id, timestamp, body)?;
        headers.extend([
            (ID_HEADER, id.to_owned()),
            (TIMESTAMP_HEADER, timestamp.to_string()),
            (SIGNATURE_HEADER, signature),
        ]);
    } else {
        headers.push((TOKEN_HEADER, std::str::from_utf8(secret).ok()?.to_owned()));
    }
    Some(headers)
}

/// Verify `req` against every secret active at `now`, each in its own way (module comment);
/// `tolerance` is the window for a signature's timestamp ([`DEFAULT_TOLERANCE`]).
pub fn verify(
    req: &SignedRequest<'_>,
    secrets: &SecretSet,
    tolerance: Duration,
    now: OffsetDateTime,
) -> Result<SecretSlot, VerifyError> {
    if !secrets.has_active(now) {
        return Err(VerifyError::NoSecret);
    }
    let signing = |(_, s): &(SecretSlot, &Secret)| is_signing_token(s.as_bytes());
    let mut signature_error = None;
    if secrets.active(now).any(|e| signing(&e)) {
        let checked = standard_webhooks::headers(req).and_then(|(id, timestamp, signature)| {
            verify_parts(
                id,
                timestamp,
                signature,
                req.body,
                secrets.active(now).filter(signing),
                tolerance,
                now,
            )
        });
        match checked {
            Ok(slot) => return Ok(slot),
            Err(e) => signature_error = Some(e),
        }
    }
    let mut token_error = None;
    if secrets.active(now).any(|e| !signing(&e)) {
        match verify_token(req, secrets.active(now).filter(|e| !signing(e))) {
            Ok(slot) => return Ok(slot),
            Err(e) => token_error = Some(e),
        }
    }
    // Report the check that got further: a wrong signature says more than an absent token.
    Err(match (signature_error, token_error) {
        (Some(VerifyError::MissingHeader(_)), Some(token)) => token,
        (Some(e), _) | (None, Some(e)) => e,
        // Unreachable: there is an active secret, so one of the two checks ran.
        (None, None) => VerifyError::NoSecret,
    })
}

/// `X-Gitlab-Token` against each secret token, in constant time.
fn verify_token<'s>(
    req: &SignedRequest<'_>,
    secrets: impl Iterator<Item = (SecretSlot, &'s Secret)>,
) -> Result<SecretSlot, VerifyError> {
    first_equal(secrets, req.header(&TOKEN)?.as_bytes())
}

/// GitLab's project, group and system webhooks.
pub struct Gitlab;

impl Scheme for Gitlab {
    fn name(&self) -> &'static str {
        "gitlab"
    }

    fn signing(&self) -> &'static str {
        "X-Gitlab-Token compared in constant time, or with a signing token (whsec_) a Standard Webhooks signature"
    }

    fn verify(
        &self,
        request: &SignedRequest<'_>,
        secrets: &SecretSet,
        options: &VerifyOptions,
        now: OffsetDateTime,
    ) -> Result<SecretSlot, VerifyError> {
        verify(request, secrets, options.tolerance, now)
    }

    /// A signing token signs as Standard Webhooks does; a secret token signs nothing.
    fn signed<'r>(&self, request: &SignedRequest<'r>, secret: &[u8]) -> Signed<'r> {
        if is_signing_token(secret) {
            Signed::covering(&["idHeader", "timestamp", "body"]).at(request.text(&TIMESTAMP))
        } else {
            Signed::NOTHING
        }
    }

    fn delivery_id_header(&self) -> Option<&'static HeaderName> {
        Some(&IDEMPOTENCY_KEY)
    }

    /// The payload as the Detail, named by `X-Gitlab-Event` (`Push Hook`), deduplicated by
    /// `Idempotency-Key` (the same on every retry), else `X-Gitlab-Event-UUID`.
    fn map(&self, d: &Delivery<'_>, settings: &EventSettings) -> Result<Vec<Entry>, MapError> {
        let mut meta = event::metadata(d);
        meta.event = Cow::Borrowed(d.header(&EVENT).unwrap_or_default());
        meta.delivery_id = d
            .header(&IDEMPOTENCY_KEY)
            .or_else(|| d.header(&EVENT_UUID))
            .map(Cow::Borrowed);
        meta.event_id = d.header(&EVENT_UUID);
        meta.webhook_id = d.header(&WEBHOOK_UUID);
        meta.account_id = d.header(&INSTANCE);
        event::json_event(d, settings, meta, |_, _| {})
    }

    fn secret_origin(&self) -> SecretOrigin {
        SecretOrigin::Generated
    }

    fn setup_steps(&self, url: &str, stack: &str) -> String {
        format!(
            "In GitLab (project or group) > Settings > Webhooks > Add new webhook:\n\
             1. URL: {url}\n\
             2. Secret token: the signing secret below (or the one you passed with --secret-stdin/--secret-env)\n\
             3. Trigger: choose the events you want on the bus (each arrives with X-Gitlab-Event as detail-type)\n\
             4. Enable SSL verification, then Add webhook. Test > Push events should answer 200.\n\
             To have GitLab sign requests instead (a signing token, whsec_...), give that token to ebhook:\n\
             ebhook rotate-secret --stack-name {stack} --secret-stdin; a token-only request is then refused.\n"
        )
    }

    fn after_rotation(&self) -> &'static str {
        "GitLab: Settings > Webhooks > your webhook > Edit: paste the new secret as Secret token (or signing token), Save changes."
    }

    fn sample(
        &'static self,
        url: &str,
        secret: &[u8],
        now: OffsetDateTime,
        random: [u8; 16],
    ) -> Sample {
        let body = serde_json::json!({
            "object_kind": "push",
            "event_name": "push",
            "before": "0000000000000000000000000000000000000000",
            "after": hex::encode([random.as_slice(), &random[..4]].concat()),
            "ref": "refs/heads/main",
            "user_username": "ebhook-send-test",
            "project": {"id": 1, "name": "ebhook", "path_with_namespace": "ebhook/send-test"},
            "commits": [],
            "total_commits_count": 0,
        })
        .to_string()
        .into_bytes();
        let id = uuid::Builder::from_random_bytes(random)
            .into_uuid()
            .to_string();
        let mut headers = vec![
            ("content-type", "application/json".to_owned()),
            (EVENT_HEADER, "Push Hook".to_owned()),
            (EVENT_UUID_HEADER, id.clone()),
            (INSTANCE_HEADER, "https://gitlab.com".to_owned()),
        ];
        headers.extend(sign(secret, &id, now.unix_timestamp(), &body).unwrap_or_default());
        Sample {
            method: "POST",
            url: url.to_owned(),
            headers,
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};
    use time::macros::datetime;

    /// The example signing token in GitLab's MR 231325.
    const SIGNING_TOKEN: &str = "whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q=";
    const OTHER_SIGNING_TOKEN: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SECRET_TOKEN: &str = "gitlab secret token 123";
    // Produced once with the official Standard Webhooks Python library, standardwebhooks 1.1.0
    // (the library GitLab's MR 230944 verifies with): `Webhook(SIGNING_TOKEN).sign(ID, ts, BODY)`.
    const SDK_ID: &str = "6f1c1bd2-5d41-4f8e-9a27-0c3b2f1e9a10";
    const SDK_TS: &str = "1795348800";
    const SDK_BODY: &[u8] = br#"{"object_kind":"push","ref":"refs/heads/main"}"#;
    const SDK_SIG: &str = "v1,nzf1bLsohl4ddNZw2v1NIyz5/54ZVEx05IcRQRlwkBg=";
    /// 1795348800, `SDK_TS`.
    const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

    fn signed() -> [(&'static str, &'static str); 3] {
        [
            (ID_HEADER, SDK_ID),
            (TIMESTAMP_HEADER, SDK_TS),
            (SIGNATURE_HEADER, SDK_SIG),
        ]
    }

    fn check_at(
        secrets: &SecretSet,
        headers: &[(&str, &str)],
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<SecretSlot, VerifyError> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        check_map(secrets, &map, body, now)
    }

    fn check_map(
        secrets: &SecretSet,
        headers: &HeaderMap,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<SecretSlot, VerifyError> {
        let req = SignedRequest {
            method: "POST",
            base_url: "https://x.lambda-url.eu-west-1.on.aws",
            raw_path: "/",
            raw_query: "",
            headers,
            body,
        };
        verify(&req, secrets, DEFAULT_TOLERANCE, now)
    }

    fn check(
        secrets: &SecretSet,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<SecretSlot, VerifyError> {
        check_at(secrets, headers, body, NOW)
    }

    fn rotating(current: &str, previous: &str) -> SecretSet {
        SecretSet::new(
            Some(Secret::new(current)),
            Some(Secret::new(previous)),
            Some(NOW + Duration::seconds(30)),
        )
    }

    #[test]
    fn signing_token_sdk_vector() {
        let headers = sign(SIGNING_TOKEN.as_bytes(), SDK_ID, 1795348800, SDK_BODY).unwrap();
        assert_eq!(
            headers,
            [
                (IDEMPOTENCY_KEY_HEADER, SDK_ID.to_owned()),
                (ID_HEADER, SDK_ID.to_owned()),
                (TIMESTAMP_HEADER, SDK_TS.to_owned()),
                (SIGNATURE_HEADER, SDK_SIG.to_owned()),
            ]
        );
        let signing = SecretSet::single(SIGNING_TOKEN);
        assert_eq!(
            check(&signing, &signed(), SDK_BODY),
            Ok(SecretSlot::Current)
        );
    }

    #[test]
    fn signing_token_negatives() {
        let signing = SecretSet::single(SIGNING_TOKEN);
        assert_eq!(
            check(
                &signing,
                &signed(),
                br#"{"object_kind":"push","ref":"refs/heads/evil"}"#
            ),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(&SecretSet::single(OTHER_SIGNING_TOKEN), &signed(), SDK_BODY),
            Err(VerifyError::Mismatch)
        );
        for (now, expected) in [
            (NOW + Duration::minutes(5), Ok(SecretSlot::Current)),
            (NOW - Duration::minutes(5), Ok(SecretSlot::Current)),
            (
                NOW + Duration::seconds(301),
                Err(VerifyError::StaleTimestamp),
            ),
            (
                NOW - Duration::seconds(301),
                Err(VerifyError::StaleTimestamp),
            ),
        ] {
            assert_eq!(
                check_at(&signing, &signed(), SDK_BODY, now),
                expected,
                "{now}"
            );
        }
        assert_eq!(
            check(&signing, &signed()[..2], SDK_BODY),
            Err(VerifyError::MissingHeader(SIGNATURE_HEADER))
        );
        assert_eq!(
            check(&signing, &signed()[1..], SDK_BODY),
            Err(VerifyError::MissingHeader(ID_HEADER))
        );
        // A signing token that is not base64 verifies nothing.
        assert_eq!(
            check(&SecretSet::single("whsec_???"), &signed(), SDK_BODY),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn secret_token() {
        let token = SecretSet::single(SECRET_TOKEN);
        assert_eq!(
            sign(SECRET_TOKEN.as_bytes(), SDK_ID, 1795348800, SDK_BODY).unwrap(),
            [
                (IDEMPOTENCY_KEY_HEADER, SDK_ID.to_owned()),
                (TOKEN_HEADER, SECRET_TOKEN.to_owned()),
            ]
        );
        assert_eq!(
            check(&token, &[(TOKEN_HEADER, SECRET_TOKEN)], SDK_BODY),
            Ok(SecretSlot::Current)
        );
        for wrong in [
            "",
            "gitlab secret token 12",
            "gitlab secret token 1234",
            "GITLAB SECRET TOKEN 123",
        ] {
            assert_eq!(
                check(&token, &[(TOKEN_HEADER, wrong)], SDK_BODY),
                Err(VerifyError::Mismatch),
                "{wrong:?}"
            );
        }
        assert_eq!(
            check(&token, &[], SDK_BODY),
            Err(VerifyError::MissingHeader(TOKEN_HEADER))
        );
        assert_eq!(
            check(
                &SecretSet::default(),
                &[(TOKEN_HEADER, SECRET_TOKEN)],
                SDK_BODY
            ),
            Err(VerifyError::NoSecret)
        );
        assert_eq!(sign(b"\xff", SDK_ID, 1, b""), None);
    }

    #[test]
    fn previous_secret_verifies_until_expiry() {
        let tokens = rotating("new token", SECRET_TOKEN);
        let signing = rotating(OTHER_SIGNING_TOKEN, SIGNING_TOKEN);
        for (set, headers) in [
            (&tokens, &[(TOKEN_HEADER, SECRET_TOKEN)][..]),
            (&signing, &signed()[..]),
        ] {
            assert_eq!(
                check_at(set, headers, SDK_BODY, NOW + Duration::seconds(10)),
                Ok(SecretSlot::Previous)
            );
            assert_eq!(
                check_at(set, headers, SDK_BODY, NOW + Duration::seconds(31)),
                Err(VerifyError::Mismatch)
            );
        }
    }

    #[test]
    fn each_secret_is_checked_only_its_own_way() {
        let signing = SecretSet::single(SIGNING_TOKEN);
        let token = SecretSet::single(SECRET_TOKEN);
        let both: Vec<_> = signed()
            .into_iter()
            .chain([(TOKEN_HEADER, SECRET_TOKEN)])
            .collect();
        // GitLab sends both when both are set; either kind of stack accepts that.
        assert_eq!(check(&signing, &both, SDK_BODY), Ok(SecretSlot::Current));
        assert_eq!(check(&token, &both, SDK_BODY), Ok(SecretSlot::Current));
        // A signing-token stack never falls back to X-Gitlab-Token, even one equal to the token.
        for sent in [SECRET_TOKEN, SIGNING_TOKEN] {
            assert_eq!(
                check(&signing, &[(TOKEN_HEADER, sent)], SDK_BODY),
                Err(VerifyError::MissingHeader(SIGNATURE_HEADER))
            );
        }
        // A wrong signature is not rescued by a token the stack does not hold.
        let mut bad_signature = both.clone();
        bad_signature[2].1 = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        assert_eq!(
            check(&signing, &bad_signature, SDK_BODY),
            Err(VerifyError::Mismatch)
        );
        // A secret-token stack cannot check signatures: it needs its token.
        assert_eq!(
            check(&token, &signed(), SDK_BODY),
            Err(VerifyError::MissingHeader(TOKEN_HEADER))
        );
        // Neither header: refused, whatever the stack holds.
        for set in [&signing, &token, &rotating(SIGNING_TOKEN, SECRET_TOKEN)] {
            assert!(check(set, &[(EVENT_HEADER, "Push Hook")], SDK_BODY).is_err());
        }
    }

    #[test]
    fn moving_from_secret_token_to_signing_token() {
        // The signing token is current; the old secret token previous until its expiry.
        let set = rotating(SIGNING_TOKEN, SECRET_TOKEN);
        let token_only = [(TOKEN_HEADER, SECRET_TOKEN)];
        assert_eq!(check(&set, &signed(), SDK_BODY), Ok(SecretSlot::Current));
        assert_eq!(check(&set, &token_only, SDK_BODY), Ok(SecretSlot::Previous));
        let later = NOW + Duration::seconds(31);
        assert_eq!(
            check_at(&set, &token_only, SDK_BODY, later),
            Err(VerifyError::MissingHeader(SIGNATURE_HEADER))
        );
        // Fresh signatures keep passing after the old token expires.
        let fresh = sign(
            SIGNING_TOKEN.as_bytes(),
            SDK_ID,
            later.unix_timestamp(),
            SDK_BODY,
        )
        .unwrap();
        let fresh: Vec<(&str, &str)> = fresh.iter().map(|(n, v)| (*n, v.as_str())).collect();
        assert_eq!(
            check_at(&set, &fresh, SDK_BODY, later),
            Ok(SecretSlot::Current)
        );
        // Both checks fail: the signature's fault is reported, not the token's.
        let both_kept = SecretSet::new(
            Some(Secret::new(SIGNING_TOKEN)),
            Some(Secret::new(SECRET_TOKEN)),
            None,
        );
        let stale = [
            signed()[0],
            signed()[1],
            signed()[2],
            (TOKEN_HEADER, "wrong"),
        ];
        assert_eq!(
            check_at(&both_kept, &stale, SDK_BODY, NOW + Duration::minutes(10)),
            Err(VerifyError::StaleTimestamp)
        );
    }

    #[test]
    fn malformed_headers_are_refused_without_panicking() {
        let set = rotating(SIGNING_TOKEN, SECRET_TOKEN);
        for (name, value) in [
            (SIGNATURE_HEADER, ""),
            (SIGNATURE_HEADER, "v1,"),
            (SIGNATURE_HEADER, "v1a,AAAA"),
            (SIGNATURE_HEADER, &"v1,x ".repeat(2_000)),
            (TIMESTAMP_HEADER, "soon"),
            (TIMESTAMP_HEADER, "-1"),
            (ID_HEADER, ""),
        ] {
            let mut headers = signed().to_vec();
            headers.retain(|(n, _)| *n != name);
            headers.push((name, value));
            assert!(
                check(&set, &headers, SDK_BODY).is_err(),
                "{name}: {value:?}"
            );
        }
        let mut binary = HeaderMap::new();
        binary.insert(TOKEN_HEADER, HeaderValue::from_bytes(b"\xff\xfe").unwrap());
        binary.insert(
            SIGNATURE_HEADER,
            HeaderValue::from_bytes(b"v1,\x80").unwrap(),
        );
        assert_eq!(
            check_map(&set, &binary, SDK_BODY, NOW),
            Err(VerifyError::MissingHeader(TOKEN_HEADER))
        );
    }
}
