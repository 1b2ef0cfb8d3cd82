//! `ebhook send-test`: send a correctly signed sample delivery, signed the way the provider
//! signs (the handler library's own signers), and show the answer. Works against a deployed
//! stack (URL, provider and secret read from it) or any URL, such as `ebhook dev`.

use std::time::Duration;

use clap::Args;
use ebhook_handler::Provider;
use ebhook_handler::providers::Sample;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::TokioExecutor;
use time::OffsetDateTime;

use crate::cli::{ProviderArg, SchemeArgs};
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
    /// How a generic provider signs (with --url; a stack's own is read from the stack).
    #[command(flatten)]
    pub scheme: SchemeArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// A signed sample delivery for `provider` to `url`, as the provider would send it now.
pub fn sample(provider: Provider, url: &str, secret: &[u8]) -> Result<Sample, Error> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(Error::Random)?;
    let mut sample = provider.sample(url, secret, OffsetDateTime::now_utc(), random);
    sample.headers.push((
        "user-agent",
        format!("ebhook-send-test/{}", env!("CARGO_PKG_VERSION")),
    ));
    Ok(sample)
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
            let provider = Provider::from(provider)
                .configure(args.scheme.description().as_deref())
                .map_err(|e| Error::from(stack::OptionError::Scheme(e)))?;
            (url.clone(), provider, current.as_bytes().to_vec())
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
    let scheme = stack
        .parameters
        .get(stack::PARAM_PROVIDER_SCHEME)
        .filter(|s| !s.is_empty());
    let provider = stack
        .provider()?
        .configure(scheme.map(String::as_str))
        .map_err(|e| Error::from(stack::OptionError::Scheme(e)))?;
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
            let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
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
    let mut request = hyper::Request::builder().method(sample.method).uri(uri);
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
    use ebhook_handler::verify::{SignedRequest, VerifyOptions};

    #[test]
    fn samples_verify_with_the_handler() {
        // Text for the HMAC keys, base64 after `whsec_` where the key is decoded.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        for provider in Provider::all() {
            let s = sample(provider, "http://127.0.0.1:1/hook", secret.as_bytes()).unwrap();
            let mut headers = http::HeaderMap::new();
            for (k, v) in &s.headers {
                headers.insert(*k, v.parse().unwrap());
            }
            let url: http::Uri = s.url.parse().unwrap();
            let req = SignedRequest {
                method: s.method,
                base_url: "http://127.0.0.1:1",
                raw_path: url.path(),
                raw_query: url.query().unwrap_or(""),
                headers: &headers,
                body: &s.body,
            };
            let now = OffsetDateTime::now_utc();
            let options = VerifyOptions::default();
            assert!(
                provider
                    .verify(&req, &SecretSet::single(secret), &options, now)
                    .is_ok(),
                "{provider}"
            );
            assert!(
                provider
                    .verify(&req, &SecretSet::single("other"), &options, now)
                    .is_err(),
                "{provider}"
            );
        }
    }
}
