//! A stack and an event bus, read back with the SDK the way the tests compare them.

use std::collections::HashMap;

use aws_sdk_cloudformation::types::Stack;

use super::Moto;
use super::moto::s3_client;

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

/// The outputs of the stack `name` in `moto`, by key.
pub async fn stack_outputs(moto: &Moto, name: &str) -> HashMap<String, String> {
    let conf = moto.sdk_config().await;
    let out = aws_sdk_cloudformation::Client::new(&conf)
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .unwrap();
    outputs(&out.stacks()[0])
}

/// The handler's zips in every bucket of `moto`: (key, size in bytes).
pub async fn artifacts(moto: &Moto) -> Vec<(String, i64)> {
    let conf = moto.sdk_config().await;
    let s3 = s3_client(&conf);
    let mut found = Vec::new();
    for bucket in s3.list_buckets().send().await.unwrap().buckets() {
        let objects = s3
            .list_objects_v2()
            .bucket(bucket.name().unwrap())
            .send()
            .await
            .unwrap();
        found.extend(objects.contents().iter().filter_map(|o| {
            let key = o.key().filter(|k| k.starts_with("ebhook/"))?;
            Some((
                key.to_owned(),
                o.size().expect("S3 lists each object's size"),
            ))
        }));
    }
    found
}
