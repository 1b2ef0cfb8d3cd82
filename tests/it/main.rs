//! Integration tests: one test binary (`cargo test --test it`).

mod support;

mod handler;
mod harness_selftest;
