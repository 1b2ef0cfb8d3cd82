//! `ebhook dev` (the handler as a local server) and `ebhook send-test`, run as the real binary:
//! requests signed by the providers' official SDKs (Twilio's Python SDK) or by our signers
//! (GitHub's, checked against its published vectors; Zendesk has no official signer) are
//! accepted and printed as PutEvents entries; tampered ones get 401 and print nothing; with
//! `--event-bus` the event really arrives on the bus (moto, read back through SQS).
//! Clients that misbehave on the wire (partial headers or bodies, bad chunks, oversized
//! lengths, more connections than allowed or than descriptors) are cut off or answered, and
//! never stop the server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use aws_sdk_eventbridge::types::Target;
use ebhook_handler::providers::{github, zendesk};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::support::sdk::sdk_sign;
use crate::support::{Moto, moto, workspace_root};

const SECRET_VAR: &str = "EBHOOK_DEV_TEST_SECRET";

/// A running `ebhook dev`. Dropping it kills the process.
struct Dev {
    child: Child,
    port: u16,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

fn lock(m: &Mutex<String>) -> String {
    m.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

fn drain<R: Read + Send + 'static>(
    reader: R,
    buffer: Arc<Mutex<String>>,
    ready: Option<mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(reader);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if let Some(tx) = &ready
                        && line.starts_with("Listening on ")
                    {
                        let _ = tx.send(line.clone());
                    }
                    buffer
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push_str(&line);
                }
            }
        }
    });
}

impl Dev {
    /// `ebhook dev --provider P --port 0 --secret-env VAR ARGS`, with a cleared environment
    /// plus PATH, the secret and `env`.
    fn start(provider: &str, secret: &str, args: &[&str], env: &[(String, String)]) -> Dev {
        Dev::spawn(
            Command::new(env!("CARGO_BIN_EXE_ebhook")),
            provider,
            secret,
            args,
            env,
        )
    }

    /// `start` with at most `files` open file descriptors (`ulimit -n`), set by a shell that
    /// then becomes `ebhook dev`.
    fn start_with_file_limit(provider: &str, secret: &str, files: u32) -> Dev {
        let mut shell = Command::new("sh");
        shell.args([
            "-c",
            &format!("ulimit -n {files} && exec \"$0\" \"$@\""),
            env!("CARGO_BIN_EXE_ebhook"),
        ]);
        Dev::spawn(shell, provider, secret, &[], &[])
    }

    fn spawn(
        mut command: Command,
        provider: &str,
        secret: &str,
        args: &[&str],
        env: &[(String, String)],
    ) -> Dev {
        let mut child = command
            .args(["dev", "--provider", provider, "--port", "0"])
            .args(["--secret-env", SECRET_VAR])
            .args(args)
            .current_dir(workspace_root())
            .env_clear()
            .envs(std::env::var_os("PATH").map(|p| ("PATH", p)))
            .env(SECRET_VAR, secret)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run ebhook dev");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        drain(child.stdout.take().unwrap(), Arc::clone(&stdout), None);
        drain(child.stderr.take().unwrap(), Arc::clone(&stderr), Some(tx));
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => line,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("ebhook dev did not start ({e}):\n{}", lock(&stderr));
            }
        };
        let port = line
            .trim()
            .strip_prefix("Listening on http://127.0.0.1:")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
        Dev {
            child,
            port,
            stdout,
            stderr,
        }
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("http://127.0.0.1:{}{path_and_query}", self.port)
    }

    fn stderr(&self) -> String {
        lock(&self.stderr)
    }

    /// The entries printed so far, one JSON object a line.
    fn entries(&self) -> Vec<Value> {
        lock(&self.stdout)
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l:?}"))
            })
            .collect()
    }

    /// Waits until the server's log holds `needle`, then returns the log. The server logs a
    /// request before answering it, but the test reads the log through a pipe and a thread,
    /// which can lag behind the answer.
    fn wait_stderr(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let logs = self.stderr();
            if logs.contains(needle) || Instant::now() > deadline {
                return logs;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until at least `n` entries were printed (they are written before the response).
    fn wait_entries(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let entries = self.entries();
            if entries.len() >= n || Instant::now() > deadline {
                return entries;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: String,
}

async fn post(url: &str, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Answer {
    let client: Client<_, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let mut request = hyper::Request::post(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let request = request.body(Full::new(Bytes::from(body.into()))).unwrap();
    let response = client
        .request(request)
        .await
        .expect("request to ebhook dev");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// `X-Hub-Signature-256` values from GitHub's official library (@octokit/webhooks-methods,
/// installed in tests/node by `bash tests/setup`), one per (secret, payload).
fn octokit_sign(jobs: &[(&str, &[u8])]) -> Vec<String> {
    let dir = workspace_root().join("tests").join("node");
    assert!(
        dir.join("node_modules/@octokit/webhooks-methods").is_dir(),
        "GitHub's signer is not installed in {}: run `bash tests/setup` (needs Node.js 20+)",
        dir.display()
    );
    let node = std::env::var_os("EBHOOK_TEST_NODE")
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "node".into());
    let jobs: Vec<Value> = jobs
        .iter()
        .map(|(secret, payload)| {
            json!({"secret": secret, "payload": std::str::from_utf8(payload).unwrap()})
        })
        .collect();
    let mut child = Command::new(node)
        .arg(dir.join("sign.mjs"))
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node tests/node/sign.mjs (is Node.js installed?)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::from(jobs).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "tests/node/sign.mjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn form(params: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

fn detail(entry: &Value) -> Value {
    serde_json::from_str(entry["Detail"].as_str().expect("Detail is a string")).unwrap()
}

const TOKEN: &str = "twilio-auth-token-0123";

#[tokio::test]
async fn twilio_requests_signed_by_the_official_sdk_are_accepted() {
    let dev = Dev::start("twilio", TOKEN, &[], &[]);

    // A form POST with a query string and repeated parameters.
    let params = [
        ("AccountSid", "AC0123"),
        ("MessageSid", "SM0123"),
        ("SmsStatus", "received"),
        ("Body", "Héllo & welcome = 100%"),
        ("From", "+14155550100"),
        ("To", "+14155550199"),
        ("Tag", "b"),
        ("Tag", "a"),
        ("Tag", "b"),
    ];
    let url = dev.url("/sms?tenant=acme&x=1&x=2");
    let signed = sdk_sign(&json!([{"twilio": {"token": TOKEN, "url": url, "params": params}}]));
    let signature = signed[0]["signature"].as_str().unwrap();
    let answer = post(
        &url,
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("I-Twilio-Idempotency-Token", "idem-0123"),
            ("X-Twilio-Signature", signature),
        ],
        form(&params),
    )
    .await;
    assert_eq!(answer.status, 200, "{}\n{}", answer.body, dev.stderr());
    assert_eq!(answer.headers["content-type"], "text/xml");
    assert!(answer.body.contains("<Response/>"), "{}", answer.body);
    let ids = answer.headers["x-ebhook-event-ids"].to_str().unwrap();
    assert_eq!(ids.len(), 36, "{ids}");
    let entries = dev.wait_entries(1);
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    let mut keys: Vec<_> = entry.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["Detail", "DetailType", "EventBusName", "Source"]);
    assert_eq!(entry["Source"], "ebhook.twilio");
    assert_eq!(entry["DetailType"], "message.received");
    assert_eq!(entry["EventBusName"], "default");
    let d = detail(entry);
    assert_eq!(d["Body"], "Héllo & welcome = 100%");
    assert_eq!(d["ebhook"]["deliveryId"], "idem-0123");

    // A JSON body (Event Streams): bodySHA256 in the URL, the URL alone signed.
    let body = json!([
        {"specversion": "1.0", "type": "com.twilio.messaging.message.delivered", "id": "EZ1", "source": "/2010-04-01/Accounts/AC0123/Messages/SM1.json", "data": {"messageSid": "SM1"}},
        {"specversion": "1.0", "type": "com.twilio.messaging.message.sent", "id": "EZ2", "source": "/2010-04-01/Accounts/AC0123/Messages/SM2.json", "data": {"messageSid": "SM2"}}
    ])
    .to_string();
    let signed = sdk_sign(
        &json!([{"twilio": {"token": TOKEN, "url": dev.url("/events?sink=1"), "json": body}}]),
    );
    let signed_url = signed[0]["url"].as_str().unwrap();
    assert!(signed_url.contains("bodySHA256="), "{signed_url}");
    let answer = post(
        signed_url,
        &[
            ("Content-Type", "application/json"),
            (
                "X-Twilio-Signature",
                signed[0]["signature"].as_str().unwrap(),
            ),
        ],
        body.clone(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}\n{}", answer.body, dev.stderr());
    let entries = dev.wait_entries(3);
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert_eq!(
        entries[1]["DetailType"],
        "com.twilio.messaging.message.delivered"
    );
    assert_eq!(
        entries[2]["DetailType"],
        "com.twilio.messaging.message.sent"
    );
    assert_eq!(detail(&entries[2])["data"]["messageSid"], "SM2");

    // The same JSON with one byte changed fails the body hash: 401, nothing printed.
    let answer = post(
        signed_url,
        &[
            ("Content-Type", "application/json"),
            (
                "X-Twilio-Signature",
                signed[0]["signature"].as_str().unwrap(),
            ),
        ],
        body.replace("SM2", "SM3"),
    )
    .await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(dev.entries().len(), 3);
    let logs = dev.wait_stderr("body_hash_mismatch");
    assert!(logs.contains("body_hash_mismatch"), "{logs}");
}

#[tokio::test]
async fn tampered_or_wrongly_signed_requests_get_401_and_print_nothing() {
    let dev = Dev::start("github", "gh-secret", &[], &[]);
    let body = br#"{"zen":"Design for failure.","hook_id":42}"#;
    let headers = |signature: &str| {
        vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("X-GitHub-Event".to_owned(), "ping".to_owned()),
            ("X-GitHub-Delivery".to_owned(), "d-1".to_owned()),
            ("X-Hub-Signature-256".to_owned(), signature.to_owned()),
        ]
    };
    let send = |headers: Vec<(String, String)>, body: Vec<u8>| {
        let url = dev.url("/");
        async move {
            let h: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            post(&url, &h, body).await
        }
    };
    let signed = octokit_sign(&[("gh-secret", body), ("not-the-secret", body)]);
    let (good, wrong) = (signed[0].clone(), signed[1].clone());
    // Our signer agrees with GitHub's library.
    assert_eq!(good, github::sign(b"gh-secret", body));
    let tampered = br#"{"zen":"Design for success.","hook_id":42}"#.to_vec();
    for (signature, body) in [(&wrong, body.to_vec()), (&good, tampered)] {
        let answer = send(headers(signature), body).await;
        assert_eq!(answer.status, 401, "{}", answer.body);
        assert_eq!(answer.body, r#"{"error":"invalid signature"}"#);
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(dev.entries().is_empty(), "{:?}", dev.entries());
    let logs = dev.wait_stderr("401 rejected (mismatch)");
    assert!(logs.contains("401 rejected (mismatch)"), "{logs}");
    assert!(!logs.contains("gh-secret"), "{logs}");
    assert!(
        !logs.contains(&good[7..]) && !logs.contains(&wrong[7..]),
        "{logs}"
    );
    assert!(!logs.contains("Design for"), "{logs}");

    // The genuine request is accepted and printed.
    let answer = send(headers(&good), body.to_vec()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let entries = dev.wait_entries(1);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["Source"], "ebhook.github");
    assert_eq!(entries[0]["DetailType"], "ping");
    let ids: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(ids["eventIds"].as_array().map(Vec::len), Some(1));

    // GitHub only POSTs: anything else is 405, as from the function URL.
    let client: Client<_, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let response = client
        .get(dev.url("/").parse().unwrap())
        .await
        .expect("GET");
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "POST");
}

#[tokio::test]
async fn zendesk_signed_request_prints_its_entry() {
    let dev = Dev::start(
        "zendesk",
        r#"{"current":"zd-new","previous":"zd-old"}"#,
        &[],
        &[],
    );
    let body = br#"{"type":"zen:event-type:ticket.created","account_id":1,"id":"e-1","subject":"zen:ticket:1","detail":{"id":"1"},"event":{}}"#;
    let ts = OffsetDateTime::now_utc().format(&Rfc3339).unwrap();
    for secret in ["zd-new", "zd-old"] {
        let signature = zendesk::sign(secret.as_bytes(), &ts, body);
        let answer = post(
            &dev.url("/"),
            &[
                ("Content-Type", "application/json"),
                ("X-Zendesk-Webhook-Invocation-Id", "inv-1"),
                ("X-Zendesk-Webhook-Signature-Timestamp", &ts),
                ("X-Zendesk-Webhook-Signature", &signature),
            ],
            body.to_vec(),
        )
        .await;
        assert_eq!(answer.status, 200, "{}\n{}", answer.body, dev.stderr());
    }
    let entries = dev.wait_entries(2);
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["DetailType"], "zen:event-type:ticket.created");
    assert_eq!(detail(&entries[0])["ebhook"]["deliveryId"], "inv-1");
}

#[test]
fn send_test_against_dev_succeeds_for_each_provider() {
    // Text for the HMAC keys, base64 after `whsec_` where the key is decoded.
    const SHARED: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    for provider in ebhook_handler::Provider::all() {
        let provider = provider.as_str();
        // A provider described at init is described the same way to both.
        let described: &[&str] = if provider == "generic" {
            &[
                "--signature-header",
                "X-Signature",
                "--event-type",
                "json:type",
            ]
        } else {
            &[]
        };
        let dev = Dev::start(provider, SHARED, described, &[]);
        let out = Command::new(env!("CARGO_BIN_EXE_ebhook"))
            .args([
                "send-test",
                "--url",
                &dev.url("/hook"),
                "--provider",
                provider,
            ])
            .args(described)
            .args(["--secret-env", SECRET_VAR])
            .env(SECRET_VAR, SHARED)
            .stdin(Stdio::null())
            .output()
            .expect("run ebhook send-test");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{provider}: {stdout}\n{stderr}\n--- dev ---\n{}",
            dev.stderr()
        );
        assert!(stdout.starts_with("HTTP 200"), "{stdout}");
        let entries = dev.wait_entries(1);
        assert_eq!(entries.len(), 1, "{provider}: {}", dev.stderr());
        assert_eq!(entries[0]["Source"], format!("ebhook.{provider}"));

        // With the wrong secret the endpoint answers 401 and send-test fails.
        let out = Command::new(env!("CARGO_BIN_EXE_ebhook"))
            .args([
                "send-test",
                "--url",
                &dev.url("/hook"),
                "--provider",
                provider,
            ])
            .args(described)
            .args(["--secret-env", SECRET_VAR])
            .env(SECRET_VAR, "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")
            .stdin(Stdio::null())
            .output()
            .expect("run ebhook send-test");
        assert_ne!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("HTTP 401"));
        assert_eq!(dev.entries().len(), 1);
    }
}

#[tokio::test]
async fn slack_stripe_and_standard_webhooks_sdk_signatures_pass_through_dev() {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    // Slack: the url_verification handshake is answered, and an event is printed.
    let secret = "dev-slack-signing-secret";
    let dev = Dev::start("slack", secret, &[], &[]);
    for (body, expected) in [
        (
            r#"{"token":"t","challenge":"dev-challenge-1","type":"url_verification"}"#,
            "dev-challenge-1",
        ),
        (
            r#"{"type":"event_callback","event_id":"EvDEV","event":{"type":"reaction_added"}}"#,
            "",
        ),
    ] {
        let signed = &sdk_sign(&json!([{"slack": {"secret": secret, "body": body}}]))[0];
        let answer = post(
            &dev.url("/slack/events"),
            &[
                ("content-type", "application/json"),
                ("x-slack-signature", signed["signature"].as_str().unwrap()),
                (
                    "x-slack-request-timestamp",
                    signed["timestamp"].as_str().unwrap(),
                ),
            ],
            body,
        )
        .await;
        assert_eq!(answer.status, 200, "{}\n{}", answer.body, dev.stderr());
        if !expected.is_empty() {
            assert_eq!(answer.body, expected);
            assert!(dev.entries().is_empty(), "the handshake is not an event");
        }
    }
    let entries = dev.wait_entries(1);
    assert_eq!(entries[0]["DetailType"], "reaction_added");
    drop(dev);

    // Stripe.
    let secret = "whsec_dev_stripe";
    let dev = Dev::start("stripe", secret, &[], &[]);
    let body = r#"{"id":"evt_dev","type":"charge.refunded","data":{}}"#;
    let header = &sdk_sign(&json!([{"stripe": {"secret": secret, "payload": body}}]))[0]["header"];
    let answer = post(
        &dev.url("/"),
        &[
            ("content-type", "application/json"),
            ("stripe-signature", header.as_str().unwrap()),
        ],
        body,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", dev.stderr());
    assert_eq!(dev.wait_entries(1)[0]["DetailType"], "charge.refunded");
    drop(dev);

    // Standard Webhooks.
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let dev = Dev::start("standard-webhooks", secret, &[], &[]);
    let body = r#"{"type":"invoice.created","data":{"id":"in_dev"}}"#;
    let job = json!([{"standardwebhooks": {"secret": secret, "id": "msg_dev", "timestamp": now, "payload": body}}]);
    let signature = &sdk_sign(&job)[0]["signature"];
    let answer = post(
        &dev.url("/"),
        &[
            ("content-type", "application/json"),
            ("webhook-id", "msg_dev"),
            ("webhook-timestamp", &now.to_string()),
            ("webhook-signature", signature.as_str().unwrap()),
        ],
        body,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", dev.stderr());
    assert_eq!(dev.wait_entries(1)[0]["DetailType"], "invoice.created");
}

#[tokio::test]
async fn with_event_bus_the_event_really_arrives() {
    const BUS: &str = "ebhook-dev-it";
    let moto_server = Moto::start();
    let conf = moto_server.sdk_config().await;
    let events = aws_sdk_eventbridge::Client::new(&conf);
    let sqs = aws_sdk_sqs::Client::new(&conf);
    events.create_event_bus().name(BUS).send().await.unwrap();
    let queue_url = sqs
        .create_queue()
        .queue_name("dev-arrivals")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    events
        .put_rule()
        .name("dev-all")
        .event_bus_name(BUS)
        .event_pattern(json!({"source": ["ebhook.github"]}).to_string())
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule("dev-all")
        .event_bus_name(BUS)
        .targets(
            Target::builder()
                .id("queue")
                .arn(format!(
                    "arn:aws:sqs:{}:{}:dev-arrivals",
                    moto::REGION,
                    moto::ACCOUNT_ID
                ))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let dev = Dev::start(
        "github",
        "gh-secret",
        &["--event-bus", BUS],
        &moto_server.env(),
    );
    let body = br#"{"zen":"Approachable is better than simple.","hook_id":7}"#;
    let signature = octokit_sign(&[("gh-secret", body)]).remove(0);
    let answer = post(
        &dev.url("/"),
        &[
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "ping"),
            ("X-GitHub-Delivery", "d-bus"),
            ("X-Hub-Signature-256", &signature),
        ],
        body.to_vec(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}\n{}", answer.body, dev.stderr());
    let ids: Value = serde_json::from_str(&answer.body).unwrap();
    let id = ids["eventIds"][0].as_str().unwrap().to_owned();

    let deadline = Instant::now() + Duration::from_secs(15);
    let mut arrived = Vec::new();
    while arrived.is_empty() && Instant::now() < deadline {
        let out = sqs
            .receive_message()
            .queue_url(&queue_url)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for m in out.messages() {
            arrived.push(serde_json::from_str::<Value>(m.body().unwrap()).unwrap());
        }
    }
    assert_eq!(arrived.len(), 1, "{}", dev.stderr());
    let event = &arrived[0];
    assert_eq!(event["id"], id.as_str());
    assert_eq!(event["source"], "ebhook.github");
    assert_eq!(event["detail-type"], "ping");
    assert_eq!(
        event["detail"]["zen"],
        "Approachable is better than simple."
    );
    assert_eq!(event["detail"]["ebhook"]["deliveryId"], "d-bus");
    // Forwarded events are not printed.
    assert!(dev.entries().is_empty());
    let logs = dev.wait_stderr(&format!("put on {BUS}"));
    assert!(logs.contains(&format!("put on {BUS}")), "{logs}");
}

#[test]
fn stops_cleanly_on_sigterm() {
    let mut dev = Dev::start("github", "s", &[], &[]);
    let status = Command::new("kill")
        .args(["-TERM", &dev.child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(s) = dev.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test]
async fn send_test_reads_url_provider_and_secret_from_the_stack() {
    let moto_server = Moto::start();
    let conf = moto_server.sdk_config().await;
    let dev = Dev::start("github", "stack-secret", &[], &[]);
    let secrets = aws_sdk_secretsmanager::Client::new(&conf);
    let arn = secrets
        .create_secret()
        .name("ebhook-send-test")
        .secret_string(r#"{"current":"stack-secret"}"#)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    // A stand-in for ebhook's stack: only the outputs send-test reads.
    let template = json!({
        "Parameters": {
            "Url": {"Type": "String"},
            "SecretArn": {"Type": "String"}
        },
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {
            "WebhookUrl": {"Value": {"Ref": "Url"}},
            "Provider": {"Value": "github"},
            "SecretArn": {"Value": {"Ref": "SecretArn"}}
        }
    });
    let param = |k: &str, v: &str| {
        aws_sdk_cloudformation::types::Parameter::builder()
            .parameter_key(k)
            .parameter_value(v)
            .build()
    };
    aws_sdk_cloudformation::Client::new(&conf)
        .create_stack()
        .stack_name("hooks")
        .template_body(template.to_string())
        .parameters(param("Url", &dev.url("/")))
        .parameters(param("SecretArn", &arn))
        .send()
        .await
        .unwrap();

    let send_test = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ebhook"));
        command
            .args(["send-test", "--stack-name", "hooks"])
            .env_remove("AWS_PROFILE")
            .envs(moto_server.env())
            .stdin(Stdio::null());
        command.output().expect("run ebhook send-test")
    };
    let out = send_test();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}\n--- dev ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        dev.stderr()
    );
    let entries = dev.wait_entries(1);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["DetailType"], "ping");

    // No secret set yet: send-test says so instead of sending.
    secrets
        .put_secret_value()
        .secret_id(&arn)
        .secret_string(r#"{"current":""}"#)
        .send()
        .await
        .unwrap();
    let out = send_test();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no signing secret is set"), "{stderr}");
    assert_eq!(dev.entries().len(), 1);
}

#[tokio::test]
async fn github_form_delivery_signed_by_the_official_library_is_accepted() {
    let dev = Dev::start("github", "gh-secret", &[], &[]);
    // GitHub's "application/x-www-form-urlencoded" content type: the JSON in `payload`, the
    // signature over the raw form body.
    let body = form(&[(
        "payload",
        r#"{"action":"opened","number":7,"title":"a+b & c"}"#,
    )]);
    let signature = octokit_sign(&[("gh-secret", body.as_bytes())]).remove(0);
    let answer = post(
        &dev.url("/github?x=1"),
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("X-GitHub-Event", "pull_request"),
            ("X-GitHub-Delivery", "d-form"),
            ("X-GitHub-Hook-ID", "99"),
            ("X-Hub-Signature-256", &signature),
        ],
        body,
    )
    .await;
    assert_eq!(answer.status, 200, "{}\n{}", answer.body, dev.stderr());
    let entries = dev.wait_entries(1);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["DetailType"], "pull_request");
    let d = detail(&entries[0]);
    assert_eq!(d["number"], 7);
    assert_eq!(d["title"], "a+b & c");
    assert_eq!(d["ebhook"]["webhookId"], "99");
}

#[tokio::test]
async fn unreachable_bus_answers_503_as_lambda_would() {
    // Nothing listens on port 9 of loopback; the handler's forward budget applies.
    let env: Vec<(String, String)> = [
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_REGION", moto::REGION),
        ("AWS_ACCESS_KEY_ID", moto::ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", moto::SECRET_ACCESS_KEY),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("EBHOOK_FORWARD_BUDGET_MS", "500"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let dev = Dev::start("github", "gh-secret", &["--event-bus", "nowhere"], &env);
    let body = br#"{"zen":"x"}"#;
    let signature = github::sign(b"gh-secret", body);
    let started = Instant::now();
    let answer = post(
        &dev.url("/"),
        &[
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "ping"),
            ("X-Hub-Signature-256", &signature),
        ],
        body.to_vec(),
    )
    .await;
    assert_eq!(answer.status, 503, "{}\n{}", answer.body, dev.stderr());
    assert_eq!(answer.headers["retry-after"], "5");
    assert!(started.elapsed() < Duration::from_secs(5));
    let logs = dev.wait_stderr("503 failed (event_bus_unavailable)");
    assert!(
        logs.contains("503 failed (event_bus_unavailable)"),
        "{logs}"
    );
    assert!(dev.entries().is_empty());
}

/// A raw connection to `ebhook dev`, for requests no well-behaved client sends.
fn connect(dev: &Dev) -> TcpStream {
    TcpStream::connect(("127.0.0.1", dev.port)).expect("connect to ebhook dev")
}

/// What the server sent on `stream` until it closed the connection or `limit` passed, and
/// whether it closed it.
/// Send `request` on a new connection: the server answers `status` with `Connection: close`
/// and closes it within 10 s. How long after the request the connection closed.
fn answered_and_closed(dev: &Dev, request: &[u8], status: u16) -> Duration {
    let mut stream = connect(dev);
    let started = Instant::now();
    stream.write_all(request).unwrap();
    let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(10));
    let elapsed = started.elapsed();
    assert!(
        answer.starts_with(&format!("HTTP/1.1 {status} ")),
        "{answer:?}\n{}",
        dev.stderr()
    );
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(closed, "still open after 10 s");
    elapsed
}

fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, bool) {
    let deadline = Instant::now() + limit;
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (String::from_utf8_lossy(&received).into_owned(), false);
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&received).into_owned(), true),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
                ) =>
            {
                return (String::from_utf8_lossy(&received).into_owned(), true);
            }
            Err(_) => {}
        }
    }
}

/// The head of the first response on `stream` (up to the blank line), or what arrived before
/// `limit` passed.
fn read_head(stream: &mut TcpStream, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    while !received.windows(4).any(|w| w == b"\r\n\r\n") {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

#[test]
fn partial_headers_are_cut_off_after_the_header_timeout() {
    let dev = Dev::start("github", "s", &["--header-timeout", "1s"], &[]);
    let mut stream = connect(&dev);
    let started = Instant::now();
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
        .unwrap();
    let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(10));
    let elapsed = started.elapsed();
    assert!(closed, "still open after 10 s:\n{}", dev.stderr());
    assert!(
        elapsed >= Duration::from_millis(900),
        "closed after {elapsed:?}"
    );
    assert!(answer.is_empty(), "{answer}");
    let logs = dev.wait_stderr("request headers");
    assert!(logs.contains("request headers"), "{logs}");

    // A kept-alive connection left idle after its answer is closed too, as clients expect,
    // and not logged as a stuck one.
    let mut idle = connect(&dev);
    let idle_line = format!("{}: connection closed", idle.local_addr().unwrap());
    idle.write_all(GET).unwrap();
    let (answer, closed) = read_until_closed(&mut idle, Duration::from_secs(10));
    assert!(answer.starts_with("HTTP/1.1 405 "), "{answer:?}");
    assert!(closed, "idle connection still open after 10 s");
    // A second stuck connection, timed out after the idle one closed: once its line is in
    // the log, a line about the idle one would be too.
    let mut stuck = connect(&dev);
    let stuck_line = format!("{}: connection closed", stuck.local_addr().unwrap());
    stuck.write_all(b"POST / HTTP/1.1\r\n").unwrap();
    let (_, closed) = read_until_closed(&mut stuck, Duration::from_secs(10));
    assert!(closed, "second stuck connection still open after 10 s");
    let logs = dev.wait_stderr(&stuck_line);
    assert!(logs.contains(&stuck_line), "{logs}");
    assert!(!logs.contains(&idle_line), "{logs}");
}

#[test]
fn a_partial_body_gets_408_after_the_body_timeout() {
    let dev = Dev::start("github", "s", &["--body-timeout", "1s"], &[]);
    let elapsed = answered_and_closed(
        &dev,
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"zen\":",
        408,
    );
    assert!(
        elapsed >= Duration::from_millis(900),
        "answered after {elapsed:?}"
    );
    let logs = dev.wait_stderr("-> 408");
    assert!(
        logs.contains("POST / -> 408 rejected (body_timeout)"),
        "{logs}"
    );
}

#[test]
fn a_bad_chunk_size_gets_400() {
    let dev = Dev::start("github", "s", &[], &[]);
    answered_and_closed(
        &dev,
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
          Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        400,
    );
    let logs = dev.wait_stderr("-> 400");
    assert!(logs.contains("POST / -> 400 rejected (bad_body)"), "{logs}");
}

#[test]
fn an_oversized_content_length_gets_413_before_the_body_is_sent() {
    let dev = Dev::start("github", "s", &[], &[]);
    // One byte over the default limit of 6 MiB, and no body at all.
    let elapsed = answered_and_closed(
        &dev,
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
          Content-Length: 6291457\r\n\r\n",
        413,
    );
    // Well before the body timeout (30 s): the server did not wait for the body.
    assert!(elapsed < Duration::from_secs(5));
    let logs = dev.wait_stderr("-> 413");
    assert!(
        logs.contains("POST / -> 413 rejected (body_too_large)"),
        "{logs}"
    );
}

#[test]
fn connections_beyond_max_connections_wait_for_one_to_close() {
    let dev = Dev::start("github", "s", &["--max-connections", "2"], &[]);
    // Two kept-alive connections, each answered once so the server surely holds both.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = connect(&dev);
        stream.write_all(GET).unwrap();
        let head = read_head(&mut stream, Duration::from_secs(10));
        assert!(head.starts_with("HTTP/1.1 "), "{head:?}\n{}", dev.stderr());
        held.push(stream);
    }
    let mut third = connect(&dev);
    third.write_all(GET).unwrap();
    let early = read_head(&mut third, Duration::from_secs(1));
    assert!(early.is_empty(), "a third connection was served: {early:?}");
    let closed_at = Instant::now();
    drop(held.remove(0));
    let head = read_head(&mut third, Duration::from_secs(10));
    assert!(head.starts_with("HTTP/1.1 "), "{head:?}\n{}", dev.stderr());
    assert!(closed_at.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn running_out_of_file_descriptors_neither_floods_the_log_nor_stops_serving() {
    let dev = Dev::start_with_file_limit("github", "s", 32);
    let banner = dev.wait_stderr("Ctrl-C to stop.").lines().count();
    // More connections than the server has descriptors: the rest wait in the accept queue,
    // and accepting fails until some close.
    let held: Vec<TcpStream> = (0..64).map(|_| connect(&dev)).collect();
    let logs = dev.wait_stderr("accept");
    assert!(logs.contains("accept"), "no accept failure logged:\n{logs}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let logs = dev.stderr();
    let lines = logs.lines().count() - banner;
    assert!(
        lines < 20,
        "{lines} log lines while out of descriptors; the first ones:\n{}",
        logs.lines().take(40).collect::<Vec<_>>().join("\n")
    );
    drop(held);
    let answer = tokio::time::timeout(Duration::from_secs(15), post(&dev.url("/"), &[], "{}"))
        .await
        .unwrap_or_else(|_| panic!("not served after the connections closed:\n{}", dev.stderr()));
    // Unsigned, so refused: the pipeline answered.
    assert!((400..500).contains(&answer.status), "{}", answer.status);
}
