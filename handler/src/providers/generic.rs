//! Any other sender, described at `init` rather than known in advance: an HMAC (which header,
//! prefix, hash, encoding and signed content), a static token in a named header, or HTTP basic
//! auth; with the event name and delivery id taken from a header or a top-level JSON field.
//! This is everything EventBridge's own webhook sources can check.
//!
//! The description is one parameter of the stack (`ProviderScheme`, the handler's
//! `EBHOOK_PROVIDER_SCHEME`), never the secret, written as URL query pairs so any character can
//! be given: `auth=hmac&header=X-Signature&prefix=sha256%3D&algorithm=sha256&encoding=hex
//! &signed=timestamp-body&delimiter=.&timestamp-header=X-Timestamp&event=json:type`.

use std::borrow::Cow;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use http::HeaderName;
use time::OffsetDateTime;

use super::{
    HmacSha1, HmacSha256, MAX_SIGNATURES, Provider, Sample, Scheme, SecretOrigin, SignedRequest,
    VerifyError, VerifyOptions, first_equal, first_match_any, mac_bytes, parse_unix_seconds,
    within,
};
use crate::event::{self, Delivery, Entry, EventSettings, MapError};
use crate::secrets::{SecretSet, SecretSlot};

type HmacSha512 = hmac::Hmac<sha2::Sha512>;

/// Where the description comes from, for messages.
const SCHEME_VAR: &str = "EBHOOK_PROVIDER_SCHEME";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Hex,
    Base64,
}

/// What the sender signs, its parts joined by the delimiter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signed {
    Body,
    TimestampBody,
    IdTimestampBody,
}

/// An HMAC signature as the sender writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hmac {
    pub header: HeaderName,
    pub prefix: Cow<'static, str>,
    pub algorithm: Algorithm,
    pub encoding: Encoding,
    pub signed: Signed,
    pub delimiter: Cow<'static, str>,
    pub timestamp_header: Option<HeaderName>,
    pub id_header: Option<HeaderName>,
    /// Set when the header may carry several signatures, separated by this.
    pub separator: Option<char>,
}

/// How a request proves where it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    Hmac(Hmac),
    /// The secret itself, in this header.
    Token {
        header: HeaderName,
    },
    /// `Authorization: Basic base64(user:password)`, the secret being `user:password`.
    Basic,
}

/// Where the event name or the delivery id is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    Header(HeaderName),
    /// A top-level member of a JSON body, when it is a string or a number.
    Json(Cow<'static, str>),
}

/// A sender as described at `init`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generic {
    pub auth: Auth,
    pub event: Option<Field>,
    pub delivery_id: Option<Field>,
}

/// What `ebhook providers` and `init`'s menu show before a sender is described: the most
/// common scheme, a hex HMAC-SHA256 of the body in `X-Signature`, the event named by the
/// payload's `type` and identified by its `id`.
pub static GENERIC: Generic = Generic {
    auth: Auth::Hmac(Hmac {
        header: HeaderName::from_static("x-signature"),
        prefix: Cow::Borrowed(""),
        algorithm: Algorithm::Sha256,
        encoding: Encoding::Hex,
        signed: Signed::Body,
        delimiter: Cow::Borrowed(""),
        timestamp_header: None,
        id_header: None,
        separator: None,
    }),
    event: Some(Field::Json(Cow::Borrowed("type"))),
    delivery_id: Some(Field::Json(Cow::Borrowed("id"))),
};

/// Why a description cannot be used; the message names the part and what it may be.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[error("{SCHEME_VAR}: {0}")]
pub struct SchemeError(pub String);

fn bad(what: impl Into<String>) -> SchemeError {
    SchemeError(what.into())
}

fn header(name: &str, value: &str) -> Result<HeaderName, SchemeError> {
    HeaderName::from_bytes(value.trim().as_bytes())
        .map_err(|_| bad(format!("{name}={value:?} is not an HTTP header name")))
}

fn field(name: &str, value: &str) -> Result<Field, SchemeError> {
    match value.split_once(':') {
        Some(("header", h)) => Ok(Field::Header(header(name, h)?)),
        Some(("json", f)) if !f.is_empty() => Ok(Field::Json(Cow::Owned(f.to_owned()))),
        _ => Err(bad(format!(
            "{name}={value:?}: give header:<Name> or json:<top-level field>"
        ))),
    }
}

impl Generic {
    /// Read a description (see the module comment). Every key is checked: a misspelt one is
    /// refused rather than silently ignored.
    pub fn parse(text: &str) -> Result<Self, SchemeError> {
        let mut pairs = std::collections::BTreeMap::new();
        for (k, v) in form_urlencoded::parse(text.trim().as_bytes()) {
            if pairs
                .insert(k.clone().into_owned(), v.into_owned())
                .is_some()
            {
                return Err(bad(format!("{k} is given twice")));
            }
        }
        let mut take = |k: &str| pairs.remove(k);
        let auth = match take("auth").as_deref() {
            Some("hmac") => {
                let algorithm = match take("algorithm").as_deref() {
                    None | Some("sha256") => Algorithm::Sha256,
                    Some("sha1") => Algorithm::Sha1,
                    Some("sha512") => Algorithm::Sha512,
                    Some(other) => {
                        return Err(bad(format!(
                            "algorithm={other:?}: give sha1, sha256 or sha512"
                        )));
                    }
                };
                let encoding = match take("encoding").as_deref() {
                    None | Some("hex") => Encoding::Hex,
                    Some("base64") => Encoding::Base64,
                    Some(other) => {
                        return Err(bad(format!("encoding={other:?}: give hex or base64")));
                    }
                };
                let signed = match take("signed").as_deref() {
                    None | Some("body") => Signed::Body,
                    Some("timestamp-body") => Signed::TimestampBody,
                    Some("id-timestamp-body") => Signed::IdTimestampBody,
                    Some(other) => {
                        return Err(bad(format!(
                            "signed={other:?}: give body, timestamp-body or id-timestamp-body"
                        )));
                    }
                };
                let optional =
                    |v: Option<String>, name: &str| v.map(|h| header(name, &h)).transpose();
                let timestamp_header = optional(take("timestamp-header"), "timestamp-header")?;
                let id_header = optional(take("id-header"), "id-header")?;
                if signed != Signed::Body && timestamp_header.is_none() {
                    return Err(bad(
                        "signed content with a timestamp needs timestamp-header",
                    ));
                }
                if signed == Signed::IdTimestampBody && id_header.is_none() {
                    return Err(bad("signed=id-timestamp-body needs id-header"));
                }
                let separator = match take("separator") {
                    None => None,
                    Some(s) => {
                        let mut chars = s.chars();
                        match (chars.next(), chars.next()) {
                            (Some(c), None) => Some(c),
                            _ => return Err(bad(format!("separator={s:?}: give one character"))),
                        }
                    }
                };
                Auth::Hmac(Hmac {
                    header: header(
                        "header",
                        &take("header").ok_or_else(|| bad("auth=hmac needs header"))?,
                    )?,
                    prefix: Cow::Owned(take("prefix").unwrap_or_default()),
                    algorithm,
                    encoding,
                    signed,
                    delimiter: Cow::Owned(take("delimiter").unwrap_or_default()),
                    timestamp_header,
                    id_header,
                    separator,
                })
            }
            Some("token") => Auth::Token {
                header: header(
                    "header",
                    &take("header").ok_or_else(|| bad("auth=token needs header"))?,
                )?,
            },
            Some("basic") => Auth::Basic,
            Some(other) => return Err(bad(format!("auth={other:?}: give hmac, token or basic"))),
            None => return Err(bad("auth is missing: give hmac, token or basic")),
        };
        let event = take("event").map(|v| field("event", &v)).transpose()?;
        let delivery_id = take("delivery-id")
            .map(|v| field("delivery-id", &v))
            .transpose()?;
        if let Some(unknown) = pairs.keys().next() {
            return Err(bad(format!("unknown key {unknown:?}")));
        }
        Ok(Self {
            auth,
            event,
            delivery_id,
        })
    }

    /// The description [`Generic::parse`] reads back.
    pub fn to_text(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        match &self.auth {
            Auth::Hmac(Hmac {
                header,
                prefix,
                algorithm,
                encoding,
                signed,
                delimiter,
                timestamp_header,
                id_header,
                separator,
            }) => {
                out.append_pair("auth", "hmac");
                out.append_pair("header", header.as_str());
                if !prefix.is_empty() {
                    out.append_pair("prefix", prefix);
                }
                out.append_pair(
                    "algorithm",
                    match algorithm {
                        Algorithm::Sha1 => "sha1",
                        Algorithm::Sha256 => "sha256",
                        Algorithm::Sha512 => "sha512",
                    },
                );
                out.append_pair(
                    "encoding",
                    match encoding {
                        Encoding::Hex => "hex",
                        Encoding::Base64 => "base64",
                    },
                );
                out.append_pair(
                    "signed",
                    match signed {
                        Signed::Body => "body",
                        Signed::TimestampBody => "timestamp-body",
                        Signed::IdTimestampBody => "id-timestamp-body",
                    },
                );
                if !delimiter.is_empty() {
                    out.append_pair("delimiter", delimiter);
                }
                if let Some(h) = timestamp_header {
                    out.append_pair("timestamp-header", h.as_str());
                }
                if let Some(h) = id_header {
                    out.append_pair("id-header", h.as_str());
                }
                if let Some(c) = separator {
                    out.append_pair("separator", &c.to_string());
                }
            }
            Auth::Token { header } => {
                out.append_pair("auth", "token");
                out.append_pair("header", header.as_str());
            }
            Auth::Basic => {
                out.append_pair("auth", "basic");
            }
        }
        for (name, f) in [("event", &self.event), ("delivery-id", &self.delivery_id)] {
            match f {
                Some(Field::Header(h)) => out.append_pair(name, &format!("header:{h}")),
                Some(Field::Json(j)) => out.append_pair(name, &format!("json:{j}")),
                None => &mut out,
            };
        }
        out.finish()
    }

    /// The message the sender signs, as its parts.
    fn signed_parts<'r>(
        signed: Signed,
        delimiter: &'r str,
        timestamp: &'r str,
        id: &'r str,
        body: &'r [u8],
    ) -> Vec<&'r [u8]> {
        let d = delimiter.as_bytes();
        match signed {
            Signed::Body => vec![body],
            Signed::TimestampBody => vec![timestamp.as_bytes(), d, body],
            Signed::IdTimestampBody => vec![id.as_bytes(), d, timestamp.as_bytes(), d, body],
        }
    }
}

fn mac_len(algorithm: Algorithm) -> usize {
    match algorithm {
        Algorithm::Sha1 => 20,
        Algorithm::Sha256 => 32,
        Algorithm::Sha512 => 64,
    }
}

fn mac(algorithm: Algorithm, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    match algorithm {
        Algorithm::Sha1 => mac_bytes::<HmacSha1>(key, parts),
        Algorithm::Sha256 => mac_bytes::<HmacSha256>(key, parts),
        Algorithm::Sha512 => mac_bytes::<HmacSha512>(key, parts),
    }
}

fn decode(encoding: Encoding, text: &str, len: usize) -> Option<Vec<u8>> {
    let bytes = match encoding {
        Encoding::Hex => hex::decode(text).ok()?,
        Encoding::Base64 => B64.decode(text).ok()?,
    };
    (bytes.len() == len).then_some(bytes)
}

fn encode(encoding: Encoding, bytes: &[u8]) -> String {
    match encoding {
        Encoding::Hex => hex::encode(bytes),
        Encoding::Base64 => B64.encode(bytes),
    }
}

impl Generic {
    fn verify_hmac(
        hmac: &Hmac,
        req: &SignedRequest<'_>,
        secrets: &SecretSet,
        options: &VerifyOptions,
        now: OffsetDateTime,
    ) -> Result<SecretSlot, VerifyError> {
        let Hmac {
            header,
            prefix,
            algorithm,
            encoding,
            signed,
            delimiter,
            timestamp_header,
            id_header,
            separator,
        } = hmac;
        let value = req
            .headers
            .get(header)
            .and_then(|v| v.to_str().ok())
            .ok_or(VerifyError::MissingHeader(
                "the configured signature header",
            ))?;
        let timestamp = match timestamp_header {
            Some(name) => {
                let text = req.headers.get(name).and_then(|v| v.to_str().ok()).ok_or(
                    VerifyError::MissingHeader("the configured timestamp header"),
                )?;
                let at = parse_unix_seconds(text.trim()).ok_or(VerifyError::MalformedTimestamp)?;
                if !within(at, now, options.tolerance) {
                    return Err(VerifyError::StaleTimestamp);
                }
                text.trim()
            }
            None => "",
        };
        let id = match id_header {
            Some(name) => req
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .ok_or(VerifyError::MissingHeader("the configured id header"))?,
            None => "",
        };
        let len = mac_len(*algorithm);
        let candidates: Vec<Vec<u8>> = match separator {
            Some(sep) => value.split(*sep).take(MAX_SIGNATURES).collect(),
            None => vec![value],
        }
        .into_iter()
        .filter_map(|c| c.trim().strip_prefix(prefix.as_ref()))
        .filter_map(|c| decode(*encoding, c.trim(), len))
        .collect();
        if candidates.is_empty() {
            return Err(VerifyError::MalformedSignature);
        }
        let parts = Self::signed_parts(*signed, delimiter, timestamp, id, req.body);
        match algorithm {
            // Constant-time comparison of each secret's MAC with every candidate.
            Algorithm::Sha256 => {
                let fixed: Vec<[u8; 32]> = candidates
                    .iter()
                    .filter_map(|c| c.as_slice().try_into().ok())
                    .collect();
                first_match_any::<HmacSha256>(secrets.active(now), &parts, &fixed)
            }
            _ => secrets.active(now).find_map(|(slot, secret)| {
                let ours = mac(*algorithm, secret.as_bytes(), &parts);
                candidates
                    .iter()
                    .any(|c| {
                        bool::from(subtle::ConstantTimeEq::ct_eq(ours.as_slice(), c.as_slice()))
                    })
                    .then_some(slot)
            }),
        }
        .ok_or(VerifyError::Mismatch)
    }

    /// The event type and the delivery id, each from a header or a top-level JSON member,
    /// as text; the body is read once, whichever fields are JSON.
    fn read(&self, d: &Delivery<'_>) -> (Option<String>, Option<String>) {
        fn json_name(field: &Option<Field>) -> Option<&str> {
            match field {
                Some(Field::Json(name)) => Some(name.as_ref()),
                _ => None,
            }
        }
        let names = [json_name(&self.event), json_name(&self.delivery_id)];
        let mut members = [None, None];
        if names.iter().any(Option::is_some)
            && let Ok(text) = d.text()
        {
            members = top_level_members(text, names);
        }
        let [event, id] = members;
        let pick = |field: &Option<Field>, member: Option<String>| match field {
            Some(Field::Header(h)) => d.header(h).map(str::to_owned),
            Some(Field::Json(_)) => member,
            None => None,
        };
        (pick(&self.event, event), pick(&self.delivery_id, id))
    }
}

/// The top-level members of a JSON object named in `names`, where each is a string or a
/// number, as text. Every other member is skipped unread, so a body of a million keys costs
/// no more memory than its text (a `serde_json::Value` of it took 85 MB for 5 MB).
fn top_level_members<const N: usize>(text: &str, names: [Option<&str>; N]) -> [Option<String>; N] {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

    struct Members<'n, const N: usize>([Option<&'n str>; N]);

    impl<'de, const N: usize> Visitor<'de> for Members<'_, N> {
        type Value = [Option<String>; N];

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found: [Option<String>; N] = std::array::from_fn(|_| None);
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                match self.0.iter().position(|n| *n == Some(key.as_ref())) {
                    Some(i) => {
                        found[i] = match map.next_value::<serde_json::Value>()? {
                            serde_json::Value::String(s) => Some(s),
                            serde_json::Value::Number(n) => Some(n.to_string()),
                            _ => None,
                        };
                    }
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(found)
        }
    }

    impl<'de, const N: usize> DeserializeSeed<'de> for Members<'_, N> {
        type Value = [Option<String>; N];

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }

    let mut de = serde_json::Deserializer::from_str(text);
    Members(names)
        .deserialize(&mut de)
        .unwrap_or_else(|_| std::array::from_fn(|_| None))
}

impl Scheme for Generic {
    fn name(&self) -> &'static str {
        "generic"
    }

    fn signing(&self) -> &'static str {
        "as described at init: an HMAC (header, prefix, sha1/sha256/sha512, hex/base64, body or timestamp/id + body), a static token, or basic auth"
    }

    fn verify(
        &self,
        request: &SignedRequest<'_>,
        secrets: &SecretSet,
        options: &VerifyOptions,
        now: OffsetDateTime,
    ) -> Result<SecretSlot, VerifyError> {
        match &self.auth {
            Auth::Hmac(hmac) => Self::verify_hmac(hmac, request, secrets, options, now),
            Auth::Token { header } => {
                let sent = request
                    .headers
                    .get(header)
                    .ok_or(VerifyError::MissingHeader("the configured token header"))?;
                first_equal(secrets.active(now), sent.as_bytes())
            }
            Auth::Basic => {
                let sent = request
                    .headers
                    .get(http::header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or(VerifyError::MissingHeader("authorization"))?;
                let (scheme, credentials) = sent
                    .trim()
                    .split_once(' ')
                    .ok_or(VerifyError::MalformedSignature)?;
                if !scheme.eq_ignore_ascii_case("basic") {
                    return Err(VerifyError::MalformedSignature);
                }
                let decoded = B64
                    .decode(credentials.trim())
                    .map_err(|_| VerifyError::MalformedSignature)?;
                first_equal(secrets.active(now), &decoded)
            }
        }
    }

    /// What the description says is signed; a token or basic auth signs nothing.
    fn signed<'r>(&self, request: &SignedRequest<'r>, _secret: &[u8]) -> crate::event::Signed<'r> {
        use crate::event::Signed as Covered;
        let Auth::Hmac(hmac) = &self.auth else {
            return Covered::NOTHING;
        };
        let at = hmac.timestamp_header.as_ref().and_then(|h| request.text(h));
        match hmac.signed {
            Signed::Body => Covered::covering(&["body"]),
            Signed::TimestampBody => Covered::covering(&["timestamp", "body"]).at(at),
            Signed::IdTimestampBody => Covered::covering(&["idHeader", "timestamp", "body"]).at(at),
        }
    }

    fn delivery_id_header(&self) -> Option<&'static HeaderName> {
        None
    }

    /// The sender as described at `init`, which a generic stack must have.
    fn describe(&self, _this: Provider, description: Option<&str>) -> Result<Provider, String> {
        let text = description.ok_or_else(|| {
            format!("{SCHEME_VAR} is not set: describe how the sender signs (ebhook init --provider generic --help)")
        })?;
        let scheme = Generic::parse(text).map_err(|e| e.to_string())?;
        // Read once at start, and needed for as long as the process runs.
        Ok(Provider::configured(Box::leak(Box::new(scheme))))
    }

    /// A JSON body as the Detail (anything else wrapped as Zendesk's are), named and
    /// identified where the description says.
    fn map(&self, d: &Delivery<'_>, settings: &EventSettings) -> Result<Vec<Entry>, MapError> {
        let mut meta = event::metadata(d);
        let (event_type, delivery_id) = self.read(d);
        meta.event =
            Cow::Owned(event_type.unwrap_or_else(|| event::FALLBACK_DETAIL_TYPE.to_owned()));
        meta.delivery_id = delivery_id.map(Cow::Owned);
        match event::body_kind(d) {
            event::BodyKind::Json | event::BodyKind::Empty => {
                event::json_event(d, settings, meta, |_, _| {})
            }
            event::BodyKind::Form => {
                let detail =
                    event::form_detail(form_urlencoded::parse(d.body.as_bytes()), &mut meta)?;
                Ok(vec![event::entry(settings, &meta, detail)])
            }
            event::BodyKind::Other => {
                let detail = event::opaque_detail(d.body.as_bytes(), &mut meta);
                Ok(vec![event::entry(settings, &meta, detail)])
            }
        }
    }

    fn secret_origin(&self) -> SecretOrigin {
        SecretOrigin::Provider {
            prompt: "the sender's signing secret, token, or user:password (hidden)",
        }
    }

    fn setup_steps(&self, url: &str, _stack: &str) -> String {
        let how = match &self.auth {
            Auth::Hmac(Hmac { header, .. }) => {
                format!("signing with the secret you gave ebhook (ebhook checks {header})")
            }
            Auth::Token { header } => {
                format!("with the secret you gave ebhook as the {header} header")
            }
            Auth::Basic => "with HTTP basic auth, user:password as you gave ebhook".to_owned(),
        };
        format!(
            "At the sender's webhook settings:\n\
             1. URL: {url}, method POST.\n\
             2. Authentication: {how}.\n\
             The description ebhook checks against: {}\n",
            self.to_text()
        )
    }

    fn after_rotation(&self) -> &'static str {
        "At the sender: switch it to the new secret; the previous one keeps verifying until the grace period ends."
    }

    fn sample(
        &'static self,
        url: &str,
        secret: &[u8],
        now: OffsetDateTime,
        random: [u8; 16],
    ) -> Sample {
        let id = uuid::Builder::from_random_bytes(random)
            .into_uuid()
            .to_string();
        let body = serde_json::json!({
            "type": "sample.created",
            "id": id,
            "created": now.unix_timestamp(),
            "data": {"note": "ebhook send-test"},
        })
        .to_string()
        .into_bytes();
        let mut headers = vec![("content-type", "application/json".to_owned())];
        let mut named = |f: &'static Option<Field>, value: &str| {
            if let Some(Field::Header(h)) = f {
                headers.push((h.as_str(), value.to_owned()));
            }
        };
        named(&self.event, "sample.created");
        named(&self.delivery_id, &id);
        match &self.auth {
            Auth::Hmac(Hmac {
                header,
                prefix,
                algorithm,
                encoding,
                signed,
                delimiter,
                timestamp_header,
                id_header,
                ..
            }) => {
                let timestamp = now.unix_timestamp().to_string();
                let parts = Self::signed_parts(*signed, delimiter, &timestamp, &id, &body);
                let signature = encode(*encoding, &mac(*algorithm, secret, &parts));
                if let Some(h) = timestamp_header {
                    headers.push((h.as_str(), timestamp.clone()));
                }
                if let Some(h) = id_header {
                    headers.push((h.as_str(), id.clone()));
                }
                headers.push((header.as_str(), format!("{prefix}{signature}")));
            }
            Auth::Token { header } => {
                headers.push((
                    header.as_str(),
                    String::from_utf8_lossy(secret).into_owned(),
                ));
            }
            Auth::Basic => {
                headers.push(("authorization", format!("Basic {}", B64.encode(secret))));
            }
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
    use crate::providers::testing::{JSON, detail, settings};
    use crate::request::RawBody;
    use http::HeaderMap;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

    fn scheme(text: &str) -> &'static Generic {
        Box::leak(Box::new(Generic::parse(text).unwrap()))
    }

    fn check(
        g: &Generic,
        headers: &[(&str, &str)],
        body: &[u8],
        secret: &str,
    ) -> Result<SecretSlot, VerifyError> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let req = SignedRequest {
            method: "POST",
            base_url: "https://h",
            raw_path: "/",
            raw_query: "",
            headers: &map,
            body,
        };
        g.verify(
            &req,
            &SecretSet::single(secret),
            &VerifyOptions::default(),
            NOW,
        )
    }

    #[test]
    fn descriptions_read_back_and_mistakes_are_named() {
        for text in [
            "auth=hmac&header=x-hub-signature-256&prefix=sha256%3D&algorithm=sha256&encoding=hex&signed=body",
            "auth=hmac&header=x-sig&algorithm=sha512&encoding=base64&signed=id-timestamp-body&delimiter=.&timestamp-header=x-ts&id-header=x-id&separator=+&event=header%3Ax-event&delivery-id=json%3Aid",
            "auth=token&header=x-token",
            "auth=basic&event=json%3Atype",
        ] {
            let g = Generic::parse(text).unwrap();
            assert_eq!(Generic::parse(&g.to_text()).unwrap(), g, "{text}");
        }
        for (text, needle) in [
            ("", "auth is missing"),
            ("auth=hmac", "needs header"),
            ("auth=hmac&header=x&algorithm=md5", "sha1, sha256 or sha512"),
            ("auth=hmac&header=x&encoding=b32", "hex or base64"),
            (
                "auth=hmac&header=x&signed=timestamp-body",
                "needs timestamp-header",
            ),
            (
                "auth=hmac&header=x&signed=id-timestamp-body&timestamp-header=t",
                "needs id-header",
            ),
            ("auth=hmac&header=bad%20name", "not an HTTP header name"),
            ("auth=token", "needs header"),
            ("auth=basic&colour=blue", "unknown key"),
            ("auth=basic&auth=token", "given twice"),
            ("auth=basic&event=body", "header:<Name> or json:"),
        ] {
            let e = Generic::parse(text).unwrap_err();
            assert!(e.to_string().contains(needle), "{text}: {e}");
            assert!(e.to_string().starts_with(SCHEME_VAR), "{e}");
        }
    }

    #[test]
    fn github_described_generically_verifies_its_published_vector() {
        let g = scheme("auth=hmac&header=X-Hub-Signature-256&prefix=sha256%3D");
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        let secret = "It's a Secret to Everybody";
        let body = b"Hello, World!";
        assert_eq!(
            check(g, &[("x-hub-signature-256", sig)], body, secret),
            Ok(SecretSlot::Current)
        );
        assert_eq!(
            check(g, &[("x-hub-signature-256", sig)], b"Hello, World?", secret),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(g, &[("x-hub-signature-256", sig)], body, "other"),
            Err(VerifyError::Mismatch)
        );
        assert!(check(g, &[], body, secret).is_err());
        assert_eq!(
            check(g, &[("x-hub-signature-256", &sig[7..])], body, secret),
            Err(VerifyError::MalformedSignature),
            "the prefix is required"
        );
    }

    #[test]
    fn every_algorithm_encoding_and_signed_content() {
        let secret = "s3cret";
        let at = NOW.unix_timestamp().to_string();
        for algorithm in ["sha1", "sha256", "sha512"] {
            for encoding in ["hex", "base64"] {
                for signed in ["body", "timestamp-body", "id-timestamp-body"] {
                    let text = format!(
                        "auth=hmac&header=x-sig&prefix=v1%3D&algorithm={algorithm}&encoding={encoding}&signed={signed}&delimiter=.&timestamp-header=x-ts&id-header=x-id"
                    );
                    let g = scheme(&text);
                    let sample = Provider::configured(g).sample(
                        "https://u/",
                        secret.as_bytes(),
                        NOW,
                        [3; 16],
                    );
                    let headers: Vec<_> = sample
                        .headers
                        .iter()
                        .map(|(k, v)| (*k, v.as_str()))
                        .collect();
                    assert_eq!(
                        check(g, &headers, &sample.body, secret),
                        Ok(SecretSlot::Current),
                        "{text}"
                    );
                    let mut tampered = sample.body.clone();
                    tampered.push(b'\n');
                    assert!(check(g, &headers, &tampered, secret).is_err(), "{text}");
                    assert!(check(g, &headers, &sample.body, "wrong").is_err(), "{text}");
                    // An independent computation of the same MAC.
                    let parts: Vec<u8> = match signed {
                        "body" => sample.body.clone(),
                        "timestamp-body" => [at.as_bytes(), b".", &sample.body].concat(),
                        _ => {
                            let id = sample
                                .headers
                                .iter()
                                .find(|(k, _)| *k == "x-id")
                                .unwrap()
                                .1
                                .clone();
                            [id.as_bytes(), b".", at.as_bytes(), b".", &sample.body].concat()
                        }
                    };
                    use hmac::Mac;
                    let expected = match algorithm {
                        "sha1" => HmacSha1::new_from_slice(secret.as_bytes())
                            .unwrap()
                            .chain_update(&parts)
                            .finalize()
                            .into_bytes()
                            .to_vec(),
                        "sha256" => HmacSha256::new_from_slice(secret.as_bytes())
                            .unwrap()
                            .chain_update(&parts)
                            .finalize()
                            .into_bytes()
                            .to_vec(),
                        _ => HmacSha512::new_from_slice(secret.as_bytes())
                            .unwrap()
                            .chain_update(&parts)
                            .finalize()
                            .into_bytes()
                            .to_vec(),
                    };
                    let shown = if encoding == "hex" {
                        hex::encode(&expected)
                    } else {
                        B64.encode(&expected)
                    };
                    assert!(
                        headers.contains(&("x-sig", format!("v1={shown}").as_str())),
                        "{text}"
                    );
                }
            }
        }
    }

    #[test]
    fn timestamps_outside_the_tolerance_and_several_signatures() {
        let g = scheme(
            "auth=hmac&header=x-sig&signed=timestamp-body&delimiter=.&timestamp-header=x-ts&separator=%2C&prefix=v1%3D",
        );
        let body = b"{}";
        let sign = |at: i64, secret: &str| {
            let mac = mac(
                Algorithm::Sha256,
                secret.as_bytes(),
                &[at.to_string().as_bytes(), b".", body],
            );
            format!("v1={}", hex::encode(mac))
        };
        let at = NOW.unix_timestamp();
        let ok = format!("{},{}", sign(at, "old"), sign(at, "s"));
        assert_eq!(
            check(g, &[("x-sig", &ok), ("x-ts", &at.to_string())], body, "s"),
            Ok(SecretSlot::Current)
        );
        for skew in [-301, 301] {
            let t = (at + skew).to_string();
            assert_eq!(
                check(
                    g,
                    &[("x-sig", &sign(at + skew, "s")), ("x-ts", &t)],
                    body,
                    "s"
                ),
                Err(VerifyError::StaleTimestamp)
            );
        }
        assert_eq!(
            check(
                g,
                &[("x-sig", &sign(at, "s")), ("x-ts", "2026-11-22T12:00:00Z")],
                body,
                "s"
            ),
            Err(VerifyError::MalformedTimestamp)
        );
        // Thousands of entries cost no more than sixteen: the rest are not read.
        let many = vec![sign(at, "x"); 5000].join(",") + "," + &sign(at, "s");
        assert_eq!(
            check(g, &[("x-sig", &many), ("x-ts", &at.to_string())], body, "s"),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn static_tokens_and_basic_auth() {
        let token = scheme("auth=token&header=x-api-key");
        assert_eq!(
            check(token, &[("x-api-key", "t0ken")], b"{}", "t0ken"),
            Ok(SecretSlot::Current)
        );
        assert_eq!(
            check(token, &[("x-api-key", "t0ke")], b"{}", "t0ken"),
            Err(VerifyError::Mismatch)
        );
        assert!(check(token, &[], b"{}", "t0ken").is_err());
        let basic = scheme("auth=basic");
        let auth = format!("Basic {}", B64.encode("user:pass"));
        assert_eq!(
            check(basic, &[("authorization", &auth)], b"{}", "user:pass"),
            Ok(SecretSlot::Current)
        );
        assert_eq!(
            check(basic, &[("authorization", &auth)], b"{}", "user:other"),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(basic, &[("authorization", "Bearer x")], b"{}", "user:pass"),
            Err(VerifyError::MalformedSignature)
        );
        assert_eq!(
            check(basic, &[("authorization", "Basic !!")], b"{}", "user:pass"),
            Err(VerifyError::MalformedSignature)
        );
    }

    #[test]
    fn events_are_named_and_identified_as_described() {
        let g = scheme("auth=basic&event=header%3Ax-event-type&delivery-id=json%3Adelivery");
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_TYPE, JSON.1.parse().unwrap());
        headers.insert("x-event-type", "order.paid".parse().unwrap());
        let body = RawBody::Text(r#"{"delivery": 42, "amount": 5}"#);
        let d = Delivery {
            provider: "generic",
            query_signed: false,
            method: "POST",
            headers: &headers,
            raw_query: "",
            body: &body,
            received_at: "2026-11-22T12:00:00.000Z",
            request_id: None,
            body_sha256: "",
            signed: crate::event::Signed::NOTHING,
        };
        let e = g.map(&d, &settings()).unwrap();
        assert_eq!(e[0].detail_type, "order.paid");
        let detail = detail(&e[0]);
        assert_eq!(detail["ebhook"]["deliveryId"], "42");
        assert_eq!(detail["amount"], 5);
    }

    #[test]
    fn json_fields_are_read_from_the_top_level_only() {
        let read = |text: &str| top_level_members(text, [Some("type"), Some("id")]);
        assert_eq!(
            read(r#"{"data": {"type": "inner"}, "type": "outer", "id": 7, "x": [1, {"id": 1}]}"#),
            [Some("outer".to_owned()), Some("7".to_owned())]
        );
        // Escaped names are names; a value that is not a string or number is no value; the
        // last of a repeated name wins, as serde_json's own objects have it.
        assert_eq!(
            read(r#"{"\u0074ype": "a", "id": null, "type": "b"}"#),
            [Some("b".to_owned()), None]
        );
        for not_an_object in ["[1]", "\"type\"", "", "{\"type\": \"a\""] {
            assert_eq!(read(not_an_object), [None, None], "{not_an_object}");
        }
        assert_eq!(
            top_level_members(r#"{"type": "a"}"#, [None, Some("type")]),
            [None, Some("a".to_owned())]
        );
    }

    #[test]
    fn a_generic_stack_needs_its_description() {
        let generic: Provider = "generic".parse().unwrap();
        let e = generic.configure(None).unwrap_err();
        assert!(e.contains(SCHEME_VAR), "{e}");
        let e = generic.configure(Some("auth=md5")).unwrap_err();
        assert!(e.contains("hmac, token or basic"), "{e}");
        let p = generic.configure(Some("auth=token&header=x-key")).unwrap();
        // Every other provider signs one way and takes no description.
        let github: Provider = "github".parse().unwrap();
        assert!(github.configure(None).is_ok());
        assert!(github.configure(Some("auth=basic")).is_err());
        assert_eq!(p.as_str(), "generic");
        assert!(p.setup_steps("https://u/", "s").contains("x-key"));
    }
}
