//! See `ebhook_fuzz::function_url_event` for what this target checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ebhook_fuzz::function_url_event::check(data));
