//! Integration tests: one test binary (`cargo test --test it`).

mod support;

mod deploy;
mod dev;
mod emulator;
mod handler;
mod harness_selftest;
mod hostile;
mod init_flows;
mod rotate;
mod template;
