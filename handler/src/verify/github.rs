//! GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`. The legacy SHA-1
//! `X-Hub-Signature` is never accepted on its own.

use http::HeaderName;
use time::OffsetDateTime;

use super::{HmacSha256, SignedRequest, VerifyError, first_match, mac_bytes};
use crate::secrets::{SecretSet, SecretSlot};

pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";
pub const EVENT_HEADER: &str = "x-github-event";
pub const DELIVERY_HEADER: &str = "x-github-delivery";
pub const HOOK_ID_HEADER: &str = "x-github-hook-id";
// The same names as `HeaderName`s, which the verifier, the mapper and the logs look up (a
// lookup by `&str` parses the name each time).
pub static SIGNATURE: HeaderName = HeaderName::from_static(SIGNATURE_HEADER);
pub static EVENT: HeaderName = HeaderName::from_static(EVENT_HEADER);
pub static DELIVERY: HeaderName = HeaderName::from_static(DELIVERY_HEADER);
pub static HOOK_ID: HeaderName = HeaderName::from_static(HOOK_ID_HEADER);

/// The `X-Hub-Signature-256` value GitHub sends for `body`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(mac_bytes::<HmacSha256>(secret, &[body]))
    )
}

pub(super) fn verify(
    req: &SignedRequest<'_>,
    secrets: &SecretSet,
    now: OffsetDateTime,
) -> Result<SecretSlot, VerifyError> {
    let header = req.header(&SIGNATURE)?;
    let hex_digest = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(VerifyError::MalformedSignature)?;
    let mut expected = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut expected).map_err(|_| VerifyError::MalformedSignature)?;
    first_match::<HmacSha256>(secrets.active(now), &[req.body], &expected)
        .ok_or(VerifyError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Provider;
    use crate::secrets::Secret;
    use crate::verify::{VerifyOptions, verify as verify_any};
    use http::HeaderMap;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

    fn check(
        secrets: &SecretSet,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<SecretSlot, VerifyError> {
        let mut headers = HeaderMap::new();
        if let Some(sig) = signature {
            headers.insert(SIGNATURE_HEADER, sig.parse().unwrap());
        }
        let req = SignedRequest {
            method: "POST",
            base_url: "https://x.lambda-url.eu-west-1.on.aws",
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            body,
        };
        verify_any(
            Provider::Github,
            &req,
            secrets,
            &VerifyOptions::default(),
            NOW,
        )
    }

    #[test]
    fn published_vectors() {
        let cases: [(&str, &[u8], &str); 2] = [
            (
                "It's a Secret to Everybody",
                b"Hello, World!",
                "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            ),
            (
                "mysecret",
                b"{\n  \"foo\": \"bar\"\n}\n",
                "sha256=e3eccac34c43c7dc1cbb905488b1b81347fcc700a7b025697a9d07862256023f",
            ),
        ];
        for (secret, body, sig) in cases {
            assert_eq!(sign(secret.as_bytes(), body), sig);
            assert_eq!(
                check(&SecretSet::single(secret), Some(sig), body),
                Ok(SecretSlot::Current)
            );
            let upper = format!("sha256={}", sig[7..].to_uppercase());
            assert_eq!(
                check(&SecretSet::single(secret), Some(&upper), body),
                Ok(SecretSlot::Current)
            );
        }
    }

    #[test]
    fn negatives() {
        let secret = SecretSet::single("It's a Secret to Everybody");
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(
            check(&secret, Some(sig), b"Hello, World?"),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(&SecretSet::single("wrong"), Some(sig), b"Hello, World!"),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(&secret, None, b"Hello, World!"),
            Err(VerifyError::MissingHeader(SIGNATURE_HEADER))
        );
        for bad in [
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "sha1=757107ea0eb2509fc211221cce984b8a37570b6d",
            "sha256=757107ea",
            "sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        ] {
            assert_eq!(
                check(&secret, Some(bad), b"Hello, World!"),
                Err(VerifyError::MalformedSignature),
                "{bad}"
            );
        }
        assert_eq!(
            check(&SecretSet::default(), Some(sig), b"Hello, World!"),
            Err(VerifyError::NoSecret)
        );
    }

    #[test]
    fn legacy_sha1_header_alone_is_refused() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-hub-signature",
            "sha1=0000000000000000000000000000000000000000"
                .parse()
                .unwrap(),
        );
        let req = SignedRequest {
            method: "POST",
            base_url: "https://h",
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            body: b"{}",
        };
        let r = verify_any(
            Provider::Github,
            &req,
            &SecretSet::single("s"),
            &VerifyOptions::default(),
            NOW,
        );
        assert_eq!(r, Err(VerifyError::MissingHeader(SIGNATURE_HEADER)));
    }

    #[test]
    fn either_of_two_secrets() {
        let set = SecretSet::new(Some(Secret::new("new")), Some(Secret::new("old")), None);
        let body = b"{\"zen\":\"ok\"}";
        assert_eq!(
            check(&set, Some(&sign(b"old", body)), body),
            Ok(SecretSlot::Previous)
        );
        assert_eq!(
            check(&set, Some(&sign(b"new", body)), body),
            Ok(SecretSlot::Current)
        );
        assert_eq!(
            check(&set, Some(&sign(b"other", body)), body),
            Err(VerifyError::Mismatch)
        );
    }
}
