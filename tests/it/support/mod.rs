//! Support library for the integration tests: a moto server (AWS emulator),
//! a Lambda Runtime API emulator and the handler binary run as Lambda runs it.
#![allow(dead_code)]

pub mod boto;
pub mod bus_fixture;
pub mod cli;
pub mod function_url;
pub mod moto;
pub mod process;
pub mod resolve;
pub mod runtime_api;
pub mod sdk;
pub mod stack;
pub mod stand_in;

pub use moto::Moto;
pub use process::Bootstrap;
pub use runtime_api::{InvocationError, RuntimeApi};

use std::path::Path;

/// The workspace root (this package's manifest directory).
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}
