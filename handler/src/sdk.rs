//! The AWS SDK configuration inside Lambda, from the environment Lambda sets and nothing else.
//!
//! Why not `aws_config::defaults().load()`: its default chains also read profile files and
//! know web identity, SSO, ECS and IMDS, with an STS client for assume-role. None of that can
//! apply to a Lambda function, whose role credentials, region and (in tests) endpoints are
//! environment variables; leaving the chains out keeps them out of the zip (BENCHMARKS.md).
//! The CLI, which runs on users' machines, keeps the full defaults.
//!
//! Read from the environment, as the default loader reads them: `AWS_REGION` (else
//! `AWS_DEFAULT_REGION`), `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
//! `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_USE_FIPS_ENDPOINT`,
//! `AWS_USE_DUALSTACK_ENDPOINT`. Not read: `AWS_MAX_ATTEMPTS` and `AWS_RETRY_MODE` (each client
//! sets its own retries and budget), `AWS_SDK_UA_APP_ID`, `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`
//! and the S3 checksum settings.

use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::environment::region::EnvironmentVariableRegionProvider;
use aws_config::identity::IdentityCache;
use aws_config::meta::region::ProvideRegion;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
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
        "no AWS credentials in the environment ({0}): Lambda sets the role's credentials there; to run the bootstrap elsewhere, set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (for temporary credentials) AWS_SESSION_TOKEN"
    )]
    NoCredentials(String),
    #[error("{name} is {value:?}: set it to true or false, or leave it unset")]
    NotABoolean { name: &'static str, value: String },
}

/// `true` or `false` in any case, as the SDK reads its boolean settings.
fn flag(env: &Env, name: &'static str) -> Result<Option<bool>, SdkSetupError> {
    let Ok(value) = env.get(name) else {
        return Ok(None);
    };
    if value.eq_ignore_ascii_case("true") {
        Ok(Some(true))
    } else if value.eq_ignore_ascii_case("false") {
        Ok(Some(false))
    } else {
        Err(SdkSetupError::NotABoolean { name, value })
    }
}

/// The SDK configuration for the handler's clients. The credentials are read once here, so a
/// function without them says so at start rather than on its first AWS call.
pub async fn lambda_sdk_config(
    http_client: aws_smithy_runtime_api::client::http::SharedHttpClient,
) -> Result<SdkConfig, SdkSetupError> {
    let env = Env::real();
    let region = EnvironmentVariableRegionProvider::new()
        .region()
        .await
        .ok_or(SdkSetupError::NoRegion)?;
    let credentials = EnvironmentVariableCredentialsProvider::new();
    credentials
        .provide_credentials()
        .await
        .map_err(|e| SdkSetupError::NoCredentials(e.to_string()))?;
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region)
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .identity_cache(IdentityCache::lazy().build())
        .http_client(http_client)
        .time_source(SharedTimeSource::default())
        .retry_config(RetryConfig::standard());
    builder.set_use_fips(flag(&env, "AWS_USE_FIPS_ENDPOINT")?);
    builder.set_use_dual_stack(flag(&env, "AWS_USE_DUALSTACK_ENDPOINT")?);
    // Tokio's sleep (the `rt-tokio` feature), for retries and timeouts.
    builder.set_sleep_impl(default_async_sleep());
    Ok(builder.service_config(EnvOnly { env }).build())
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
    fn flags_are_true_or_false_in_any_case() {
        let env = Env::from_slice(&[("A", "TRUE"), ("B", "false"), ("C", "yes")]);
        assert_eq!(flag(&env, "A"), Ok(Some(true)));
        assert_eq!(flag(&env, "B"), Ok(Some(false)));
        assert_eq!(flag(&env, "D"), Ok(None));
        assert_eq!(
            flag(&env, "C"),
            Err(SdkSetupError::NotABoolean {
                name: "C",
                value: "yes".into()
            })
        );
    }
}
