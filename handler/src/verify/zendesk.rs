//! Zendesk: `X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256(secret as text, timestamp + body)).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use http::HeaderName;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{HmacSha256, SignedRequest, VerifyError, VerifyOptions, first_match, mac_bytes};
use crate::secrets::{Secret, SecretSet, SecretSlot};

pub const SIGNATURE_HEADER: &str = "x-zendesk-webhook-signature";
pub const TIMESTAMP_HEADER: &str = "x-zendesk-webhook-signature-timestamp";
pub const INVOCATION_ID_HEADER: &str = "x-zendesk-webhook-invocation-id";
pub const WEBHOOK_ID_HEADER: &str = "x-zendesk-webhook-id";
pub const ACCOUNT_ID_HEADER: &str = "x-zendesk-account-id";
// The same names as `HeaderName`s, which the verifier, the mapper and the logs look up (a
// lookup by `&str` parses the name each time).
pub static SIGNATURE: HeaderName = HeaderName::from_static(SIGNATURE_HEADER);
pub static TIMESTAMP: HeaderName = HeaderName::from_static(TIMESTAMP_HEADER);
pub static INVOCATION_ID: HeaderName = HeaderName::from_static(INVOCATION_ID_HEADER);
pub static WEBHOOK_ID: HeaderName = HeaderName::from_static(WEBHOOK_ID_HEADER);
pub static ACCOUNT_ID: HeaderName = HeaderName::from_static(ACCOUNT_ID_HEADER);
/// Zendesk signs webhook-builder test sends with this fixed secret, used as text.
pub const TEST_SECRET: &str = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";

/// The signature Zendesk sends for `body` at `timestamp` (for test sends and tests).
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    B64.encode(mac_bytes::<HmacSha256>(
        secret,
        &[timestamp.as_bytes(), body],
    ))
}

pub(super) fn verify(
    req: &SignedRequest<'_>,
    secrets: &SecretSet,
    options: &VerifyOptions,
    now: OffsetDateTime,
) -> Result<SecretSlot, VerifyError> {
    let signature = req.header(&SIGNATURE)?;
    let timestamp = req.header(&TIMESTAMP)?;
    let signed_at =
        OffsetDateTime::parse(timestamp, &Rfc3339).map_err(|_| VerifyError::MalformedTimestamp)?;
    if (now - signed_at).abs() > options.tolerance {
        return Err(VerifyError::StaleTimestamp);
    }
    let expected = B64
        .decode(signature.trim())
        .map_err(|_| VerifyError::MalformedSignature)?;
    if expected.len() != 32 {
        return Err(VerifyError::MalformedSignature);
    }
    let test_secret = Secret::new(TEST_SECRET);
    let test = options
        .accept_zendesk_test_secret
        .then_some((SecretSlot::ZendeskTest, &test_secret));
    first_match::<HmacSha256>(
        secrets.active(now).chain(test),
        &[timestamp.as_bytes(), req.body],
        &expected,
    )
    .ok_or(VerifyError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Provider;
    use crate::verify::verify as verify_any;
    use http::HeaderMap;
    use time::macros::datetime;

    const VECTOR_TS: &str = "2021-03-25T05:09:27Z";
    const VECTOR_NOW: OffsetDateTime = datetime!(2021-03-25 05:10:00 UTC);

    fn headers(signature: &str, timestamp: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(SIGNATURE_HEADER, signature.parse().unwrap());
        h.insert(TIMESTAMP_HEADER, timestamp.parse().unwrap());
        h
    }

    fn check(
        secrets: &SecretSet,
        options: &VerifyOptions,
        headers: &HeaderMap,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<SecretSlot, VerifyError> {
        let req = SignedRequest {
            method: "POST",
            base_url: "https://example.lambda-url.us-east-1.on.aws",
            raw_path: "/",
            raw_query: "",
            headers,
            body,
        };
        verify_any(Provider::Zendesk, &req, secrets, options, now)
    }

    #[test]
    fn published_vector_with_body() {
        let body = br#"{"event":"ticket.updated","id":123}"#;
        let sig = "S/RDdU2ERmj7LHDDoWJ2onPYH+t7/f2+LTM4dL7UiLM=";
        assert_eq!(sign(TEST_SECRET.as_bytes(), VECTOR_TS, body), sig);
        let secrets = SecretSet::single(TEST_SECRET);
        let h = headers(sig, VECTOR_TS);
        let ok = check(&secrets, &VerifyOptions::default(), &h, body, VECTOR_NOW);
        assert_eq!(ok, Ok(SecretSlot::Current));
    }

    #[test]
    fn published_vector_empty_body_signs_timestamp_alone() {
        let sig = "wCdBvXaHttn0wRVIYctzZ9O6O0bnqWakJMEKZ9VoRWw=";
        assert_eq!(sign(TEST_SECRET.as_bytes(), VECTOR_TS, b""), sig);
        let secrets = SecretSet::single(TEST_SECRET);
        let h = headers(sig, VECTOR_TS);
        let ok = check(&secrets, &VerifyOptions::default(), &h, b"", VECTOR_NOW);
        assert_eq!(ok, Ok(SecretSlot::Current));
    }

    #[test]
    fn old_body_then_timestamp_example_must_not_verify() {
        // The retired documentation example signs body + timestamp; the live rule is the reverse.
        let secrets = SecretSet::single("HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=");
        let ts = "2021-07-25T10:00:00Z";
        let h = headers("tRDSF7URY8BLCDlaBcQ7FHu051Zk+aAB0NKMP53teMw=", ts);
        let now = datetime!(2021-07-25 10:00 UTC);
        let result = check(
            &secrets,
            &VerifyOptions::default(),
            &h,
            br#"{"say": "hello"}"#,
            now,
        );
        assert_eq!(result, Err(VerifyError::Mismatch));
    }

    #[test]
    fn tampered_body_and_wrong_secret_fail() {
        let body = br#"{"event":"ticket.updated","id":123}"#;
        let h = headers("S/RDdU2ERmj7LHDDoWJ2onPYH+t7/f2+LTM4dL7UiLM=", VECTOR_TS);
        let opts = VerifyOptions::default();
        let right = SecretSet::single(TEST_SECRET);
        let tampered = br#"{"event":"ticket.updated","id":124}"#;
        assert_eq!(
            check(&right, &opts, &h, tampered, VECTOR_NOW),
            Err(VerifyError::Mismatch)
        );
        let wrong = SecretSet::single("another secret");
        assert_eq!(
            check(&wrong, &opts, &h, body, VECTOR_NOW),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn timestamp_window_both_directions() {
        let secret = "s3cret";
        let secrets = SecretSet::single(secret);
        let opts = VerifyOptions::default();
        let body = b"{}";
        let now = datetime!(2026-11-22 12:00:00 UTC);
        for (ts, expected) in [
            ("2026-11-22T11:55:00Z", Ok(SecretSlot::Current)),
            ("2026-11-22T12:05:00Z", Ok(SecretSlot::Current)),
            ("2026-11-22T11:54:59Z", Err(VerifyError::StaleTimestamp)),
            ("2026-11-22T12:05:01Z", Err(VerifyError::StaleTimestamp)),
            ("yesterday", Err(VerifyError::MalformedTimestamp)),
        ] {
            let h = headers(&sign(secret.as_bytes(), ts, body), ts);
            assert_eq!(check(&secrets, &opts, &h, body, now), expected, "{ts}");
        }
    }

    #[test]
    fn missing_headers_and_bad_base64() {
        let secrets = SecretSet::single("s");
        let opts = VerifyOptions::default();
        let mut h = HeaderMap::new();
        h.insert(TIMESTAMP_HEADER, VECTOR_TS.parse().unwrap());
        assert_eq!(
            check(&secrets, &opts, &h, b"", VECTOR_NOW),
            Err(VerifyError::MissingHeader(SIGNATURE_HEADER))
        );
        let mut h = HeaderMap::new();
        h.insert(SIGNATURE_HEADER, "abc".parse().unwrap());
        assert_eq!(
            check(&secrets, &opts, &h, b"", VECTOR_NOW),
            Err(VerifyError::MissingHeader(TIMESTAMP_HEADER))
        );
        for bad in [
            "not base64!!",
            "AAAA",
            "S/RDdU2ERmj7LHDDoWJ2onPYH+t7/f2+LTM4dL7UiLM",
        ] {
            let h = headers(bad, VECTOR_TS);
            assert_eq!(
                check(&secrets, &opts, &h, b"", VECTOR_NOW),
                Err(VerifyError::MalformedSignature),
                "{bad}"
            );
        }
    }

    #[test]
    fn test_secret_only_when_enabled() {
        let body = br#"{"event":"ticket.updated","id":123}"#;
        let h = headers("S/RDdU2ERmj7LHDDoWJ2onPYH+t7/f2+LTM4dL7UiLM=", VECTOR_TS);
        let real = SecretSet::single("the real secret");
        let mut opts = VerifyOptions::default();
        assert_eq!(
            check(&real, &opts, &h, body, VECTOR_NOW),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(&SecretSet::default(), &opts, &h, body, VECTOR_NOW),
            Err(VerifyError::NoSecret)
        );
        opts.accept_zendesk_test_secret = true;
        assert_eq!(
            check(&real, &opts, &h, body, VECTOR_NOW),
            Ok(SecretSlot::ZendeskTest)
        );
        assert_eq!(
            check(&SecretSet::default(), &opts, &h, body, VECTOR_NOW),
            Ok(SecretSlot::ZendeskTest)
        );
    }

    #[test]
    fn previous_secret_verifies_until_expiry() {
        let set = SecretSet::new(
            Some(Secret::new("new")),
            Some(Secret::new("old")),
            Some(datetime!(2026-11-22 12:00:30 UTC)),
        );
        let ts = "2026-11-22T12:00:00Z";
        let body = b"{}";
        let h = headers(&sign(b"old", ts, body), ts);
        let opts = VerifyOptions::default();
        assert_eq!(
            check(&set, &opts, &h, body, datetime!(2026-11-22 12:00:10 UTC)),
            Ok(SecretSlot::Previous)
        );
        assert_eq!(
            check(&set, &opts, &h, body, datetime!(2026-11-22 12:00:31 UTC)),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn non_utf8_body_verifies_over_raw_bytes() {
        let body = [0xff, 0xfe, 0x00, 0x80];
        let h = headers(&sign(b"k", VECTOR_TS, &body), VECTOR_TS);
        let set = SecretSet::single("k");
        let opts = VerifyOptions::default();
        assert_eq!(
            check(&set, &opts, &h, &body, VECTOR_NOW),
            Ok(SecretSlot::Current)
        );
    }
}
