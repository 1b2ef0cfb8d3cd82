//! ebhook's webhook handler: verifies a provider's signature exactly as the provider signs and
//! turns the delivery into EventBridge entries. Everything here but [`forward`], [`secret_store`]
//! and [`handler`] is pure, so it is tested without a network; the CLI reuses the signing code.

pub mod config;
pub mod event;
pub mod provider;
pub mod request;
pub mod secrets;
pub mod verify;

pub use provider::Provider;
pub use secrets::{Secret, SecretSet, SecretSlot};
