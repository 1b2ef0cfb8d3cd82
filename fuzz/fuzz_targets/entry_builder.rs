//! See `ebhook_fuzz::entry_builder` for what this target checks.
#![no_main]

use ebhook_fuzz::entry_builder::{Input, check};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: Input| check(&input));
