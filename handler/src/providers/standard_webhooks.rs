//! Standard Webhooks (<https://www.standardwebhooks.com>, spec at
//! <https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md>),
//! used by Svix and the providers built on it, and by GitLab's signing tokens ([`super::gitlab`]).
//!
//! `webhook-signature` is a space-separated list of `v1,<base64 HMAC-SHA256>`, each over
//! `webhook-id + "." + webhook-timestamp + "." + raw body`; the key is the secret base64-decoded
//! after an optional `whsec_` prefix. `webhook-timestamp` is integer Unix seconds; the spec's
//! libraries allow 5 minutes either way.
//!
//! The spec also names `v1a`, ed25519 signatures checked with a `whpk_` public key. The official
//! `standardwebhooks` library (1.1.0, PyPI) does not verify them: it skips every entry that is not
//! `v1`. So `v1a` entries are skipped here too, rather than trusting a scheme its reference
//! implementation never checks; a stack's secret is always an HMAC secret.

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use http::HeaderName;
use time::{Duration, OffsetDateTime};

use super::{
    HmacSha256, MAX_SIGNATURES, SignedRequest, VerifyError, first_match_any, mac_bytes,
    parse_unix_seconds, within,
};
use super::{Sample, Scheme, SecretOrigin, VerifyOptions};
use crate::event::Signed;
use crate::event::{self, Delivery, Entry, EventSettings, MapError};
use crate::secrets::{Secret, SecretSet, SecretSlot};
use std::borrow::Cow;

pub const ID_HEADER: &str = "webhook-id";
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "webhook-signature";
// The same names as `HeaderName`s, which the verifier, the mapper and the logs look up (a lookup
// by `&str` parses the name each time).
pub static ID: HeaderName = HeaderName::from_static(ID_HEADER);
pub static TIMESTAMP: HeaderName = HeaderName::from_static(TIMESTAMP_HEADER);
pub static SIGNATURE: HeaderName = HeaderName::from_static(SIGNATURE_HEADER);

/// The prefix that marks a symmetric secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// The spec libraries' window, either way.
pub const DEFAULT_TOLERANCE: Duration = Duration::minutes(5);

/// Secrets are decoded with or without `=` padding, as the reference library decodes them (it
/// appends `==` before decoding).
const SECRET_B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The HMAC key for `secret`: base64-decoded after an optional `whsec_` prefix. `None` if that is
/// not base64 or is empty: such a secret verifies nothing (and never panics).
pub fn signing_key(secret: &[u8]) -> Option<Secret> {
    let text = secret
        .strip_prefix(SECRET_PREFIX.as_bytes())
        .unwrap_or(secret)
        .trim_ascii();
    let key = SECRET_B64.decode(text).ok()?;
    (!key.is_empty()).then(|| Secret::new(key))
}

/// The `webhook-signature` value a sender with `secret` puts on `body` with this id and
/// timestamp (Unix seconds), or `None` if `secret` is not a usable key.
pub fn sign(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = signing_key(secret)?;
    let t = timestamp.to_string();
    let mac = mac_bytes::<HmacSha256>(
        key.as_bytes(),
        &[id.as_bytes(), b".", t.as_bytes(), b".", body],
    );
    Some(format!("v1,{}", STANDARD.encode(mac)))
}

/// Verify `req` against every secret active at `now`; `tolerance` is the replay window either
/// way ([`DEFAULT_TOLERANCE`] is the spec's).
pub fn verify(
    req: &SignedRequest<'_>,
    secrets: &SecretSet,
    tolerance: Duration,
    now: OffsetDateTime,
) -> Result<SecretSlot, VerifyError> {
    if !secrets.has_active(now) {
        return Err(VerifyError::NoSecret);
    }
    let (id, timestamp, signature) = headers(req)?;
    verify_parts(
        id,
        timestamp,
        signature,
        req.body,
        secrets.active(now),
        tolerance,
        now,
    )
}

/// The three headers, signature first (its absence says most about a request). An empty
/// `webhook-id` counts as missing, as the reference library counts it.
pub(crate) fn headers<'r>(
    req: &'r SignedRequest<'_>,
) -> Result<(&'r str, &'r str, &'r str), VerifyError> {
    let signature = req.header(&SIGNATURE)?;
    let id = req
        .header(&ID)
        .ok()
        .filter(|id| !id.is_empty())
        .ok_or(VerifyError::MissingHeader(ID_HEADER))?;
    let timestamp = req.header(&TIMESTAMP)?;
    Ok((id, timestamp, signature))
}

/// The check itself, on header values already read, against the given secrets (each one
/// `whsec_...` or bare base64); for senders that use these headers under a scheme of their own,
/// such as GitLab's signing tokens.
pub fn verify_parts<'s>(
    id: &str,
    timestamp: &str,
    signature_header: &str,
    body: &[u8],
    secrets: impl IntoIterator<Item = (SecretSlot, &'s Secret)>,
    tolerance: Duration,
    now: OffsetDateTime,
) -> Result<SecretSlot, VerifyError> {
    let signed_at = parse_unix_seconds(timestamp.trim()).ok_or(VerifyError::MalformedTimestamp)?;
    // The cheap check first: a replay is refused without hashing its body.
    if !within(signed_at, now, tolerance) {
        return Err(VerifyError::StaleTimestamp);
    }
    let (signatures, count) = parse_signatures(signature_header)?;
    // At most two keys (current and previous), each the size of a stored secret.
    let keys: Vec<(SecretSlot, Secret)> = secrets
        .into_iter()
        .filter_map(|(slot, secret)| Some((slot, signing_key(secret.as_bytes())?)))
        .collect();
    first_match_any::<HmacSha256>(
        keys.iter().map(|(slot, key)| (*slot, key)),
        &[id.as_bytes(), b".", timestamp.trim().as_bytes(), b".", body],
        &signatures[..count],
    )
    .ok_or(VerifyError::Mismatch)
}

/// The first [`MAX_SIGNATURES`] `v1` entries that are 32 bytes of padded base64. Other versions
/// (`v1a`, see the module comment) and entries that cannot be a signature are skipped; a header
/// with no usable `v1` is malformed.
fn parse_signatures(header: &str) -> Result<([[u8; 32]; MAX_SIGNATURES], usize), VerifyError> {
    let mut signatures = [[0u8; 32]; MAX_SIGNATURES];
    let mut count = 0;
    let mut v1_seen = 0usize;
    for entry in header.split(' ') {
        let Some(encoded) = entry.strip_prefix("v1,") else {
            continue;
        };
        v1_seen += 1;
        if v1_seen > MAX_SIGNATURES {
            break;
        }
        // 44 characters is 32 bytes padded; anything longer is not a signature and is not decoded.
        if encoded.len() == 44
            && matches!(
                STANDARD.decode_slice(encoded, &mut signatures[count]),
                Ok(32)
            )
        {
            count += 1;
        }
    }
    if count == 0 {
        return Err(VerifyError::MalformedSignature);
    }
    Ok((signatures, count))
}

/// Senders that follow Standard Webhooks (Svix, and the many built on it).
pub struct StandardWebhooks;

impl Scheme for StandardWebhooks {
    fn name(&self) -> &'static str {
        "standard-webhooks"
    }

    fn signing(&self) -> &'static str {
        "base64 HMAC-SHA256 of id.timestamp.body (webhook-signature: v1,...; any during a rotation), key = the whsec_ secret decoded"
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

    /// The spec signs `webhook-id` (the delivery id, `idHeader`), `webhook-timestamp` and the body.
    fn signed<'r>(&self, request: &SignedRequest<'r>, _secret: &[u8]) -> Signed<'r> {
        Signed::covering(&["idHeader", "timestamp", "body"]).at(request.text(&TIMESTAMP))
    }

    fn delivery_id_header(&self) -> Option<&'static HeaderName> {
        Some(&ID)
    }

    /// The payload as the Detail, named by its top-level `type` (the spec's recommended
    /// `{"type", "timestamp", "data"}`), deduplicated by `webhook-id`.
    fn map(&self, d: &Delivery<'_>, settings: &EventSettings) -> Result<Vec<Entry>, MapError> {
        let mut meta = event::metadata(d);
        meta.delivery_id = d.header(&ID).map(Cow::Borrowed);
        event::json_event(d, settings, meta, |meta, top| {
            if let Some(t) = top.event_type.take() {
                meta.event = Cow::Owned(t);
            }
        })
    }

    fn secret_origin(&self) -> SecretOrigin {
        SecretOrigin::AfterWebhook {
            prompt: "signing secret, whsec_... (hidden; Enter to set it later)",
        }
    }

    fn setup_steps(&self, url: &str, stack: &str) -> String {
        format!(
            "At the sender (its webhook or endpoint settings; in Svix's App Portal: Endpoints > Add Endpoint):\n\
             1. Endpoint URL: {url}\n\
             2. Choose the event types to send (each arrives with its type as detail-type), then create it.\n\
             3. Copy the endpoint's signing secret (whsec_...).\n\
             4. Give it to ebhook: ebhook init --provider standard-webhooks --stack-name {stack} --secret-stdin\n   \
                (paste the secret, then Ctrl-D). Until a secret is set, the endpoint rejects every request.\n\
             Senders following the spec sign with the old and the new secret for a while after a rotation:\n\
             ebhook rotate-secret --stack-name {stack} --secret-stdin with the new one loses nothing.\n"
        )
    }

    fn after_rotation(&self) -> &'static str {
        "Standard Webhooks senders sign with the old and new secret for a while after rotating; nothing more to do there."
    }

    fn sample(
        &'static self,
        url: &str,
        secret: &[u8],
        now: OffsetDateTime,
        random: [u8; 16],
    ) -> Sample {
        let id = format!("msg_{}", hex::encode(&random[..12]));
        let body = serde_json::json!({
            "type": "invoice.paid",
            "timestamp": event::received_at(now),
            "data": {"id": format!("inv_{}", hex::encode(&random[12..])), "amount": 2000, "note": "ebhook send-test"},
        })
        .to_string()
        .into_bytes();
        let mut headers = vec![
            ("content-type", "application/json".to_owned()),
            (ID_HEADER, id.clone()),
            (TIMESTAMP_HEADER, now.unix_timestamp().to_string()),
        ];
        // A secret that is not base64 signs nothing: the request is then refused, as the
        // sender's would be.
        if let Some(signature) = sign(secret, &id, now.unix_timestamp(), &body) {
            headers.push((SIGNATURE_HEADER, signature));
        }
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

    // The spec's published example (also in the reference libraries' tests).
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TS: &str = "1614265330";
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    const SPEC_NOW: OffsetDateTime = datetime!(2021-02-25 15:02:10 UTC);

    // Produced once with the official Python library, standardwebhooks 1.1.0:
    // `Webhook(secret).sign(id, datetime.fromtimestamp(ts, timezone.utc), body)`.
    const SDK_ID: &str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
    const SDK_TS: &str = "1795348800";
    const SDK_BODY: &[u8] = br#"{"type":"contact.created","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"1f81eb52-5198-4599-803e-771906343485"}}"#;
    const SDK_SIG: &str = "v1,W3LpeBuon/DSO39lEtmBLob5wQ5ZpQhIAxG46YwL+E8=";
    /// 1795348800, `SDK_TS`.
    const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

    fn request_headers(id: Option<&str>, ts: Option<&str>, sig: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in [
            (ID_HEADER, id),
            (TIMESTAMP_HEADER, ts),
            (SIGNATURE_HEADER, sig),
        ] {
            if let Some(value) = value {
                h.insert(name, value.parse().unwrap());
            }
        }
        h
    }

    fn check_headers(
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
        (id, ts, sig): (&str, &str, &str),
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<SecretSlot, VerifyError> {
        let headers = request_headers(Some(id), Some(ts), Some(sig));
        check_headers(secrets, &headers, body, now)
    }

    #[test]
    fn published_vector() {
        let ts: i64 = SPEC_TS.parse().unwrap();
        assert_eq!(
            sign(SPEC_SECRET.as_bytes(), SPEC_ID, ts, SPEC_BODY).as_deref(),
            Some(SPEC_SIG)
        );
        assert_eq!(
            check(
                &SecretSet::single(SPEC_SECRET),
                (SPEC_ID, SPEC_TS, SPEC_SIG),
                SPEC_BODY,
                SPEC_NOW
            ),
            Ok(SecretSlot::Current)
        );
        // The prefix is optional: the bare base64 is the same key.
        let bare = &SPEC_SECRET[SECRET_PREFIX.len()..];
        assert_eq!(
            check(
                &SecretSet::single(bare),
                (SPEC_ID, SPEC_TS, SPEC_SIG),
                SPEC_BODY,
                SPEC_NOW
            ),
            Ok(SecretSlot::Current)
        );
    }

    #[test]
    fn sdk_vector() {
        assert_eq!(
            sign(SPEC_SECRET.as_bytes(), SDK_ID, 1795348800, SDK_BODY).as_deref(),
            Some(SDK_SIG)
        );
        assert_eq!(
            check(
                &SecretSet::single(SPEC_SECRET),
                (SDK_ID, SDK_TS, SDK_SIG),
                SDK_BODY,
                NOW
            ),
            Ok(SecretSlot::Current)
        );
    }

    #[test]
    fn tampered_parts_and_wrong_secret_fail() {
        let secrets = SecretSet::single(SPEC_SECRET);
        let parts = (SDK_ID, SDK_TS, SDK_SIG);
        let mut tampered = SDK_BODY.to_vec();
        tampered[10] ^= 1;
        assert_eq!(
            check(&secrets, parts, &tampered, NOW),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(&secrets, ("msg_other", SDK_TS, SDK_SIG), SDK_BODY, NOW),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(&secrets, (SDK_ID, "1795348801", SDK_SIG), SDK_BODY, NOW),
            Err(VerifyError::Mismatch)
        );
        let wrong = SecretSet::single("whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q=");
        assert_eq!(
            check(&wrong, parts, SDK_BODY, NOW),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn window_both_ways() {
        let secrets = SecretSet::single(SPEC_SECRET);
        let parts = (SDK_ID, SDK_TS, SDK_SIG);
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
            assert_eq!(check(&secrets, parts, SDK_BODY, now), expected, "{now}");
        }
    }

    #[test]
    fn any_listed_v1_may_match_and_v1a_is_skipped() {
        let secrets = SecretSet::single(SPEC_SECRET);
        let other = sign(
            b"whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q=",
            SDK_ID,
            1795348800,
            SDK_BODY,
        )
        .unwrap();
        // The spec's own example pairs a v1 with a v1a.
        let v1a = "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==";
        for header in [
            format!("{other} {SDK_SIG}"),
            format!("{SDK_SIG} {v1a}"),
            format!("{v1a} v2,abc {SDK_SIG}"),
            format!("v1,short {SDK_SIG}"),
        ] {
            assert_eq!(
                check(&secrets, (SDK_ID, SDK_TS, &header), SDK_BODY, NOW),
                Ok(SecretSlot::Current),
                "{header}"
            );
        }
        assert_eq!(
            check(&secrets, (SDK_ID, SDK_TS, v1a), SDK_BODY, NOW),
            Err(VerifyError::MalformedSignature)
        );
    }

    #[test]
    fn previous_secret_verifies_until_expiry() {
        let set = SecretSet::new(
            Some(Secret::new(
                "whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q=",
            )),
            Some(Secret::new(SPEC_SECRET)),
            Some(NOW + Duration::seconds(30)),
        );
        let parts = (SDK_ID, SDK_TS, SDK_SIG);
        assert_eq!(
            check(&set, parts, SDK_BODY, NOW + Duration::seconds(10)),
            Ok(SecretSlot::Previous)
        );
        assert_eq!(
            check(&set, parts, SDK_BODY, NOW + Duration::seconds(31)),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn missing_headers_and_no_secret() {
        let secrets = SecretSet::single(SPEC_SECRET);
        for (headers, missing) in [
            (
                request_headers(Some(SDK_ID), Some(SDK_TS), None),
                SIGNATURE_HEADER,
            ),
            (
                request_headers(None, Some(SDK_TS), Some(SDK_SIG)),
                ID_HEADER,
            ),
            (
                request_headers(Some(""), Some(SDK_TS), Some(SDK_SIG)),
                ID_HEADER,
            ),
            (
                request_headers(Some(SDK_ID), None, Some(SDK_SIG)),
                TIMESTAMP_HEADER,
            ),
        ] {
            assert_eq!(
                check_headers(&secrets, &headers, SDK_BODY, NOW),
                Err(VerifyError::MissingHeader(missing))
            );
        }
        let mut binary = request_headers(Some(SDK_ID), Some(SDK_TS), None);
        binary.insert(
            SIGNATURE_HEADER,
            HeaderValue::from_bytes(b"v1,\xff").unwrap(),
        );
        assert_eq!(
            check_headers(&secrets, &binary, SDK_BODY, NOW),
            Err(VerifyError::MissingHeader(SIGNATURE_HEADER))
        );
        assert_eq!(
            check(
                &SecretSet::default(),
                (SDK_ID, SDK_TS, SDK_SIG),
                SDK_BODY,
                NOW
            ),
            Err(VerifyError::NoSecret)
        );
    }

    #[test]
    fn unusable_secrets_verify_nothing() {
        for secret in [
            "whsec_",
            "whsec_not base64!",
            "whsec_####",
            "not base64 at all",
        ] {
            assert!(signing_key(secret.as_bytes()).is_none(), "{secret}");
            assert_eq!(sign(secret.as_bytes(), SDK_ID, 1, b""), None);
            assert_eq!(
                check(
                    &SecretSet::single(secret),
                    (SDK_ID, SDK_TS, SDK_SIG),
                    SDK_BODY,
                    NOW
                ),
                Err(VerifyError::Mismatch),
                "{secret}"
            );
        }
        // Unpadded, and with a stray newline from a copy and paste: still the same key.
        let unpadded = "whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q";
        let padded = "whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q=\n";
        assert_eq!(
            signing_key(unpadded.as_bytes()),
            signing_key(padded.as_bytes())
        );
    }

    #[test]
    fn malformed_headers_are_refused_without_panicking() {
        let secrets = SecretSet::single(SPEC_SECRET);
        let b64 = &SDK_SIG[3..];
        for (ts, sig, expected) in [
            ("", SDK_SIG, VerifyError::MalformedTimestamp),
            ("-1795348800", SDK_SIG, VerifyError::MalformedTimestamp),
            ("1795348800.0", SDK_SIG, VerifyError::MalformedTimestamp),
            ("1e9", SDK_SIG, VerifyError::MalformedTimestamp),
            (
                "99999999999999999999999",
                SDK_SIG,
                VerifyError::MalformedTimestamp,
            ),
            ("0", SDK_SIG, VerifyError::StaleTimestamp),
            (SDK_TS, "", VerifyError::MalformedSignature),
            (SDK_TS, "v1,", VerifyError::MalformedSignature),
            (SDK_TS, "v1", VerifyError::MalformedSignature),
            (SDK_TS, b64, VerifyError::MalformedSignature),
            (
                SDK_TS,
                &format!("v1,{}", &b64[..43]),
                VerifyError::MalformedSignature,
            ),
            (
                SDK_TS,
                &format!("v1,{b64}AAAA"),
                VerifyError::MalformedSignature,
            ),
            (
                SDK_TS,
                &format!("v1,{}!", &b64[..43]),
                VerifyError::MalformedSignature,
            ),
            (
                SDK_TS,
                &format!("v1 ,{b64}"),
                VerifyError::MalformedSignature,
            ),
            (
                SDK_TS,
                &format!("V1,{b64}"),
                VerifyError::MalformedSignature,
            ),
            (SDK_TS, ",,, ,", VerifyError::MalformedSignature),
        ] {
            assert_eq!(
                check(&secrets, (SDK_ID, ts, sig), SDK_BODY, NOW),
                Err(expected),
                "{ts:?} {sig:?}"
            );
        }
    }

    #[test]
    fn only_the_first_sixteen_v1_are_examined() {
        let secrets = SecretSet::single(SPEC_SECRET);
        let wrong = "v1,".to_owned() + &"A".repeat(43) + "=";
        let within_cap = format!("{} {SDK_SIG}", vec![wrong.as_str(); 15].join(" "));
        assert_eq!(
            check(&secrets, (SDK_ID, SDK_TS, &within_cap), SDK_BODY, NOW),
            Ok(SecretSlot::Current)
        );
        let flood = format!("{} {SDK_SIG}", vec![wrong.as_str(); 5_000].join(" "));
        assert_eq!(
            check(&secrets, (SDK_ID, SDK_TS, &flood), SDK_BODY, NOW),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn non_utf8_body_verifies_over_raw_bytes() {
        let body = [0xff, 0xfe, 0x00, 0x80];
        let sig = sign(SPEC_SECRET.as_bytes(), SDK_ID, 1795348800, &body).unwrap();
        assert_eq!(
            check(
                &SecretSet::single(SPEC_SECRET),
                (SDK_ID, SDK_TS, &sig),
                &body,
                NOW
            ),
            Ok(SecretSlot::Current)
        );
    }
}
