//! A stack and an event bus, read back with the SDK the way the tests compare them.

use std::collections::HashMap;

use aws_sdk_cloudformation::types::Stack;

/// The stack's outputs, by key.
pub fn outputs(stack: &Stack) -> HashMap<String, String> {
    stack
        .outputs()
        .iter()
        .map(|o| {
            (
                o.output_key().expect("key").to_owned(),
                o.output_value().expect("value").to_owned(),
            )
        })
        .collect()
}

/// The stack's parameters as DescribeStacks shows them, by key.
pub fn parameters(stack: &Stack) -> HashMap<String, String> {
    stack
        .parameters()
        .iter()
        .map(|p| {
            (
                p.parameter_key().expect("key").to_owned(),
                p.parameter_value().expect("value").to_owned(),
            )
        })
        .collect()
}

/// The names of the rules on a bus.
pub async fn bus_rules(events: &aws_sdk_eventbridge::Client, bus: &str) -> Vec<String> {
    events
        .list_rules()
        .event_bus_name(bus)
        .send()
        .await
        .expect("ListRules")
        .rules()
        .iter()
        .filter_map(|r| r.name().map(str::to_owned))
        .collect()
}

/// A bus's ARN.
pub async fn bus_arn(events: &aws_sdk_eventbridge::Client, bus: &str) -> String {
    events
        .describe_event_bus()
        .name(bus)
        .send()
        .await
        .expect("DescribeEventBus")
        .arn()
        .expect("an ARN")
        .to_owned()
}
