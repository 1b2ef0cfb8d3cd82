//! Structured JSON logs on stdout, which Lambda sends to CloudWatch. Level from `EBHOOK_LOG`
//! (error, warn, info, debug, trace; default info). Metric lines ([`crate::metrics`]) are
//! written whatever the level: CloudWatch's metrics come from them.

use std::io::Write;

use tracing_subscriber::filter::LevelFilter;

pub fn init() {
    let level = std::env::var("EBHOOK_LOG")
        .ok()
        .and_then(|v| v.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_max_level(level)
        .with_writer(std::io::stdout)
        .init();
}

/// Write one line (a [`crate::metrics`] document) to stdout, where Lambda ships it to CloudWatch
/// Logs and its embedded metrics are extracted. One `write_all` of the whole line, newline
/// included, holds stdout's lock throughout, so the line never interleaves with a tracing line;
/// stdout's line buffering sends it on at the newline.
pub fn write_line(mut line: String) {
    line.push('\n');
    // A closed stdout leaves nowhere to report the failure; the delivery itself is unaffected.
    let _ = std::io::stdout().write_all(line.as_bytes());
}
