//! How a deployed stack is doing (`ebhook status`): its deliveries by outcome over the last
//! day, from the handler's metrics, and its alarms' states.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use ebhook_handler::metrics::{
    DIMENSION_OUTCOME, DIMENSION_PROVIDER, DIMENSION_STACK, METRIC_DELIVERIES, NAMESPACE, Outcome,
};

use crate::aws::{Aws, AwsError, aws_error};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Deliveries per outcome in the last 24 hours, every outcome listed (0 when none).
pub async fn deliveries_last_day(
    aws: &Aws,
    stack: &str,
    provider: &str,
) -> Result<Vec<(Outcome, u64)>, AwsError> {
    let end = SystemTime::now();
    let start = end.checked_sub(DAY).unwrap_or(SystemTime::UNIX_EPOCH);
    let queries = Outcome::ALL
        .iter()
        .enumerate()
        .map(|(i, outcome)| query(i, stack, provider, *outcome))
        .collect::<Vec<_>>();
    let mut sums: BTreeMap<String, f64> = BTreeMap::new();
    let mut token = None;
    loop {
        let page = aws
            .cloudwatch
            .get_metric_data()
            .set_metric_data_queries(Some(queries.clone()))
            .start_time(start.into())
            .end_time(end.into())
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| aws_error("reading the handler's delivery metrics", &e))?;
        for result in page.metric_data_results() {
            let id = result.id().unwrap_or_default().to_owned();
            *sums.entry(id).or_default() += result.values().iter().sum::<f64>();
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    Ok(Outcome::ALL
        .iter()
        .enumerate()
        .map(|(i, outcome)| {
            let sum = sums.get(&query_id(i)).copied().unwrap_or(0.0);
            // Counts of 1 per delivery: a sum is a whole number.
            (*outcome, sum.round().max(0.0) as u64)
        })
        .collect())
}

fn query_id(i: usize) -> String {
    format!("outcome{i}")
}

fn query(i: usize, stack: &str, provider: &str, outcome: Outcome) -> MetricDataQuery {
    let dimension = |name: &str, value: &str| Dimension::builder().name(name).value(value).build();
    let metric = Metric::builder()
        .namespace(NAMESPACE)
        .metric_name(METRIC_DELIVERIES)
        .dimensions(dimension(DIMENSION_STACK, stack))
        .dimensions(dimension(DIMENSION_PROVIDER, provider))
        .dimensions(dimension(DIMENSION_OUTCOME, outcome.as_str()))
        .build();
    let stat = MetricStat::builder()
        .metric(metric)
        .period(DAY.as_secs() as i32)
        .stat("Sum")
        .build();
    MetricDataQuery::builder()
        .id(query_id(i))
        .metric_stat(stat)
        .return_data(true)
        .build()
}

/// `12 accepted, 3 rejected_signature`, or `none`.
pub fn describe_counts(counts: &[(Outcome, u64)]) -> String {
    let seen: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(o, n)| format!("{n} {}", o.as_str()))
        .collect();
    if seen.is_empty() {
        "none".to_owned()
    } else {
        seen.join(", ")
    }
}

/// One alarm and its state (`OK`, `ALARM`, `INSUFFICIENT_DATA`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alarm {
    pub name: String,
    pub state: String,
    pub reason: Option<String>,
}

/// The alarms named in the stack's output (comma-separated), with their states.
pub async fn alarms(aws: &Aws, names: &str) -> Result<Vec<Alarm>, AwsError> {
    let names: Vec<String> = names
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    let mut found = Vec::new();
    // DescribeAlarms takes at most 100 names a call.
    for chunk in names.chunks(100) {
        let page = aws
            .cloudwatch
            .describe_alarms()
            .set_alarm_names(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| aws_error("reading the stack's alarms", &e))?;
        for alarm in page.metric_alarms() {
            found.push(Alarm {
                name: alarm.alarm_name().unwrap_or_default().to_owned(),
                state: alarm
                    .state_value()
                    .map_or_else(|| "UNKNOWN".to_owned(), |s| s.as_str().to_owned()),
                reason: alarm.state_reason().map(str::to_owned),
            });
        }
    }
    // An alarm the stack names but CloudWatch does not know is worth showing too.
    for name in names {
        if !found.iter().any(|a| a.name == name) {
            found.push(Alarm {
                name,
                state: "MISSING".to_owned(),
                reason: None,
            });
        }
    }
    Ok(found)
}

/// `4 OK` or `3 OK, 1 ALARM: orders-DeadLetterWaiting`.
pub fn describe_alarms(alarms: &[Alarm]) -> String {
    let mut by_state: BTreeMap<&str, usize> = BTreeMap::new();
    for alarm in alarms {
        *by_state.entry(alarm.state.as_str()).or_default() += 1;
    }
    let counts: Vec<String> = by_state.iter().map(|(s, n)| format!("{n} {s}")).collect();
    let firing: Vec<&str> = alarms
        .iter()
        .filter(|a| a.state == "ALARM" || a.state == "MISSING")
        .map(|a| a.name.as_str())
        .collect();
    if firing.is_empty() {
        counts.join(", ")
    } else {
        format!("{}: {}", counts.join(", "), firing.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_one_line() {
        let mut counts: Vec<(Outcome, u64)> = Outcome::ALL.iter().map(|o| (*o, 0)).collect();
        assert_eq!(describe_counts(&counts), "none");
        counts[0].1 = 12;
        counts[5].1 = 3;
        assert_eq!(
            describe_counts(&counts),
            "12 accepted, 3 rejected_signature"
        );
    }

    #[test]
    fn firing_alarms_are_named() {
        let alarm = |name: &str, state: &str| Alarm {
            name: name.into(),
            state: state.into(),
            reason: None,
        };
        assert_eq!(
            describe_alarms(&[alarm("a", "OK"), alarm("b", "OK")]),
            "2 OK"
        );
        assert_eq!(
            describe_alarms(&[alarm("s-DeadLetterWaiting", "ALARM"), alarm("b", "OK")]),
            "1 ALARM, 1 OK: s-DeadLetterWaiting"
        );
    }
}
