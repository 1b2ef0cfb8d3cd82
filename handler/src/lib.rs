//! ebhook's webhook handler: verifies a provider's signature exactly as the provider signs and
//! turns the delivery into EventBridge entries. Pure logic ([`providers`], [`verify`], [`event`], [`metrics`],
//! [`request`], [`config`], [`secrets`]) is apart from I/O ([`secret_store`], [`forward`], [`handler`]), so it
//! is tested without a network; the CLI reuses the signing code.

pub mod capture;
pub mod config;
pub mod dead_letter;
#[cfg(feature = "dedupe")]
pub mod dedupe;
pub mod event;
pub mod forward;
pub mod handler;
pub mod local;
pub mod logging;
pub mod metrics;
pub mod providers;
pub mod request;
pub mod runtime;
pub mod sdk;
pub mod secret_store;
pub mod secrets;
pub mod verify;

pub use providers::Provider;
pub use secrets::{Secret, SecretSet, SecretSlot};

/// The HTTPS client for AWS calls: rustls with ring, so the binary carries one small TLS stack.
pub fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}
