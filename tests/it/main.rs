//! Integration tests: one test binary (`cargo test --test it`).

#![allow(
    clippy::disallowed_methods,
    reason = "the rule keeps the CLI's children away from its secrets; tests and benchmarks start the programs under test"
)]

mod support;

mod alarms;
mod artifacts_stack;
mod capture;
mod completions;
mod dedupe;
mod dependencies;
mod deploy;
mod deployed_code;
mod dev;
mod emulator;
mod faults;
mod generated_secret;
mod guard;
mod handler;
mod harness_selftest;
mod hostile;
mod init_flows;
mod install;
mod logs;
mod memory;
mod metrics;
mod providers;
mod quick_start;
mod release;
mod replay;
mod rotate;
mod template;
mod upgrade;
