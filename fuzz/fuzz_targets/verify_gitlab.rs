//! See `ebhook_fuzz::verify_gitlab` for what this target checks.
#![no_main]

use ebhook_fuzz::verify_gitlab::{Input, check};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: Input| check(&input));
