//! Upgrading a stack made by ebhook 0.1.0, whose template was rendered for its provider and
//! options (`tests/fixtures/ebhook-0.1.0/`), to the template ebhook deploys now: every resource
//! resolves to what 0.1.0 rendered, and against moto today's `init` and `update-function` update
//! such stacks in place (same bus, secret and function URL; same URL and secret value; the new
//! parameters recorded), after which an unchanged build changes nothing. `rotate-secret` works
//! before and after.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Parameter, Tag};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::Value as Json;
use yaml_serde::Value;

use crate::support::cli::{Run, ebhook};
use crate::support::moto::s3_client;
use crate::support::resolve::resolve;
use crate::support::stack::{bus_arn, bus_rules, outputs, parameters};
use crate::support::{Bootstrap, Moto, workspace_root};

const GITHUB: &str = "github.yaml";
const TWILIO_ON_A_BUS: &str = "twilio-event-bus-reserved-concurrency.yaml";
/// The existing bus the Twilio fixture was rendered for.
const TEAM_BUS: &str = "team-bus";

fn fixture(name: &str) -> String {
    let path = workspace_root()
        .join("tests")
        .join("fixtures")
        .join("ebhook-0.1.0")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn current_template() -> String {
    let path = workspace_root().join("templates").join("ebhook.yaml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn yaml(name: &str, text: &str) -> Value {
    yaml_serde::from_str(text).unwrap_or_else(|e| panic!("{name} is not YAML: {e}"))
}

/// With the parameters a stack made from each fixture has (the options it was rendered with),
/// today's template takes effect exactly as the fixture did: the same logical ids, every
/// property and output the same. These changes update in place: the dead-letter queue's message
/// size (SQS takes 1 MiB since 2026-01-29), the function's `EBHOOK_PROVIDER_SCHEME`, empty for
/// these providers, `EBHOOK_PAYLOAD_BUCKET_OWNER` and the payload bucket policy's denial of
/// writes by anyone but the function's role, and what AWS's Control Tower controls ask for at
/// no cost (tests/it/guard.rs): a redrive target for the dead-letter queue (one resource added),
/// and the payload bucket's versioning, event notifications, KMS encryption, lifecycle rules and
/// TLS policy in the form the controls read. Resource `Metadata` (checkov's reasons) is not
/// deployed and may differ.
#[test]
fn the_template_resolves_to_what_0_1_0_rendered() {
    let code = [("CodeS3Bucket", "artifacts"), ("CodeS3Key", "handler.zip")];
    let current = yaml("templates/ebhook.yaml", &current_template());
    for (name, options) in [
        (GITHUB, vec![("Provider", "github")]),
        (
            TWILIO_ON_A_BUS,
            vec![
                ("Provider", "twilio"),
                ("EventBusName", TEAM_BUS),
                ("ReservedConcurrency", "3"),
            ],
        ),
    ] {
        let given: Vec<(&str, &str)> = options.into_iter().chain(code).collect();
        let old = resolve(&yaml(name, &fixture(name)), &given);
        let mut new = resolve(&current, &given);
        let size = &mut new["Resources"]["DeadLetterQueue"]["Properties"]["MaximumMessageSize"];
        assert_eq!(*size, Value::from(1_048_576), "{name}");
        *size = Value::from(262_144);
        let variables = new["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
            .as_mapping_mut()
            .expect("the function's variables");
        assert_eq!(
            variables.remove("EBHOOK_PROVIDER_SCHEME"),
            Some(Value::from("")),
            "{name}"
        );
        // Added since: the account the handler expects its payload bucket in, and the bucket
        // policy's denial of writes by anyone but the function's role.
        assert_eq!(
            variables.remove("EBHOOK_PAYLOAD_BUCKET_OWNER"),
            Some(yaml("owner", "Ref: AWS::AccountId")),
            "{name}"
        );
        // Added since (issue 18): the stack's name, the Stack dimension of the handler's metrics.
        assert_eq!(
            variables.remove("EBHOOK_STACK_NAME"),
            Some(yaml("stack", "Ref: AWS::StackName")),
            "{name}"
        );
        let statements =
            new["Resources"]["PayloadBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
                .as_sequence_mut()
                .expect("the payload bucket policy's statements");
        let count = statements.len();
        statements.retain(|s| s["Sid"] != "OnlyTheHandlerWrites");
        assert_eq!(statements.len() + 1, count, "{name}: the write denial");
        let unmeta = |doc: &mut Value| {
            for (_, resource) in doc["Resources"].as_mapping_mut().expect("Resources") {
                resource
                    .as_mapping_mut()
                    .expect("a resource")
                    .remove("Metadata");
            }
        };
        let mut old = old;
        unmeta(&mut old);
        unmeta(&mut new);

        // The controls' changes, each exactly as intended, then taken back to compare the rest.
        let resources = new["Resources"].as_mapping_mut().expect("Resources");
        assert!(
            resources.shift_remove("UnreplayableQueue").is_some(),
            "{name}: no UnreplayableQueue"
        );
        // The alarms and the dashboard (issue 18), with no topic when none is given.
        for added in ISSUE_18_RESOURCES {
            assert!(
                resources.shift_remove(added).is_some(),
                "{name}: no {added}"
            );
        }
        let outputs = new["Outputs"].as_mapping_mut().expect("Outputs");
        for added in ["DashboardUrl", "AlarmNames"] {
            assert!(outputs.shift_remove(added).is_some(), "{name}: no {added}");
        }
        let queue = new["Resources"]["DeadLetterQueue"]["Properties"]
            .as_mapping_mut()
            .expect("the queue's properties");
        assert_eq!(
            queue.shift_remove("RedrivePolicy"),
            Some(yaml(
                "RedrivePolicy",
                "{deadLetterTargetArn: {Fn::GetAtt: [UnreplayableQueue, Arn]}, maxReceiveCount: 100}"
            )),
            "{name}"
        );
        let bucket = new["Resources"]["PayloadBucket"]["Properties"]
            .as_mapping_mut()
            .expect("the bucket's properties");
        for (key, value) in [
            ("VersioningConfiguration", "{Status: Enabled}"),
            (
                "NotificationConfiguration",
                "{EventBridgeConfiguration: {EventBridgeEnabled: true}}",
            ),
        ] {
            assert_eq!(
                bucket.shift_remove(key),
                Some(yaml(key, value)),
                "{name}: {key}"
            );
        }
        for (resource, path, value) in [
            (
                "PayloadBucket",
                "BucketEncryption",
                "{ServerSideEncryptionConfiguration: [{ServerSideEncryptionByDefault: \
                 {SSEAlgorithm: 'aws:kms'}, BucketKeyEnabled: true}]}",
            ),
            (
                "PayloadBucket",
                "LifecycleConfiguration",
                "{Rules: [{Id: ExpireStoredPayloads, Status: Enabled, ExpirationInDays: 14, \
                 NoncurrentVersionExpiration: {NoncurrentDays: 1}, \
                 AbortIncompleteMultipartUpload: {DaysAfterInitiation: 1}}, \
                 {Id: RemoveExpiredDeleteMarkers, Status: Enabled, ExpiredObjectDeleteMarker: true}]}",
            ),
            (
                "PayloadBucketPolicy",
                "PolicyDocument",
                "{Version: '2012-10-17', Statement: [{Sid: TlsOnly, Effect: Deny, Principal: '*', \
                 Action: ['s3:*'], Resource: [{Fn::GetAtt: [PayloadBucket, Arn]}, {Fn::Join: \
                 ['', [{Fn::GetAtt: [PayloadBucket, Arn]}, '/*']]}], Condition: {Bool: \
                 {'aws:SecureTransport': 'false'}}}]}",
            ),
        ] {
            let now = &mut new["Resources"][resource]["Properties"][path];
            assert_eq!(*now, yaml(path, value), "{name}: {resource} {path}");
            *now = old["Resources"][resource]["Properties"][path].clone();
        }

        let ids = |doc: &Value| -> Vec<String> {
            doc["Resources"]
                .as_mapping()
                .expect("Resources")
                .keys()
                .map(|k| k.as_str().expect("a logical id").to_owned())
                .collect()
        };
        assert_eq!(ids(&new), ids(&old), "{name}: the logical ids");
        for id in ids(&old) {
            assert_eq!(
                new["Resources"][id.as_str()],
                old["Resources"][id.as_str()],
                "{name}: resource {id}"
            );
        }
        assert_eq!(new["Outputs"], old["Outputs"], "{name}: outputs");
    }
}

/// What issue 18 added to every stack: its alarms and its dashboard.
const ISSUE_18_RESOURCES: [&str; 7] = [
    "DeadLetterWaitingAlarm",
    "UnreplayableWaitingAlarm",
    "RejectedSignaturesAlarm",
    "FunctionErrorsAlarm",
    "FunctionThrottlesAlarm",
    "PutEventsFailingAlarm",
    "Dashboard",
];

/// The zipped `bootstrap`, as a stack's code.
fn zipped(binary: &std::path::Path) -> Vec<u8> {
    let bytes = std::fs::read(binary).unwrap_or_else(|e| panic!("read {}: {e}", binary.display()));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(
        "bootstrap",
        zip::write::SimpleFileOptions::default().unix_permissions(0o755),
    )
    .expect("zip");
    std::io::Write::write_all(&mut zip, &bytes).expect("zip");
    zip.finish().expect("zip").into_inner()
}

struct Clients {
    cfn: aws_sdk_cloudformation::Client,
    lambda: aws_sdk_lambda::Client,
    secrets: aws_sdk_secretsmanager::Client,
    events: aws_sdk_eventbridge::Client,
    iam: aws_sdk_iam::Client,
    sqs: aws_sdk_sqs::Client,
}

impl Clients {
    async fn new(moto: &Moto) -> Clients {
        let conf = moto.sdk_config().await;
        Clients {
            cfn: aws_sdk_cloudformation::Client::new(&conf),
            lambda: aws_sdk_lambda::Client::new(&conf),
            secrets: aws_sdk_secretsmanager::Client::new(&conf),
            events: aws_sdk_eventbridge::Client::new(&conf),
            iam: aws_sdk_iam::Client::new(&conf),
            sqs: aws_sdk_sqs::Client::new(&conf),
        }
    }

    /// Creates `stack` from `template` as ebhook 0.1.0's `init` did: a CREATE change set with
    /// the code's location and the secret as the only parameters (the rendering fixed the
    /// rest), the provider tag and CAPABILITY_IAM, then executed.
    async fn deploy_as_0_1_0(
        &self,
        stack: &str,
        template: &str,
        provider: &str,
        code: (&str, &str),
        secret: &str,
    ) {
        let parameter = |key: &str, value: &str| {
            Parameter::builder()
                .parameter_key(key)
                .parameter_value(value)
                .build()
        };
        let created = self
            .cfn
            .create_change_set()
            .stack_name(stack)
            .change_set_name("ebhook-1")
            .change_set_type(ChangeSetType::Create)
            .template_body(template)
            .parameters(parameter("CodeS3Bucket", code.0))
            .parameters(parameter("CodeS3Key", code.1))
            .parameters(parameter("SigningSecret", secret))
            .tags(
                Tag::builder()
                    .key("ebhook:provider")
                    .value(provider)
                    .build(),
            )
            .capabilities(Capability::CapabilityIam)
            .description("ebhook webhook endpoint")
            .send()
            .await
            .expect("create the change set");
        self.cfn
            .execute_change_set()
            .change_set_name(created.id().expect("a change set id"))
            .send()
            .await
            .expect("execute the change set");
        assert_eq!(self.stack_status(stack).await, "CREATE_COMPLETE");
    }

    async fn stack(&self, stack: &str) -> aws_sdk_cloudformation::types::Stack {
        self.cfn
            .describe_stacks()
            .stack_name(stack)
            .send()
            .await
            .expect("describe the stack")
            .stacks()[0]
            .clone()
    }

    async fn stack_status(&self, stack: &str) -> String {
        let stack = self.stack(stack).await;
        stack.stack_status().expect("a status").as_str().to_owned()
    }

    async fn outputs(&self, stack: &str) -> HashMap<String, String> {
        outputs(&self.stack(stack).await)
    }

    async fn parameters(&self, stack: &str) -> HashMap<String, String> {
        parameters(&self.stack(stack).await)
    }

    /// Each resource's physical id, by logical id.
    async fn physical_ids(&self, stack: &str) -> BTreeMap<String, String> {
        self.cfn
            .list_stack_resources()
            .stack_name(stack)
            .send()
            .await
            .expect("list the stack's resources")
            .stack_resource_summaries()
            .iter()
            .map(|r| {
                (
                    r.logical_resource_id().unwrap_or_default().to_owned(),
                    r.physical_resource_id().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    async fn template(&self, stack: &str) -> String {
        self.cfn
            .get_template()
            .stack_name(stack)
            .send()
            .await
            .expect("get the template")
            .template_body()
            .unwrap_or_default()
            .to_owned()
    }

    async fn secret(&self, arn: &str) -> Json {
        let value = self
            .secrets
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .expect("read the secret");
        serde_json::from_str(value.secret_string().expect("a string")).expect("JSON")
    }

    /// What the stack's resources are, as AWS describes them: everything an update in place
    /// must keep (the function's code aside).
    async fn described(&self, stack: &str) -> Json {
        let outputs = self.outputs(stack).await;
        let function = self
            .lambda
            .get_function_configuration()
            .function_name(&outputs["FunctionName"])
            .send()
            .await
            .expect("read the function");
        let concurrency = self
            .lambda
            .get_function_concurrency()
            .function_name(&outputs["FunctionName"])
            .send()
            .await
            .expect("read the function's concurrency");
        let role_name = function
            .role()
            .and_then(|r| r.rsplit('/').next())
            .expect("a role")
            .to_owned();
        let role = self
            .iam
            .get_role()
            .role_name(&role_name)
            .send()
            .await
            .expect("read the role");
        let secret = self
            .secrets
            .describe_secret()
            .secret_id(&outputs["SecretArn"])
            .send()
            .await
            .expect("describe the secret");
        let bus = &outputs["EventBusName"];
        let (bus_arn, rules) = (
            bus_arn(&self.events, bus).await,
            bus_rules(&self.events, bus).await,
        );
        let mut variables: Vec<(String, String)> = function
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        variables.sort();
        serde_json::json!({
            "outputs": outputs,
            "function": {
                "description": function.description(),
                "runtime": function.runtime().map(|r| r.as_str().to_owned()),
                "handler": function.handler(),
                "memory": function.memory_size(),
                "timeout": function.timeout(),
                "architectures": function.architectures().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
                "role": function.role(),
                "variables": variables,
                "reservedConcurrency": concurrency.reserved_concurrent_executions(),
            },
            "role": {
                "arn": role.role().map(|r| r.arn()),
                "description": role.role().and_then(|r| r.description()),
            },
            "secret": {
                "arn": secret.arn(),
                "name": secret.name(),
                "description": secret.description(),
            },
            "bus": {"arn": bus_arn, "rules": rules},
        })
    }

    async fn queue_size(&self, url: &str) -> String {
        self.sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::MaximumMessageSize)
            .send()
            .await
            .expect("read the queue")
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::MaximumMessageSize))
            .cloned()
            .unwrap_or_default()
    }
}

/// What must not move in an update in place, read before it.
struct Before {
    ids: BTreeMap<String, String>,
    described: Json,
    secret: Json,
}

impl Before {
    async fn read(aws: &Clients, stack: &str) -> Before {
        let described = aws.described(stack).await;
        let secret = aws
            .secret(
                described["outputs"]["SecretArn"]
                    .as_str()
                    .expect("SecretArn"),
            )
            .await;
        Before {
            ids: aws.physical_ids(stack).await,
            described,
            secret,
        }
    }

    /// The stack was updated in place: every resource has its physical id, the URL and every
    /// output are the same, and so are the function's settings, role, secret and bus. The
    /// stack records the parameters 0.1.0's rendering had fixed.
    async fn check_kept(&self, aws: &Clients, stack: &str, recorded: &[(&str, &str)]) {
        assert_eq!(aws.stack_status(stack).await, "UPDATE_COMPLETE");
        for kept in ["Secret", "FunctionUrl", "Function"] {
            assert!(
                self.ids.contains_key(kept),
                "{stack}: no {kept} in {:?}",
                self.ids
            );
        }
        // The dead-letter queue's redrive target is new (tests/it/guard.rs, CT.SQS.PR.1).
        let mut ids = aws.physical_ids(stack).await;
        assert!(
            ids.remove("UnreplayableQueue").is_some(),
            "{stack}: no UnreplayableQueue in {ids:?}"
        );
        for added in ISSUE_18_RESOURCES {
            assert!(
                ids.remove(added).is_some(),
                "{stack}: no {added} in {ids:?}"
            );
        }
        assert_eq!(ids, self.ids, "{stack}: physical ids");
        // Two variables are new: the scheme, empty for these providers, and the account the
        // payload bucket must be in (see the first test).
        let mut described = aws.described(stack).await;
        // Issue 18's outputs: where the dashboard and the alarms are.
        let outputs = described["outputs"].as_object_mut().expect("outputs");
        assert_eq!(
            outputs.remove("DashboardUrl"),
            Some(serde_json::json!(format!(
                "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/{stack}"
            ))),
            "{stack}"
        );
        assert!(outputs.remove("AlarmNames").is_some(), "{stack}");
        let variables = described["function"]["variables"]
            .as_array_mut()
            .expect("variables");
        for added in [
            serde_json::json!(["EBHOOK_PROVIDER_SCHEME", ""]),
            serde_json::json!(["EBHOOK_PAYLOAD_BUCKET_OWNER", "123456789012"]),
            serde_json::json!(["EBHOOK_STACK_NAME", stack]),
        ] {
            assert!(variables.contains(&added), "{stack}: {variables:?}");
            variables.retain(|v| *v != added);
        }
        assert_eq!(described, self.described, "{stack}");
        let arn = self.described["outputs"]["SecretArn"]
            .as_str()
            .expect("SecretArn");
        assert_eq!(
            aws.secret(arn).await,
            self.secret,
            "{stack}: the secret's value"
        );
        let parameters = aws.parameters(stack).await;
        for (key, value) in recorded {
            assert_eq!(
                parameters.get(*key).map(String::as_str),
                Some(*value),
                "{stack}: parameter {key} in {parameters:?}"
            );
        }
        assert_eq!(
            aws.template(stack).await,
            current_template(),
            "{stack}: its template"
        );
        let queue = self.described["outputs"]["DeadLetterQueueUrl"]
            .as_str()
            .expect("DeadLetterQueueUrl");
        assert_eq!(aws.queue_size(queue).await, "1048576", "{stack}");
    }
}

fn outcome(run: &Run) -> String {
    run.assert_ok();
    run.json()["outcome"]
        .as_str()
        .unwrap_or_else(|| panic!("no outcome in {}", run.stdout))
        .to_owned()
}

#[tokio::test]
async fn ebhook_0_1_0_stacks_are_updated_in_place() {
    let moto = Moto::start();
    let aws = Clients::new(&moto).await;
    let conf = moto.sdk_config().await;
    let binary = Bootstrap::binary();
    let bootstrap = binary.to_str().expect("a UTF-8 path");

    // --- A Twilio stack on an existing bus with reserved concurrency, upgraded by `init`. ---
    aws.events
        .create_event_bus()
        .name(TEAM_BUS)
        .send()
        .await
        .expect("create the bus");
    let s3 = s3_client(&conf);
    s3.create_bucket()
        .bucket("ebhook-0-1-0-code")
        .send()
        .await
        .expect("create the code bucket");
    s3.put_object()
        .bucket("ebhook-0-1-0-code")
        .key("handler.zip")
        .body(zipped(&binary).into())
        .send()
        .await
        .expect("upload the code");
    aws.deploy_as_0_1_0(
        "old-twilio",
        &fixture(TWILIO_ON_A_BUS),
        "twilio",
        ("ebhook-0-1-0-code", "handler.zip"),
        r#"{"current":"twilio-token"}"#,
    )
    .await;
    let before = Before::read(&aws, "old-twilio").await;
    assert_eq!(before.described["function"]["reservedConcurrency"], 3);

    let init = ebhook(
        &moto,
        &[
            "init",
            "--provider",
            "twilio",
            "--stack-name",
            "old-twilio",
            "--event-bus",
            TEAM_BUS,
            "--reserved-concurrency",
            "3",
            "--bootstrap",
            bootstrap,
            "--yes",
            "--output",
            "json",
        ],
        &[],
        None,
    );
    assert_eq!(outcome(&init), "updated", "{}", init.stderr);
    assert!(
        !init.stderr.contains("(replaced)") && !init.stderr.contains("may be replaced"),
        "{}",
        init.stderr
    );
    before
        .check_kept(
            &aws,
            "old-twilio",
            &[
                ("Provider", "twilio"),
                ("EventBusName", TEAM_BUS),
                ("ReservedConcurrency", "3"),
            ],
        )
        .await;
    assert_eq!(
        init.json()["url"],
        before.described["outputs"]["WebhookUrl"]
    );

    // Now current: the same build again changes nothing, and rotation works as on any stack.
    let args = [
        "update-function",
        "--stack-name",
        "old-twilio",
        "--bootstrap",
        bootstrap,
        "--yes",
        "--output",
        "json",
    ];
    let again = ebhook(&moto, &args, &[], None);
    assert_eq!(outcome(&again), "unchanged", "{}", again.stderr);
    assert!(again.stderr.contains("nothing to do"), "{}", again.stderr);
    let rotate = ebhook(
        &moto,
        &[
            "rotate-secret",
            "--stack-name",
            "old-twilio",
            "--secret-env",
            "NEW",
            "--yes",
        ],
        &[("NEW", "twilio-token-2")],
        None,
    );
    rotate.assert_ok();
    let stored = aws
        .secret(
            before.described["outputs"]["SecretArn"]
                .as_str()
                .expect("SecretArn"),
        )
        .await;
    assert_eq!(stored["current"], "twilio-token-2");
    assert_eq!(stored["previous"], "twilio-token");

    // --- A GitHub stack with its own bus, upgraded by `update-function` with the same build. ---
    // Deployed from the artifact `init` just uploaded: the code is already this build, so only
    // the older template tells update-function there is something to do.
    let code = aws.parameters("old-twilio").await;
    aws.deploy_as_0_1_0(
        "old-github",
        &fixture(GITHUB),
        "github",
        (&code["CodeS3Bucket"], &code["CodeS3Key"]),
        r#"{"current":"gh-secret"}"#,
    )
    .await;
    // Rotation works on a stack that still runs the older template.
    let rotate = ebhook(
        &moto,
        &[
            "rotate-secret",
            "--stack-name",
            "old-github",
            "--secret-env",
            "NEW",
            "--yes",
        ],
        &[("NEW", "gh-secret-2")],
        None,
    );
    rotate.assert_ok();
    // A consumer's rule on the bus the stack created, which must survive the update.
    let bus = aws.outputs("old-github").await["EventBusName"].clone();
    assert_eq!(bus, "old-github");
    aws.events
        .put_rule()
        .name("consumer")
        .event_bus_name(&bus)
        .event_pattern(r#"{"source":["ebhook.github"]}"#)
        .send()
        .await
        .expect("put a rule on the bus");
    let before = Before::read(&aws, "old-github").await;
    assert!(before.ids.contains_key("Bus"), "{:?}", before.ids);
    assert_eq!(
        before.described["bus"]["rules"],
        serde_json::json!(["consumer"])
    );
    assert_eq!(before.secret["current"], "gh-secret-2");

    let args = [
        "update-function",
        "--stack-name",
        "old-github",
        "--bootstrap",
        bootstrap,
        "--yes",
        "--output",
        "json",
    ];
    let update = ebhook(&moto, &args, &[], None);
    assert_eq!(outcome(&update), "updated", "{}", update.stderr);
    assert!(
        update.stderr.contains("runs an older template"),
        "{}",
        update.stderr
    );
    before
        .check_kept(
            &aws,
            "old-github",
            &[
                ("Provider", "github"),
                ("EventBusName", ""),
                ("ReservedConcurrency", "0"),
                ("Architecture", "x86_64"),
                ("MemorySize", "128"),
                ("LogRetentionInDays", "30"),
            ],
        )
        .await;
    let again = ebhook(&moto, &args, &[], None);
    assert_eq!(outcome(&again), "unchanged", "{}", again.stderr);
}
