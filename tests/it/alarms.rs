//! The stack's alarms, their notifications and its dashboard (`init --alarm-email`,
//! `--alarm-topic`), read back from moto; and the handler's EMF log lines becoming the metrics
//! the alarms watch.

use std::collections::BTreeSet;

use ebhook_handler::metrics::{DeliveryLine, Outcome, PutStats};
use serde_json::{Value, json};

use crate::support::Moto;
use crate::support::boto::call;
use crate::support::cli::{ebhook, init_args};
use crate::support::moto::unique;
use crate::support::stack::stack_outputs;

/// The alarms' names after the stack's, in the order of the AlarmNames output.
const PURPOSES: [&str; 6] = [
    "DeadLetterWaiting",
    "UnreplayableWaiting",
    "RejectedSignatures",
    "FunctionErrors",
    "FunctionThrottles",
    "PutEventsFailing",
];

/// (type, physical id) of every resource of the stack.
async fn stack_resources(moto: &Moto, stack: &str) -> BTreeSet<(String, String)> {
    let conf = moto.sdk_config().await;
    let out = aws_sdk_cloudformation::Client::new(&conf)
        .list_stack_resources()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    out.stack_resource_summaries()
        .iter()
        .map(|r| {
            (
                r.resource_type().unwrap_or_default().to_owned(),
                r.physical_resource_id().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn of_type(resources: &BTreeSet<(String, String)>, kind: &str) -> Vec<String> {
    resources
        .iter()
        .filter(|(t, _)| t == kind)
        .map(|(_, id)| id.clone())
        .collect()
}

fn alarm_names(stack: &str) -> Vec<String> {
    PURPOSES.iter().map(|p| format!("{stack}-{p}")).collect()
}

/// The stack's alarms as DescribeAlarms gives them, in [`PURPOSES`] order.
fn alarms(moto: &Moto, stack: &str) -> Vec<Value> {
    let names = alarm_names(stack);
    let described = call(
        moto,
        "cloudwatch",
        "describe_alarms",
        json!({"AlarmNames": names}),
    );
    let found = described["MetricAlarms"].as_array().unwrap();
    names
        .iter()
        .map(|name| {
            found
                .iter()
                .find(|a| a["AlarmName"] == name.as_str())
                .unwrap_or_else(|| panic!("no alarm {name} in {described}"))
                .clone()
        })
        .collect()
}

fn dimensions(alarm: &Value) -> Vec<(String, String)> {
    alarm["Dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["Name"].as_str().unwrap().to_owned(),
                d["Value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Every alarm watches what it should, and notifies `topic` (or nobody).
fn check_alarms(moto: &Moto, stack: &str, function: &str, topic: Option<&str>) {
    let alarms = alarms(moto, stack);
    let expected_actions = json!(topic.into_iter().collect::<Vec<_>>());
    for alarm in &alarms {
        let name = alarm["AlarmName"].as_str().unwrap();
        assert_eq!(alarm["AlarmActions"], expected_actions, "{name}");
        assert_eq!(alarm["OKActions"], expected_actions, "{name}");
        assert_eq!(alarm["TreatMissingData"], "notBreaching", "{name}");
        assert_eq!(
            alarm["ComparisonOperator"], "GreaterThanThreshold",
            "{name}"
        );
        assert!(
            alarm["AlarmDescription"].as_str().unwrap().len() > 80,
            "{name} says why it fires and what to do: {alarm}"
        );
        assert!(
            !alarm["AlarmDescription"].as_str().unwrap().contains("${"),
            "{name}: {alarm}"
        );
    }
    let metric = |a: &Value| {
        (
            a["Namespace"].as_str().unwrap().to_owned(),
            a["MetricName"].as_str().unwrap().to_owned(),
            a["Statistic"].as_str().unwrap().to_owned(),
            a["Threshold"].as_f64().unwrap(),
        )
    };
    let by_stack = vec![
        ("Stack".to_owned(), stack.to_owned()),
        ("Provider".to_owned(), "github".to_owned()),
    ];
    let [dead, unreplayable, rejected, errors, throttles, put] = &alarms[..] else {
        panic!("six alarms");
    };
    for queue in [dead, unreplayable] {
        assert_eq!(
            metric(queue),
            (
                "AWS/SQS".into(),
                "ApproximateNumberOfMessagesVisible".into(),
                "Maximum".into(),
                0.0
            )
        );
        assert_eq!(dimensions(queue)[0].0, "QueueName");
    }
    assert_ne!(dimensions(dead), dimensions(unreplayable));
    assert_eq!(
        metric(rejected),
        ("ebhook".into(), "Deliveries".into(), "Sum".into(), 10.0)
    );
    let mut with_outcome = by_stack.clone();
    with_outcome.push(("Outcome".into(), "rejected_signature".into()));
    assert_eq!(dimensions(rejected), with_outcome);
    assert_eq!(rejected["Period"], 300);
    assert_eq!(
        metric(errors),
        ("AWS/Lambda".into(), "Errors".into(), "Sum".into(), 0.0)
    );
    assert_eq!(
        metric(throttles),
        ("AWS/Lambda".into(), "Throttles".into(), "Sum".into(), 0.0)
    );
    for lambda in [errors, throttles] {
        assert_eq!(
            dimensions(lambda),
            [("FunctionName".to_owned(), function.to_owned())]
        );
    }
    assert_eq!(
        metric(put),
        ("ebhook".into(), "PutEventsFailed".into(), "Sum".into(), 0.0)
    );
    assert_eq!(dimensions(put), by_stack);
}

fn subscribed(moto: &Moto, topic: &str) -> BTreeSet<String> {
    call(
        moto,
        "sns",
        "list_subscriptions_by_topic",
        json!({"TopicArn": topic}),
    )["Subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["Protocol"], "email", "{s}");
            s["Endpoint"].as_str().unwrap().to_owned()
        })
        .collect()
}

fn teardown(moto: &Moto, stack: &str) {
    ebhook(
        moto,
        &["teardown", "--stack-name", stack, "--yes"],
        &[],
        None,
    )
    .assert_ok();
    let left = call(
        moto,
        "cloudwatch",
        "describe_alarms",
        json!({"AlarmNamePrefix": format!("{stack}-")}),
    );
    assert_eq!(left["MetricAlarms"], json!([]), "alarms left: {left}");
    let dashboards = call(
        moto,
        "cloudwatch",
        "list_dashboards",
        json!({"DashboardNamePrefix": stack}),
    );
    assert_eq!(
        dashboards["DashboardEntries"],
        json!([]),
        "dashboard left: {dashboards}"
    );
}

/// `init --alarm-email a --alarm-email b`: an encrypted topic with both subscribed, every alarm
/// notifying it, the dashboard and the outputs; then `init` again without them removes the
/// subscriptions and the topic, and the alarms stay, notifying nobody.
#[tokio::test]
async fn alarm_emails_get_an_encrypted_topic_and_a_rerun_without_them_removes_it() {
    let moto = Moto::start();
    let stack = "it-alarm-emails";
    let out = ebhook(
        &moto,
        &init_args(
            stack,
            &[
                "--alarm-email",
                "a@example.com",
                "--alarm-email",
                "b@example.com",
            ],
        ),
        &[],
        None,
    );
    out.assert_ok();
    assert!(
        out.stderr.contains("link to confirm"),
        "init says the addresses must confirm:\n{}",
        out.stderr
    );
    let json = out.json();
    let function = json["function"].as_str().unwrap().to_owned();
    assert_eq!(json["alarmNames"], json!(alarm_names(stack)));

    let outputs = stack_outputs(&moto, stack).await;
    let topic = outputs["AlarmTopicArn"].clone();
    assert_eq!(json["alarmTopicArn"], topic.as_str());
    assert!(topic.ends_with(&format!(":{stack}-alarms")), "{topic}");
    assert_eq!(outputs["AlarmNames"], alarm_names(stack).join(","));
    assert_eq!(
        outputs["DashboardUrl"],
        format!(
            "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/{stack}"
        )
    );
    assert_eq!(json["dashboardUrl"], outputs["DashboardUrl"]);

    // Encrypted with the stack's own key for the topic (no compliance key here).
    let resources = stack_resources(&moto, stack).await;
    assert_eq!(of_type(&resources, "AWS::SNS::Topic"), [topic.as_str()]);
    let keys = of_type(&resources, "AWS::KMS::Key");
    assert_eq!(keys.len(), 1, "{resources:?}");
    let attributes = call(
        &moto,
        "sns",
        "get_topic_attributes",
        json!({"TopicArn": topic}),
    );
    let key = attributes["Attributes"]["KmsMasterKeyId"]
        .as_str()
        .unwrap_or_else(|| panic!("topic not encrypted: {attributes}"));
    assert!(
        key.starts_with("arn:aws:kms:") && key.ends_with(&keys[0]),
        "{key} is not {keys:?}"
    );
    assert_eq!(
        subscribed(&moto, &topic),
        ["a@example.com", "b@example.com"].map(str::to_owned).into()
    );
    assert_eq!(
        of_type(&resources, "AWS::SNS::Subscription").len(),
        2,
        "{resources:?}"
    );
    // Alarms by name in ListStackResources, as `ebhook status` and people look for them.
    assert_eq!(
        of_type(&resources, "AWS::CloudWatch::Alarm")
            .into_iter()
            .collect::<BTreeSet<_>>(),
        alarm_names(stack).into_iter().collect()
    );
    check_alarms(&moto, stack, &function, Some(&topic));

    let dashboard = call(
        &moto,
        "cloudwatch",
        "get_dashboard",
        json!({"DashboardName": stack}),
    );
    let body: Value = serde_json::from_str(dashboard["DashboardBody"].as_str().unwrap()).unwrap();
    let text = body.to_string();
    for shown in [
        "Deliveries",
        "Latency",
        "ApproximateNumberOfMessagesVisible",
        "PutEventsAttempts",
        "PutEventsFailed",
        "rejected_signature",
        "dead_lettered",
    ] {
        assert!(text.contains(shown), "{shown} not on the dashboard: {text}");
    }
    assert!(text.contains(&format!("\"{stack}\"")), "{text}");
    assert!(!text.contains("${"), "{text}");

    // rotate-secret keeps every other parameter: the addresses stay subscribed.
    ebhook(
        &moto,
        &[
            "rotate-secret",
            "--stack-name",
            stack,
            "--secret-env",
            "NEW",
            "--yes",
        ],
        &[("NEW", "another-secret")],
        None,
    )
    .assert_ok();
    assert_eq!(subscribed(&moto, &topic).len(), 2);
    check_alarms(&moto, stack, &function, Some(&topic));

    // init again without the addresses: they are unsubscribed, the topic and its key go.
    let out = ebhook(&moto, &init_args(stack, &[]), &[], None);
    out.assert_ok();
    let after = stack_resources(&moto, stack).await;
    for gone in ["AWS::SNS::Topic", "AWS::SNS::Subscription", "AWS::KMS::Key"] {
        assert!(of_type(&after, gone).is_empty(), "{gone} left: {after:?}");
    }
    let subscriptions = call(&moto, "sns", "list_subscriptions", json!({}));
    assert_eq!(subscriptions["Subscriptions"], json!([]), "{subscriptions}");
    assert!(
        !stack_outputs(&moto, stack)
            .await
            .contains_key("AlarmTopicArn")
    );
    assert_eq!(out.json()["alarmTopicArn"], Value::Null);
    check_alarms(&moto, stack, &function, None);

    teardown(&moto, stack);
}

/// `init --compliance control-tower --alarm-email`: the topic is encrypted with the stack's one
/// key, which lets CloudWatch use it; no second key.
#[tokio::test]
async fn in_compliance_mode_the_topic_uses_the_stacks_key() {
    let moto = Moto::start();
    let stack = "it-alarm-ct";
    let out = ebhook(
        &moto,
        &init_args(
            stack,
            &[
                "--compliance",
                "control-tower",
                "--alarm-email",
                "ops@example.com",
            ],
        ),
        &[],
        None,
    );
    out.assert_ok();
    let resources = stack_resources(&moto, stack).await;
    let keys = of_type(&resources, "AWS::KMS::Key");
    assert_eq!(keys.len(), 1, "{resources:?}");
    let topic = stack_outputs(&moto, stack).await["AlarmTopicArn"].clone();
    let attributes = call(
        &moto,
        "sns",
        "get_topic_attributes",
        json!({"TopicArn": topic}),
    );
    let key = attributes["Attributes"]["KmsMasterKeyId"].as_str().unwrap();
    assert!(key.ends_with(&keys[0]), "{key} is not {keys:?}");
    let policy = call(
        &moto,
        "kms",
        "get_key_policy",
        json!({"KeyId": keys[0], "PolicyName": "default"}),
    );
    let policy: Value = serde_json::from_str(policy["Policy"].as_str().unwrap()).unwrap();
    let cloudwatch = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Principal"]["Service"] == "cloudwatch.amazonaws.com")
        .unwrap_or_else(|| panic!("CloudWatch may not use the key: {policy}"));
    assert_eq!(
        cloudwatch["Condition"]["ArnLike"]["aws:SourceArn"],
        format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{stack}-*")
    );
    assert_eq!(
        subscribed(&moto, &topic),
        ["ops@example.com".to_owned()].into()
    );
    teardown(&moto, stack);
}

/// `init --alarm-topic ARN`: the alarms notify that topic, and the stack makes none.
#[tokio::test]
async fn an_alarm_topic_is_used_as_it_is() {
    let moto = Moto::start();
    let stack = "it-alarm-topic";
    let topic = call(&moto, "sns", "create_topic", json!({"Name": "ops-alerts"}))["TopicArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = ebhook(
        &moto,
        &init_args(stack, &["--alarm-topic", &topic]),
        &[],
        None,
    );
    out.assert_ok();
    let function = out.json()["function"].as_str().unwrap().to_owned();
    let resources = stack_resources(&moto, stack).await;
    for none in ["AWS::SNS::Topic", "AWS::SNS::Subscription", "AWS::KMS::Key"] {
        assert!(
            of_type(&resources, none).is_empty(),
            "{none}: {resources:?}"
        );
    }
    assert_eq!(
        stack_outputs(&moto, stack).await["AlarmTopicArn"],
        topic.as_str()
    );
    check_alarms(&moto, stack, &function, Some(&topic));
    teardown(&moto, stack);
    // The topic is the user's: teardown leaves it.
    let topics = call(&moto, "sns", "list_topics", json!({}));
    assert_eq!(topics["Topics"], json!([{"TopicArn": topic}]));
}

/// Without --alarm-email or --alarm-topic the alarms are there, notifying nobody.
#[tokio::test]
async fn without_a_topic_the_alarms_notify_nobody() {
    let moto = Moto::start();
    let stack = "it-alarms-quiet";
    let out = ebhook(&moto, &init_args(stack, &[]), &[], None);
    out.assert_ok();
    let function = out.json()["function"].as_str().unwrap().to_owned();
    assert!(
        !stack_outputs(&moto, stack)
            .await
            .contains_key("AlarmTopicArn")
    );
    check_alarms(&moto, stack, &function, None);
    teardown(&moto, stack);
}

/// What the template cannot take, refused before anything is deployed, saying what to do.
#[tokio::test]
async fn alarm_options_it_cannot_use_are_usage_errors() {
    let moto = Moto::shared();
    let topic = "arn:aws:sns:us-east-1:123456789012:ops-alerts";
    for (extra, says) in [
        (
            &[
                "--alarm-email",
                "a@example.com",
                "--alarm-email",
                "b@example.com",
                "--alarm-email",
                "c@example.com",
                "--alarm-email",
                "d@example.com",
            ][..],
            "at most 3",
        ),
        (
            &["--alarm-email", "a@example.com", "--alarm-topic", topic][..],
            "aws sns subscribe",
        ),
        (&["--alarm-email", "ops"][..], "--alarm-email \"ops\""),
        (
            &["--alarm-topic", "ops-alerts"][..],
            "--alarm-topic \"ops-alerts\"",
        ),
    ] {
        let stack = unique("it-alarm-usage");
        let out = ebhook(moto, &init_args(&stack, extra), &[], None);
        assert_eq!(out.status, Some(2), "{extra:?}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{extra:?}: {}", out.stderr);
    }
}

/// A handler's delivery line (EMF) put into a log group becomes the metrics CloudWatch would
/// make of it, as the alarms and `ebhook status` read them.
#[tokio::test]
async fn emf_log_lines_become_metrics() {
    let moto = Moto::shared();
    let group = format!("/aws/lambda/{}", unique("it-emf"));
    let stack = unique("it-emf-stack");
    call(
        moto,
        "logs",
        "create_log_group",
        json!({"logGroupName": group}),
    );
    call(
        moto,
        "logs",
        "create_log_stream",
        json!({"logGroupName": group, "logStreamName": "s"}),
    );
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let line = |outcome: &str, failed: bool| {
        DeliveryLine {
            timestamp: "2026-01-01T00:00:00Z",
            epoch_ms: now_ms,
            stack: &stack,
            outcome: Outcome::from_name(outcome).unwrap(),
            provider: "github",
            status: 401,
            reason: None,
            event: None,
            delivery_id: None,
            body_sha256: None,
            body_bytes: 10,
            entries: 1,
            secret: None,
            latency_ms: 12.5,
            put: failed.then_some(PutStats {
                events: 1,
                attempts: 3,
                latency_ms: 40.0,
                failed: true,
            }),
        }
        .to_json()
    };
    let messages = [
        line("rejected_signature", false),
        line("rejected_signature", false),
        line("dead_lettered", true),
        "not JSON".to_owned(),
        r#"{"_aws": "not a block"}"#.to_owned(),
    ];
    let events: Vec<Value> = messages
        .iter()
        .map(|m| json!({"timestamp": now_ms, "message": m}))
        .collect();
    call(
        moto,
        "logs",
        "put_log_events",
        json!({"logGroupName": group, "logStreamName": "s", "logEvents": events}),
    );

    let query = |id: &str, metric: &str, outcome: Option<&str>| {
        let mut dims = vec![
            json!({"Name": "Stack", "Value": stack}),
            json!({"Name": "Provider", "Value": "github"}),
        ];
        if let Some(outcome) = outcome {
            dims.push(json!({"Name": "Outcome", "Value": outcome}));
        }
        json!({
            "Id": id,
            "MetricStat": {
                "Metric": {"Namespace": "ebhook", "MetricName": metric, "Dimensions": dims},
                "Period": 60,
                "Stat": "Sum",
            },
        })
    };
    let start = now_ms / 1000 - 600;
    let end = now_ms / 1000 + 600;
    let data = call(
        moto,
        "cloudwatch",
        "get_metric_data",
        json!({
            "MetricDataQueries": [
                query("rejected", "Deliveries", Some("rejected_signature")),
                query("dead", "Deliveries", Some("dead_lettered")),
                query("accepted", "Deliveries", Some("accepted")),
                query("failed", "PutEventsFailed", None),
                query("attempts", "PutEventsAttempts", None),
                query("latency", "Latency", None),
            ],
            "StartTime": start,
            "EndTime": end,
        }),
    );
    let sum = |id: &str| -> f64 {
        data["MetricDataResults"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["Id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {data}"))["Values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .sum()
    };
    assert_eq!(sum("rejected"), 2.0, "{data}");
    assert_eq!(sum("dead"), 1.0, "{data}");
    assert_eq!(sum("accepted"), 0.0, "{data}");
    assert_eq!(sum("failed"), 1.0, "{data}");
    assert_eq!(sum("attempts"), 3.0, "{data}");
    assert_eq!(sum("latency"), 37.5, "{data}");
}
