//! `ebhook logs`: one line per delivery from the function's log group; `--follow` keeps
//! tailing until Ctrl-C.

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
use clap::Args;

use crate::aws::{Aws, aws_error};
use crate::commands::common::{AwsArgs, OutputFormat, no_such_stack};
use crate::delivery_log::{self, Delivery, Filter};
use crate::error::Error;
use crate::stack;

/// How often `--follow` asks for new lines: CloudWatch Logs shows a line a few seconds after
/// Lambda writes it, so asking more often finds nothing more.
const FOLLOW_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The stack `ebhook init` created.
    #[arg(long)]
    pub stack_name: String,
    /// How far back to start: a duration (`30m`, `1h`, `2d`) or a time (`2026-12-03T12:00:00Z`).
    #[arg(long, default_value = "1h", value_parser = parse_since)]
    pub since: Since,
    /// Keep printing new deliveries until Ctrl-C.
    #[arg(long)]
    pub follow: bool,
    /// Only deliveries with this outcome (`rejected` for every refusal).
    #[arg(long, value_parser = delivery_log::parse_outcome)]
    pub outcome: Option<String>,
    /// Only the delivery with this provider delivery id (e.g. GitHub's X-GitHub-Delivery).
    #[arg(long = "delivery", value_parser = delivery_log::parse_delivery_id)]
    pub delivery_id: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// `json` prints one JSON object per delivery and line.
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// `--since`: a time, or how long ago.
#[derive(Clone, Debug)]
pub enum Since {
    Ago(Duration),
    At(time::OffsetDateTime),
}

fn parse_since(value: &str) -> Result<Since, String> {
    if let Ok(at) =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
    {
        return Ok(Since::At(at));
    }
    humantime::parse_duration(value)
        .map(Since::Ago)
        .map_err(|e| format!("{e}: give a duration such as 30m, 1h or 2d, or an RFC 3339 time"))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Since {
    fn start_ms(&self, now_ms: i64) -> i64 {
        match self {
            Self::Ago(d) => now_ms.saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            Self::At(t) => i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0),
        }
    }
}

/// One log event that is a delivery.
struct Found {
    id: String,
    at_ms: i64,
    delivery: Delivery,
}

pub async fn run(args: LogsArgs) -> Result<(), Error> {
    let aws = args.aws.connect().await?;
    let stack = stack::describe(&aws, &args.stack_name)
        .await?
        .ok_or_else(|| no_such_stack(&aws, &args.stack_name))?;
    let function = stack.output(stack::OUTPUT_FUNCTION_NAME)?.to_owned();
    let group = format!("/aws/lambda/{function}");
    let filter = Filter {
        outcome: args.outcome.clone(),
        delivery_id: args.delivery_id.clone(),
    };
    let mut since = args.since.start_ms(now_ms());
    if args.output == OutputFormat::Text {
        eprintln!(
            "Deliveries in {group} since {}{}",
            delivery_log::format_ms(since),
            if args.follow { " (Ctrl-C stops)" } else { "" }
        );
        eprintln!("{}", delivery_log::heading());
    }
    // Events already printed at the newest time seen: the next query starts at that time
    // again, since later events of the same millisecond may not have arrived yet.
    let mut printed_at_newest: HashSet<String> = HashSet::new();
    let mut shown = 0usize;
    loop {
        let found = read(&aws, &group, &filter, since).await?;
        for f in found {
            if f.at_ms == since && printed_at_newest.contains(&f.id) {
                continue;
            }
            if f.at_ms > since {
                since = f.at_ms;
                printed_at_newest.clear();
            }
            printed_at_newest.insert(f.id);
            if !filter.matches(&f.delivery) {
                continue;
            }
            shown += 1;
            match args.output {
                OutputFormat::Text => println!("{}", f.delivery.text(f.at_ms)),
                OutputFormat::Json => println!("{}", f.delivery.json(f.at_ms)),
            }
        }
        if !args.follow {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(FOLLOW_EVERY) => {}
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    if shown == 0 && args.output == OutputFormat::Text && !args.follow {
        eprintln!(
            "No deliveries{} in that time. Widen --since, or send one with `ebhook send-test \
             --stack-name {}`.",
            if filter == Filter::default() {
                ""
            } else {
                " matching the filter"
            },
            args.stack_name
        );
    }
    Ok(())
}

/// Every delivery line in `group` from `since_ms` on, oldest first, all pages. A log group
/// that does not exist yet (the function never ran) has none.
async fn read(aws: &Aws, group: &str, filter: &Filter, since_ms: i64) -> Result<Vec<Found>, Error> {
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = aws
            .logs
            .filter_log_events()
            .log_group_name(group)
            .start_time(since_ms)
            .filter_pattern(filter.pattern())
            .set_next_token(token.take())
            .send()
            .await;
        let page = match page {
            Ok(page) => page,
            Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(found),
            Err(e) => return Err(aws_error(&format!("reading log group {group}"), &e).into()),
        };
        for event in page.events() {
            let (Some(message), Some(at_ms)) = (event.message(), event.timestamp()) else {
                continue;
            };
            if let Some(delivery) = Delivery::parse(message) {
                found.push(Found {
                    id: event.event_id().unwrap_or_default().to_owned(),
                    at_ms,
                    delivery,
                });
            }
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    found.sort_by_key(|f| f.at_ms);
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_duration_or_a_time() {
        let now = 1_796_299_200_000;
        assert_eq!(parse_since("1h").unwrap().start_ms(now), now - 3_600_000);
        assert_eq!(
            parse_since("2026-12-03T12:00:00Z").unwrap().start_ms(now),
            1_796_299_200_000
        );
        assert!(parse_since("yesterday").unwrap_err().contains("30m"));
    }
}
