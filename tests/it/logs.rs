//! `ebhook logs` against moto: the delivery lines in the function's log group, as the handler
//! writes them (its own renderer), filtered by outcome and id, and followed as they arrive.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ebhook_handler::metrics::{DeliveryLine, Outcome, PutStats, Reason};

use crate::support::Moto;
use crate::support::cli::{ebhook, init_args};

const STACK: &str = "it-logs";
const GROUP: &str = "/aws/lambda/it-logs-handler";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap()
}

/// The line the handler writes for one delivery.
fn line(at_ms: i64, outcome: Outcome, id: &str, event: Option<&str>) -> String {
    let timestamp = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let put = matches!(outcome, Outcome::Accepted | Outcome::DeadLettered).then_some(PutStats {
        events: usize::from(outcome == Outcome::Accepted),
        attempts: 1,
        latency_ms: 20.0,
        failed: outcome == Outcome::DeadLettered,
    });
    DeliveryLine {
        timestamp: &timestamp,
        epoch_ms: at_ms,
        stack: STACK,
        outcome,
        provider: "github",
        status: match outcome {
            Outcome::Rejected(_) => 401,
            Outcome::DeadLettered => 202,
            _ => 200,
        },
        reason: matches!(outcome, Outcome::Rejected(_)).then_some("mismatch"),
        event,
        delivery_id: Some(id),
        body_sha256: None,
        body_bytes: 2048,
        entries: usize::from(event.is_some()),
        secret: None,
        latency_ms: 31.0,
        put,
    }
    .to_json()
}

async fn put(logs: &aws_sdk_cloudwatchlogs::Client, stream: &str, messages: &[(i64, String)]) {
    let events = messages
        .iter()
        .map(|(at, message)| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(*at)
                .message(message)
                .build()
                .unwrap()
        })
        .collect();
    logs.put_log_events()
        .log_group_name(GROUP)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn logs_shows_filters_and_follows_deliveries() {
    let moto = Moto::start();
    ebhook(&moto, &init_args(STACK, &[]), &[], None).assert_ok();
    let conf = moto.sdk_config().await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    // The stack made the log group; Lambda makes a stream per instance.
    let stream = "2026/12/03/[$LATEST]0123456789abcdef";
    logs.create_log_stream()
        .log_group_name(GROUP)
        .log_stream_name(stream)
        .send()
        .await
        .expect("the stack's log group");
    let t = now_ms() - 60_000;
    put(
        &logs,
        stream,
        &[
            (t, "START RequestId: 1 Version: $LATEST".to_owned()),
            (t + 1, line(t + 1, Outcome::Accepted, "d-1", Some("push"))),
            (
                t + 2,
                line(t + 2, Outcome::Rejected(Reason::Signature), "d-2", None),
            ),
            (
                t + 3,
                r#"{"level":"WARN","message":"secret refresh failed; using the cached secret"}"#
                    .to_owned(),
            ),
            (
                t + 4,
                line(t + 4, Outcome::DeadLettered, "d-3", Some("issues")),
            ),
        ],
    )
    .await;

    let all = ebhook(&moto, &["logs", "--stack-name", STACK], &[], None);
    all.assert_ok();
    let shown: Vec<&str> = all.stdout.lines().collect();
    assert_eq!(shown.len(), 3, "{}", all.stdout);
    for (line, (outcome, id)) in shown.iter().zip([
        ("accepted", "d-1"),
        ("rejected_signature", "d-2"),
        ("dead_lettered", "d-3"),
    ]) {
        assert!(line.contains(outcome) && line.contains(id), "{line}");
    }
    assert!(
        shown[0].contains("push") && shown[0].contains("2.0 KiB") && shown[0].contains("31 ms")
    );
    assert!(shown[1].contains("(mismatch, 401)"), "{}", shown[1]);

    let refused = ebhook(
        &moto,
        &["logs", "--stack-name", STACK, "--outcome", "rejected"],
        &[],
        None,
    );
    refused.assert_ok();
    assert_eq!(refused.stdout.lines().count(), 1, "{}", refused.stdout);
    assert!(refused.stdout.contains("d-2"));

    let one = ebhook(
        &moto,
        &[
            "logs",
            "--stack-name",
            STACK,
            "--delivery",
            "d-3",
            "--output",
            "json",
        ],
        &[],
        None,
    );
    one.assert_ok();
    let json = one.json();
    assert_eq!(json["deliveryId"], "d-3");
    assert_eq!(json["outcome"], "dead_lettered");
    assert_eq!(json["event"], "issues");

    // Nothing that old: the window is honoured.
    let none = ebhook(
        &moto,
        &["logs", "--stack-name", STACK, "--since", "10s"],
        &[],
        None,
    );
    none.assert_ok();
    assert_eq!(none.stdout, "");
    assert!(none.stderr.contains("No deliveries"), "{}", none.stderr);

    // --follow prints what is there, then what arrives, until Ctrl-C.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ebhook"))
        .args([
            "logs",
            "--stack-name",
            STACK,
            "--follow",
            "--output",
            "json",
        ])
        .env_remove("AWS_PROFILE")
        .envs(moto.env())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = |what: &str| {
        rx.recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("--follow printed no line for {what}"))
    };
    for id in ["d-1", "d-2", "d-3"] {
        assert!(next(id).contains(id));
    }
    let later = now_ms();
    put(
        &logs,
        stream,
        &[(later, line(later, Outcome::Accepted, "d-4", Some("push")))],
    )
    .await;
    assert!(next("d-4").contains("\"d-4\""));
    // Ctrl-C: a clean stop.
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(
        rx.recv_timeout(Duration::from_secs(1)).is_err(),
        "a delivery was printed twice"
    );
}

/// `ebhook status`: the last day's deliveries by outcome, from the metrics the handler's lines
/// become, and the alarms' states, with the one that fires named.
#[tokio::test]
async fn status_counts_the_days_deliveries_and_names_a_firing_alarm() {
    let moto = Moto::start();
    ebhook(&moto, &init_args(STACK, &[]), &[], None).assert_ok();
    let conf = moto.sdk_config().await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    let stream = "2026/12/03/[$LATEST]fedcba9876543210";
    logs.create_log_stream()
        .log_group_name(GROUP)
        .log_stream_name(stream)
        .send()
        .await
        .unwrap();
    let t = now_ms() - 120_000;
    put(
        &logs,
        stream,
        &[
            (t, line(t, Outcome::Accepted, "d-1", Some("push"))),
            (t + 1, line(t + 1, Outcome::Accepted, "d-2", Some("push"))),
            (
                t + 2,
                line(t + 2, Outcome::Rejected(Reason::Signature), "d-3", None),
            ),
            (
                t + 3,
                line(t + 3, Outcome::DeadLettered, "d-4", Some("issues")),
            ),
        ],
    )
    .await;
    crate::support::boto::call(
        &moto,
        "cloudwatch",
        "set_alarm_state",
        serde_json::json!({
            "AlarmName": format!("{STACK}-DeadLetterWaiting"),
            "StateValue": "ALARM",
            "StateReason": "a dead letter is waiting",
        }),
    );

    let json = ebhook(
        &moto,
        &["status", "--stack-name", STACK, "--output", "json"],
        &[],
        None,
    );
    json.assert_ok();
    let s = json.json();
    let counts = &s["deliveriesLast24h"];
    assert_eq!(counts["accepted"], 2, "{s}");
    assert_eq!(counts["rejected_signature"], 1, "{s}");
    assert_eq!(counts["dead_lettered"], 1, "{s}");
    assert_eq!(counts["failed"], 0, "{s}");
    let alarms = s["alarms"].as_array().unwrap();
    assert_eq!(alarms.len(), 6, "{s}");
    let firing: Vec<&str> = alarms
        .iter()
        .filter(|a| a["state"] == "ALARM")
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(firing, [format!("{STACK}-DeadLetterWaiting")]);
    assert!(
        s["dashboardUrl"]
            .as_str()
            .is_some_and(|u| u.contains("dashboards")),
        "{s}"
    );

    let text = ebhook(&moto, &["status", "--stack-name", STACK], &[], None);
    text.assert_ok();
    assert!(
        text.stdout
            .contains("2 accepted, 1 dead_lettered, 1 rejected_signature"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains(&format!("1 ALARM, 5 OK: {STACK}-DeadLetterWaiting")),
        "{}",
        text.stdout
    );
}
