//! Structured JSON logs on stdout, which Lambda sends to CloudWatch. Level from `EBHOOK_LOG`
//! (error, warn, info, debug, trace; default info).

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
