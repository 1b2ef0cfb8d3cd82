//! Twilio: `X-Twilio-Signature` = base64(HMAC-SHA1(auth token, URL + sorted POST parameters)).
//!
//! Form POSTs sign the full URL (query string as sent) followed by every parameter, sorted by
//! name then value, each distinct name/value pair once. JSON bodies are not in the signature:
//! Twilio appends `bodySHA256=<hex>` to the URL and signs the URL alone, so both the signature
//! and the body hash are checked. Twilio is inconsistent about the default port, so, as its
//! SDKs do, the URL is tried both with and without it.
//!
//! SharedKey signing (Webhooks configuration API, public beta): when a Webhook Rule matches the
//! URL, Twilio signs the same string with a SharedKey secret instead of the auth token, using
//! the hash named in `X-Twilio-Webhooks-Signature-Settings: key=<id>,algorithm=HMAC_SHA256`
//! (or `HMAC_SHA1`). The stored secret is then the SharedKey secret. No header means HMAC-SHA1,
//! as before; a header that names no algorithm, names one twice or names an unknown one is
//! refused (Twilio's SDKs fall back to HMAC-SHA1 for the first; failing closed is safer).

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use http::{HeaderMap, HeaderName};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use serde_json::value::RawValue;

use super::{
    HmacSha1, HmacSha256, Sample, Scheme, SecretOrigin, SignedRequest, VerifyError, VerifyOptions,
    decode_base64_mac, first_match, mac_bytes,
};
use crate::event::Signed;
use crate::event::{
    self, BodyKind, Delivery, Entry, EventSettings, FALLBACK_DETAIL_TYPE, JsonPayload, MapError,
    Metadata, first_byte, malformed,
};
use crate::request::{Inbound, Rejection, Reply, is_form, media_type};
use crate::secrets::{Secret, SecretSet, SecretSlot};

/// Twilio's messaging, voice and status callbacks, and Event Streams webhook sinks.
pub struct Twilio;

pub const SIGNATURE_HEADER: &str = "x-twilio-signature";
pub const IDEMPOTENCY_HEADER: &str = "i-twilio-idempotency-token";
/// Present when a SharedKey signed the request: `key=<sharedKeyId>,algorithm=<algorithm>`.
pub const SIGNATURE_SETTINGS_HEADER: &str = "x-twilio-webhooks-signature-settings";
// The same names as `HeaderName`s, which the verifier, the mapper and the logs look up (a
// lookup by `&str` parses the name each time).
pub static SIGNATURE: HeaderName = HeaderName::from_static(SIGNATURE_HEADER);
pub static IDEMPOTENCY: HeaderName = HeaderName::from_static(IDEMPOTENCY_HEADER);
pub static SIGNATURE_SETTINGS: HeaderName = HeaderName::from_static(SIGNATURE_SETTINGS_HEADER);
pub const BODY_HASH_PARAM: &str = "bodySHA256";

/// Parameters in the order Twilio signs them: by name, then value, each pair once.
pub fn canonical_params<'a>(
    params: impl IntoIterator<Item = (Cow<'a, str>, Cow<'a, str>)>,
) -> Vec<(Cow<'a, str>, Cow<'a, str>)> {
    let mut params: Vec<_> = params.into_iter().collect();
    params.sort_unstable();
    params.dedup();
    params
}

/// The hash Twilio signs with: HMAC-SHA1 with the auth token, or either with a SharedKey.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    HmacSha1,
    HmacSha256,
}

impl Algorithm {
    /// The name in `X-Twilio-Webhooks-Signature-Settings`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HmacSha1 => "HMAC_SHA1",
            Self::HmacSha256 => "HMAC_SHA256",
        }
    }

    /// Twilio's SDKs compare the name in any case.
    fn from_name(name: &str) -> Option<Self> {
        [Self::HmacSha1, Self::HmacSha256]
            .into_iter()
            .find(|a| name.eq_ignore_ascii_case(a.as_str()))
    }

    /// Bytes in the MAC: 20 for SHA-1, 32 for SHA-256.
    pub fn mac_len(self) -> usize {
        match self {
            Self::HmacSha1 => 20,
            Self::HmacSha256 => 32,
        }
    }

    fn mac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        match self {
            Self::HmacSha1 => mac_bytes::<HmacSha1>(key, &[message]),
            Self::HmacSha256 => mac_bytes::<HmacSha256>(key, &[message]),
        }
    }

    fn first_match<'s>(
        self,
        secrets: impl IntoIterator<Item = (SecretSlot, &'s Secret)>,
        message: &[u8],
        expected: &[u8],
    ) -> Option<SecretSlot> {
        match self {
            Self::HmacSha1 => first_match::<HmacSha1>(secrets, &[message], expected),
            Self::HmacSha256 => first_match::<HmacSha256>(secrets, &[message], expected),
        }
    }
}

/// What `X-Twilio-Webhooks-Signature-Settings` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignatureSettings<'a> {
    /// The SharedKey's id, if given: which key signed, for logs during a rotation.
    pub key: Option<&'a str>,
    pub algorithm: Algorithm,
}

/// The most comma-separated entries read from the settings header. Twilio sends two; the cap
/// bounds the work on a header nobody has verified yet (the header itself is not signed).
pub const MAX_SETTINGS_ENTRIES: usize = 8;

/// Parse `key=<id>,algorithm=<algorithm>`. Names are exact, entries may come in any order and
/// unknown names are skipped (Twilio may add some); spaces around names and values are ignored.
pub fn parse_signature_settings(value: &str) -> Result<SignatureSettings<'_>, VerifyError> {
    let (mut key, mut algorithm) = (None, None);
    for (i, entry) in value.split(',').enumerate() {
        if i == MAX_SETTINGS_ENTRIES {
            return Err(VerifyError::MalformedSignature);
        }
        let (name, val) = entry
            .split_once('=')
            .ok_or(VerifyError::MalformedSignature)?;
        let (name, val) = (name.trim(), val.trim());
        if name.is_empty() || val.is_empty() {
            return Err(VerifyError::MalformedSignature);
        }
        let repeated = match name {
            "key" => key.replace(val).is_some(),
            "algorithm" => algorithm.replace(val).is_some(),
            _ => false,
        };
        // A name given twice is ambiguous: refused rather than guessed.
        if repeated {
            return Err(VerifyError::MalformedSignature);
        }
    }
    let name = algorithm.ok_or(VerifyError::MalformedSignature)?;
    let algorithm = Algorithm::from_name(name).ok_or(VerifyError::UnsupportedAlgorithm)?;
    Ok(SignatureSettings { key, algorithm })
}

/// The algorithm a request was signed with: HMAC-SHA1 without the settings header.
pub fn signature_algorithm(headers: &HeaderMap) -> Result<Algorithm, VerifyError> {
    let mut values = headers.get_all(&SIGNATURE_SETTINGS).iter();
    let Some(value) = values.next() else {
        return Ok(Algorithm::HmacSha1);
    };
    // Present but unreadable, or sent twice, is not "absent": it must not mean the default.
    if values.next().is_some() {
        return Err(VerifyError::MalformedSignature);
    }
    let text = value
        .to_str()
        .map_err(|_| VerifyError::MalformedSignature)?;
    Ok(parse_signature_settings(text)?.algorithm)
}

/// The `X-Twilio-Webhooks-Signature-Settings` Twilio sends with a SharedKey signature.
pub fn settings_header(key_id: &str, algorithm: Algorithm) -> String {
    format!("key={key_id},algorithm={}", algorithm.as_str())
}

/// The `X-Twilio-Signature` Twilio sends for a request to `url` with these POST parameters,
/// signed with the auth token (HMAC-SHA1).
pub fn sign<'a>(
    token: &[u8],
    url: &str,
    params: impl IntoIterator<Item = (Cow<'a, str>, Cow<'a, str>)>,
) -> String {
    sign_with(Algorithm::HmacSha1, token, url, params)
}

/// As [`sign`], with `algorithm`: a SharedKey signature keyed by the SharedKey secret.
pub fn sign_with<'a>(
    algorithm: Algorithm,
    secret: &[u8],
    url: &str,
    params: impl IntoIterator<Item = (Cow<'a, str>, Cow<'a, str>)>,
) -> String {
    let message = signed_message(url, &canonical_params(params));
    B64.encode(algorithm.mac(secret, message.as_bytes()))
}

/// The hex SHA-256 of a JSON body, as Twilio puts it in `bodySHA256`.
pub fn body_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

fn signed_message(url: &str, params: &[(Cow<'_, str>, Cow<'_, str>)]) -> String {
    let len = url.len() + params.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
    let mut message = String::with_capacity(len);
    message.push_str(url);
    for (name, value) in params {
        message.push_str(name);
        message.push_str(value);
    }
    message
}

/// The URL without any port and with the scheme's default port when none is given: the two
/// forms Twilio's SDKs accept. Equal when the URL has no authority we can recognise.
pub fn port_variants(url: &str) -> [Cow<'_, str>; 2] {
    let Some(scheme_end) = url.find("://") else {
        return [Cow::Borrowed(url), Cow::Borrowed(url)];
    };
    let scheme = &url[..scheme_end];
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| authority_start + i);
    let authority = &url[authority_start..authority_end];
    // A colon after the last `]` (IPv6 literals) separates the port.
    let host_end = authority
        .rfind(':')
        .filter(|&i| !authority[i..].contains(']'))
        .unwrap_or(authority.len());
    let host = &authority[..host_end];
    let (before, after) = (&url[..authority_start], &url[authority_end..]);
    let without = if host_end == authority.len() {
        Cow::Borrowed(url)
    } else {
        Cow::Owned(format!("{before}{host}{after}"))
    };
    let with = if host_end != authority.len() {
        Cow::Borrowed(url)
    } else {
        let port = if scheme.eq_ignore_ascii_case("http") {
            80
        } else {
            443
        };
        Cow::Owned(format!("{before}{host}:{port}{after}"))
    };
    [without, with]
}

fn verify(
    req: &SignedRequest<'_>,
    secrets: &SecretSet,
    now: OffsetDateTime,
) -> Result<SecretSlot, VerifyError> {
    let signature = req.header(&SIGNATURE)?;
    let algorithm = signature_algorithm(req.headers)?;
    // The MAC's length follows the algorithm: a SHA-1 MAC under HMAC_SHA256 is malformed.
    let expected = decode_base64_mac(signature.trim(), algorithm.mac_len())?;
    let body_hash_param = form_urlencoded::parse(req.raw_query.as_bytes())
        .find(|(k, _)| k == BODY_HASH_PARAM)
        .map(|(_, v)| v);
    let params = if let Some(signed_hash) = body_hash_param {
        let mut signed = [0u8; 32];
        hex::decode_to_slice(signed_hash.as_bytes(), &mut signed)
            .map_err(|_| VerifyError::BodyHashMismatch)?;
        let actual = Sha256::digest(req.body);
        if !bool::from(actual.as_slice().ct_eq(&signed)) {
            return Err(VerifyError::BodyHashMismatch);
        }
        Vec::new()
    } else if req.method == "POST" && media_type(req.headers).is_some_and(is_form) {
        canonical_params(form_urlencoded::parse(req.body))
    } else if req.body.is_empty() {
        Vec::new()
    } else {
        // A body that is neither form parameters nor hashed into the URL is not signed.
        return Err(VerifyError::UnsignedBody);
    };
    let url = req.url();
    for candidate in port_variants(&url) {
        let message = signed_message(&candidate, &params);
        if let Some(slot) =
            algorithm.first_match(secrets.active(now), message.as_bytes(), &expected)
        {
            return Ok(slot);
        }
    }
    Err(VerifyError::Mismatch)
}

impl Scheme for Twilio {
    fn name(&self) -> &'static str {
        "twilio"
    }

    fn signing(&self) -> &'static str {
        "base64 HMAC-SHA1 (Auth Token) or HMAC-SHA256 (SharedKey) of the URL + sorted form parameters (X-Twilio-Signature); JSON by bodySHA256"
    }

    /// Webhooks may be configured for GET.
    fn methods(&self) -> &'static [&'static str] {
        &["POST", "GET"]
    }

    /// A form is split into parameters and sorted before its signature can be checked: refuse
    /// more parameters than Twilio sends, counted without decoding anything.
    fn precheck(&self, request: &Inbound<'_>) -> Result<(), Rejection> {
        if request.method == "POST" && media_type(request.headers).is_some_and(is_form) {
            let count = event::form_fields_bound(request.body.as_bytes());
            if count > event::MAX_FORM_FIELDS {
                return Err(Rejection::TooManyParameters {
                    count,
                    limit: event::MAX_FORM_FIELDS,
                });
            }
        }
        Ok(())
    }

    fn verify(
        &self,
        request: &SignedRequest<'_>,
        secrets: &SecretSet,
        _options: &VerifyOptions,
        now: OffsetDateTime,
    ) -> Result<SecretSlot, VerifyError> {
        verify(request, secrets, now)
    }

    /// The whole URL is signed, query string included.
    fn signs_query(&self) -> bool {
        true
    }

    /// Twilio signs the URL (query included) and the form parameters or, for a JSON body, its
    /// hash in the URL; no timestamp, and not `I-Twilio-Idempotency-Token`.
    fn signed<'r>(&self, request: &SignedRequest<'r>, _secret: &[u8]) -> Signed<'r> {
        if request.body.is_empty() {
            Signed::covering(&["url"])
        } else {
            Signed::covering(&["url", "body"])
        }
    }

    fn delivery_id_header(&self) -> Option<&'static HeaderName> {
        Some(&IDEMPOTENCY)
    }

    fn map(&self, d: &Delivery<'_>, settings: &EventSettings) -> Result<Vec<Entry>, MapError> {
        let mut meta = event::metadata(d);
        meta.delivery_id = d.header(&IDEMPOTENCY).map(Cow::Borrowed);
        match event::body_kind(d) {
            BodyKind::Json => {
                let text = d.text()?;
                if first_byte(text) == Some(b'[') {
                    return event_stream_entries(text, &meta, settings);
                }
                let mut payload = JsonPayload::parse(text)?;
                meta.event = Cow::Owned(
                    payload
                        .top
                        .event_type
                        .take()
                        .unwrap_or_else(|| FALLBACK_DETAIL_TYPE.to_owned()),
                );
                let detail = payload.into_detail(&mut meta)?;
                Ok(vec![event::entry(settings, &meta, detail)])
            }
            kind @ (BodyKind::Form | BodyKind::Empty) => {
                // GET webhooks carry their parameters in the query string: they are the
                // payload, not metadata.
                let source = if kind == BodyKind::Form {
                    d.body.as_bytes()
                } else {
                    meta.query = None;
                    d.raw_query.as_bytes()
                };
                // Bounded before it is collected: a GET's query was not counted by precheck.
                if event::form_fields_bound(source) > event::MAX_FORM_FIELDS {
                    return Err(event::MapError::TooManyFields {
                        limit: event::MAX_FORM_FIELDS,
                    });
                }
                let params: Vec<_> = form_urlencoded::parse(source)
                    .filter(|(k, _)| k != BODY_HASH_PARAM)
                    .collect();
                meta.event = Cow::Owned(twilio_form_event(&params));
                let detail = event::form_detail(params.into_iter(), &mut meta)?;
                Ok(vec![event::entry(settings, &meta, detail)])
            }
            BodyKind::Other => Err(malformed(
                "Twilio sends application/x-www-form-urlencoded or application/json bodies",
            )),
        }
    }

    /// Messaging and voice webhooks expect TwiML: an empty `<Response/>` does nothing, where
    /// anything else would log error 12300 in the user's Twilio console.
    fn success_body(&self) -> Option<Reply> {
        Some(Reply {
            content_type: "text/xml",
            body: r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#.to_owned(),
        })
    }

    fn secret_origin(&self) -> SecretOrigin {
        SecretOrigin::Provider {
            prompt: "Twilio Auth Token (hidden; Console > Account > API keys & tokens)",
        }
    }

    fn setup_steps(&self, url: &str, stack: &str) -> String {
        format!(
            "In the Twilio Console:\n\
             1. Phone Numbers > Manage > Active numbers > your number.\n\
             2. Messaging configuration: A message comes in > Webhook > URL {url} > HTTP POST.\n\
             3. Voice configuration (optional): A call comes in > Webhook > URL {url} > HTTP POST;\n   \
                status callbacks may use the same URL.\n\
             4. Event Streams (optional): Create a sink of type Webhook with destination {url}, method POST.\n\
             The secret is your account's primary Auth Token (Console > Account > API keys & tokens). If you\n\
             change it in Twilio, give ebhook the new one: ebhook init --provider twilio --stack-name {stack} --secret-stdin\n\
             To sign with a SharedKey instead (Webhooks configuration API), give its secret with\n\
             ebhook rotate-secret --stack-name {stack} --secret-stdin before the Webhook Rule takes effect:\n\
             the Auth Token keeps verifying through the grace period.\n"
        )
    }

    fn after_rotation(&self) -> &'static str {
        "Twilio: the Auth Token you gave is what Twilio now signs with; nothing more to do there."
    }

    fn sample(
        &'static self,
        url: &str,
        secret: &[u8],
        now: OffsetDateTime,
        random: [u8; 16],
    ) -> Sample {
        let sid = |prefix: &str| format!("{prefix}{}", hex::encode(random));
        let message = sid("SM");
        let params: Vec<(&str, String)> = vec![
            ("ToCountry", "US".into()),
            ("SmsMessageSid", message.clone()),
            ("NumMedia", "0".into()),
            ("SmsSid", message.clone()),
            ("SmsStatus", "received".into()),
            ("Body", "Hello from ebhook send-test".into()),
            ("To", "+15005550006".into()),
            ("NumSegments", "1".into()),
            ("MessageSid", message),
            ("AccountSid", sid("AC")),
            ("From", "+15005550001".into()),
            ("ApiVersion", "2010-04-01".into()),
        ];
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
            .finish()
            .into_bytes();
        let signature = sign(
            secret,
            url,
            params
                .iter()
                .map(|(k, v)| (Cow::Borrowed(*k), Cow::Borrowed(v.as_str()))),
        );
        let headers = vec![
            (
                "content-type",
                "application/x-www-form-urlencoded".to_owned(),
            ),
            (
                IDEMPOTENCY_HEADER,
                format!("{}-{}", hex::encode(&random[..8]), now.unix_timestamp()),
            ),
            (SIGNATURE_HEADER, signature),
        ];
        Sample {
            method: "POST",
            url: url.to_owned(),
            headers,
            body,
        }
    }
}

/// Event Streams posts a JSON array of CloudEvents: each becomes its own event, named by its
/// CloudEvent `type` and deduplicated by its CloudEvent `id`.
fn event_stream_entries(
    text: &str,
    meta: &Metadata<'_>,
    settings: &EventSettings,
) -> Result<Vec<Entry>, MapError> {
    let items: Vec<&RawValue> =
        serde_json::from_str(text).map_err(|e| malformed(format!("invalid JSON: {e}")))?;
    items
        .into_iter()
        .map(|item| {
            let mut meta = meta.clone();
            let mut payload = JsonPayload::parse(item.get())?;
            meta.event = Cow::Owned(
                payload
                    .top
                    .event_type
                    .take()
                    .unwrap_or_else(|| FALLBACK_DETAIL_TYPE.to_owned()),
            );
            if let Some(id) = payload.top.id.take() {
                meta.delivery_id = Some(Cow::Owned(id));
            }
            let detail = payload.into_detail(&mut meta)?;
            Ok(event::entry(settings, &meta, detail))
        })
        .collect()
}

/// Twilio form callbacks have no event name; derive one from the resource and its status, e.g.
/// `message.received`, `message.delivered`, `call.ringing`, `recording.completed`.
fn twilio_form_event(params: &[(Cow<'_, str>, Cow<'_, str>)]) -> String {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
    };
    let (resource, status) = if get("TranscriptionSid").is_some() {
        ("transcription", get("TranscriptionStatus"))
    } else if get("RecordingSid").is_some() {
        ("recording", get("RecordingStatus"))
    } else if get("MessageSid").is_some() || get("SmsSid").is_some() {
        ("message", get("MessageStatus").or(get("SmsStatus")))
    } else if get("CallSid").is_some() {
        ("call", get("CallStatus"))
    } else {
        return FALLBACK_DETAIL_TYPE.to_owned();
    };
    match status.filter(|s| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) {
        Some(s) => format!("{resource}.{s}"),
        None => resource.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::named;
    use http::HeaderMap;
    use time::macros::datetime;

    const TOKEN: &str = "12345";
    const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);
    const VOICE: [(&str, &str); 5] = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675309"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
    ];

    fn form(params: &[(&str, &str)]) -> Vec<u8> {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish()
            .into_bytes()
    }

    fn borrowed<'a>(
        params: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = (Cow<'a, str>, Cow<'a, str>)> {
        params
            .iter()
            .map(|&(k, v)| (Cow::Borrowed(k), Cow::Borrowed(v)))
    }

    struct Req<'a> {
        method: &'a str,
        base: &'a str,
        path: &'a str,
        query: &'a str,
        content_type: Option<&'a str>,
        signature: Option<&'a str>,
        body: &'a [u8],
    }

    impl Req<'_> {
        fn check(&self, secrets: &SecretSet) -> Result<SecretSlot, VerifyError> {
            self.check_with(secrets, &[])
        }

        /// With these raw `X-Twilio-Webhooks-Signature-Settings` values.
        fn check_with(
            &self,
            secrets: &SecretSet,
            settings: &[&[u8]],
        ) -> Result<SecretSlot, VerifyError> {
            let mut headers = HeaderMap::new();
            for value in settings {
                headers.append(
                    SIGNATURE_SETTINGS_HEADER,
                    http::HeaderValue::from_bytes(value).unwrap(),
                );
            }
            if let Some(ct) = self.content_type {
                headers.insert(http::header::CONTENT_TYPE, ct.parse().unwrap());
            }
            if let Some(sig) = self.signature {
                headers.insert(SIGNATURE_HEADER, sig.parse().unwrap());
            }
            let req = SignedRequest {
                method: self.method,
                base_url: self.base,
                raw_path: self.path,
                raw_query: self.query,
                headers: &headers,
                body: self.body,
            };
            named("twilio").verify(&req, secrets, &VerifyOptions::default(), NOW)
        }
    }

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded; charset=utf-8");

    fn voice(signature: &str, body: &[u8]) -> Result<SecretSlot, VerifyError> {
        Req {
            method: "POST",
            base: "https://mycompany.com",
            path: "/myapp.php",
            query: "foo=1&bar=2",
            content_type: FORM,
            signature: Some(signature),
            body,
        }
        .check(&SecretSet::single(TOKEN))
    }

    #[test]
    fn published_form_vectors_with_and_without_port() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            sign(TOKEN.as_bytes(), url, borrowed(&VOICE)),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert_eq!(
            sign(TOKEN.as_bytes(), with_port, borrowed(&VOICE)),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        );
        // Parameter order in the body must not matter.
        let mut shuffled = VOICE;
        shuffled.reverse();
        let body = form(&shuffled);
        assert_eq!(
            voice("RSOYDt4T1cUTdK1PDd93/VVr8B8=", &body),
            Ok(SecretSlot::Current)
        );
        assert_eq!(
            voice("kvajT1Ptam85bY51eRf/AJRuM3w=", &body),
            Ok(SecretSlot::Current)
        );
    }

    #[test]
    fn repeated_parameters_sign_every_distinct_value() {
        let params = [
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ];
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            sign(TOKEN.as_bytes(), url, borrowed(&params)),
            "IK+Dwps556ElfBT0I3Rgjkr1wJU="
        );
        assert_eq!(
            voice("IK+Dwps556ElfBT0I3Rgjkr1wJU=", &form(&params)),
            Ok(SecretSlot::Current)
        );
        // Keeping only the first value (as the AWS quick start does) would not verify.
        let first_only = [
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
        ];
        assert_eq!(
            voice("IK+Dwps556ElfBT0I3Rgjkr1wJU=", &form(&first_only)),
            Err(VerifyError::Mismatch)
        );
    }

    /// Twilio runs names and values together with no separator, so a re-split body signs the
    /// same. This is Twilio's rule (its SDKs accept it too), pinned here so that a change to it
    /// is deliberate; the README says what it means for consumers.
    #[test]
    fn names_and_values_run_together_as_twilio_signs() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let signature = sign(TOKEN.as_bytes(), url, borrowed(&[("Body", "hi")]));
        for resplit in [&b"Body=hi"[..], b"Bod=yhi", b"Body=h&i=", b"=Bodyhi"] {
            assert_eq!(voice(&signature, resplit), Ok(SecretSlot::Current));
        }
        assert_eq!(voice(&signature, b"Body=ho"), Err(VerifyError::Mismatch));
        assert_eq!(voice(&signature, b"Body=hi&x="), Err(VerifyError::Mismatch));
    }

    #[test]
    fn published_json_vectors() {
        let body = br#"{"property": "value", "boolean": true}"#;
        let hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        assert_eq!(body_hash(body), hash);
        let query = format!("foo=1&bar=2&bodySHA256={hash}");
        let req = |sig, body: &'static [u8], query: &str| {
            Req {
                method: "POST",
                base: "https://mycompany.com",
                path: "/myapp.php",
                query,
                content_type: Some("application/json"),
                signature: Some(sig),
                body,
            }
            .check(&SecretSet::single(TOKEN))
        };
        assert_eq!(
            req("a9nBmqA0ju/hNViExpshrM61xv4=", body, &query),
            Ok(SecretSlot::Current)
        );
        // The right signature over a tampered body fails on the hash.
        let tampered: &[u8] = br#"{"property": "value", "boolean": false}"#;
        assert_eq!(
            req("a9nBmqA0ju/hNViExpshrM61xv4=", tampered, &query),
            Err(VerifyError::BodyHashMismatch)
        );
        // `{}` validates only with the default port: the SDKs' port tolerance matters.
        let empty_hash = body_hash(b"{}");
        let query = format!("foo=1&bar=2&bodySHA256={empty_hash}");
        assert_eq!(
            req("Ldidvp12m26NI7eqEvxnEpkd9Hc=", b"{}", &query),
            Ok(SecretSlot::Current)
        );
    }

    #[test]
    fn json_body_without_hash_is_unsigned() {
        let r = Req {
            method: "POST",
            base: "https://mycompany.com",
            path: "/myapp.php",
            query: "foo=1&bar=2",
            content_type: Some("application/json"),
            signature: Some("a9nBmqA0ju/hNViExpshrM61xv4="),
            body: br#"{"property": "value", "boolean": true}"#,
        };
        assert_eq!(
            r.check(&SecretSet::single(TOKEN)),
            Err(VerifyError::UnsignedBody)
        );
    }

    #[test]
    fn get_signs_the_url_alone_and_query_is_not_resorted() {
        let url = "https://h.example/hook?b=2&a=1";
        let sig = sign(TOKEN.as_bytes(), url, std::iter::empty());
        let mk = |query| Req {
            method: "GET",
            base: "https://h.example",
            path: "/hook",
            query,
            content_type: None,
            signature: Some(&sig),
            body: b"",
        };
        assert_eq!(
            mk("b=2&a=1").check(&SecretSet::single(TOKEN)),
            Ok(SecretSlot::Current)
        );
        assert_eq!(
            mk("a=1&b=2").check(&SecretSet::single(TOKEN)),
            Err(VerifyError::Mismatch)
        );
        // The AWS quick start ignores the query string; a signature without it must fail.
        let no_query_sig = sign(
            TOKEN.as_bytes(),
            "https://h.example/hook",
            std::iter::empty(),
        );
        let r = Req {
            signature: Some(&no_query_sig),
            ..mk("b=2&a=1")
        };
        assert_eq!(
            r.check(&SecretSet::single(TOKEN)),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn negatives() {
        let body = form(&VOICE);
        assert_eq!(
            voice("IK+Dwps556ElfBT0I3Rgjkr1wJU=", &body),
            Err(VerifyError::Mismatch)
        );
        // Flipping padding bits gives non-canonical base64, refused before any MAC.
        assert_eq!(
            voice("RSOYDt4T1cUTdK1PDd93/VVr8B9=", &body),
            Err(VerifyError::MalformedSignature)
        );
        assert_eq!(
            voice("not base64", &body),
            Err(VerifyError::MalformedSignature)
        );
        assert_eq!(voice("AAAA", &body), Err(VerifyError::MalformedSignature));
        let mut tampered = VOICE;
        tampered[2] = ("Digits", "1235");
        assert_eq!(
            voice("RSOYDt4T1cUTdK1PDd93/VVr8B8=", &form(&tampered)),
            Err(VerifyError::Mismatch)
        );
        let no_sig = Req {
            method: "POST",
            base: "https://mycompany.com",
            path: "/myapp.php",
            query: "foo=1&bar=2",
            content_type: FORM,
            signature: None,
            body: &body,
        };
        assert_eq!(
            no_sig.check(&SecretSet::single(TOKEN)),
            Err(VerifyError::MissingHeader(SIGNATURE_HEADER))
        );
        let wrong = Req {
            signature: Some("RSOYDt4T1cUTdK1PDd93/VVr8B8="),
            ..no_sig
        };
        assert_eq!(
            wrong.check(&SecretSet::single("54321")),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn port_variants_cover_both_forms() {
        let v = port_variants("https://a.example/p?q=1");
        assert_eq!(v[0], "https://a.example/p?q=1");
        assert_eq!(v[1], "https://a.example:443/p?q=1");
        let v = port_variants("https://a.example:443/p");
        assert_eq!(v[0], "https://a.example/p");
        assert_eq!(v[1], "https://a.example:443/p");
        let v = port_variants("http://a.example");
        assert_eq!(v[1], "http://a.example:80");
        let v = port_variants("https://[::1]:8443/x");
        assert_eq!(v[0], "https://[::1]/x");
        assert_eq!(v[1], "https://[::1]:8443/x");
    }

    // SharedKey vectors, produced once with twilio 9.13.0 (PyPI):
    // `RequestValidator(SHARED_SECRET).compute_signature(url, params, "HMAC_SHA256")`, each
    // accepted by its `validate(..., algorithm="HMAC_SHA256")`.
    const SHARED_SECRET: &str = "sharedkey-secret-ebhook-test";
    const SHARED_SETTINGS: &[u8] = b"key=webhooks_sharedkey_example,algorithm=HMAC_SHA256";
    const SHARED_VOICE_SHA256: &str = "E4jjcnLMd4l7MFpel6fiqPUiFbPjFvIS1jSguswpuqY=";
    const SHARED_VOICE_SHA256_PORT: &str = "28iDnK6s32oDPCwGn8yCusDAPFOSbbIqKyqgNw5JPCg=";
    const SHARED_JSON_SHA256: &str = "4H4OJ7mH2d49ABTYD4rjYV7uQ8BOykJMNylpAyIkY0o=";
    // The same SDK with the default algorithm, HMAC_SHA1.
    const SHARED_VOICE_SHA1: &str = "DR3DrJBm3lpZ8uh7boXzPrg6Zgs=";

    fn shared_voice(signature: &str, settings: &[&[u8]]) -> Result<SecretSlot, VerifyError> {
        shared_voice_with(&SecretSet::single(SHARED_SECRET), signature, settings)
    }

    fn shared_voice_with(
        secrets: &SecretSet,
        signature: &str,
        settings: &[&[u8]],
    ) -> Result<SecretSlot, VerifyError> {
        Req {
            method: "POST",
            base: "https://mycompany.com",
            path: "/myapp.php",
            query: "foo=1&bar=2",
            content_type: FORM,
            signature: Some(signature),
            body: &form(&VOICE),
        }
        .check_with(secrets, settings)
    }

    #[test]
    fn shared_key_sha256_sdk_vectors() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        let key = SHARED_SECRET.as_bytes();
        let sha256 = Algorithm::HmacSha256;
        assert_eq!(
            sign_with(sha256, key, url, borrowed(&VOICE)),
            SHARED_VOICE_SHA256
        );
        assert_eq!(
            sign_with(sha256, key, with_port, borrowed(&VOICE)),
            SHARED_VOICE_SHA256_PORT
        );
        for sig in [SHARED_VOICE_SHA256, SHARED_VOICE_SHA256_PORT] {
            assert_eq!(
                shared_voice(sig, &[SHARED_SETTINGS]),
                Ok(SecretSlot::Current)
            );
        }
        // JSON: the same URL with bodySHA256, signed alone.
        let body = br#"{"property": "value", "boolean": true}"#;
        let query = format!("foo=1&bar=2&bodySHA256={}", body_hash(body));
        let json = |body: &'static [u8]| {
            Req {
                method: "POST",
                base: "https://mycompany.com",
                path: "/myapp.php",
                query: &query,
                content_type: Some("application/json"),
                signature: Some(SHARED_JSON_SHA256),
                body,
            }
            .check_with(&SecretSet::single(SHARED_SECRET), &[SHARED_SETTINGS])
        };
        assert_eq!(json(body), Ok(SecretSlot::Current));
        assert_eq!(
            json(br#"{"property": "value", "boolean": false}"#),
            Err(VerifyError::BodyHashMismatch)
        );
    }

    #[test]
    fn shared_key_sha1_matches_the_header_or_its_absence() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let key = SHARED_SECRET.as_bytes();
        assert_eq!(sign(key, url, borrowed(&VOICE)), SHARED_VOICE_SHA1);
        assert_eq!(
            sign_with(Algorithm::HmacSha1, key, url, borrowed(&VOICE)),
            SHARED_VOICE_SHA1
        );
        let sha1_settings = settings_header("webhooks_sharedkey_example", Algorithm::HmacSha1);
        assert_eq!(
            shared_voice(SHARED_VOICE_SHA1, &[sha1_settings.as_bytes()]),
            Ok(SecretSlot::Current)
        );
        assert_eq!(
            shared_voice(SHARED_VOICE_SHA1, &[]),
            Ok(SecretSlot::Current)
        );
    }

    #[test]
    fn signature_must_be_of_the_named_algorithm() {
        // A SHA-1 signature (of the right string, with the right secret) under HMAC_SHA256.
        assert_eq!(
            shared_voice(SHARED_VOICE_SHA1, &[SHARED_SETTINGS]),
            Err(VerifyError::MalformedSignature)
        );
        // A SHA-256 one without the header (HMAC-SHA1), or under HMAC_SHA1.
        assert_eq!(
            shared_voice(SHARED_VOICE_SHA256, &[]),
            Err(VerifyError::MalformedSignature)
        );
        assert_eq!(
            shared_voice(
                SHARED_VOICE_SHA256,
                &[b"key=k,algorithm=HMAC_SHA1".as_slice()]
            ),
            Err(VerifyError::MalformedSignature)
        );
    }

    #[test]
    fn shared_key_wrong_secret_and_tampering_fail() {
        assert_eq!(
            shared_voice_with(
                &SecretSet::single(TOKEN),
                SHARED_VOICE_SHA256,
                &[SHARED_SETTINGS]
            ),
            Err(VerifyError::Mismatch)
        );
        let mut tampered = VOICE;
        tampered[2] = ("Digits", "1235");
        let r = Req {
            method: "POST",
            base: "https://mycompany.com",
            path: "/myapp.php",
            query: "foo=1&bar=2",
            content_type: FORM,
            signature: Some(SHARED_VOICE_SHA256),
            body: &form(&tampered),
        };
        assert_eq!(
            r.check_with(&SecretSet::single(SHARED_SECRET), &[SHARED_SETTINGS]),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn shared_key_previous_secret_during_rotation() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let old = sign_with(
            Algorithm::HmacSha256,
            b"old shared key",
            url,
            borrowed(&VOICE),
        );
        let set = SecretSet::new(
            Some(Secret::new(SHARED_SECRET)),
            Some(Secret::new("old shared key")),
            Some(datetime!(2026-11-22 12:00:30 UTC)),
        );
        assert_eq!(
            shared_voice_with(&set, &old, &[SHARED_SETTINGS]),
            Ok(SecretSlot::Previous)
        );
        assert_eq!(
            shared_voice_with(&set, SHARED_VOICE_SHA256, &[SHARED_SETTINGS]),
            Ok(SecretSlot::Current)
        );
        let expired = SecretSet::new(
            Some(Secret::new(SHARED_SECRET)),
            Some(Secret::new("old shared key")),
            Some(datetime!(2026-11-22 11:00 UTC)),
        );
        assert_eq!(
            shared_voice_with(&expired, &old, &[SHARED_SETTINGS]),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn unknown_algorithm_fails_closed() {
        for settings in [
            "key=k,algorithm=HMAC_SHA512",
            "algorithm=SHA256",
            "algorithm=hmac-sha256",
            "algorithm=HMAC_SHA256X",
            "algorithm=HMAC_SHA",
            "algorithm=NONE",
        ] {
            assert_eq!(
                shared_voice(SHARED_VOICE_SHA256, &[settings.as_bytes()]),
                Err(VerifyError::UnsupportedAlgorithm),
                "{settings}"
            );
        }
    }

    #[test]
    fn malformed_settings_fail_closed_without_panicking() {
        let nine = "a=1,".repeat(8) + "algorithm=HMAC_SHA256";
        let long = format!("key={},algorithm=HMAC_SHA256", "k".repeat(8000));
        for settings in [
            &b""[..],
            b" ",
            b",",
            b"key=k",
            b"key=k,",
            b"key=k,,algorithm=HMAC_SHA256",
            b"algorithm",
            b"algorithm=",
            b"=HMAC_SHA256",
            b"algorithm=HMAC_SHA256,algorithm=HMAC_SHA256",
            b"algorithm=HMAC_SHA256,algorithm=HMAC_SHA1",
            b"key=a,key=b,algorithm=HMAC_SHA256",
            b"Algorithm=HMAC_SHA256",
            b"key=k;algorithm=HMAC_SHA256",
            b"key=k,algorithm=HMAC_SHA256,extra",
            b"key=k,algorithm=HMAC_SHA256\xff",
            nine.as_bytes(),
        ] {
            assert_eq!(
                shared_voice(SHARED_VOICE_SHA256, &[settings]),
                Err(VerifyError::MalformedSignature),
                "{}",
                String::from_utf8_lossy(settings)
            );
        }
        // Sent twice is ambiguous, even when both say the same.
        assert_eq!(
            shared_voice(SHARED_VOICE_SHA256, &[SHARED_SETTINGS, SHARED_SETTINGS]),
            Err(VerifyError::MalformedSignature)
        );
        // Long but well-formed is fine: only the number of entries is capped.
        assert_eq!(
            shared_voice(SHARED_VOICE_SHA256, &[long.as_bytes()]),
            Ok(SecretSlot::Current)
        );
    }

    #[test]
    fn settings_parse_leniently_where_twilio_sdks_do() {
        for settings in [
            "key=webhooks_sharedkey_example,algorithm=HMAC_SHA256",
            "algorithm=HMAC_SHA256,key=webhooks_sharedkey_example",
            " key = webhooks_sharedkey_example , algorithm = HMAC_SHA256 ",
            "algorithm=hmac_sha256",
            "key=k,algorithm=HMAC_SHA256,version=2",
        ] {
            assert_eq!(
                shared_voice(SHARED_VOICE_SHA256, &[settings.as_bytes()]),
                Ok(SecretSlot::Current),
                "{settings}"
            );
        }
        let header = settings_header("webhooks_sharedkey_example", Algorithm::HmacSha256);
        assert_eq!(header.as_bytes(), SHARED_SETTINGS);
        assert_eq!(
            parse_signature_settings(&header),
            Ok(SignatureSettings {
                key: Some("webhooks_sharedkey_example"),
                algorithm: Algorithm::HmacSha256,
            })
        );
        assert_eq!(
            parse_signature_settings("algorithm=HMAC_SHA1"),
            Ok(SignatureSettings {
                key: None,
                algorithm: Algorithm::HmacSha1,
            })
        );
    }

    /// How deliveries become events, and what is refused before verification.
    mod mapping {
        use super::super::*;
        use crate::providers::testing::{FORM, JSON, detail, map, settings};
        use crate::request::RawBody;
        use serde_json::json;

        #[test]
        fn twilio_form_callbacks_are_named_and_keep_repeated_values() {
            let body =
                b"MessageSid=SM1&SmsStatus=received&Body=hi+there&MediaUrl=a&MediaUrl=b&MediaUrl=c";
            let headers = [FORM, ("i-twilio-idempotency-token", "idem-1")];
            let e = map("twilio", "POST", &headers, "", body, &settings()).unwrap();
            assert_eq!(e[0].detail_type, "message.received");
            let d = detail(&e[0]);
            assert_eq!(d["Body"], "hi there");
            assert_eq!(d["MediaUrl"], json!(["a", "b", "c"]));
            assert_eq!(d["ebhook"]["deliveryId"], "idem-1");
            for (body, name) in [
                (&b"CallSid=CA1&CallStatus=ringing"[..], "call.ringing"),
                (
                    b"CallSid=CA1&RecordingSid=RE1&RecordingStatus=completed",
                    "recording.completed",
                ),
                (
                    b"MessageSid=SM1&MessageStatus=delivered",
                    "message.delivered",
                ),
                (b"TranscriptionSid=TR1", "transcription"),
                (b"CallSid=CA1&CallStatus=bad%20status", "call"),
                (b"Foo=bar", "webhook"),
            ] {
                let e = map("twilio", "POST", &[FORM], "", body, &settings()).unwrap();
                assert_eq!(e[0].detail_type, name);
            }
        }

        #[test]
        fn twilio_get_uses_query_parameters() {
            let e = map(
                "twilio",
                "GET",
                &[],
                "CallSid=CA9&CallStatus=completed&From=%2B1555",
                b"",
                &settings(),
            )
            .unwrap();
            let d = detail(&e[0]);
            assert_eq!(d["From"], "+1555");
            assert_eq!(e[0].detail_type, "call.completed");
        }

        #[test]
        fn twilio_event_streams_batch_is_split() {
            let body = br#"[
                {"specversion":"1.0","type":"com.twilio.messaging.message.delivered","id":"EZ1","data":{"to":"+1"}},
                {"specversion":"1.0","type":"com.twilio.messaging.message.sent","id":"EZ2","data":{}}
            ]"#;
            let headers = [("content-type", "application/json; charset=utf-8")];
            let e = map(
                "twilio",
                "POST",
                &headers,
                "bodySHA256=00",
                body,
                &settings(),
            )
            .unwrap();
            assert_eq!(e.len(), 2);
            assert_eq!(e[0].detail_type, "com.twilio.messaging.message.delivered");
            assert_eq!(e[1].detail_type, "com.twilio.messaging.message.sent");
            let d0 = detail(&e[0]);
            assert_eq!(d0["data"]["to"], "+1");
            assert_eq!(d0["ebhook"]["deliveryId"], "EZ1");
            assert_eq!(detail(&e[1])["ebhook"]["deliveryId"], "EZ2");
            let json_object = map(
                "twilio",
                "POST",
                &[JSON],
                "",
                br#"{"type":"x.y"}"#,
                &settings(),
            )
            .unwrap();
            assert_eq!(json_object[0].detail_type, "x.y");
        }

        #[test]
        fn a_form_with_more_parameters_than_twilio_sends_is_refused_unsplit() {
            let limit = event::MAX_FORM_FIELDS;
            let form = |n: usize| vec!["A=1"; n].join("&");
            let check = |method: &str, content_type: &str, body: &str| {
                let mut headers = http::HeaderMap::new();
                headers.insert(http::header::CONTENT_TYPE, content_type.parse().unwrap());
                let inbound = Inbound {
                    method,
                    host: "h",
                    raw_path: "/",
                    raw_query: "",
                    headers: &headers,
                    body: RawBody::Text(body),
                    request_id: None,
                };
                Twilio.precheck(&inbound)
            };
            let form_type = "application/x-www-form-urlencoded; charset=utf-8";
            assert!(check("POST", form_type, &form(limit)).is_ok());
            let r = check("POST", form_type, &form(limit + 1)).unwrap_err();
            assert_eq!(
                r,
                Rejection::TooManyParameters {
                    count: limit + 1,
                    limit
                }
            );
            assert_eq!(r.status(), 413);
            assert_eq!(r.category(), "too_many_parameters");
            assert_eq!(
                r.response().body.as_deref(),
                Some(r#"{"error":"form body has more than 1000 parameters"}"#)
            );
            // Empty pieces count too: the bound is taken without decoding anything.
            assert!(check("POST", form_type, &"+&".repeat(limit)).is_err());
            // Only what is split before verification is bounded: a GET's query, a JSON body.
            assert!(check("GET", form_type, &form(limit + 1)).is_ok());
            assert!(check("POST", "application/json", &form(limit + 1)).is_ok());
            // Other providers split forms only once verified.
            for other in crate::providers::Provider::all().filter(|p| p.as_str() != "twilio") {
                let mut headers = http::HeaderMap::new();
                headers.insert(http::header::CONTENT_TYPE, form_type.parse().unwrap());
                let body = form(limit + 1);
                let inbound = Inbound {
                    method: "POST",
                    host: "h",
                    raw_path: "/",
                    raw_query: "",
                    headers: &headers,
                    body: RawBody::Text(&body),
                    request_id: None,
                };
                assert!(other.precheck(&inbound).is_ok(), "{other}");
            }
        }

        #[test]
        fn the_sample_verifies_and_maps() {
            let now = time::macros::datetime!(2026-11-22 12:00 UTC);
            let s = Twilio.sample("https://u/hook", b"secret", now, [7; 16]);
            let mut headers = http::HeaderMap::new();
            for (k, v) in &s.headers {
                headers.insert(*k, v.parse().unwrap());
            }
            let req = SignedRequest {
                method: s.method,
                base_url: "https://u",
                raw_path: "/hook",
                raw_query: "",
                headers: &headers,
                body: &s.body,
            };
            let ok = Twilio.verify(
                &req,
                &SecretSet::single("secret"),
                &VerifyOptions::default(),
                now,
            );
            assert_eq!(ok, Ok(SecretSlot::Current));
            let pairs: Vec<_> = s.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let e = map("twilio", s.method, &pairs, "", &s.body, &settings()).unwrap();
            assert_eq!(e[0].detail_type, "message.received");
        }
    }
}
