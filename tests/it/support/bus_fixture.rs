//! The real `bootstrap` run as Lambda runs it (Runtime API emulator), with Secrets Manager,
//! EventBridge and SQS served by the shared moto: what arrives on the bus is read back through
//! an SQS target of a rule on the bus. Each fixture names its bus, queue, rule and secret for
//! itself. Also the providers' sample deliveries, correctly signed.

use std::time::{Duration, Instant};

use aws_sdk_eventbridge::types::Target;
use ebhook_handler::providers::{github, twilio, zendesk};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::function_url::HttpRequest;
use super::moto::{s3_client, unique};
use super::{Bootstrap, Moto, RuntimeApi};

/// A rule on `bus` sending every event from `source` to a new queue, both named after the bus;
/// the queue's URL.
pub async fn watch(
    events: &aws_sdk_eventbridge::Client,
    sqs: &aws_sdk_sqs::Client,
    bus: &str,
    source: &str,
) -> String {
    let (queue, rule) = (format!("{bus}-arrivals"), format!("{bus}-all"));
    let queue_url = sqs
        .create_queue()
        .queue_name(&queue)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    events
        .put_rule()
        .name(&rule)
        .event_bus_name(bus)
        .event_pattern(json!({"source": [source]}).to_string())
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule(&rule)
        .event_bus_name(bus)
        .targets(
            Target::builder()
                .id("queue")
                .arn(format!("arn:aws:sqs:us-east-1:123456789012:{queue}"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    queue_url
}

/// A bus with an SQS-backed rule for `ebhook.<provider>` events, a secret, and the handler
/// running against them, in the shared moto. Dropping it stops the handler and the Runtime API
/// emulator.
pub struct Fixture {
    pub moto: &'static Moto,
    /// The bus the handler puts events on; the other resources are named after it.
    pub bus: String,
    pub runtime: RuntimeApi,
    pub bootstrap: Bootstrap,
    pub events: aws_sdk_eventbridge::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub s3: aws_sdk_s3::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub queue_url: String,
    pub secret_arn: String,
}

/// Starts moto and the handler for `provider` with the secret set to `secret_value`;
/// `extra_env` adds to or overrides the handler's environment.
pub async fn fixture(provider: &str, secret_value: &str, extra_env: &[(&str, &str)]) -> Fixture {
    let moto = Moto::shared();
    let bus = unique("ebhook-it");
    let conf = moto.sdk_config().await;
    let events = aws_sdk_eventbridge::Client::new(&conf);
    let sqs = aws_sdk_sqs::Client::new(&conf);
    let s3 = s3_client(&conf);
    let secrets = aws_sdk_secretsmanager::Client::new(&conf);

    events.create_event_bus().name(&bus).send().await.unwrap();
    let queue_url = watch(&events, &sqs, &bus, &format!("ebhook.{provider}")).await;
    let secret_arn = secrets
        .create_secret()
        .name(format!("{bus}-{provider}"))
        .secret_string(secret_value)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();

    let runtime = RuntimeApi::start().await;
    let mut env = moto.env();
    for (k, v) in [
        ("EBHOOK_PROVIDER", provider),
        ("EBHOOK_EVENT_BUS", bus.as_str()),
        ("EBHOOK_SECRET_ARN", secret_arn.as_str()),
        ("EBHOOK_LOG", "info"),
    ]
    .into_iter()
    .chain(extra_env.iter().copied())
    {
        env.retain(|(name, _)| name != k);
        env.push((k.to_owned(), v.to_owned()));
    }
    let bootstrap = Bootstrap::spawn(&runtime.address(), &env);
    Fixture {
        moto,
        bus,
        runtime,
        bootstrap,
        events,
        sqs,
        s3,
        secrets,
        queue_url,
        secret_arn,
    }
}

impl Fixture {
    /// A name for another resource of this fixture's (a bucket, a queue): `<bus>-<what>`.
    pub fn name(&self, what: &str) -> String {
        format!("{}-{what}", self.bus)
    }

    /// Asserts that nothing has reached the bus. Exact at once, not after a wait: moto delivers
    /// an event to the rule's queue inside the PutEvents call, and the handler answers only
    /// after its PutEvents call, so whatever a request put is in the queue by its answer.
    pub async fn assert_nothing_arrived(&self) {
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(
                aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            )
            .send()
            .await
            .unwrap();
        let counts: Vec<_> = attributes
            .attributes()
            .into_iter()
            .flatten()
            .map(|(name, count)| format!("{}={count}", name.as_str()))
            .collect();
        assert!(
            attributes
                .attributes()
                .into_iter()
                .flatten()
                .all(|(_, count)| count == "0"),
            "something reached the bus: {counts:?}\n{}",
            self.bootstrap.output()
        );
    }

    /// Every event in the queue now, without waiting (see [`Fixture::assert_nothing_arrived`]
    /// for why that is exact).
    pub async fn arrived_so_far(&self) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            if received.messages().is_empty() {
                return events;
            }
            for message in received.messages() {
                events.push(serde_json::from_str(message.body().unwrap()).unwrap());
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }

    /// Invokes the handler with `request` as a function URL delivers it; its response.
    pub async fn send(&self, request: &HttpRequest) -> Value {
        self.send_event(request.to_event()).await
    }

    /// Invokes the handler with a function URL event as given (to send what
    /// [`HttpRequest::to_event`] would not produce); its response.
    pub async fn send_event(&self, event: Value) -> Value {
        match self.runtime.invoke(event).await {
            Ok(response) => response,
            Err(e) => panic!(
                "invocation failed: {e}\n--- handler output ---\n{}",
                self.bootstrap.output()
            ),
        }
    }

    /// Every event that reaches the bus within `wait`, as EventBridge delivers them.
    pub async fn arrivals(&self, expected: usize, wait: Duration) -> Vec<Value> {
        let deadline = Instant::now() + wait;
        let mut events = Vec::new();
        while Instant::now() < deadline {
            for body in take_batch(&self.sqs, &self.queue_url).await {
                events.push(serde_json::from_str(&body).unwrap());
            }
            if expected > 0 && events.len() >= expected {
                break;
            }
        }
        events
    }

    /// Puts a new value in the secret.
    pub async fn set_secret(&self, value: &str) {
        self.secrets
            .put_secret_value()
            .secret_id(&self.secret_arn)
            .secret_string(value)
            .send()
            .await
            .unwrap();
    }
}

/// A GitHub `ping` delivery signed with `secret`.
pub fn github_ping(secret: &str) -> HttpRequest {
    let body = br#"{"zen":"Design for failure.","hook_id":42,"hook":{"type":"Repository"}}"#;
    HttpRequest::post(
        &[
            ("Content-Type", "application/json"),
            ("User-Agent", "GitHub-Hookshot/044aadd"),
            ("X-GitHub-Event", "ping"),
            ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
            ("X-GitHub-Hook-ID", "42"),
        ],
        body.to_vec(),
    )
    .header(
        "X-Hub-Signature-256",
        &github::sign(secret.as_bytes(), body),
    )
}

/// A Zendesk `ticket.created` event signed with `secret` at `at`.
pub fn zendesk_event(secret: &str, at: OffsetDateTime) -> HttpRequest {
    let body = br#"{"type":"zen:event-type:ticket.created","account_id":22129848,"id":"cbe4028c-7239-495d-b020-f22348516046","time":"2026-11-22T12:00:00Z","zendesk_event_version":"2022-11-06","subject":"zen:ticket:1","detail":{"id":"1","subject":"Help"},"event":{}}"#;
    let ts = at.format(&Rfc3339).unwrap();
    HttpRequest::post(
        &[
            ("Content-Type", "application/json"),
            ("X-Zendesk-Webhook-Id", "01GWD8VAQ3SS0C6FTYG8B5RCQ4"),
            ("X-Zendesk-Webhook-Invocation-Id", "8350205582"),
            ("X-Zendesk-Account-Id", "22129848"),
            ("X-Zendesk-Webhook-Signature-Timestamp", &ts),
        ],
        body.to_vec(),
    )
    .header(
        "X-Zendesk-Webhook-Signature",
        &zendesk::sign(secret.as_bytes(), &ts, body),
    )
}

/// A Twilio incoming-SMS form callback to `/sms?tenant=acme&x=1`, signed with `token`.
pub fn twilio_sms(token: &str) -> HttpRequest {
    let params = [
        ("AccountSid", "AC0123"),
        ("Body", "Hello & welcome"),
        ("From", "+14155550100"),
        ("MessageSid", "SM0123"),
        ("SmsStatus", "received"),
        ("To", "+14155550199"),
        ("MediaUrl0", "https://api.twilio.com/a"),
    ];
    let body = params
        .iter()
        .fold(form_urlencoded_serializer(), |mut s, (k, v)| {
            s.append_pair(k, v);
            s
        })
        .finish();
    let mut request = HttpRequest::post(
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("I-Twilio-Idempotency-Token", "idem-0123"),
        ],
        body.into_bytes(),
    );
    request.path = "/sms".into();
    request.query = "tenant=acme&x=1".into();
    let pairs = params.iter().map(|(k, v)| {
        (
            std::borrow::Cow::Borrowed(*k),
            std::borrow::Cow::Borrowed(*v),
        )
    });
    let signature = twilio::sign(token.as_bytes(), &request.url(), pairs);
    request.header("X-Twilio-Signature", &signature)
}

pub fn form_urlencoded_serializer() -> form_urlencoded::Serializer<'static, String> {
    form_urlencoded::Serializer::new(String::new())
}

/// A function URL response's body parsed as JSON (`null` if it is not JSON).
pub fn response_body(response: &Value) -> Value {
    serde_json::from_str(response["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

/// Up to ten message bodies from the queue (waiting up to a second for the first), each
/// deleted once read.
pub async fn take_batch(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<String> {
    let received = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    let mut bodies = Vec::new();
    for message in received.messages() {
        bodies.push(message.body().unwrap().to_owned());
        sqs.delete_message()
            .queue_url(url)
            .receipt_handle(message.receipt_handle().unwrap())
            .send()
            .await
            .unwrap();
    }
    bodies
}

/// Every message body in the queue, removed from it: batches until one comes back empty.
pub async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    loop {
        let batch = take_batch(sqs, url).await;
        if batch.is_empty() {
            return bodies;
        }
        bodies.extend(batch);
    }
}
