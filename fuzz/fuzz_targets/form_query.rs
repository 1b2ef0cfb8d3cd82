//! See `ebhook_fuzz::form_query` for what this target checks.
#![no_main]

use ebhook_fuzz::form_query::{Input, check};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: Input| check(&input));
