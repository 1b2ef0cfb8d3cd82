//! `ebhook send-test`: send a correctly signed sample delivery, signed the way the provider
//! signs (the handler library's own signers), and show the answer. Works against a deployed
//! stack (URL, provider and secret read from it) or any URL, such as `ebhook dev`.

use std::borrow::Cow;
use std::time::Duration;

use clap::Args;
use ebhook_handler::Provider;
use ebhook_handler::verify::{github, twilio, zendesk};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::TokioExecutor;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::cli::ProviderArg;
use crate::commands::common::{AwsArgs, no_such_stack, stored_secret};
use crate::error::{Error, chain};
use crate::secret_input::{self, SecretArgs, SecretError};
use crate::stack;

const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Args)]
pub struct SendTestArgs {
    /// The stack `ebhook init` created: its URL, provider and current secret are used.
    #[arg(long, conflicts_with_all = ["url", "provider", "secret_stdin", "secret_env"], required_unless_present = "url")]
    pub stack_name: Option<String>,
    /// Send to this URL instead (for example `ebhook dev`'s); needs --provider and a secret.
    #[arg(long, requires = "provider")]
    pub url: Option<String>,
    /// The provider to imitate (with --url).
    #[arg(long, value_enum)]
    pub provider: Option<ProviderArg>,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// A request to send: method POST, these headers, this body.
pub struct Sample {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

fn random_hex(bytes: usize) -> Result<String, Error> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(Error::Random)?;
    Ok(hex::encode(buf))
}

fn uuid() -> Result<String, Error> {
    let h = random_hex(16)?;
    Ok(format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    ))
}

/// A signed sample delivery for `provider` to `url`.
pub fn sample(provider: Provider, url: &str, secret: &[u8]) -> Result<Sample, Error> {
    let now = OffsetDateTime::now_utc();
    let now_text = now
        .format(&Rfc3339)
        .map_err(|e| Error::Bug(format!("formatting the time {now} as RFC 3339: {e}")))?;
    let delivery = uuid()?;
    let mut headers = vec![(
        "user-agent",
        format!("ebhook-send-test/{}", env!("CARGO_PKG_VERSION")),
    )];
    let body = match provider {
        Provider::Zendesk => {
            let body = serde_json::json!({
                "type": "zen:event-type:ticket.created",
                "account_id": 10000001,
                "id": delivery,
                "time": now_text,
                "zendesk_event_version": "2022-11-06",
                "subject": "zen:ticket:1",
                "detail": {
                    "id": "1",
                    "subject": "ebhook send-test",
                    "status": "NEW",
                    "priority": "LOW",
                    "type": "TASK",
                    "created_at": now_text,
                    "updated_at": now_text,
                },
                "event": {},
            })
            .to_string()
            .into_bytes();
            headers.extend([
                ("content-type", "application/json; charset=utf-8".to_owned()),
                ("x-zendesk-account-id", "10000001".to_owned()),
                (
                    "x-zendesk-webhook-id",
                    "01EBHOOKSENDTEST000000000".to_owned(),
                ),
                ("x-zendesk-webhook-invocation-id", random_hex(5)?),
                (zendesk::TIMESTAMP_HEADER, now_text.clone()),
                (
                    zendesk::SIGNATURE_HEADER,
                    zendesk::sign(secret, &now_text, &body),
                ),
            ]);
            body
        }
        Provider::Github => {
            let body = serde_json::json!({
                "zen": "Keep it logically awesome.",
                "hook_id": 1,
                "hook": {
                    "type": "Repository",
                    "id": 1,
                    "name": "web",
                    "active": true,
                    "events": ["push"],
                    "config": {"content_type": "json", "insecure_ssl": "0", "url": url},
                },
                "sender": {"login": "ebhook-send-test", "id": 1, "type": "User"},
            })
            .to_string()
            .into_bytes();
            headers.extend([
                ("content-type", "application/json".to_owned()),
                (github::EVENT_HEADER, "ping".to_owned()),
                (github::DELIVERY_HEADER, delivery),
                (github::HOOK_ID_HEADER, "1".to_owned()),
                (github::SIGNATURE_HEADER, github::sign(secret, &body)),
            ]);
            body
        }
        Provider::Twilio => {
            let sid = |prefix: &str| random_hex(16).map(|h| format!("{prefix}{h}"));
            let message = sid("SM")?;
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
                ("AccountSid", sid("AC")?),
                ("From", "+15005550001".into()),
                ("ApiVersion", "2010-04-01".into()),
            ];
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
                .finish()
                .into_bytes();
            let signature = twilio::sign(
                secret,
                url,
                params
                    .iter()
                    .map(|(k, v)| (Cow::Borrowed(*k), Cow::Borrowed(v.as_str()))),
            );
            headers.extend([
                (
                    "content-type",
                    "application/x-www-form-urlencoded".to_owned(),
                ),
                (
                    twilio::IDEMPOTENCY_HEADER,
                    format!("{}-{}", random_hex(8)?, now.unix_timestamp()),
                ),
                (twilio::SIGNATURE_HEADER, signature),
            ]);
            body
        }
    };
    Ok(Sample {
        url: url.to_owned(),
        headers,
        body,
    })
}

pub async fn run(args: SendTestArgs) -> Result<(), Error> {
    let (url, provider, secret) = match (&args.stack_name, &args.url) {
        (Some(stack), _) => from_stack(&args.aws, stack).await?,
        // clap requires --provider with --url, and one of --stack-name and --url.
        (None, url) => {
            let (Some(url), Some(provider)) = (url, args.provider) else {
                return Err(Error::MissingProvider);
            };
            let secret = args
                .secret
                .read()?
                .ok_or(SecretError::NotGiven("--secret-env NAME or --secret-stdin"))?;
            let set = secret_input::secret_set(&secret)?;
            let current = set.current().ok_or(SecretError::NoCurrent)?;
            (url.clone(), provider.into(), current.as_bytes().to_vec())
        }
    };
    let sample = sample(provider, &url, &secret)?;
    drop(secret);
    eprintln!("Sending a signed {provider} sample to {url}");
    let (status, body) = send(&sample).await?;
    println!("HTTP {status}");
    if !body.is_empty() {
        println!("{body}");
    }
    if !(200..300).contains(&status) {
        return Err(Error::Refused { status });
    }
    Ok(())
}

/// URL, provider and current secret of a deployed stack.
async fn from_stack(
    aws_args: &AwsArgs,
    stack_name: &str,
) -> Result<(String, Provider, Vec<u8>), Error> {
    let aws = aws_args.connect().await?;
    let stack = stack::describe(&aws, stack_name)
        .await?
        .ok_or_else(|| no_such_stack(&aws, stack_name))?;
    let url = stack.output(stack::OUTPUT_WEBHOOK_URL)?.to_owned();
    let provider = stack.provider()?;
    let arn = stack.output(stack::OUTPUT_SECRET_ARN)?;
    let set = stored_secret(&aws, stack_name, arn).await?;
    let Some(current) = set.current() else {
        return Err(Error::NoSecretSet {
            stack: stack_name.to_owned(),
            provider,
        });
    };
    Ok((url, provider, current.as_bytes().to_vec()))
}

async fn send(sample: &Sample) -> Result<(u16, String), Error> {
    let invalid = |reason: String| Error::InvalidUrl {
        url: sample.url.clone(),
        reason,
    };
    let uri: hyper::Uri = sample.url.parse().map_err(|e| invalid(format!("{e}")))?;
    match uri.scheme_str() {
        Some("http") => {
            send_with(
                Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
                uri,
                sample,
            )
            .await
        }
        Some("https") => {
            let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let connector = hyper_rustls::HttpsConnectorBuilder::new()
                .with_provider_and_native_roots(provider)
                .map_err(|e| Error::io("loading the system's trusted certificates", e))?
                .https_only()
                .enable_http1()
                .build();
            send_with(
                Client::builder(TokioExecutor::new()).build(connector),
                uri,
                sample,
            )
            .await
        }
        _ => Err(invalid("not http:// or https://".to_owned())),
    }
}

async fn send_with<C>(
    client: Client<C, Full<Bytes>>,
    uri: hyper::Uri,
    sample: &Sample,
) -> Result<(u16, String), Error>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    let mut request = hyper::Request::post(uri);
    for (name, value) in &sample.headers {
        request = request.header(*name, value);
    }
    let request = request
        .body(Full::new(Bytes::from(sample.body.clone())))
        .map_err(|e| Error::Bug(format!("building the request to {}: {e}", sample.url)))?;
    let timeout = || Error::Timeout {
        url: sample.url.clone(),
        after: TIMEOUT,
    };
    let failed = |reason: String| Error::Send {
        url: sample.url.clone(),
        reason,
    };
    let response = tokio::time::timeout(TIMEOUT, client.request(request))
        .await
        .map_err(|_| timeout())?
        .map_err(|e| failed(chain(&e)))?;
    let status = response.status().as_u16();
    let body = tokio::time::timeout(TIMEOUT, response.into_body().collect())
        .await
        .map_err(|_| timeout())?
        .map_err(|e| failed(format!("reading the answer: {}", chain(&e))))?
        .to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebhook_handler::SecretSet;
    use ebhook_handler::verify::{SignedRequest, VerifyOptions, verify};

    #[test]
    fn samples_verify_with_the_handler() {
        for provider in Provider::ALL {
            let s = sample(provider, "http://127.0.0.1:1/hook", b"secret").unwrap();
            let mut headers = http::HeaderMap::new();
            for (k, v) in &s.headers {
                headers.insert(*k, v.parse().unwrap());
            }
            let req = SignedRequest {
                method: "POST",
                base_url: "http://127.0.0.1:1",
                raw_path: "/hook",
                raw_query: "",
                headers: &headers,
                body: &s.body,
            };
            let now = OffsetDateTime::now_utc();
            let options = VerifyOptions::default();
            assert!(
                verify(provider, &req, &SecretSet::single("secret"), &options, now).is_ok(),
                "{provider}"
            );
            assert!(
                verify(provider, &req, &SecretSet::single("other"), &options, now).is_err(),
                "{provider}"
            );
        }
    }
}
