//! The AWS SDK configuration inside Lambda, from the environment Lambda sets and nothing else.
//!
//! Why not `aws_config::defaults().load()`: its default chains also read profile files and
//! know web identity, SSO, ECS and IMDS, with an STS client for assume-role. None of that can
//! apply to a Lambda function, whose role credentials, region and (in tests) endpoints are
//! environment variables; leaving the chains out keeps them out of the zip (BENCHMARKS.md).
//! The CLI, which runs on users' machines, keeps the full defaults.

use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_runtime::env_config::EnvConfigValue;
use aws_smithy_async::rt::sleep::default_async_sleep;
use aws_smithy_async::time::SharedTimeSource;
use aws_types::os_shim_internal::Env;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SdkSetupError {
    #[error(
        "AWS_REGION is not set: Lambda sets it; to run the bootstrap elsewhere, set AWS_REGION (or use `ebhook dev`)"
    )]
    NoRegion,
    #[error(
        "AWS_ACCESS_KEY_ID is not set: Lambda sets the role's credentials in the environment; to run the bootstrap elsewhere, set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (for temporary credentials) AWS_SESSION_TOKEN"
    )]
    NoCredentials,
}

/// The region Lambda runs the function in: `AWS_REGION`, else `AWS_DEFAULT_REGION`.
pub fn region(env: &Env) -> Result<Region, SdkSetupError> {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .filter_map(|name| env.get(name).ok())
        .find(|v| !v.trim().is_empty())
        .map(|v| Region::new(v.trim().to_owned()))
        .ok_or(SdkSetupError::NoRegion)
}

/// The SDK configuration for the handler's clients.
pub fn lambda_sdk_config(
    http_client: aws_smithy_runtime_api::client::http::SharedHttpClient,
) -> Result<SdkConfig, SdkSetupError> {
    let env = Env::real();
    let region = region(&env)?;
    if env.get("AWS_ACCESS_KEY_ID").is_err() {
        return Err(SdkSetupError::NoCredentials);
    }
    let credentials = EnvironmentVariableCredentialsProvider::new();
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region)
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .identity_cache(IdentityCache::lazy().build())
        .http_client(http_client)
        .time_source(SharedTimeSource::default())
        .retry_config(RetryConfig::standard())
        .service_config(EnvOnly { env });
    // Tokio's sleep (the `rt-tokio` feature), for retries and timeouts.
    builder.set_sleep_impl(default_async_sleep());
    Ok(builder.build())
}

/// Service settings from environment variables only, e.g. `AWS_ENDPOINT_URL_EVENTBRIDGE`,
/// then `AWS_ENDPOINT_URL`: the SDK's own lookup, without profile files.
#[derive(Debug)]
struct EnvOnly {
    env: Env,
}

impl LoadServiceConfig for EnvOnly {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        let (value, _source) = EnvConfigValue::new()
            .env(key.env())
            .service_id(key.service_id())
            .load(&self.env, None)?;
        Some(value.into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key<'a>(service_id: &'a str) -> ServiceConfigKey<'a> {
        ServiceConfigKey::builder()
            .service_id(service_id)
            .env("AWS_ENDPOINT_URL")
            .profile("endpoint_url")
            .build()
            .unwrap()
    }

    #[test]
    fn a_service_endpoint_wins_over_the_general_one() {
        let config = EnvOnly {
            env: Env::from_slice(&[
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
                ("AWS_ENDPOINT_URL_EVENTBRIDGE", "http://127.0.0.1:2"),
                ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:3"),
            ]),
        };
        assert_eq!(
            config.load_config(key("EventBridge")).as_deref(),
            Some("http://127.0.0.1:2")
        );
        assert_eq!(
            config.load_config(key("Secrets Manager")).as_deref(),
            Some("http://127.0.0.1:3")
        );
        assert_eq!(
            config.load_config(key("SQS")).as_deref(),
            Some("http://127.0.0.1:1")
        );
        let none = EnvOnly {
            env: Env::from_slice(&[]),
        };
        assert_eq!(none.load_config(key("SQS")), None);
    }

    #[test]
    fn region_comes_from_aws_region_then_the_default() {
        let env = Env::from_slice(&[("AWS_REGION", "eu-west-1"), ("AWS_DEFAULT_REGION", "x")]);
        assert_eq!(region(&env).unwrap().as_ref(), "eu-west-1");
        let env = Env::from_slice(&[("AWS_DEFAULT_REGION", "us-east-2")]);
        assert_eq!(region(&env).unwrap().as_ref(), "us-east-2");
        let env = Env::from_slice(&[("AWS_REGION", " ")]);
        assert_eq!(region(&env), Err(SdkSetupError::NoRegion));
    }
}
