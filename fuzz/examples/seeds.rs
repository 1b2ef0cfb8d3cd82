//! Writes the seed inputs of every fuzz target into `fuzz/corpus/<target>/seed-*`:
//!
//! ```sh
//! cargo +nightly run --manifest-path fuzz/Cargo.toml --example seeds
//! ```
//!
//! Structured inputs are written as the bytes their `Arbitrary` derive reads (fixed-size fields
//! first, absent options as a zero byte, the body last and raw), and each is read back and
//! compared with the input it stands for, so a change to an input type cannot go unnoticed.
//! Seeds are the published provider vectors and realistic deliveries; `cargo fuzz cmin` keeps
//! those that add coverage.

use std::fmt::Debug;
use std::fs;
use std::path::{Path, PathBuf};

use arbitrary::{Arbitrary, Unstructured};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ebhook_fuzz::function_url_event::SECRET;
use ebhook_fuzz::{
    Bytes, entry_builder, form_query, verify_github, verify_gitlab, verify_shopify, verify_slack,
    verify_standard_webhooks, verify_stripe, verify_twilio, verify_twilio_shared_key,
    verify_zendesk,
};
use ebhook_handler::providers::{github, twilio};
use serde_json::{Value, json};

/// Field bytes in the order a derived `Arbitrary` reads them.
#[derive(Default)]
struct Seed(Vec<u8>);

impl Seed {
    fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    fn bool(self, v: bool) -> Self {
        self.u8(u8::from(v))
    }
    fn int(mut self, le_bytes: &[u8]) -> Self {
        self.0.extend_from_slice(le_bytes);
        self
    }
    /// Absent options.
    fn none(mut self, n: usize) -> Self {
        self.0.extend(std::iter::repeat_n(0, n));
        self
    }
    fn rest(mut self, body: &[u8]) -> Vec<u8> {
        self.0.extend_from_slice(body);
        self.0
    }
}

struct Writer {
    root: PathBuf,
}

impl Writer {
    fn raw(&self, target: &str, name: &str, bytes: &[u8]) {
        let dir = self.root.join(target);
        fs::create_dir_all(&dir).expect("corpus directory");
        fs::write(dir.join(format!("seed-{name}")), bytes).expect("seed written");
    }

    /// Write `bytes` after checking they read back as `expected`.
    fn structured<T>(&self, target: &str, name: &str, bytes: Vec<u8>, expected: &T)
    where
        T: for<'a> Arbitrary<'a> + Debug + PartialEq,
    {
        let read = T::arbitrary_take_rest(Unstructured::new(&bytes)).expect("seed reads");
        assert_eq!(
            &read, expected,
            "seed {target}/{name} reads back as another input"
        );
        self.raw(target, name, &bytes);
    }
}

fn zendesk(w: &Writer) {
    use verify_zendesk::Input;
    let t = "verify_zendesk";
    // vector, skew (i16), tolerance?, previous, expired, test secret, flip_at (u16), flip_mask,
    // 5 options, custom_body, body.
    let seed = |vector: u8, skew: [u8; 2], previous: bool, test: bool, body: Option<&[u8]>| {
        Seed::default()
            .u8(vector)
            .int(&skew)
            .none(1)
            .bool(previous)
            .bool(false)
            .bool(test)
            .int(&[0, 0])
            .u8(0)
            .none(5)
            .bool(body.is_some())
            .rest(body.unwrap_or_default())
    };
    let input = |vector: u8, skew: i16, previous: bool, test: bool, body: Option<&[u8]>| Input {
        vector,
        skew_seconds: skew,
        previous_slot: previous,
        accept_test_secret: test,
        custom_body: body.is_some(),
        body: Bytes(body.unwrap_or_default().to_vec()),
        ..Input::default()
    };
    for v in 0..verify_zendesk::VECTORS.len() as u8 {
        w.structured(
            t,
            &format!("vector-{v}"),
            seed(v, [0, 0], false, false, None),
            &input(v, 0, false, false, None),
        );
    }
    w.structured(
        t,
        "test-secret",
        seed(0, [0, 0], false, true, None),
        &input(0, 0, false, true, None),
    );
    w.structured(
        t,
        "previous-slot",
        seed(3, [0, 0], true, false, None),
        &input(3, 0, true, false, None),
    );
    // 0x0202 = 514 s: outside the default window of 300 s.
    w.structured(
        t,
        "stale",
        seed(3, [2, 2], false, false, None),
        &input(3, 514, false, false, None),
    );
    let body: &[u8] = br#"{"type":"zen:event-type:user.created","account_id":1,"detail":{"id":"7","email":"a@example.com"},"event":{},"id":"e-1","subject":"zen:user:7","time":"2026-11-22T12:00:00Z","zendesk_event_version":"2022-11-06"}"#;
    w.structured(
        t,
        "user-created",
        seed(3, [0, 0], false, false, Some(body)),
        &input(3, 0, false, false, Some(body)),
    );
    let xml: &[u8] = b"<ticket><id>5</id><status>open</status></ticket>";
    w.structured(
        t,
        "trigger-xml",
        seed(3, [0, 0], false, false, Some(xml)),
        &input(3, 0, false, false, Some(xml)),
    );
}

fn github_seeds(w: &Writer) {
    use verify_github::Input;
    let t = "verify_github";
    // vector, style, previous, expired, flip_at (u16), flip_mask, 4 options, custom_body, body.
    let seed = |vector: u8, style: u8, previous: bool, body: Option<&[u8]>| {
        Seed::default()
            .u8(vector)
            .u8(style)
            .bool(previous)
            .bool(false)
            .int(&[0, 0])
            .u8(0)
            .none(4)
            .bool(body.is_some())
            .rest(body.unwrap_or_default())
    };
    let input = |vector: u8, style: u8, previous: bool, body: Option<&[u8]>| Input {
        vector,
        style,
        previous_slot: previous,
        custom_body: body.is_some(),
        body: Bytes(body.unwrap_or_default().to_vec()),
        ..Input::default()
    };
    for v in 0..verify_github::VECTORS.len() as u8 {
        for style in 0..4 {
            w.structured(
                t,
                &format!("vector-{v}-style-{style}"),
                seed(v, style, false, None),
                &input(v, style, false, None),
            );
        }
    }
    w.structured(
        t,
        "previous-slot",
        seed(2, 0, true, None),
        &input(2, 0, true, None),
    );
    let form: &[u8] = b"payload=%7B%22zen%22%3A%22Design+for+failure.%22%2C%22hook_id%22%3A1%7D";
    w.structured(
        t,
        "form-payload",
        seed(2, 0, false, Some(form)),
        &input(2, 0, false, Some(form)),
    );
}

fn twilio_seeds(w: &Writer) {
    use verify_twilio::Input;
    let t = "verify_twilio";
    // vector, previous, expired, plain_http, port, shuffle (u64), flip_at (u16), flip_mask,
    // 9 options, custom_body, body.
    let seed = |vector: u8, port: u8, http: bool, shuffle: u8, body: Option<&[u8]>| {
        Seed::default()
            .u8(vector)
            .bool(false)
            .bool(false)
            .bool(http)
            .u8(port)
            .int(&[shuffle, 0, 0, 0, 0, 0, 0, 0])
            .int(&[0, 0])
            .u8(0)
            .none(9)
            .bool(body.is_some())
            .rest(body.unwrap_or_default())
    };
    let input = |vector: u8, port: u8, http: bool, shuffle: u8, body: Option<&[u8]>| Input {
        vector,
        plain_http: http,
        port,
        shuffle: u64::from(shuffle),
        custom_body: body.is_some(),
        body: Bytes(body.unwrap_or_default().to_vec()),
        ..Input::default()
    };
    for v in 0..verify_twilio::VECTORS.len() as u8 {
        for port in 0..4 {
            w.structured(
                t,
                &format!("vector-{v}-port-{port}"),
                seed(v, port, false, 7, None),
                &input(v, port, false, 7, None),
            );
        }
    }
    w.structured(
        t,
        "plain-http",
        seed(4, 1, true, 0, None),
        &input(4, 1, true, 0, None),
    );
    let status: &[u8] = b"MessageSid=SM1&MessageStatus=delivered&AccountSid=AC1&From=%2B15005550006&To=%2B14155551234&ErrorCode=";
    w.structured(
        t,
        "status-callback",
        seed(5, 0, false, 0, Some(status)),
        &input(5, 0, false, 0, Some(status)),
    );
    let cloudevents: &[u8] = br#"[{"specversion":"1.0","type":"com.twilio.messaging.message.delivered","source":"/2010-04-01/Accounts/AC1/Messages/SM1.json","id":"EZ1","dataschema":"https://events-schemas.twilio.com/Messaging.MessageStatus/1","datacontenttype":"application/json","time":"2026-11-22T12:00:00.000Z","data":{"to":"+15005550006","messageStatus":"DELIVERED"}}]"#;
    w.structured(
        t,
        "event-streams",
        seed(2, 0, false, 0, Some(cloudevents)),
        &input(2, 0, false, 0, Some(cloudevents)),
    );
}

fn stripe_seeds(w: &Writer) {
    use verify_stripe::Input;
    let t = "verify_stripe";
    // vector, style, skew (i16), tolerance?, previous, expired, flip_at (u16), flip_mask,
    // 4 options, custom_body, body.
    let seed =
        |vector: u8, style: u8, skew: i16, previous: bool, expired: bool, body: Option<&[u8]>| {
            Seed::default()
                .u8(vector)
                .u8(style)
                .int(&skew.to_le_bytes())
                .none(1)
                .bool(previous)
                .bool(expired)
                .int(&[0, 0])
                .u8(0)
                .none(4)
                .bool(body.is_some())
                .rest(body.unwrap_or_default())
        };
    let input =
        |vector: u8, style: u8, skew: i16, previous: bool, expired: bool, body: Option<&[u8]>| {
            Input {
                vector,
                style,
                skew_seconds: skew,
                previous_slot: previous,
                previous_expired: expired,
                custom_body: body.is_some(),
                body: Bytes(body.unwrap_or_default().to_vec()),
                ..Input::default()
            }
        };
    let write = |name: &str, vector, style, skew, previous, expired, body| {
        w.structured(
            t,
            name,
            seed(vector, style, skew, previous, expired, body),
            &input(vector, style, skew, previous, expired, body),
        );
    };
    for v in 0..verify_stripe::VECTORS.len() as u8 {
        for style in 0..6 {
            write(
                &format!("vector-{v}-style-{style}"),
                v,
                style,
                0,
                false,
                false,
                None,
            );
        }
    }
    write("previous-slot", 2, 0, 0, true, false, None);
    write("previous-expired", 2, 0, 0, true, true, None);
    write("stale", 0, 0, 514, false, false, None);
    write("future", 0, 0, -514, false, false, None);
    let session: &[u8] = br#"{"id":"evt_1Q2w3E4r","object":"event","type":"checkout.session.completed","data":{"object":{"id":"cs_test_a1","object":"checkout.session","amount_total":1500,"currency":"eur","customer_details":{"email":"a@example.com"}}}}"#;
    write("checkout-session", 2, 0, 0, false, false, Some(session));
}

fn slack_seeds(w: &Writer) {
    use verify_slack::Input;
    let t = "verify_slack";
    // vector, style, skew (i16), tolerance?, previous, expired, flip_at (u16), flip_mask,
    // 5 options, custom_body, body.
    let seed = |vector: u8, style: u8, skew: i16, previous: bool, body: Option<&[u8]>| {
        Seed::default()
            .u8(vector)
            .u8(style)
            .int(&skew.to_le_bytes())
            .none(1)
            .bool(previous)
            .bool(false)
            .int(&[0, 0])
            .u8(0)
            .none(5)
            .bool(body.is_some())
            .rest(body.unwrap_or_default())
    };
    let input = |vector: u8, style: u8, skew: i16, previous: bool, body: Option<&[u8]>| Input {
        vector,
        style,
        skew_seconds: skew,
        previous_slot: previous,
        custom_body: body.is_some(),
        body: Bytes(body.unwrap_or_default().to_vec()),
        ..Input::default()
    };
    let write = |name: &str, vector, style, skew, previous, body| {
        w.structured(
            t,
            name,
            seed(vector, style, skew, previous, body),
            &input(vector, style, skew, previous, body),
        );
    };
    for v in 0..verify_slack::VECTORS.len() as u8 {
        for style in 0..3 {
            write(
                &format!("vector-{v}-style-{style}"),
                v,
                style,
                0,
                false,
                None,
            );
        }
    }
    write("previous-slot", 5, 0, 0, true, None);
    write("stale", 5, 0, 301, false, None);
    write("future", 5, 0, -301, false, None);
    let command: &[u8] = b"token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=example&channel_id=C2147483705&channel_name=test&user_id=U2147483697&user_name=Steve&command=%2Fweather&text=94070&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234%2F5678&trigger_id=13345224609.738474920.8088930838d88f008e0";
    write("slash-command", 5, 0, 0, false, Some(command));
}

fn shopify_seeds(w: &Writer) {
    use verify_shopify::Input;
    let t = "verify_shopify";
    // vector, style, tolerance (u16), previous, expired, flip_at (u16), flip_mask, 4 options,
    // custom_body, body.
    let seed = |vector: u8, style: u8, previous: bool, expired: bool, body: Option<&[u8]>| {
        Seed::default()
            .u8(vector)
            .u8(style)
            .int(&[0, 0])
            .bool(previous)
            .bool(expired)
            .int(&[0, 0])
            .u8(0)
            .none(4)
            .bool(body.is_some())
            .rest(body.unwrap_or_default())
    };
    let input = |vector: u8, style: u8, previous: bool, expired: bool, body: Option<&[u8]>| Input {
        vector,
        style,
        previous_slot: previous,
        previous_expired: expired,
        custom_body: body.is_some(),
        body: Bytes(body.unwrap_or_default().to_vec()),
        ..Input::default()
    };
    let write = |name: &str, vector, style, previous, expired, body| {
        w.structured(
            t,
            name,
            seed(vector, style, previous, expired, body),
            &input(vector, style, previous, expired, body),
        );
    };
    for v in 0..verify_shopify::VECTORS.len() as u8 {
        for style in 0..2 {
            write(
                &format!("vector-{v}-style-{style}"),
                v,
                style,
                false,
                false,
                None,
            );
        }
    }
    write("previous-slot", 2, 0, true, false, None);
    write("previous-expired", 2, 0, true, true, None);
    let customer: &[u8] = br#"{"id":706405506930370084,"email":"bob@biller.com","first_name":"Bob","last_name":"Biller","state":"disabled","tags":"","currency":"USD","addresses":[]}"#;
    write("customers-create", 2, 0, false, false, Some(customer));
    write("empty-body", 2, 0, false, false, Some(b""));
}

fn standard_webhooks_seeds(w: &Writer) {
    use verify_standard_webhooks::Input;
    let t = "verify_standard_webhooks";
    // vector, style, secret_style, skew (i16), tolerance?, previous, expired, flip_at (u16),
    // flip_mask, 7 options, custom_body, body.
    let seed = |vector: u8,
                style: u8,
                secret_style: u8,
                skew: i16,
                previous: bool,
                body: Option<&[u8]>| {
        Seed::default()
            .u8(vector)
            .u8(style)
            .u8(secret_style)
            .int(&skew.to_le_bytes())
            .none(1)
            .bool(previous)
            .bool(false)
            .int(&[0, 0])
            .u8(0)
            .none(7)
            .bool(body.is_some())
            .rest(body.unwrap_or_default())
    };
    let input = |vector: u8,
                 style: u8,
                 secret_style: u8,
                 skew: i16,
                 previous: bool,
                 body: Option<&[u8]>| Input {
        vector,
        style,
        secret_style,
        skew_seconds: skew,
        previous_slot: previous,
        custom_body: body.is_some(),
        body: Bytes(body.unwrap_or_default().to_vec()),
        ..Input::default()
    };
    let write = |name: &str, vector, style, secret_style, skew, previous, body| {
        w.structured(
            t,
            name,
            seed(vector, style, secret_style, skew, previous, body),
            &input(vector, style, secret_style, skew, previous, body),
        );
    };
    for v in 0..verify_standard_webhooks::VECTORS.len() as u8 {
        for style in 0..4 {
            write(
                &format!("vector-{v}-style-{style}"),
                v,
                style,
                0,
                0,
                false,
                None,
            );
        }
        for secret_style in 1..4 {
            write(
                &format!("vector-{v}-secret-{secret_style}"),
                v,
                0,
                secret_style,
                0,
                false,
                None,
            );
        }
    }
    write("previous-slot", 2, 0, 0, 0, true, None);
    write("stale", 1, 0, 0, 301, false, None);
    write("future", 1, 0, 0, -301, false, None);
    let svix: &[u8] = br#"{"type":"message.attempt.exhausted","timestamp":"2026-11-22T12:00:00Z","data":{"appId":"app_1srOrx2ZWZBpBUvZwXKQmoEYga2","msgId":"msg_p5jXN8AQM9LWM0D4loKWxJek","lastAttempt":{"responseStatusCode":500}}}"#;
    write("svix-event", 2, 0, 0, 0, false, Some(svix));
}

fn gitlab_seeds(w: &Writer) {
    use verify_gitlab::Input;
    let t = "verify_gitlab";
    // vector, signing, other_signing, both, skew (i16), tolerance?, previous, expired,
    // flip_at (u16), flip_mask, 7 options, custom_body, body.
    let seed = |vector: u8,
                other_signing: bool,
                both: bool,
                skew: i16,
                previous: bool,
                body: Option<&[u8]>| {
        Seed::default()
            .u8(vector)
            .bool(false)
            .bool(other_signing)
            .bool(both)
            .int(&skew.to_le_bytes())
            .none(1)
            .bool(previous)
            .bool(false)
            .int(&[0, 0])
            .u8(0)
            .none(7)
            .bool(body.is_some())
            .rest(body.unwrap_or_default())
    };
    let input = |vector: u8,
                 other_signing: bool,
                 both: bool,
                 skew: i16,
                 previous: bool,
                 body: Option<&[u8]>| Input {
        vector,
        other_signing,
        both,
        skew_seconds: skew,
        previous_slot: previous,
        custom_body: body.is_some(),
        body: Bytes(body.unwrap_or_default().to_vec()),
        ..Input::default()
    };
    let write = |name: &str, vector, other_signing, both, skew, previous, body| {
        w.structured(
            t,
            name,
            seed(vector, other_signing, both, skew, previous, body),
            &input(vector, other_signing, both, skew, previous, body),
        );
    };
    for v in 0..verify_gitlab::VECTORS.len() as u8 {
        write(&format!("vector-{v}"), v, false, false, 0, false, None);
        // The other secret of the other kind, sent too and kept as the current one.
        let other_signing = v % 2 == 1;
        write(
            &format!("vector-{v}-both"),
            v,
            other_signing,
            true,
            0,
            false,
            None,
        );
        write(
            &format!("vector-{v}-rotation"),
            v,
            other_signing,
            false,
            0,
            true,
            None,
        );
    }
    write("stale", 0, false, false, 301, false, None);
    write("future", 2, false, false, -301, false, None);
    let merge: &[u8] = br#"{"object_kind":"merge_request","event_type":"merge_request","user":{"username":"root"},"project":{"id":1,"path_with_namespace":"gitlabhq/gitlab-test"},"object_attributes":{"id":99,"iid":1,"action":"open","state":"opened","source_branch":"ms-viewport","target_branch":"master"}}"#;
    write("merge-request", 3, false, false, 0, false, Some(merge));
    write(
        "merge-request-signed",
        2,
        false,
        false,
        0,
        false,
        Some(merge),
    );
}

fn twilio_shared_key_seeds(w: &Writer) {
    use verify_twilio_shared_key::Input;
    let t = "verify_twilio_shared_key";
    // algorithm, spelling, 2 options, then a `verify_twilio` input: vector, previous, expired,
    // plain_http, port, shuffle (u64), flip_at (u16), flip_mask, 9 options, custom_body, body.
    let seed = |algorithm: u8, spelling: u8, vector: u8, port: u8| {
        Seed::default()
            .u8(algorithm)
            .u8(spelling)
            .none(2)
            .u8(vector)
            .bool(false)
            .bool(false)
            .bool(false)
            .u8(port)
            .int(&[7, 0, 0, 0, 0, 0, 0, 0])
            .int(&[0, 0])
            .u8(0)
            .none(9)
            .bool(false)
            .rest(b"")
    };
    let input = |algorithm: u8, spelling: u8, vector: u8, port: u8| Input {
        algorithm,
        spelling,
        twilio: verify_twilio::Input {
            vector,
            port,
            shuffle: 7,
            ..verify_twilio::Input::default()
        },
        ..Input::default()
    };
    for algorithm in 0..6 {
        for vector in [0, 2, 4, 5] {
            w.structured(
                t,
                &format!("algorithm-{algorithm}-vector-{vector}"),
                seed(algorithm, 0, vector, 0),
                &input(algorithm, 0, vector, 0),
            );
        }
    }
    for spelling in [1, 2, 4, 8, 15, 0x1f, 0x2f, 0x3f, 0x4f, 0x5f] {
        w.structured(
            t,
            &format!("spelling-{spelling:02x}"),
            seed(if spelling > 0x0f { 2 } else { 0 }, spelling, 0, 1),
            &input(if spelling > 0x0f { 2 } else { 0 }, spelling, 0, 1),
        );
    }
}

fn entry_seeds(w: &Writer) {
    use entry_builder::{CONTENT_TYPES, Input};
    let t = "entry_builder";
    let ct = |name: &str| {
        CONTENT_TYPES
            .iter()
            .position(|c| *c == name)
            .expect("a listed type") as u8
    };
    let mut n = 0;
    let mut seed = |provider: u8, method: u8, content_type: u8, body: &[u8]| {
        // provider, method, content type, bare, 7 options, body.
        let bytes = Seed::default()
            .u8(provider)
            .u8(method)
            .u8(content_type)
            .bool(false)
            .none(7)
            .rest(body);
        let input = Input {
            provider,
            method,
            content_type,
            body: Bytes(body.to_vec()),
            ..Input::default()
        };
        n += 1;
        w.structured(t, &format!("{n:02}"), bytes, &input);
    };
    let json = ct("application/json");
    let form = ct("application/x-www-form-urlencoded");
    // Provider indexes follow Provider::ALL: 0 Zendesk, 1 GitHub, 2 Twilio.
    seed(1, 0, json, br#"{"zen":"Keep it logically awesome.","hook_id":42,"hook":{"type":"Repository","events":["push"]}}"#);
    seed(
        1,
        0,
        form,
        b"payload=%7B%22action%22%3A%22opened%22%2C%22number%22%3A7%7D",
    );
    seed(1, 0, 0, b"");
    seed(1, 0, ct("text/plain"), b"hello");
    seed(0, 0, json, br#"{"type":"zen:event-type:ticket.created","account_id":1,"id":"e1","detail":{"id":"5","tags":["a","b"]},"n":-1.5e3}"#);
    seed(0, 2, ct("application/xml"), b"<ticket><id>1</id></ticket>");
    seed(0, 0, ct("application/octet-stream"), b"\xff\x00\x10binary");
    seed(0, 3, form, b"a=1&b=x+y&a=2&ebhook=mine");
    seed(0, 4, 0, b"");
    seed(0, 0, json, br#"[1,"two",{"three":3},null,true]"#);
    seed(0, 0, json, br#"{"ebhook":"mine","x":{"y":[]}}"#);
    seed(0, 0, ct("APPLICATION/JSON"), b" \"text\" ");
    seed(
        2,
        0,
        form,
        b"MessageSid=SM1&SmsStatus=received&Body=hi+there&MediaUrl0=a&MediaUrl0=b&NumMedia=2",
    );
    seed(
        2,
        0,
        form,
        b"CallSid=CA1&CallStatus=ringing&RecordingSid=RE1&RecordingStatus=completed",
    );
    seed(
        2,
        0,
        form,
        b"TranscriptionSid=TR1&TranscriptionStatus=completed&TranscriptionText=hello",
    );
    seed(2, 0, ct("application/json; charset=utf-8"), br#"[{"specversion":"1.0","type":"com.twilio.messaging.message.delivered","id":"EZ1","data":{"to":"+1"}},{"specversion":"1.0","type":"com.twilio.messaging.message.sent","id":"EZ2","data":{}}]"#);
    seed(
        2,
        0,
        ct("application/cloudevents-batch+json"),
        br#"{"type":"x.y","id":"EZ3"}"#,
    );
    seed(2, 1, 0, b"");
}

fn form_seeds(w: &Writer) {
    use form_query::Input;
    let t = "form_query";
    for (name, raw) in [
        ("voice", &b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212"[..]),
        ("repeated", b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234"),
        ("sms", b"ToCountry=US&SmsSid=SM1&Body=Hello+from+Twilio+%26+friends%3A+100%25+%E2%9C%93&From=%2B14155551234&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2Fmedia%2FME1"),
        ("body-hash", b"foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"),
        ("odd", b"&&=&a&b=&=c&%zz=%E2%28&+=+&ebhook=x"),
        ("url", b"https://mycompany.com:443/myapp.php?foo=1&bar=2"),
        ("ipv6", b"https://[::1]:8443/x?y=1"),
    ] {
        // shuffle (u64), 3 options, raw.
        let bytes = Seed::default().int(&[3, 0, 0, 0, 0, 0, 0, 0]).none(3).rest(raw);
        let input = Input {
            shuffle: 3,
            raw: Bytes(raw.to_vec()),
            ..Input::default()
        };
        w.structured(t, name, bytes, &input);
    }
}

/// A function URL event (payload format 2.0) for a request, as Lambda builds it: header names
/// lower-case, JSON and text bodies as text, anything else base64.
fn event(method: &str, path: &str, query: &str, headers: &[(&str, &str)], body: &[u8]) -> Value {
    let host = "abcdefghijklmnop.lambda-url.us-east-1.on.aws";
    let mut map = serde_json::Map::new();
    map.insert("host".into(), json!(host));
    for (k, v) in headers {
        map.insert(k.to_ascii_lowercase(), json!(v));
    }
    let ct = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map_or("", |(_, v)| *v);
    let textual = ct.starts_with("application/json") || ct.starts_with("text/");
    let (text, base64) = match std::str::from_utf8(body) {
        Ok(t) if textual => (t.to_owned(), false),
        _ => (B64.encode(body), true),
    };
    let mut e = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": map,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefghijklmnop",
            "domainName": host,
            "domainPrefix": "abcdefghijklmnop",
            "requestId": "11111111-2222-3333-4444-555555555555",
            "routeKey": "$default",
            "stage": "$default",
            "time": "22/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1_795_000_000_000_i64,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "test"}
        },
        "isBase64Encoded": base64
    });
    if !body.is_empty() {
        e["body"] = json!(text);
    }
    e
}

fn function_url_seeds(w: &Writer) {
    let t = "function_url_event";
    let secret = SECRET.as_bytes();
    let host = "https://abcdefghijklmnop.lambda-url.us-east-1.on.aws";
    let write = |name: &str, e: Value| {
        w.raw(
            t,
            name,
            serde_json::to_string_pretty(&e).expect("JSON").as_bytes(),
        );
    };

    let ping = br#"{"zen":"Keep it logically awesome.","hook_id":42,"hook":{"type":"Repository","active":true,"events":["push"]}}"#;
    let sig = github::sign(secret, ping);
    write(
        "github-ping",
        event(
            "POST",
            "/",
            "",
            &[
                ("content-type", "application/json"),
                ("x-github-event", "ping"),
                ("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
                ("x-github-hook-id", "42"),
                (github::SIGNATURE_HEADER, &sig),
            ],
            ping,
        ),
    );
    let form = b"payload=%7B%22action%22%3A%22opened%22%7D";
    let sig = github::sign(secret, form);
    write(
        "github-form",
        event(
            "POST",
            "/",
            "",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("x-github-event", "issues"),
                (github::SIGNATURE_HEADER, &sig),
            ],
            form,
        ),
    );
    write("github-get", event("GET", "/", "", &[], b""));
    let mut bad = event(
        "POST",
        "/",
        "",
        &[("content-type", "application/json")],
        b"",
    );
    bad["body"] = json!("aGk");
    bad["isBase64Encoded"] = json!(true);
    write("bad-base64", bad);

    let zd = br#"{"type":"zen:event-type:ticket.created","account_id":22129848,"id":"cbe4028c","time":"2026-11-22T12:00:00Z","detail":{"id":"5","subject":"Printer on fire"}}"#;
    write(
        "zendesk-event",
        event(
            "POST",
            "/",
            "",
            &[
                ("content-type", "application/json"),
                ("x-zendesk-webhook-id", "01GX"),
                ("x-zendesk-webhook-invocation-id", "8347312397"),
                ("x-zendesk-account-id", "22129848"),
                (
                    "x-zendesk-webhook-signature",
                    "S/RDdU2ERmj7LHDDoWJ2onPYH+t7/f2+LTM4dL7UiLM=",
                ),
                (
                    "x-zendesk-webhook-signature-timestamp",
                    "2021-03-25T05:09:27Z",
                ),
            ],
            zd,
        ),
    );
    write(
        "zendesk-xml-put",
        event(
            "PUT",
            "/",
            "",
            &[("content-type", "application/xml")],
            b"<ticket><id>1</id></ticket>",
        ),
    );
    write(
        "zendesk-binary",
        event(
            "POST",
            "/",
            "",
            &[("content-type", "application/octet-stream")],
            b"\xff\xfe\x00\x80",
        ),
    );

    let sms = b"ToCountry=US&SmsSid=SM1&SmsStatus=received&Body=hi+there&MessageSid=SM1&From=%2B14155551234&To=%2B15005550006";
    let params: Vec<_> = form_urlencoded::parse(sms).collect();
    let sig = twilio::sign(secret, &format!("{host}/twilio"), params);
    write(
        "twilio-sms",
        event(
            "POST",
            "/twilio",
            "",
            &[
                (
                    "content-type",
                    "application/x-www-form-urlencoded; charset=UTF-8",
                ),
                ("i-twilio-idempotency-token", "0b4b8d5e"),
                (twilio::SIGNATURE_HEADER, &sig),
            ],
            sms,
        ),
    );
    let batch = br#"[{"specversion":"1.0","type":"com.twilio.messaging.message.delivered","id":"EZ1","data":{"to":"+1"}},{"specversion":"1.0","type":"com.twilio.messaging.message.sent","id":"EZ2","data":{}}]"#;
    let query = format!(
        "sink=1&{}={}",
        twilio::BODY_HASH_PARAM,
        twilio::body_hash(batch)
    );
    let sig = twilio::sign(secret, &format!("{host}/?{query}"), std::iter::empty());
    write(
        "twilio-event-streams",
        event(
            "POST",
            "/",
            &query,
            &[
                ("content-type", "application/json"),
                (twilio::SIGNATURE_HEADER, &sig),
            ],
            batch,
        ),
    );
    let query = "CallSid=CA9&CallStatus=completed&From=%2B1555";
    let sig = twilio::sign(
        secret,
        &format!("{host}:443/voice?{query}"),
        std::iter::empty(),
    );
    write(
        "twilio-get-port",
        event(
            "GET",
            "/voice",
            query,
            &[(twilio::SIGNATURE_HEADER, &sig)],
            b"",
        ),
    );
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let w = Writer { root };
    zendesk(&w);
    github_seeds(&w);
    twilio_seeds(&w);
    stripe_seeds(&w);
    slack_seeds(&w);
    shopify_seeds(&w);
    standard_webhooks_seeds(&w);
    gitlab_seeds(&w);
    twilio_shared_key_seeds(&w);
    entry_seeds(&w);
    form_seeds(&w);
    function_url_seeds(&w);
    println!("seeds written under {}", w.root.display());
}
