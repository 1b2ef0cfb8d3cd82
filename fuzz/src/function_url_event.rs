//! `function_url_event`: any bytes as the Lambda function URL invocation (payload format 2.0),
//! through the handler's pure request path: the event parser, `request::Inbound` and the whole
//! verify-and-map [`Pipeline`] with a fixed secret store (no network, no AWS).
//!
//! - Parsing the event (serde_json, as the runtime does) and every step after it never panics,
//!   and the pipeline never waits.
//! - `Inbound::from_function_url` answers exactly as its rules say: a method the provider never
//!   uses is 405; a body over the limit is 413 (for base64, only when the decoded body really is
//!   over it, so the cheap estimate never refuses a body that fits); a Twilio form POST with
//!   more `&`s than Twilio sends parameters is 413, before it is split; bad base64 is 400; else the
//!   body is the (decoded) body, the host is the Host header or the domain name, and
//!   `base_url`, `signed`, `delivery` and `delivery_id` carry the request's parts unchanged.
//! - A refused request gets a 4xx, never a 5xx (the secret is at hand), with a JSON error body
//!   (and `Allow` on a 405), and the pipeline refuses what `Inbound` refuses, the same way.
//! - The same event, signed correctly with the provider's `sign` (as the provider would: Twilio
//!   hashes a non-form body into `bodySHA256` and, signing with the auth token, sends no
//!   SharedKey settings header), is never refused as unauthorised: it maps, or
//!   its body is malformed or too large. Accepted entries pass [`crate::check_entry`] and make a
//!   200 answer (TwiML for Twilio).
//! - `Pipeline::prepare` (what the Lambda handler runs) agrees with `entries`: the same entries
//!   when they fit; for a 413, the entries mapped without the limit, the size error naming the
//!   largest, and a valid pointer event ([`crate::check_pointer`]) for the stored body.
//!
//! Each event runs against all three providers, with the default configuration and with a tight
//! one (small limits, a public base URL, a fixed DetailType, Zendesk's test secret accepted).

use std::borrow::Cow;
use std::collections::HashMap;

use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ebhook_handler::config::{self, Config};
use ebhook_handler::event::{EventSettings, MAX_FORM_FIELDS, MapError, form_fields_bound};
use ebhook_handler::handler::{Pipeline, Summary};
use ebhook_handler::providers::{github, twilio, zendesk};
use ebhook_handler::request::{Inbound, RawBody, Rejection, accepted};
use ebhook_handler::secret_store::SecretStore;
use ebhook_handler::{Provider, SecretSet};
use http::HeaderValue;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{block_on, check_entry, check_pointer, header_text};

/// The signing secret of every pipeline here (the seed events are signed with it).
pub const SECRET: &str = "fuzz-signing-secret";

pub fn config(provider: Provider, tight: bool) -> Config {
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut set = |k: &str, v: &str| {
        vars.insert(k.to_owned(), v.to_owned());
    };
    set(config::PROVIDER, provider.as_str());
    set(config::EVENT_BUS, "ebhook-fuzz");
    if tight {
        set(config::MAX_BODY, "512");
        set(config::MAX_ENTRY, "1024");
        set(config::PUBLIC_BASE_URL, "https://hooks.example.com/");
        set(config::DETAIL_TYPE, "Custom");
        set(config::ACCEPT_TEST_SECRET, "true");
        set(config::TOLERANCE, "60");
    }
    Config::from_map(&vars).expect("a valid configuration")
}

thread_local! {
    static PIPELINES: Vec<Pipeline> = crate::MODELLED.map(crate::provider).into_iter()
        .flat_map(|p| [false, true].map(|tight| {
            Pipeline::new(config(p, tight), SecretStore::fixed(SecretSet::single(SECRET)))
        }))
        .collect();
}

fn delivery_header(provider: Provider) -> &'static str {
    match provider.as_str() {
        "github" => github::DELIVERY_HEADER,
        "zendesk" => "x-zendesk-webhook-invocation-id",
        "twilio" => twilio::IDEMPOTENCY_HEADER,
        other => panic!("no delivery header known for {other}"),
    }
}

/// A refusal's status and answer.
fn check_rejection(rejection: &Rejection) {
    let status = rejection.status();
    let response = rejection.response();
    assert_eq!(response.status_code, i64::from(status));
    assert_eq!(response.headers["content-type"], "application/json");
    let body: Value =
        serde_json::from_str(response.body.as_deref().expect("a body")).expect("a JSON body");
    assert!(body["error"].is_string(), "{body}");
    match rejection {
        Rejection::MethodNotAllowed { allowed } => {
            assert_eq!(status, 405);
            assert_eq!(response.headers["allow"], allowed.join(", ").as_str());
        }
        Rejection::Unavailable { .. } => assert_eq!(response.headers["retry-after"], "5"),
        _ => assert!((400..500).contains(&status), "{rejection:?} is {status}"),
    }
}

/// `Inbound::from_function_url` and the provider's precheck against their rules. Returns
/// their answer.
fn check_inbound(
    event: &LambdaFunctionUrlRequest,
    provider: Provider,
    max: usize,
) -> Result<(), Rejection> {
    let method = event.request_context.http.method.as_deref().unwrap_or("");
    let raw = event.body.as_deref().unwrap_or("");
    let decoded = if event.is_base64_encoded {
        B64.decode(raw).ok()
    } else {
        Some(raw.as_bytes().to_vec())
    };
    let inbound = match Inbound::from_function_url(event, provider.methods(), max)
        .and_then(|inbound| provider.precheck(&inbound).map(|()| inbound))
    {
        Ok(inbound) => inbound,
        Err(rejection) => {
            match &rejection {
                Rejection::MethodNotAllowed { allowed } => {
                    assert_eq!(*allowed, provider.methods());
                    assert!(!provider.allows_method(method), "{method} refused");
                }
                Rejection::BodyTooLarge { size, limit } => {
                    assert!(provider.allows_method(method));
                    assert_eq!(*limit, max);
                    assert!(*size > max);
                    assert!(
                        decoded.as_ref().is_none_or(|d| d.len() > max),
                        "a body of {:?} bytes refused as over {max}",
                        decoded.map(|d| d.len())
                    );
                }
                Rejection::BadEncoding => {
                    assert!(provider.allows_method(method));
                    assert!(event.is_base64_encoded && decoded.is_none());
                }
                Rejection::TooManyParameters { count, limit } => {
                    assert_eq!(*limit, MAX_FORM_FIELDS);
                    // The query string is counted first, for every provider; then a Twilio
                    // form.
                    let query = event.raw_query_string.as_deref().unwrap_or("");
                    let query_fields = form_fields_bound(query.as_bytes());
                    if !query.is_empty() && query_fields > MAX_FORM_FIELDS {
                        assert_eq!(*count, query_fields);
                    } else {
                        assert!(twilio_form(event, provider, method));
                        let body = decoded.as_deref().expect("a decoded body");
                        assert!(body.len() <= max);
                        assert_eq!(*count, form_fields_bound(body));
                    }
                    assert!(count > limit);
                }
                other => panic!("from_function_url cannot answer {other:?}"),
            }
            check_rejection(&rejection);
            return Err(rejection);
        }
    };
    assert!(provider.allows_method(method), "{method} let through");
    if twilio_form(event, provider, method) {
        let ands = inbound.body.as_bytes().iter().filter(|&&b| b == b'&');
        assert!(
            ands.count() < MAX_FORM_FIELDS,
            "too many parameters let through"
        );
    }
    assert_eq!(inbound.method, method);
    assert_eq!(
        Some(inbound.body.as_bytes()),
        decoded.as_deref(),
        "the body"
    );
    // A body that arrived as text is kept as that very text, so the mapper reads what was
    // verified.
    if !event.is_base64_encoded {
        assert_eq!(
            inbound.body,
            RawBody::Text(event.body.as_deref().unwrap_or(""))
        );
    }
    assert!(inbound.body.len() <= max);
    let host = header_text(&event.headers, "host")
        .or(event.request_context.domain_name.as_deref())
        .unwrap_or("");
    assert_eq!(inbound.host, host);
    let path = event.raw_path.as_deref().unwrap_or("/");
    let query = event.raw_query_string.as_deref().unwrap_or("");
    assert_eq!(inbound.raw_path, path);
    assert_eq!(inbound.raw_query, query);
    assert_eq!(
        inbound.request_id,
        event.request_context.request_id.as_deref()
    );
    assert_eq!(
        provider
            .delivery_id_header()
            .and_then(|name| inbound.header(name)),
        header_text(&event.headers, delivery_header(provider))
    );
    assert_eq!(inbound.base_url("https", None), format!("https://{host}"));
    assert_eq!(
        inbound.base_url("http", Some("https://hooks.example.com")),
        "https://hooks.example.com"
    );
    let base = inbound.base_url("https", None);
    let signed = inbound.signed(&base);
    assert_eq!(signed.method, method);
    assert_eq!(signed.body, inbound.body.as_bytes());
    assert!(std::ptr::eq(signed.headers, &event.headers));
    let mut url = format!("{}{path}", base.trim_end_matches('/'));
    if !query.is_empty() {
        url = format!("{url}?{query}");
    }
    assert_eq!(signed.url(), url);
    let covered = provider.signed(&signed, b"");
    let body_sha256 = ebhook_handler::event::sha256_hex(inbound.body.as_bytes());
    let delivery = inbound.delivery(
        provider.as_str(),
        provider.signs_query(),
        "2026-11-22T12:00:00Z",
        &body_sha256,
        covered,
    );
    assert_eq!(delivery.signed, covered);
    assert_eq!(delivery.provider, provider.as_str());
    assert_eq!(delivery.query_signed, provider.signs_query());
    assert_eq!(delivery.raw_query, query);
    assert_eq!(delivery.body, &inbound.body);
    assert_eq!(delivery.request_id, inbound.request_id);
    Ok(())
}

/// Whether Twilio's parameters are split before verification: a form POST.
fn twilio_form(event: &LambdaFunctionUrlRequest, provider: Provider, method: &str) -> bool {
    provider.as_str() == "twilio"
        && method == "POST"
        && header_text(&event.headers, "content-type")
            .and_then(|ct| ct.split(';').next())
            .is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
}

/// The pipeline's answer, whatever it is.
fn check_outcome(config: &Config, result: &Result<Vec<ebhook_handler::event::Entry>, Rejection>) {
    let provider = config.provider;
    match result {
        Ok(entries) => {
            for entry in entries {
                check_entry(entry, provider, &config.events);
            }
            let ids: Vec<String> = (0..entries.len()).map(|i| format!("id-{i}")).collect();
            let response = accepted(provider.success_body(), &ids);
            assert_eq!(response.status_code, 200);
            assert_eq!(
                response.headers["x-ebhook-event-ids"],
                ids.join(",").as_str()
            );
            let body = response.body.expect("a body");
            if provider.as_str() == "twilio" {
                assert!(body.ends_with("<Response/>"), "{body}");
            } else {
                let body: Value = serde_json::from_str(&body).expect("a JSON body");
                assert_eq!(body["eventIds"], serde_json::json!(ids));
            }
        }
        Err(rejection) => {
            assert!(
                !matches!(rejection, Rejection::Unavailable { .. }),
                "503 with the secret at hand: {rejection:?}"
            );
            check_rejection(rejection);
        }
    }
}

/// `Pipeline::prepare`, which the Lambda handler uses, agrees with `entries`: the same entries
/// when they fit; when one does not, the entries mapped without the limit, the size error, and
/// a valid pointer event for the stored body.
fn check_prepared(
    pipeline: &Pipeline,
    event: &LambdaFunctionUrlRequest,
    entries: &Result<Vec<ebhook_handler::event::Entry>, Rejection>,
) {
    let config = pipeline.config();
    let prepared = block_on(pipeline.prepare(event, &mut Summary::default()));
    match (prepared, entries) {
        (Ok(p), Ok(entries)) => {
            assert!(p.too_large.is_none());
            // The two ran at different instants: compare without the receipt time.
            let timeless = |es: &[ebhook_handler::event::Entry]| -> Vec<_> {
                es.iter()
                    .map(|e| {
                        let meta: Value = serde_json::from_str(&e.metadata).expect("metadata");
                        let at = format!("\"receivedAt\":{}", meta["receivedAt"]);
                        (
                            e.source.clone(),
                            e.detail_type.clone(),
                            e.detail.replacen(&at, "", 1),
                            e.metadata.replacen(&at, "", 1),
                        )
                    })
                    .collect()
            };
            assert_eq!(timeless(&p.entries), timeless(entries));
        }
        (Ok(p), Err(Rejection::EntryTooLarge { size, limit })) => {
            let unlimited = EventSettings {
                max_entry_bytes: usize::MAX,
                ..config.events.clone()
            };
            for entry in &p.entries {
                check_entry(entry, config.provider, &unlimited);
                check_pointer(
                    entry,
                    config.provider,
                    &p.received_at,
                    p.inbound.body.as_bytes(),
                );
            }
            let largest = p.entries.iter().map(|e| e.size()).max().expect("an entry");
            assert_eq!(
                p.too_large,
                Some(MapError::TooLarge {
                    size: largest,
                    limit: *limit
                })
            );
            // `entries` ran at another instant, but the receipt time has one length whatever the
            // instant, so the entry it found too large is exactly as large.
            assert_eq!(p.received_at.len(), 24, "{}", p.received_at);
            assert_eq!(*size, largest, "sizes {largest} and {size}");
        }
        (Err(a), Err(b)) => assert_eq!(&a, b),
        (p, e) => panic!(
            "prepare {:?} but entries {e:?}",
            p.map(|p| (p.entries, p.too_large))
        ),
    }
}

/// The event as the provider would have signed it with [`SECRET`]; `None` when the request
/// cannot be signed (refused before verification, or a Twilio query that already carries a
/// body hash).
pub fn signed(
    event: &LambdaFunctionUrlRequest,
    config: &Config,
) -> Option<LambdaFunctionUrlRequest> {
    let provider = config.provider;
    let inbound =
        Inbound::from_function_url(event, provider.methods(), config.max_body_bytes).ok()?;
    let body = inbound.body.as_bytes().to_vec();
    let base = inbound
        .base_url("https", config.public_base_url.as_deref())
        .into_owned();
    let method = inbound.method.to_owned();
    let path = inbound.raw_path.to_owned();
    let mut query = inbound.raw_query.to_owned();
    let mut signed = event.clone();
    let secret = SECRET.as_bytes();
    let mut headers: Vec<(&'static str, String)> = Vec::new();
    match provider.as_str() {
        "github" => headers.push((github::SIGNATURE_HEADER, github::sign(secret, &body))),
        "zendesk" => {
            let now = OffsetDateTime::now_utc().replace_nanosecond(0).ok()?;
            let ts = now.format(&Rfc3339).ok()?;
            headers.push((zendesk::SIGNATURE_HEADER, zendesk::sign(secret, &ts, &body)));
            headers.push((zendesk::TIMESTAMP_HEADER, ts));
        }
        "twilio" => {
            if form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == twilio::BODY_HASH_PARAM) {
                return None;
            }
            let form = method == "POST"
                && header_text(&event.headers, "content-type")
                    .and_then(|ct| ct.split(';').next())
                    .is_some_and(|m| {
                        m.trim()
                            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                    });
            let params: Vec<(Cow<'_, str>, Cow<'_, str>)> = if form {
                form_urlencoded::parse(&body).collect()
            } else {
                if !body.is_empty() {
                    if !query.is_empty() {
                        query.push('&');
                    }
                    query.push_str(twilio::BODY_HASH_PARAM);
                    query.push('=');
                    query.push_str(&twilio::body_hash(&body));
                    signed.raw_query_string = Some(query.clone());
                }
                Vec::new()
            };
            let mut url = format!("{}{path}", base.trim_end_matches('/'));
            if !query.is_empty() {
                url = format!("{url}?{query}");
            }
            headers.push((twilio::SIGNATURE_HEADER, twilio::sign(secret, &url, params)));
            // Signed with the auth token, as Twilio sends it: no SharedKey settings header,
            // which would name another hash (or none) for this signature.
            signed.headers.remove(twilio::SIGNATURE_SETTINGS_HEADER);
        }
        // A provider this target has no signer for: nothing to sign.
        _ => return None,
    }
    for (name, value) in headers {
        let value = HeaderValue::from_str(&value).expect("signatures are header-safe");
        signed.headers.insert(name, value);
    }
    Some(signed)
}

pub fn check(data: &[u8]) {
    // As the runtime reads it.
    let Ok(event) = serde_json::from_slice::<LambdaFunctionUrlRequest>(data) else {
        return;
    };
    PIPELINES.with(|pipelines| {
        for pipeline in pipelines {
            let config = pipeline.config();
            let inbound = check_inbound(&event, config.provider, config.max_body_bytes);
            let result = block_on(pipeline.entries(&event, &mut Summary::default()));
            check_outcome(config, &result);
            check_prepared(pipeline, &event, &result);
            if let Err(refused) = inbound {
                assert_eq!(
                    result.err(),
                    Some(refused),
                    "the pipeline refuses as Inbound does"
                );
            }
            if let Some(signed) = signed(&event, config) {
                let result = block_on(pipeline.entries(&signed, &mut Summary::default()));
                check_outcome(config, &result);
                check_prepared(pipeline, &signed, &result);
                match &result {
                    // A signed form (or a Twilio GET's query) of more fields than any provider
                    // sends is refused too, not split.
                    Ok(_)
                    | Err(
                        Rejection::Malformed(_)
                        | Rejection::EntryTooLarge { .. }
                        | Rejection::TooManyParameters { .. },
                    ) => {}
                    Err(other) => panic!("a correctly signed request was refused: {other:?}"),
                }
            }
        }
    });
}
