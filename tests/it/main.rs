//! Integration tests: one test binary (`cargo test --test it`).

mod support;

mod harness_selftest;
