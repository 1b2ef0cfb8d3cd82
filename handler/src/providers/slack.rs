//! Slack (Events API, interactivity, slash commands):
//! `X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret, "v0:" + timestamp + ":" + body)>`,
//! with `X-Slack-Request-Timestamp` in unix seconds.
//!
//! Every kind of request is signed over its raw body: JSON events as well as form-encoded slash
//! commands and `payload=` interactivity, so nothing is decoded before the signature is checked.
//! The timestamp is signed, so a window on it (Slack suggests five minutes) stops replays.

use std::borrow::Cow;

use http::HeaderName;
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use super::{
    HmacSha256, SignedRequest, VerifyError, first_match, mac_bytes, parse_unix_seconds, within,
};
use super::{Sample, Scheme, SecretOrigin, VerifyOptions};
use crate::event::Signed;
use crate::event::{self, BodyKind, Delivery, Entry, EventSettings, JsonPayload, MapError};
use crate::request::Reply;
use crate::secrets::{SecretSet, SecretSlot};

pub const SIGNATURE_HEADER: &str = "x-slack-signature";
pub const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
/// On Events API retries: the attempt number (1 to 3).
pub const RETRY_NUM_HEADER: &str = "x-slack-retry-num";
/// On Events API retries: why the last attempt failed (`http_timeout`, `http_error`, ...).
pub const RETRY_REASON_HEADER: &str = "x-slack-retry-reason";
/// A response header: `1` asks Slack not to retry a failed event.
pub const NO_RETRY_HEADER: &str = "x-slack-no-retry";
// The same names as `HeaderName`s, which the verifier, the mapper and the logs look up (a
// lookup by `&str` parses the name each time).
pub static SIGNATURE: HeaderName = HeaderName::from_static(SIGNATURE_HEADER);
pub static TIMESTAMP: HeaderName = HeaderName::from_static(TIMESTAMP_HEADER);
pub static RETRY_NUM: HeaderName = HeaderName::from_static(RETRY_NUM_HEADER);
pub static RETRY_REASON: HeaderName = HeaderName::from_static(RETRY_REASON_HEADER);
pub static NO_RETRY: HeaderName = HeaderName::from_static(NO_RETRY_HEADER);

/// The only signature version Slack has published.
const VERSION_PREFIX: &str = "v0=";

/// The largest body [`url_verification_challenge`] parses. Slack's handshake is a few hundred
/// bytes; anything bigger is an ordinary event and is not parsed a second time.
pub const MAX_HANDSHAKE_BODY: usize = 16 * 1024;

/// The `X-Slack-Signature` Slack sends for `body` at `timestamp` (unix seconds as text).
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mac = mac_bytes::<HmacSha256>(secret, &signed_parts(timestamp, body));
    format!("{VERSION_PREFIX}{}", hex::encode(mac))
}

fn signed_parts<'a>(timestamp: &'a str, body: &'a [u8]) -> [&'a [u8]; 4] {
    [b"v0:", timestamp.as_bytes(), b":", body]
}

/// Verify a Slack request signed within `tolerance` of `now` (either way).
pub fn verify(
    req: &SignedRequest<'_>,
    secrets: &SecretSet,
    tolerance: Duration,
    now: OffsetDateTime,
) -> Result<SecretSlot, VerifyError> {
    if !secrets.has_active(now) {
        return Err(VerifyError::NoSecret);
    }
    let signature = req.header(&SIGNATURE)?;
    let timestamp = req.header(&TIMESTAMP)?;
    let signed_at = parse_unix_seconds(timestamp).ok_or(VerifyError::MalformedTimestamp)?;
    if !within(signed_at, now, tolerance) {
        return Err(VerifyError::StaleTimestamp);
    }
    // One `v0=` and exactly 64 hex digits, decoded onto the stack.
    let hex_digest = signature
        .trim()
        .strip_prefix(VERSION_PREFIX)
        .ok_or(VerifyError::MalformedSignature)?;
    let mut expected = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut expected).map_err(|_| VerifyError::MalformedSignature)?;
    first_match::<HmacSha256>(
        secrets.active(now),
        &signed_parts(timestamp, req.body),
        &expected,
    )
    .ok_or(VerifyError::Mismatch)
}

#[derive(Deserialize)]
struct Handshake<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    challenge: Option<Cow<'a, str>>,
}

/// The `challenge` to echo when a verified body is Slack's `url_verification` handshake (sent
/// when an Events API request URL is saved); `None` for every other body.
pub fn url_verification_challenge(body: &[u8]) -> Option<String> {
    if body.len() > MAX_HANDSHAKE_BODY {
        return None;
    }
    let handshake: Handshake<'_> = serde_json::from_slice(body).ok()?;
    if handshake.kind != "url_verification" {
        return None;
    }
    handshake.challenge.map(Cow::into_owned)
}

/// A Slack app: Events API, interactivity and slash commands.
pub struct Slack;

/// What the mapper reads of an Events API envelope besides its top level.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    event: Option<Inner<'a>>,
    #[serde(borrow)]
    event_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Inner<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
}

impl Scheme for Slack {
    fn name(&self) -> &'static str {
        "slack"
    }

    fn signing(&self) -> &'static str {
        "hex HMAC-SHA256 of v0:timestamp:body (X-Slack-Signature: v0=...), timestamp within the tolerance; answers url_verification"
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

    /// Slack signs its timestamp header and the body.
    fn signed<'r>(&self, request: &SignedRequest<'r>, _secret: &[u8]) -> Signed<'r> {
        Signed::covering(&["timestamp", "body"]).at(request.text(&TIMESTAMP))
    }

    fn delivery_id_header(&self) -> Option<&'static HeaderName> {
        None
    }

    /// Saving the Request URL sends a signed `url_verification`: it is answered with its
    /// challenge, and nothing goes on the bus.
    fn handshake(&self, d: &Delivery<'_>) -> Option<Reply> {
        url_verification_challenge(d.body.as_bytes()).map(|challenge| Reply {
            content_type: "text/plain",
            body: challenge,
        })
    }

    /// Events API envelopes are named by their inner event's `type` (`app_mention`) and
    /// deduplicated by `event_id`; an interactivity `payload=` form by its payload's `type`
    /// (`block_actions`); a slash command is `slash_command`, its fields the Detail.
    fn map(&self, d: &Delivery<'_>, settings: &EventSettings) -> Result<Vec<Entry>, MapError> {
        let mut meta = event::metadata(d);
        match event::body_kind(d) {
            BodyKind::Form => {
                let payload = form_urlencoded::parse(d.body.as_bytes())
                    .find(|(k, _)| k == "payload")
                    .map(|(_, v)| v);
                if let Some(json) = payload {
                    let mut payload = JsonPayload::parse(&json)?;
                    meta.event = Cow::Owned(payload.top.event_type.take().unwrap_or_default());
                    if meta.event.is_empty() {
                        meta.event = Cow::Borrowed("interaction");
                    }
                    let detail = payload.into_detail(&mut meta)?;
                    return Ok(vec![event::entry(settings, &meta, detail)]);
                }
                meta.event = Cow::Borrowed("slash_command");
                let detail =
                    event::form_detail(form_urlencoded::parse(d.body.as_bytes()), &mut meta)?;
                Ok(vec![event::entry(settings, &meta, detail)])
            }
            _ => {
                let text = if d.body.is_empty() { "{}" } else { d.text()? };
                // Only the inner event's name and the id: serde_json skips everything else
                // without recursing; `json_event` then validates the body and holds it to
                // serde_json's nesting limit.
                let envelope = serde_json::from_str::<Envelope<'_>>(text).ok();
                let (inner, event_id) = match envelope {
                    Some(e) => (e.event.and_then(|i| i.kind), e.event_id),
                    None => (None, None),
                };
                meta.delivery_id = event_id;
                event::json_event(d, settings, meta, |meta, top| {
                    if let Some(name) = inner.or_else(|| top.event_type.take().map(Cow::Owned)) {
                        meta.event = name;
                    }
                })
            }
        }
    }

    /// The app's Signing Secret exists before any URL does.
    fn secret_origin(&self) -> SecretOrigin {
        SecretOrigin::Provider {
            prompt: "Slack app Signing Secret (hidden; api.slack.com/apps > your app > Basic Information)",
        }
    }

    fn setup_steps(&self, url: &str, _stack: &str) -> String {
        format!(
            "At api.slack.com/apps > your app:\n\
             1. Event Subscriptions > Enable Events > Request URL: {url}\n   \
                Slack sends a signed url_verification; ebhook answers it and the URL shows Verified.\n\
             2. Subscribe to bot events (each arrives with the event's type as detail-type), then Save Changes.\n\
             3. Optional: Interactivity & Shortcuts > Request URL {url}; Slash Commands > Request URL {url}.\n\
             4. Reinstall the app if Slack asks. Slack retries a delivery up to three times (X-Slack-Retry-Num);\n   \
                each carries the same event_id, ebhook's deliveryId.\n"
        )
    }

    fn after_rotation(&self) -> &'static str {
        "Slack: the Signing Secret you gave is the one Slack now signs with (regenerated under Basic Information); nothing more to do there."
    }

    fn sample(
        &'static self,
        url: &str,
        secret: &[u8],
        now: OffsetDateTime,
        random: [u8; 16],
    ) -> Sample {
        let body = serde_json::json!({
            "token": "ebhook-send-test",
            "team_id": "T0EBHOOK1",
            "api_app_id": "A0EBHOOK1",
            "event": {
                "type": "app_mention",
                "user": "U0EBHOOK1",
                "text": "<@U0EBHOOK2> hello from ebhook send-test",
                "ts": format!("{}.000100", now.unix_timestamp()),
                "channel": "C0EBHOOK1",
                "event_ts": format!("{}.000100", now.unix_timestamp()),
            },
            "type": "event_callback",
            "event_id": format!("Ev{}", hex::encode_upper(&random[..5])),
            "event_time": now.unix_timestamp(),
        })
        .to_string()
        .into_bytes();
        let timestamp = now.unix_timestamp().to_string();
        Sample {
            method: "POST",
            url: url.to_owned(),
            headers: vec![
                ("content-type", "application/json".to_owned()),
                (TIMESTAMP_HEADER, timestamp.clone()),
                (SIGNATURE_HEADER, sign(secret, &timestamp, &body)),
            ],
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Secret;
    use http::HeaderMap;
    use time::macros::datetime;

    /// Slack's published example ("Verifying requests from Slack"): a slash command.
    const DOCS_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const DOCS_TS: &str = "1531420618";
    const DOCS_BODY: &[u8] = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const DOCS_SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    const DOCS_NOW: OffsetDateTime = datetime!(2018-07-12 18:36:58 UTC);

    // Produced once with slack_sdk 3.48.0 (PyPI),
    // `SignatureVerifier(SDK_SECRET).generate_signature(timestamp=SDK_TS, body=...)`.
    const SDK_SECRET: &str = "e8b7d6c5a4f3e2d1c0b9a8f7e6d5c4b3";
    const SDK_OLD_SECRET: &str = "0ld-s1gning-secret";
    const SDK_TS: &str = "1795348800";
    const SDK_NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);
    const HANDSHAKE_BODY: &str =
        r#"{"token":"x","challenge":"c2hhbGxvbS1zbGFjaw","type":"url_verification"}"#;
    const HANDSHAKE_SIG: &str =
        "v0=9cf0b6bf2f7d1a503d34f251e1df2ee5b7d92878998397f7148d88780727f500";
    const HANDSHAKE_OLD_SIG: &str =
        "v0=9c3255b57ff0d5c0f75f973297d046bd1ed305dd8a40279341151942f1b805be";
    const INTERACTIVITY_BODY: &str =
        "payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A%7B%22id%22%3A%22U123%22%7D%7D";
    const INTERACTIVITY_SIG: &str =
        "v0=49d6588204a5eaab1c804dd5ce43af6e2d4bc55859798272140e7b3f6886e55a";
    const UTF8_BODY: &str = "{\"type\":\"event_callback\",\"event\":{\"type\":\"message\",\"text\":\"caf\u{e9} \u{2615}\"}}";
    const UTF8_SIG: &str = "v0=82137d4d30fc43819d5c162174263c5b87d33448afe5bcda6b73faf4d894928d";

    const TOLERANCE: Duration = Duration::minutes(5);

    fn headers(signature: Option<&str>, timestamp: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(sig) = signature {
            h.insert(SIGNATURE_HEADER, sig.parse().unwrap());
        }
        if let Some(ts) = timestamp {
            h.insert(TIMESTAMP_HEADER, ts.parse().unwrap());
        }
        h
    }

    fn check(
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
        verify(&req, secrets, TOLERANCE, now)
    }

    #[test]
    fn published_slash_command_vector() {
        assert_eq!(sign(DOCS_SECRET.as_bytes(), DOCS_TS, DOCS_BODY), DOCS_SIG);
        let h = headers(Some(DOCS_SIG), Some(DOCS_TS));
        let secrets = SecretSet::single(DOCS_SECRET);
        assert_eq!(
            check(&secrets, &h, DOCS_BODY, DOCS_NOW),
            Ok(SecretSlot::Current)
        );
        // Upper-case hex names the same bytes.
        let upper = format!("v0={}", DOCS_SIG[3..].to_uppercase());
        let h = headers(Some(&upper), Some(DOCS_TS));
        assert_eq!(
            check(&secrets, &h, DOCS_BODY, DOCS_NOW),
            Ok(SecretSlot::Current)
        );
    }

    #[test]
    fn sdk_vectors_json_form_and_utf8() {
        let secrets = SecretSet::single(SDK_SECRET);
        for (body, sig) in [
            (HANDSHAKE_BODY, HANDSHAKE_SIG),
            (INTERACTIVITY_BODY, INTERACTIVITY_SIG),
            (UTF8_BODY, UTF8_SIG),
        ] {
            assert_eq!(sign(SDK_SECRET.as_bytes(), SDK_TS, body.as_bytes()), sig);
            let h = headers(Some(sig), Some(SDK_TS));
            assert_eq!(
                check(&secrets, &h, body.as_bytes(), SDK_NOW),
                Ok(SecretSlot::Current),
                "{body}"
            );
        }
    }

    #[test]
    fn tampered_body_and_wrong_secret_fail() {
        let h = headers(Some(DOCS_SIG), Some(DOCS_TS));
        let mut tampered = DOCS_BODY.to_vec();
        tampered.extend_from_slice(b"&text=rm");
        assert_eq!(
            check(&SecretSet::single(DOCS_SECRET), &h, &tampered, DOCS_NOW),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(
                &SecretSet::single("another secret"),
                &h,
                DOCS_BODY,
                DOCS_NOW
            ),
            Err(VerifyError::Mismatch)
        );
        // The signed timestamp is part of the message: replaying under a fresh one fails.
        let fresh = "1531420619";
        let h = headers(Some(DOCS_SIG), Some(fresh));
        assert_eq!(
            check(&SecretSet::single(DOCS_SECRET), &h, DOCS_BODY, DOCS_NOW),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn timestamp_window_both_directions() {
        let secrets = SecretSet::single("s3cret");
        let body = b"{}";
        let now = datetime!(2026-11-22 12:00:00 UTC);
        let at = |offset: i64| (now.unix_timestamp() + offset).to_string();
        for (ts, expected) in [
            (at(-300), Ok(SecretSlot::Current)),
            (at(300), Ok(SecretSlot::Current)),
            (at(-301), Err(VerifyError::StaleTimestamp)),
            (at(301), Err(VerifyError::StaleTimestamp)),
        ] {
            let h = headers(Some(&sign(b"s3cret", &ts, body)), Some(&ts));
            assert_eq!(check(&secrets, &h, body, now), expected, "{ts}");
        }
        // The published vector is years old: refused on today's clock.
        let h = headers(Some(DOCS_SIG), Some(DOCS_TS));
        assert_eq!(
            check(&SecretSet::single(DOCS_SECRET), &h, DOCS_BODY, now),
            Err(VerifyError::StaleTimestamp)
        );
    }

    #[test]
    fn malformed_timestamps_are_refused() {
        let secrets = SecretSet::single("s");
        for ts in [
            "",
            "-1531420618",
            "+1531420618",
            "1531420618.5",
            "1e9",
            "0x5b47a9ca",
            "2026-11-22T12:00:00Z",
            "999999999999",
            "1000000000000",
            "99999999999999999999999",
        ] {
            let sig = sign(b"s", ts, b"{}");
            let mut h = HeaderMap::new();
            h.insert(SIGNATURE_HEADER, sig.parse().unwrap());
            h.insert(
                TIMESTAMP_HEADER,
                http::HeaderValue::from_bytes(ts.as_bytes()).unwrap(),
            );
            assert_eq!(
                check(&secrets, &h, b"{}", SDK_NOW),
                Err(VerifyError::MalformedTimestamp),
                "{ts:?}"
            );
        }
    }

    #[test]
    fn missing_and_malformed_signatures() {
        let secrets = SecretSet::single(DOCS_SECRET);
        assert_eq!(
            check(&secrets, &headers(None, Some(DOCS_TS)), DOCS_BODY, DOCS_NOW),
            Err(VerifyError::MissingHeader(SIGNATURE_HEADER))
        );
        assert_eq!(
            check(
                &secrets,
                &headers(Some(DOCS_SIG), None),
                DOCS_BODY,
                DOCS_NOW
            ),
            Err(VerifyError::MissingHeader(TIMESTAMP_HEADER))
        );
        let digest = &DOCS_SIG[3..];
        for bad in [
            digest.to_string(),
            format!("v1={digest}"),
            format!("v0={}", &digest[..63]),
            format!("v0={digest}0"),
            format!("v0={digest},v0={digest}"),
            format!("v0=zz{}", &digest[2..]),
            "v0=".to_string(),
            "v0".to_string(),
        ] {
            let h = headers(Some(&bad), Some(DOCS_TS));
            assert_eq!(
                check(&secrets, &h, DOCS_BODY, DOCS_NOW),
                Err(VerifyError::MalformedSignature),
                "{bad}"
            );
        }
        // Bytes that are not text are as good as absent.
        let mut h = headers(None, Some(DOCS_TS));
        h.insert(
            SIGNATURE_HEADER,
            http::HeaderValue::from_bytes(b"v0=\xff").unwrap(),
        );
        assert_eq!(
            check(&secrets, &h, DOCS_BODY, DOCS_NOW),
            Err(VerifyError::MissingHeader(SIGNATURE_HEADER))
        );
    }

    #[test]
    fn no_active_secret() {
        let h = headers(Some(DOCS_SIG), Some(DOCS_TS));
        assert_eq!(
            check(&SecretSet::default(), &h, DOCS_BODY, DOCS_NOW),
            Err(VerifyError::NoSecret)
        );
        let expired = SecretSet::new(
            None,
            Some(Secret::new(DOCS_SECRET)),
            Some(datetime!(2018-07-12 0:00 UTC)),
        );
        assert_eq!(
            check(&expired, &h, DOCS_BODY, DOCS_NOW),
            Err(VerifyError::NoSecret)
        );
    }

    #[test]
    fn previous_secret_verifies_until_expiry() {
        let set = SecretSet::new(
            Some(Secret::new(SDK_SECRET)),
            Some(Secret::new(SDK_OLD_SECRET)),
            Some(datetime!(2026-11-22 12:00:30 UTC)),
        );
        let h = headers(Some(HANDSHAKE_OLD_SIG), Some(SDK_TS));
        let body = HANDSHAKE_BODY.as_bytes();
        assert_eq!(
            check(&set, &h, body, datetime!(2026-11-22 12:00:10 UTC)),
            Ok(SecretSlot::Previous)
        );
        assert_eq!(
            check(&set, &h, body, datetime!(2026-11-22 12:00:31 UTC)),
            Err(VerifyError::Mismatch)
        );
        let h = headers(Some(HANDSHAKE_SIG), Some(SDK_TS));
        assert_eq!(
            check(&set, &h, body, datetime!(2026-11-22 12:00:10 UTC)),
            Ok(SecretSlot::Current)
        );
    }

    #[test]
    fn non_utf8_body_verifies_over_raw_bytes() {
        let body = [0xff, 0xfe, 0x00, 0x80];
        let h = headers(Some(&sign(b"k", SDK_TS, &body)), Some(SDK_TS));
        assert_eq!(
            check(&SecretSet::single("k"), &h, &body, SDK_NOW),
            Ok(SecretSlot::Current)
        );
    }

    #[test]
    fn url_verification_challenge_only_for_the_handshake() {
        assert_eq!(
            url_verification_challenge(HANDSHAKE_BODY.as_bytes()).as_deref(),
            Some("c2hhbGxvbS1zbGFjaw")
        );
        // Escapes in the challenge are decoded, as a JSON parser would.
        assert_eq!(
            url_verification_challenge(br#"{"type":"url_verification","challenge":"a\/b\u0041"}"#)
                .as_deref(),
            Some("a/bA")
        );
        for body in [
            UTF8_BODY.as_bytes(),
            INTERACTIVITY_BODY.as_bytes(),
            DOCS_BODY,
            b"",
            b"null",
            b"[]",
            br#"{"type":"url_verification"}"#,
            br#"{"type":"url_verification","challenge":42}"#,
            br#"{"type":"URL_VERIFICATION","challenge":"c"}"#,
            br#"{"type":"event_callback","challenge":"c"}"#,
            br#"{"type":"url_verification","challenge":"c","type":"event_callback"}"#,
            br#"{"type":"url_verification","challenge":"c""#,
        ] {
            assert_eq!(
                url_verification_challenge(body),
                None,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // Larger than any handshake: not parsed at all.
        let mut big = br#"{"type":"url_verification","challenge":"c","pad":""#.to_vec();
        big.resize(MAX_HANDSHAKE_BODY, b'x');
        big.extend_from_slice(br#""}"#);
        assert_eq!(url_verification_challenge(&big), None);
    }
}
