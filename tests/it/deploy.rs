//! `ebhook init`, `status` and `teardown` against moto: every resource read back with the SDK.

use aws_sdk_lambda::error::ProvideErrorMetadata;
use serde_json::Value;

use crate::support::Moto;
use crate::support::cli::ebhook;
use crate::support::moto::{assert_locked_and_logged, s3_client};
use crate::support::process::prebuilt;
use crate::support::stack::artifacts;

struct Deployed {
    url: String,
    stack: String,
    bus: String,
    bus_arn: String,
    function: String,
    secret_arn: String,
}

fn deployed(json: &Value) -> Deployed {
    let s = |k: &str| {
        json[k]
            .as_str()
            .unwrap_or_else(|| panic!("no {k} in {json}"))
            .to_owned()
    };
    Deployed {
        url: s("url"),
        stack: s("stack"),
        bus: s("eventBus"),
        bus_arn: s("eventBusArn"),
        function: s("function"),
        secret_arn: s("secretArn"),
    }
}

/// Everything `init` promises, read back with the SDK.
async fn check_resources(moto: &Moto, d: &Deployed, provider: &str, secret_json: &str) {
    let conf = moto.sdk_config().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);
    let iam = aws_sdk_iam::Client::new(&conf);
    let secrets = aws_sdk_secretsmanager::Client::new(&conf);
    let events = aws_sdk_eventbridge::Client::new(&conf);
    let cfn = aws_sdk_cloudformation::Client::new(&conf);

    assert!(
        d.url.starts_with("https://") && d.url.contains(".lambda-url."),
        "{}",
        d.url
    );

    let f = lambda
        .get_function_configuration()
        .function_name(&d.function)
        .send()
        .await
        .unwrap();
    assert_eq!(f.runtime().map(|r| r.as_str()), Some("provided.al2023"));
    assert_eq!(f.handler(), Some("bootstrap"));
    assert_eq!(
        f.architectures()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        ["x86_64"]
    );
    let vars = f
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        vars.get("EBHOOK_PROVIDER").map(String::as_str),
        Some(provider)
    );
    assert_eq!(vars.get("EBHOOK_EVENT_BUS"), Some(&d.bus));
    assert_eq!(vars.get("EBHOOK_SECRET_ARN"), Some(&d.secret_arn));
    assert!(!vars.contains_key("EBHOOK_SECRET"), "{vars:?}");
    let current = serde_json::from_str::<Value>(secret_json).unwrap()["current"]
        .as_str()
        .unwrap()
        .to_owned();
    if !current.is_empty() {
        assert!(
            vars.values().all(|v| !v.contains(&current)),
            "secret in Lambda configuration"
        );
    }

    let url = lambda
        .get_function_url_config()
        .function_name(&d.function)
        .send()
        .await
        .unwrap();
    assert_eq!(url.auth_type().as_str(), "NONE");
    assert_eq!(url.function_url(), d.url);

    let policy: Value = serde_json::from_str(
        lambda
            .get_policy()
            .function_name(&d.function)
            .send()
            .await
            .unwrap()
            .policy()
            .unwrap(),
    )
    .unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    let has = |action: &str, condition: &str| {
        statements
            .iter()
            .any(|s| s["Action"] == action && s["Condition"].to_string().contains(condition))
    };
    assert!(
        has("lambda:InvokeFunctionUrl", "lambda:FunctionUrlAuthType"),
        "{policy}"
    );
    assert!(
        has("lambda:InvokeFunction", "lambda:InvokedViaFunctionUrl"),
        "{policy}"
    );

    // The role's only permissions: PutEvents on this bus, GetSecretValue on this secret, logs.
    let role_name = f.role().unwrap().rsplit('/').next().unwrap().to_owned();
    let inline = iam
        .list_role_policies()
        .role_name(&role_name)
        .send()
        .await
        .unwrap();
    assert_eq!(inline.policy_names().len(), 1, "{inline:?}");
    let attached = iam
        .list_attached_role_policies()
        .role_name(&role_name)
        .send()
        .await
        .unwrap();
    assert!(attached.attached_policies().is_empty());
    let doc = iam
        .get_role_policy()
        .role_name(&role_name)
        .policy_name(&inline.policy_names()[0])
        .send()
        .await
        .unwrap();
    let doc: Value = serde_json::from_str(&urlencoding_decode(doc.policy_document())).unwrap();
    let mut grants: Vec<(String, String)> = Vec::new();
    for s in doc["Statement"].as_array().unwrap() {
        assert_eq!(s["Effect"], "Allow");
        let list = |v: &Value| match v {
            Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().unwrap().to_owned())
                .collect::<Vec<_>>(),
            Value::String(x) => vec![x.clone()],
            other => panic!("unexpected {other}"),
        };
        for action in list(&s["Action"]) {
            for resource in list(&s["Resource"]) {
                assert!(
                    !action.contains('*') && !resource.ends_with(":*:*") && resource != "*",
                    "{s}"
                );
                grants.push((action.clone(), resource));
            }
        }
    }
    grants.sort();
    let log_group = format!(
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/{}",
        d.function
    );
    let expected_logs = |action: &str| {
        grants
            .iter()
            .any(|(a, r)| a == action && r.starts_with(&log_group))
    };
    assert!(
        grants.contains(&("events:PutEvents".into(), d.bus_arn.clone())),
        "{grants:?}"
    );
    assert!(
        grants.contains(&("secretsmanager:GetSecretValue".into(), d.secret_arn.clone())),
        "{grants:?}"
    );
    assert!(
        expected_logs("logs:CreateLogStream") && expected_logs("logs:PutLogEvents"),
        "{grants:?}"
    );
    // The dead-letter queue, and writes under the payload bucket's two key prefixes.
    let outputs = cfn
        .describe_stacks()
        .stack_name(&d.stack)
        .send()
        .await
        .unwrap()
        .stacks()[0]
        .outputs()
        .iter()
        .map(|o| {
            (
                o.output_key().unwrap_or_default().to_owned(),
                o.output_value().unwrap_or_default().to_owned(),
            )
        })
        .collect::<std::collections::HashMap<_, _>>();
    let queue_name = outputs["DeadLetterQueueUrl"].rsplit('/').next().unwrap();
    let queue_arn = format!("arn:aws:sqs:us-east-1:123456789012:{queue_name}");
    assert!(
        grants.contains(&("sqs:SendMessage".into(), queue_arn)),
        "{grants:?}"
    );
    let bucket = &outputs["PayloadBucketName"];
    for prefix in ["oversized", "dead-letter"] {
        let keys = format!("arn:aws:s3:::{bucket}/{prefix}/*");
        assert!(
            grants.contains(&("s3:PutObject".into(), keys)),
            "{grants:?}"
        );
    }
    assert_eq!(grants.len(), 7, "{grants:?}");

    let value = secrets
        .get_secret_value()
        .secret_id(&d.secret_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(value.secret_string().unwrap()).unwrap(),
        serde_json::from_str::<Value>(secret_json).unwrap()
    );
    events
        .describe_event_bus()
        .name(&d.bus)
        .send()
        .await
        .unwrap();

    // NoEcho: the stack never shows the secret.
    let stacks = cfn
        .describe_stacks()
        .stack_name(&d.stack)
        .send()
        .await
        .unwrap();
    let stack = &stacks.stacks()[0];
    for p in stack.parameters() {
        if p.parameter_key() == Some("SigningSecret") {
            assert_eq!(p.parameter_value(), Some("****"));
        }
    }
    for o in stack.outputs() {
        if !current.is_empty() {
            assert!(!o.output_value().unwrap_or_default().contains(&current));
        }
    }
}

/// IAM returns policy documents URL-encoded.
fn urlencoding_decode(text: &str) -> String {
    if text.trim_start().starts_with('{') {
        return text.to_owned();
    }
    form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

async fn check_gone(moto: &Moto, d: &Deployed, role: &str) {
    let conf = moto.sdk_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&conf);
    let gone = match cfn.describe_stacks().stack_name(&d.stack).send().await {
        Err(_) => true,
        Ok(out) => out
            .stacks()
            .iter()
            .all(|s| s.stack_status().map(|s| s.as_str()) == Some("DELETE_COMPLETE")),
    };
    assert!(gone, "stack {} still there", d.stack);
    let lambda = aws_sdk_lambda::Client::new(&conf);
    let err = lambda
        .get_function()
        .function_name(&d.function)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    let iam = aws_sdk_iam::Client::new(&conf);
    assert!(
        iam.get_role().role_name(role).send().await.is_err(),
        "role {role} left"
    );
    let secrets = aws_sdk_secretsmanager::Client::new(&conf);
    match secrets
        .describe_secret()
        .secret_id(&d.secret_arn)
        .send()
        .await
    {
        Err(_) => {}
        Ok(s) => assert!(s.deleted_date().is_some(), "secret left"),
    }
    let events = aws_sdk_eventbridge::Client::new(&conf);
    assert!(
        events
            .describe_event_bus()
            .name(&d.bus)
            .send()
            .await
            .is_err(),
        "bus left"
    );
}

async fn artifact_count(moto: &Moto) -> usize {
    artifacts(moto).await.len()
}

async fn round_trip(provider: &str, secret_env: Option<&str>) {
    round_trip_with(provider, secret_env, &[]).await;
}

/// [`round_trip`] with more `init` options (a generic provider's description).
async fn round_trip_with(provider: &str, secret_env: Option<&str>, options: &[&str]) {
    let moto = Moto::start();
    let stack = format!("it-{provider}");
    let mut args = vec![
        "init",
        "--bootstrap",
        prebuilt(),
        "--provider",
        provider,
        "--stack-name",
        &stack,
        "--yes",
        "--output",
        "json",
    ];
    args.extend_from_slice(options);
    let env: Vec<(&str, &str)> = secret_env
        .map(|s| vec![("IT_SECRET", s)])
        .unwrap_or_default();
    if secret_env.is_some() {
        args.extend(["--secret-env", "IT_SECRET"]);
    }
    let first = ebhook(&moto, &args, &env, None);
    first.assert_ok();
    let json = first.json();
    assert_eq!(json["outcome"], "created", "{json}");
    assert_eq!(json["provider"], provider);
    let d = deployed(&json);
    let expected_secret = match secret_env {
        Some(s) => serde_json::json!({"current": s}).to_string(),
        None => r#"{"current":""}"#.to_owned(),
    };
    check_resources(&moto, &d, provider, &expected_secret).await;
    // The URL and the steps are printed; the secret is not, unless ebhook generated it.
    assert!(!first.stderr.contains("paste it into GitHub") || secret_env.is_none());
    if let Some(s) = secret_env {
        assert!(
            !first.stdout.contains(s) && !first.stderr.contains(s),
            "secret printed"
        );
    }
    assert_eq!(artifact_count(&moto).await, 1);

    // Again: nothing changes, not even the secret.
    let again = ebhook(
        &moto,
        &args[..args.len() - if secret_env.is_some() { 2 } else { 0 }],
        &[],
        None,
    );
    again.assert_ok();
    assert_eq!(again.json()["outcome"], "unchanged", "{}", again.stderr);
    check_resources(&moto, &d, provider, &expected_secret).await;

    let status = ebhook(
        &moto,
        &["status", "--stack-name", &stack, "--output", "json"],
        &[],
        None,
    );
    status.assert_ok();
    let s = status.json();
    assert_eq!(s["provider"], provider);
    assert_eq!(s["url"], d.url.as_str());
    assert_eq!(s["eventBus"], d.bus.as_str());
    assert!(
        s["stackStatus"]
            .as_str()
            .is_some_and(|x| x.ends_with("_COMPLETE")),
        "{s}"
    );
    assert_eq!(s["codeSha256"].as_str().map(str::len), Some(64), "{s}");
    assert!(s["secretLastChanged"].is_string(), "{s}");
    let text = ebhook(&moto, &["status", "--stack-name", &stack], &[], None);
    text.assert_ok();
    assert!(text.stdout.contains(&d.url));

    let conf = moto.sdk_config().await;
    let role = aws_sdk_lambda::Client::new(&conf)
        .get_function_configuration()
        .function_name(&d.function)
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let stored = store_versions(&moto, &d).await;
    // Without --yes and without a terminal, teardown refuses rather than guessing.
    let refused = ebhook(&moto, &["teardown", "--stack-name", &stack], &[], None);
    assert_eq!(refused.status, Some(2), "{}", refused.stderr);
    let down = ebhook(
        &moto,
        &["teardown", "--stack-name", &stack, "--yes"],
        &[],
        None,
    );
    down.assert_ok();
    check_gone(&moto, &d, &role).await;
    assert_eq!(artifact_count(&moto).await, 0);
    let s3 = s3_client(&conf);
    assert!(
        s3.head_bucket().bucket(&stored).send().await.is_err(),
        "payload bucket {stored} left"
    );
}

/// Leaves the payload bucket (versioned) holding an object of two versions and a deleted one
/// (a delete marker over a version), as the handler and the lifecycle rules can; its name.
async fn store_versions(moto: &Moto, d: &Deployed) -> String {
    let conf = moto.sdk_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&conf);
    let stacks = cfn
        .describe_stacks()
        .stack_name(&d.stack)
        .send()
        .await
        .unwrap();
    let bucket = stacks.stacks()[0]
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some("PayloadBucketName"))
        .and_then(|o| o.output_value())
        .unwrap()
        .to_owned();
    let s3 = s3_client(&conf);
    for (key, body) in [
        ("oversized/a", "1"),
        ("oversized/a", "1"),
        ("dead-letter/b", "2"),
    ] {
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap();
    }
    s3.delete_object()
        .bucket(&bucket)
        .key("dead-letter/b")
        .send()
        .await
        .unwrap();
    // Versioned as the template says (moto's GetBucketVersioning answer does not parse: its XML
    // root is misnamed), so the versions are counted instead.
    let listed = s3
        .list_object_versions()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (listed.versions().len(), listed.delete_markers().len()),
        (3, 1),
        "versions in {bucket}: {listed:?}"
    );
    bucket
}

#[tokio::test]
async fn github_init_status_teardown() {
    round_trip("github", Some("gh-secret-from-env")).await;
}

#[tokio::test]
async fn twilio_init_status_teardown() {
    round_trip("twilio", Some("twilio-auth-token")).await;
}

#[tokio::test]
async fn zendesk_init_status_teardown() {
    round_trip("zendesk", None).await;
}

#[tokio::test]
async fn stripe_init_status_teardown() {
    round_trip("stripe", None).await;
}

#[tokio::test]
async fn slack_init_status_teardown() {
    round_trip("slack", Some("slack-signing-secret")).await;
}

#[tokio::test]
async fn shopify_init_status_teardown() {
    round_trip("shopify", Some("shopify-client-secret")).await;
}

#[tokio::test]
async fn standard_webhooks_init_status_teardown() {
    round_trip("standard-webhooks", None).await;
}

#[tokio::test]
async fn gitlab_init_status_teardown() {
    round_trip("gitlab", Some("gitlab-secret-token")).await;
}

#[tokio::test]
async fn generic_init_status_teardown() {
    let description = [
        "--signature-header",
        "X-Signature",
        "--signature-prefix",
        "sha256=",
        "--event-type",
        "header:X-Event",
    ];
    round_trip_with("generic", Some("generic-secret"), &description).await;
}

#[tokio::test]
async fn a_generic_provider_needs_a_description_and_keeps_it_in_the_stack() {
    let moto = Moto::start();
    let init = |extra: &[&'static str]| {
        let mut args = vec![
            "init",
            "--bootstrap",
            prebuilt(),
            "--provider",
            "generic",
            "--stack-name",
            "it-generic-described",
            "--yes",
            "--output",
            "json",
            "--secret-env",
            "IT_SECRET",
        ];
        args.extend_from_slice(extra);
        ebhook(&moto, &args, &[("IT_SECRET", "s3cret")], None)
    };
    let undescribed = init(&[]);
    assert_eq!(undescribed.status, Some(2), "{}", undescribed.stderr);
    assert!(
        undescribed.stderr.contains("--signature-"),
        "{}",
        undescribed.stderr
    );
    let described = init(&["--token-header", "X-Api-Key", "--delivery-id", "json:id"]);
    described.assert_ok();
    let conf = moto.sdk_config().await;
    let stack = aws_sdk_cloudformation::Client::new(&conf)
        .describe_stacks()
        .stack_name("it-generic-described")
        .send()
        .await
        .unwrap();
    let parameters = stack.stacks()[0].parameters();
    let scheme = parameters
        .iter()
        .find(|p| p.parameter_key() == Some("ProviderScheme"))
        .and_then(|p| p.parameter_value());
    assert_eq!(
        scheme,
        Some("auth=token&header=X-Api-Key&delivery-id=json%3Aid")
    );
    // The function reads it from its environment.
    let function = described.json()["function"].as_str().unwrap().to_owned();
    let vars = aws_sdk_lambda::Client::new(&conf)
        .get_function_configuration()
        .function_name(&function)
        .send()
        .await
        .unwrap()
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        vars.get("EBHOOK_PROVIDER_SCHEME").map(String::as_str),
        scheme
    );
    // A provider that signs one way takes no description.
    let other = ebhook(
        &moto,
        &[
            "init",
            "--provider",
            "github",
            "--token-header",
            "X",
            "--yes",
        ],
        &[],
        None,
    );
    assert_eq!(other.status, Some(2), "{}", other.stderr);
}

#[tokio::test]
async fn github_without_a_secret_gets_a_generated_one_shown_once() {
    let moto = Moto::start();
    let run = ebhook(
        &moto,
        &[
            "init",
            "--bootstrap",
            prebuilt(),
            "--provider",
            "github",
            "--stack-name",
            "gen",
            "--yes",
            "--output",
            "json",
            // Not a terminal: the secret is shown only where asked (here, in the JSON).
            "--print-secret",
        ],
        &[],
        None,
    );
    run.assert_ok();
    let d = deployed(&run.json());
    let conf = moto.sdk_config().await;
    let stored = aws_sdk_secretsmanager::Client::new(&conf)
        .get_secret_value()
        .secret_id(&d.secret_arn)
        .send()
        .await
        .unwrap();
    let stored: Value = serde_json::from_str(stored.secret_string().unwrap()).unwrap();
    let secret = stored["current"].as_str().unwrap();
    assert_eq!(secret.len(), 43);
    assert_eq!(
        run.json()["signingSecret"],
        secret,
        "the generated secret is shown once, in the JSON --print-secret asked for"
    );
    assert_eq!(
        run.stdout.matches(secret).count(),
        1,
        "once only: {}",
        run.stdout
    );
    assert!(!run.stderr.contains(secret), "never on stderr");
}

#[tokio::test]
async fn failed_deploy_names_the_resource_and_leaves_nothing() {
    let moto = Moto::start();
    // A function already holds the name the stack wants: CloudFormation's create fails.
    let conf = moto.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&conf);
    let role = iam
        .create_role()
        .role_name("squatter")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("bootstrap", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut zip, b"#!/bin/sh\n").unwrap();
    let code = zip.finish().unwrap().into_inner();
    aws_sdk_lambda::Client::new(&conf)
        .create_function()
        .function_name("clash-handler")
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .role(role.role().unwrap().arn())
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(code.into())
                .build(),
        )
        .send()
        .await
        .unwrap();

    let run = ebhook(
        &moto,
        &[
            "init",
            "--bootstrap",
            prebuilt(),
            "--provider",
            "github",
            "--stack-name",
            "clash",
            "--yes",
            "--secret-env",
            "S",
        ],
        &[("S", "s3cret")],
        None,
    );
    assert_eq!(
        run.status,
        Some(3),
        "an AWS failure exits 3:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Function (AWS::Lambda::Function)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("rolled back and removed"),
        "{}",
        run.stderr
    );
    let cfn = aws_sdk_cloudformation::Client::new(&conf);
    let left = cfn.describe_stacks().stack_name("clash").send().await;
    assert!(
        left.map(|o| o
            .stacks()
            .iter()
            .all(|s| s.stack_status().map(|x| x.as_str()) == Some("DELETE_COMPLETE")))
            .unwrap_or(true),
        "the failed stack is removed"
    );
}

#[tokio::test]
async fn usage_errors_exit_2_with_a_clear_message() {
    let moto = Moto::start();
    let run = ebhook(&moto, &["init", "--provider", "twilio", "--yes"], &[], None);
    assert_eq!(run.status, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("--secret-stdin"), "{}", run.stderr);
    let run = ebhook(&moto, &["status", "--stack-name", "nope"], &[], None);
    assert_eq!(run.status, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("no stack named nope"), "{}", run.stderr);
    let run = ebhook(
        &moto,
        &[
            "init",
            "--provider",
            "github",
            "--yes",
            "--secret-env",
            "UNSET_VARIABLE_X",
        ],
        &[],
        None,
    );
    assert_eq!(run.status, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("UNSET_VARIABLE_X"), "{}", run.stderr);
}

/// `init --compliance control-tower` deploys the stack with a customer managed KMS key for the
/// secret, the queues and the payload bucket (or the key given with `--kms-key`), and a bucket
/// for the payload bucket's access logs; the parameters are recorded, and teardown removes the
/// stack but keeps the access logs (DeletionPolicy Retain).
async fn compliance_round_trip(stack: &str, own_key: Option<&str>) {
    let moto = Moto::start();
    let mut args = vec![
        "init",
        "--bootstrap",
        prebuilt(),
        "--provider",
        "github",
        "--stack-name",
        stack,
        "--compliance",
        "control-tower",
        "--print-secret",
        "--yes",
        "--output",
        "json",
    ];
    if let Some(key) = own_key {
        args.extend(["--kms-key", key]);
    }
    let first = ebhook(&moto, &args, &[], None);
    first.assert_ok();
    let d = deployed(&first.json());

    let conf = moto.sdk_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&conf);
    let resources = cfn
        .list_stack_resources()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    let physical = |id: &str| {
        resources
            .stack_resource_summaries()
            .iter()
            .find(|r| r.logical_resource_id() == Some(id))
            .and_then(|r| r.physical_resource_id())
            .map(str::to_owned)
    };
    let key = match own_key {
        Some(key) => {
            assert_eq!(physical("KmsKey"), None, "a key made besides --kms-key");
            key.to_owned()
        }
        None => {
            let id = physical("KmsKey").expect("the stack's KMS key");
            format!("arn:aws:kms:us-east-1:123456789012:key/{id}")
        }
    };
    let log_bucket = physical("AccessLogBucket").expect("the access log bucket");
    let stacks = cfn
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    let described = &stacks.stacks()[0];
    let parameter = |name: &str| {
        described
            .parameters()
            .iter()
            .find(|p| p.parameter_key() == Some(name))
            .and_then(|p| p.parameter_value())
            .map(str::to_owned)
    };
    assert_eq!(parameter("Compliance").as_deref(), Some("control-tower"));
    assert_eq!(
        parameter("KmsKeyArn").as_deref(),
        Some(own_key.unwrap_or(""))
    );
    let output = |name: &str| {
        described
            .outputs()
            .iter()
            .find(|o| o.output_key() == Some(name))
            .and_then(|o| o.output_value())
            .unwrap_or_else(|| panic!("no output {name}"))
            .to_owned()
    };

    let secret = aws_sdk_secretsmanager::Client::new(&conf)
        .describe_secret()
        .secret_id(&d.secret_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(secret.kms_key_id(), Some(key.as_str()));
    let queue = aws_sdk_sqs::Client::new(&conf)
        .get_queue_attributes()
        .queue_url(output("DeadLetterQueueUrl"))
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::KmsMasterKeyId)
        .send()
        .await
        .unwrap();
    assert_eq!(
        queue
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::KmsMasterKeyId))
            .map(String::as_str),
        Some(key.as_str())
    );
    let s3 = s3_client(&conf);
    let encryption = s3
        .get_bucket_encryption()
        .bucket(output("PayloadBucketName"))
        .send()
        .await
        .unwrap();
    let rule = encryption
        .server_side_encryption_configuration()
        .and_then(|c| c.rules().first())
        .and_then(|r| r.apply_server_side_encryption_by_default())
        .expect("default encryption");
    assert_eq!(rule.sse_algorithm().as_str(), "aws:kms");
    assert_eq!(rule.kms_master_key_id(), Some(key.as_str()));
    assert_locked_and_logged(&s3, &output("PayloadBucketName"), &log_bucket).await;
    // The artifacts bucket the code came from meets the same controls.
    let artifacts = cfn
        .describe_stacks()
        .stack_name("ebhook-artifacts")
        .send()
        .await
        .unwrap();
    assert!(
        artifacts.stacks()[0]
            .parameters()
            .iter()
            .any(|p| p.parameter_key() == Some("Compliance")
                && p.parameter_value() == Some("control-tower")),
        "{artifacts:?}"
    );

    let down = ebhook(
        &moto,
        &["teardown", "--stack-name", stack, "--yes"],
        &[],
        None,
    );
    down.assert_ok();
    assert!(
        s3.head_bucket().bucket(&log_bucket).send().await.is_ok(),
        "the access logs went with the stack"
    );
}

#[tokio::test]
async fn compliance_control_tower_with_its_own_key() {
    compliance_round_trip("it-compliance", None).await;
}

#[tokio::test]
async fn compliance_control_tower_with_a_given_key() {
    compliance_round_trip(
        "it-compliance-key",
        Some("arn:aws:kms:us-east-1:123456789012:key/0b2c1e4a-7a63-4a5e-9f0e-1234567890ab"),
    )
    .await;
}

/// `init --dedupe`: the table, its settings on the function, and a role that may only write
/// items of that table.
#[tokio::test]
async fn init_with_dedupe_adds_the_table_and_only_item_writes_on_it() {
    let moto = Moto::start();
    let stack = "it-dedupe";
    let args = [
        "init",
        "--bootstrap",
        prebuilt(),
        "--provider",
        "github",
        "--stack-name",
        stack,
        "--dedupe",
        "--dedupe-window",
        "2h",
        "--print-secret",
        "--yes",
        "--output",
        "json",
    ];
    let out = ebhook(&moto, &args, &[], None);
    out.assert_ok();
    let d = deployed(&out.json());
    let conf = moto.sdk_config().await;
    let f = aws_sdk_lambda::Client::new(&conf)
        .get_function_configuration()
        .function_name(&d.function)
        .send()
        .await
        .unwrap();
    let vars = f.environment().and_then(|e| e.variables()).unwrap();
    let table = vars["EBHOOK_DEDUPE_TABLE"].clone();
    assert!(!table.is_empty(), "{vars:?}");
    assert_eq!(vars["EBHOOK_DEDUPE_WINDOW_SECONDS"], "7200");
    let described = aws_sdk_dynamodb::Client::new(&conf)
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let t = described.table().unwrap();
    let key: Vec<_> = t
        .key_schema()
        .iter()
        .map(|k| k.attribute_name().to_owned())
        .collect();
    assert_eq!(key, ["pk"]);
    let table_arn = t.table_arn().unwrap().to_owned();

    let iam = aws_sdk_iam::Client::new(&conf);
    let role = f.role().unwrap().rsplit('/').next().unwrap().to_owned();
    let names = iam
        .list_role_policies()
        .role_name(&role)
        .send()
        .await
        .unwrap();
    let doc = iam
        .get_role_policy()
        .role_name(&role)
        .policy_name(&names.policy_names()[0])
        .send()
        .await
        .unwrap();
    let doc: Value = serde_json::from_str(&urlencoding_decode(doc.policy_document())).unwrap();
    let on_table: Vec<&Value> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Resource"] == table_arn.as_str())
        .collect();
    assert_eq!(on_table.len(), 1, "{doc}");
    assert_eq!(
        on_table[0]["Action"],
        serde_json::json!([
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem"
        ])
    );
    assert!(!doc.to_string().contains("dynamodb:GetItem"), "{doc}");

    ebhook(
        &moto,
        &["teardown", "--stack-name", stack, "--yes"],
        &[],
        None,
    )
    .assert_ok();
}
