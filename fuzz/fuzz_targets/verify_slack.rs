//! See `ebhook_fuzz::verify_slack` for what this target checks.
#![no_main]

use ebhook_fuzz::verify_slack::{Input, check};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: Input| check(&input));
