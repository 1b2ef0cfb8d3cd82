//! Integration tests: one test binary (`cargo test --test it`).

mod support;

mod capture;
mod dedupe;
mod deploy;
mod dev;
mod emulator;
mod faults;
mod handler;
mod harness_selftest;
mod hostile;
mod init_flows;
mod memory;
mod providers;
mod replay;
mod rotate;
mod template;
mod upgrade;
