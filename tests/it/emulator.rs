//! Checks of the emulator's CloudFormation behaviour (tests/moto_models.py):
//! the resource types moto 5.2.5 lacks, function URL permissions, change sets,
//! NoEcho parameters, resource-level events, rollback and clean deletion, each
//! compared with what AWS does. Every test runs its own moto server.

use std::collections::HashMap;
use std::io::Write;

use aws_config::SdkConfig;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{
    Capability, ChangeAction, ChangeSetStatus, ChangeSetType, ExecutionStatus, Parameter,
    Replacement, Stack, StackStatus,
};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};

use crate::support::Moto;
use crate::support::moto::{ACCOUNT_ID, REGION, s3_client};
use crate::support::stack::{bus_arn, bus_rules, outputs, parameters};

const CODE_BUCKET: &str = "ebhook-emulator-code";
const CODE_KEY: &str = "handler.zip";

/// Every resource of [`template`], with its type.
const RESOURCES: [(&str, &str); 11] = [
    ("Bus", "AWS::Events::EventBus"),
    ("Secret", "AWS::SecretsManager::Secret"),
    ("Role", "AWS::IAM::Role"),
    ("Fn", "AWS::Lambda::Function"),
    ("FnUrl", "AWS::Lambda::Url"),
    ("UrlPermission", "AWS::Lambda::Permission"),
    ("InvokePermission", "AWS::Lambda::Permission"),
    ("Bucket", "AWS::S3::Bucket"),
    ("BucketPolicy", "AWS::S3::BucketPolicy"),
    ("Queue", "AWS::SQS::Queue"),
    ("QueuePolicy", "AWS::SQS::QueuePolicy"),
];

/// A stack shaped like ebhook's (bus, secret, role, function with a public
/// URL), plus a bucket and a queue with policies.
fn template() -> Value {
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "ebhook emulator test stack",
        "Parameters": {
            "WebhookSecret": { "Type": "String", "NoEcho": true },
            "Stage": { "Type": "String", "Default": "prod" },
            "CodeBucket": { "Type": "String" },
            "CodeKey": { "Type": "String" }
        },
        "Resources": {
            "Bus": {
                "Type": "AWS::Events::EventBus",
                "Properties": { "Name": { "Fn::Sub": "${AWS::StackName}-events" } }
            },
            "Secret": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {
                    "Description": "webhook signing secret",
                    "SecretString": { "Ref": "WebhookSecret" }
                }
            },
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": { "Service": "lambda.amazonaws.com" },
                            "Action": "sts:AssumeRole"
                        }]
                    }
                }
            },
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "provided.al2023",
                    "Handler": "bootstrap",
                    "Role": { "Fn::GetAtt": ["Role", "Arn"] },
                    "Code": { "S3Bucket": { "Ref": "CodeBucket" }, "S3Key": { "Ref": "CodeKey" } },
                    "Environment": { "Variables": {
                        "SECRET_ARN": { "Ref": "Secret" },
                        "BUS_NAME": { "Ref": "Bus" },
                        "STAGE": { "Ref": "Stage" }
                    } }
                }
            },
            "FnUrl": {
                "Type": "AWS::Lambda::Url",
                "Properties": { "TargetFunctionArn": { "Fn::GetAtt": ["Fn", "Arn"] }, "AuthType": "NONE" }
            },
            "UrlPermission": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "FunctionName": { "Ref": "Fn" },
                    "Action": "lambda:InvokeFunctionUrl",
                    "Principal": "*",
                    "FunctionUrlAuthType": "NONE"
                }
            },
            "InvokePermission": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "FunctionName": { "Ref": "Fn" },
                    "Action": "lambda:InvokeFunction",
                    "Principal": "*",
                    "InvokedViaFunctionUrl": true
                }
            },
            "Bucket": { "Type": "AWS::S3::Bucket" },
            "BucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": { "Ref": "Bucket" },
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": { "Fn::Sub": "arn:aws:s3:::${Bucket}/*" },
                            "Condition": { "Bool": { "aws:SecureTransport": "false" } }
                        }]
                    }
                }
            },
            "Queue": { "Type": "AWS::SQS::Queue" },
            "QueuePolicy": {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {
                    "Queues": [{ "Ref": "Queue" }],
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Sid": "EventBridgeSends",
                            "Effect": "Allow",
                            "Principal": { "Service": "events.amazonaws.com" },
                            "Action": "sqs:SendMessage",
                            "Resource": { "Fn::GetAtt": ["Queue", "Arn"] }
                        }]
                    }
                }
            }
        },
        "Outputs": {
            "FunctionUrl": { "Value": { "Fn::GetAtt": ["FnUrl", "FunctionUrl"] } },
            "UrlFunctionArn": { "Value": { "Fn::GetAtt": ["FnUrl", "FunctionArn"] } },
            "UrlRef": { "Value": { "Ref": "FnUrl" } },
            "FunctionName": { "Value": { "Ref": "Fn" } },
            "SecretArn": { "Value": { "Ref": "Secret" } },
            "SecretId": { "Value": { "Fn::GetAtt": ["Secret", "Id"] } },
            "BucketName": { "Value": { "Ref": "Bucket" } },
            "BucketPolicyRef": { "Value": { "Ref": "BucketPolicy" } },
            "QueueUrl": { "Value": { "Ref": "Queue" } },
            "BusName": { "Value": { "Ref": "Bus" } },
            "Stage": { "Value": { "Ref": "Stage" } }
        }
    })
}

struct Clients {
    cfn: aws_sdk_cloudformation::Client,
    lambda: aws_sdk_lambda::Client,
    s3: aws_sdk_s3::Client,
    secrets: aws_sdk_secretsmanager::Client,
    sqs: aws_sdk_sqs::Client,
    events: aws_sdk_eventbridge::Client,
}

impl Clients {
    async fn new(moto: &Moto) -> Clients {
        let conf: SdkConfig = moto.sdk_config().await;
        Clients {
            cfn: aws_sdk_cloudformation::Client::new(&conf),
            lambda: aws_sdk_lambda::Client::new(&conf),
            s3: s3_client(&conf),
            secrets: aws_sdk_secretsmanager::Client::new(&conf),
            sqs: aws_sdk_sqs::Client::new(&conf),
            events: aws_sdk_eventbridge::Client::new(&conf),
        }
    }

    /// Uploads a small function package for the template's `Code`.
    async fn upload_code(&self) {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        zip.start_file("bootstrap", zip::write::SimpleFileOptions::default())
            .expect("zip entry");
        zip.write_all(b"#!/bin/sh\n").expect("zip write");
        let package = zip.finish().expect("zip finish").into_inner();
        self.s3
            .create_bucket()
            .bucket(CODE_BUCKET)
            .send()
            .await
            .expect("CreateBucket");
        self.s3
            .put_object()
            .bucket(CODE_BUCKET)
            .key(CODE_KEY)
            .body(package.into())
            .send()
            .await
            .expect("PutObject");
    }

    async fn stack(&self, name_or_id: &str) -> Stack {
        let described = self
            .cfn
            .describe_stacks()
            .stack_name(name_or_id)
            .send()
            .await
            .expect("DescribeStacks");
        let [stack] = described.stacks() else {
            panic!("one stack expected: {described:?}");
        };
        stack.clone()
    }

    /// The stack's events, oldest first, as (logical id, type, physical id,
    /// status, reason).
    async fn events(&self, name_or_id: &str) -> Vec<Event> {
        let described = self
            .cfn
            .describe_stack_events()
            .stack_name(name_or_id)
            .send()
            .await
            .expect("DescribeStackEvents");
        let mut events: Vec<Event> = described
            .stack_events()
            .iter()
            .map(|e| Event {
                logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
                resource_type: e.resource_type().unwrap_or_default().to_owned(),
                physical_id: e.physical_resource_id().unwrap_or_default().to_owned(),
                status: e.resource_status().expect("status").as_str().to_owned(),
                reason: e.resource_status_reason().map(str::to_owned),
            })
            .collect();
        // DescribeStackEvents lists the newest first, as on AWS.
        events.reverse();
        events
    }

    async fn secret_value(&self, id: &str) -> String {
        self.secrets
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .expect("GetSecretValue")
            .secret_string()
            .expect("a string secret")
            .to_owned()
    }

    async fn function_policy(&self, function: &str) -> Value {
        let policy = self
            .lambda
            .get_policy()
            .function_name(function)
            .send()
            .await
            .expect("GetPolicy");
        serde_json::from_str(policy.policy().expect("policy")).expect("policy JSON")
    }

    async fn queue_policy(&self, queue_url: &str) -> Option<String> {
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::Policy)
            .send()
            .await
            .expect("GetQueueAttributes");
        attributes
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::Policy))
            .filter(|p| !p.is_empty())
            .cloned()
    }

    /// Creates a change set and returns its id.
    async fn change_set(
        &self,
        stack: &str,
        name: &str,
        kind: ChangeSetType,
        template: Option<&Value>,
        parameters: Vec<Parameter>,
    ) -> String {
        let mut request = self
            .cfn
            .create_change_set()
            .stack_name(stack)
            .change_set_name(name)
            .change_set_type(kind)
            .capabilities(Capability::CapabilityIam)
            .set_parameters(Some(parameters));
        request = match template {
            Some(template) => request.template_body(template.to_string()),
            None => request.use_previous_template(true),
        };
        request
            .send()
            .await
            .expect("CreateChangeSet")
            .id()
            .expect("change set id")
            .to_owned()
    }

    /// Executes a change set, which the emulator accepts (what it does is checked after).
    async fn execute(&self, change_set: &str) {
        self.cfn
            .execute_change_set()
            .change_set_name(change_set)
            .send()
            .await
            .expect("ExecuteChangeSet");
    }

    /// Creates the template's stack through a CREATE change set, as the CLI
    /// does, and executes it.
    async fn deploy(&self, stack: &str, template: &Value, secret: &str) -> HashMap<String, String> {
        self.upload_code().await;
        let id = self
            .change_set(
                stack,
                "create",
                ChangeSetType::Create,
                Some(template),
                deploy_parameters(secret),
            )
            .await;
        self.execute(&id).await;
        let stack = self.stack(stack).await;
        assert_eq!(
            stack.stack_status(),
            Some(&StackStatus::CreateComplete),
            "{stack:?}"
        );
        outputs(&stack)
    }
}

#[derive(Debug)]
struct Event {
    logical_id: String,
    resource_type: String,
    physical_id: String,
    status: String,
    reason: Option<String>,
}

fn parameter(key: &str, value: &str) -> Parameter {
    Parameter::builder()
        .parameter_key(key)
        .parameter_value(value)
        .build()
}

fn previous(key: &str) -> Parameter {
    Parameter::builder()
        .parameter_key(key)
        .use_previous_value(true)
        .build()
}

fn deploy_parameters(secret: &str) -> Vec<Parameter> {
    vec![
        parameter("WebhookSecret", secret),
        parameter("CodeBucket", CODE_BUCKET),
        parameter("CodeKey", CODE_KEY),
    ]
}

/// The index of the only event with this logical id and status.
fn position(events: &[Event], logical_id: &str, status: &str) -> usize {
    let found: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.logical_id == logical_id && e.status == status)
        .map(|(i, _)| i)
        .collect();
    match found[..] {
        [i] => i,
        _ => panic!("one {logical_id} {status} event expected, found {found:?} in {events:#?}"),
    }
}

/// `https://<32 lowercase letters or digits>.lambda-url.<region>.on.aws/`
fn assert_function_url(url: &str) {
    let id = url
        .strip_prefix("https://")
        .and_then(|rest| rest.strip_suffix(&format!(".lambda-url.{REGION}.on.aws/")))
        .unwrap_or_else(|| panic!("not a function URL: {url}"));
    assert!(
        id.len() == 32
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
        "URL id {id:?} in {url}"
    );
}

fn error_code<E: ProvideErrorMetadata>(error: &E) -> String {
    error.code().unwrap_or("(no code)").to_owned()
}

#[tokio::test]
async fn create_via_change_set_builds_every_resource_type() {
    let moto = Moto::start();
    let aws = Clients::new(&moto).await;
    aws.upload_code().await;
    let template = template();

    let id = aws
        .change_set(
            "hooks",
            "create",
            ChangeSetType::Create,
            Some(&template),
            deploy_parameters("s3cr3t-1"),
        )
        .await;
    let described = aws
        .cfn
        .describe_change_set()
        .change_set_name(&id)
        .send()
        .await
        .expect("DescribeChangeSet");
    assert_eq!(described.status(), Some(&ChangeSetStatus::CreateComplete));
    assert_eq!(
        described.execution_status(),
        Some(&ExecutionStatus::Available)
    );
    let mut added: Vec<(String, String)> = described
        .changes()
        .iter()
        .map(|c| {
            let change = c.resource_change().expect("resource change");
            assert_eq!(change.action(), Some(&ChangeAction::Add), "{change:?}");
            (
                change.logical_resource_id().expect("id").to_owned(),
                change.resource_type().expect("type").to_owned(),
            )
        })
        .collect();
    added.sort();
    let mut expected: Vec<(String, String)> = RESOURCES
        .iter()
        .map(|(id, kind)| (id.to_string(), kind.to_string()))
        .collect();
    expected.sort();
    assert_eq!(added, expected);
    let shown: HashMap<_, _> = described
        .parameters()
        .iter()
        .map(|p| {
            (
                p.parameter_key().unwrap_or_default(),
                p.parameter_value().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        shown.get("WebhookSecret"),
        Some(&"****"),
        "NoEcho in DescribeChangeSet: {shown:?}"
    );
    let review = aws.stack("hooks").await;
    assert_eq!(review.stack_status(), Some(&StackStatus::ReviewInProgress));

    aws.cfn
        .execute_change_set()
        .change_set_name(&id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ExecuteChangeSet: {e:?}\nmoto:\n{}", moto.logs()));
    let stack = aws.stack("hooks").await;
    assert_eq!(
        stack.stack_status(),
        Some(&StackStatus::CreateComplete),
        "{stack:?}"
    );
    assert_eq!(stack.description(), Some("ebhook emulator test stack"));

    // Parameters as DescribeStacks shows them: the NoEcho one masked, the
    // default filled in.
    let params = parameters(&stack);
    assert_eq!(
        params.get("WebhookSecret").map(String::as_str),
        Some("****")
    );
    assert_eq!(params.get("Stage").map(String::as_str), Some("prod"));
    assert_eq!(
        params.get("CodeBucket").map(String::as_str),
        Some(CODE_BUCKET)
    );

    // Outputs, with Ref and GetAtt as AWS resolves them.
    let out = outputs(&stack);
    let function = &out["FunctionName"];
    let function_arn = format!("arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function}");
    assert_function_url(&out["FunctionUrl"]);
    assert_eq!(out["UrlFunctionArn"], function_arn);
    assert_eq!(out["UrlRef"], function_arn);
    assert!(
        out["SecretArn"].starts_with(&format!(
            "arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:hooks-Secret-"
        )),
        "{out:?}"
    );
    assert_eq!(out["SecretId"], out["SecretArn"]);
    assert_eq!(out["BucketPolicyRef"], out["BucketName"]);
    assert_eq!(out["BusName"], "hooks-events");
    assert_eq!(out["Stage"], "prod");

    // The resources themselves.
    assert_eq!(aws.secret_value(&out["SecretArn"]).await, "s3cr3t-1");
    let url = aws
        .lambda
        .get_function_url_config()
        .function_name(function)
        .send()
        .await
        .expect("GetFunctionUrlConfig");
    assert_eq!(url.function_url(), out["FunctionUrl"]);
    assert_eq!(url.function_arn(), function_arn);
    assert_eq!(url.auth_type().as_str(), "NONE");
    let config = aws
        .lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .expect("GetFunctionConfiguration");
    let variables = config
        .environment()
        .and_then(|e| e.variables())
        .expect("environment");
    assert_eq!(variables.get("SECRET_ARN"), Some(&out["SecretArn"]));
    assert_eq!(
        variables.get("BUS_NAME").map(String::as_str),
        Some("hooks-events")
    );
    aws.events
        .describe_event_bus()
        .name("hooks-events")
        .send()
        .await
        .expect("DescribeEventBus");

    // The two statements a public function URL needs, as GetPolicy shows them.
    let policy = aws.function_policy(function).await;
    let statements = policy["Statement"].as_array().expect("statements");
    assert_eq!(statements.len(), 2, "{policy:#}");
    let by_action = |action: &str| {
        statements
            .iter()
            .find(|s| s["Action"] == action)
            .unwrap_or_else(|| panic!("no {action} statement in {policy:#}"))
            .clone()
    };
    let url_statement = by_action("lambda:InvokeFunctionUrl");
    assert_eq!(url_statement["Effect"], "Allow");
    assert_eq!(url_statement["Principal"], "*");
    assert_eq!(url_statement["Resource"], function_arn);
    assert_eq!(
        url_statement["Condition"],
        json!({ "StringEquals": { "lambda:FunctionUrlAuthType": "NONE" } })
    );
    let invoke_statement = by_action("lambda:InvokeFunction");
    assert_eq!(invoke_statement["Principal"], "*");
    assert_eq!(
        invoke_statement["Condition"],
        json!({ "Bool": { "lambda:InvokedViaFunctionUrl": "true" } })
    );
    for statement in statements {
        for stray in [
            "FunctionName",
            "FunctionUrlAuthType",
            "InvokedViaFunctionUrl",
        ] {
            assert!(
                statement.get(stray).is_none(),
                "{stray} left in {statement}"
            );
        }
    }

    // The bucket and queue policies, with their references resolved.
    let bucket_policy = aws
        .s3
        .get_bucket_policy()
        .bucket(&out["BucketName"])
        .send()
        .await
        .expect("GetBucketPolicy");
    let bucket_policy: Value =
        serde_json::from_str(bucket_policy.policy().expect("policy")).expect("JSON");
    assert_eq!(
        bucket_policy["Statement"][0]["Sid"],
        "DenyInsecureTransport"
    );
    assert_eq!(
        bucket_policy["Statement"][0]["Resource"],
        format!("arn:aws:s3:::{}/*", out["BucketName"])
    );
    // The policy only denies requests without TLS, which SDK calls to AWS
    // never are: an upload goes through.
    aws.s3
        .put_object()
        .bucket(&out["BucketName"])
        .key("probe.txt")
        .body(b"probe".to_vec().into())
        .send()
        .await
        .expect("PutObject under a deny-insecure-transport policy");
    let queue_policy = aws
        .queue_policy(&out["QueueUrl"])
        .await
        .expect("queue policy");
    let queue_policy: Value = serde_json::from_str(&queue_policy).expect("JSON");
    let queue_name = out["QueueUrl"].rsplit('/').next().expect("queue name");
    assert_eq!(
        queue_policy["Statement"][0]["Resource"],
        format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue_name}")
    );
}

#[tokio::test]
async fn stack_events_follow_each_resource_in_dependency_order() {
    let moto = Moto::start();
    let aws = Clients::new(&moto).await;
    let out = aws.deploy("hooks", &template(), "s3cr3t-1").await;
    let events = aws.events("hooks").await;

    // Stack-level events frame the resources' events.
    assert_eq!(
        (events[0].logical_id.as_str(), events[0].status.as_str()),
        ("hooks", "REVIEW_IN_PROGRESS")
    );
    assert_eq!(events[0].resource_type, "AWS::CloudFormation::Stack");
    let started = position(&events, "hooks", "CREATE_IN_PROGRESS");
    let finished = position(&events, "hooks", "CREATE_COMPLETE");
    assert_eq!(finished, events.len() - 1, "{events:#?}");
    assert_eq!(events[started].reason.as_deref(), Some("User Initiated"));

    for (logical_id, resource_type) in RESOURCES {
        let begin = position(&events, logical_id, "CREATE_IN_PROGRESS");
        let end = position(&events, logical_id, "CREATE_COMPLETE");
        assert!(
            started < begin && begin < end && end < finished,
            "{logical_id}: {events:#?}"
        );
        assert_eq!(events[begin].resource_type, resource_type);
        assert_eq!(events[end].resource_type, resource_type);
        assert!(!events[end].physical_id.is_empty(), "{:?}", events[end]);
    }
    let physical = |logical_id: &str| {
        events[position(&events, logical_id, "CREATE_COMPLETE")]
            .physical_id
            .clone()
    };
    assert_eq!(physical("Secret"), out["SecretArn"]);
    assert_eq!(physical("FnUrl"), out["UrlFunctionArn"]);
    assert_eq!(physical("Fn"), out["FunctionName"]);
    assert_eq!(physical("BucketPolicy"), out["BucketName"]);

    // A resource starts only once everything it refers to is complete.
    for (dependency, dependent) in [
        ("Role", "Fn"),
        ("Secret", "Fn"),
        ("Bus", "Fn"),
        ("Fn", "FnUrl"),
        ("Fn", "UrlPermission"),
        ("Fn", "InvokePermission"),
        ("Bucket", "BucketPolicy"),
        ("Queue", "QueuePolicy"),
    ] {
        assert!(
            position(&events, dependency, "CREATE_COMPLETE")
                < position(&events, dependent, "CREATE_IN_PROGRESS"),
            "{dependency} before {dependent}: {events:#?}"
        );
    }
}

#[tokio::test]
async fn parameter_only_change_set_updates_resources_and_parameters() {
    let moto = Moto::start();
    let aws = Clients::new(&moto).await;
    let out = aws.deploy("hooks", &template(), "s3cr3t-1").await;

    // Same template, new NoEcho secret and stage.
    let id = aws
        .change_set(
            "hooks",
            "rotate",
            ChangeSetType::Update,
            None,
            vec![
                parameter("WebhookSecret", "s3cr3t-2"),
                parameter("Stage", "beta"),
                previous("CodeBucket"),
                previous("CodeKey"),
            ],
        )
        .await;
    let described = aws
        .cfn
        .describe_change_set()
        .change_set_name(&id)
        .send()
        .await
        .expect("DescribeChangeSet");
    assert_eq!(
        described.status(),
        Some(&ChangeSetStatus::CreateComplete),
        "{described:?}"
    );
    assert_eq!(
        described.execution_status(),
        Some(&ExecutionStatus::Available)
    );
    let mut modified: Vec<(&str, &str, Option<&str>)> = described
        .changes()
        .iter()
        .map(|c| {
            let change = c.resource_change().expect("resource change");
            assert_eq!(change.action(), Some(&ChangeAction::Modify), "{change:?}");
            assert_eq!(
                change.replacement(),
                Some(&Replacement::False),
                "{change:?}"
            );
            let causes: Vec<&str> = change
                .details()
                .iter()
                .filter_map(|d| d.causing_entity())
                .collect();
            let cause = match change.logical_resource_id() {
                Some("Secret") => "WebhookSecret",
                _ => "Stage",
            };
            assert_eq!(causes, [cause], "{change:?}");
            (
                change.logical_resource_id().expect("id"),
                change.resource_type().expect("type"),
                change.physical_resource_id(),
            )
        })
        .collect();
    modified.sort();
    assert_eq!(
        modified,
        [
            (
                "Fn",
                "AWS::Lambda::Function",
                Some(out["FunctionName"].as_str())
            ),
            (
                "Secret",
                "AWS::SecretsManager::Secret",
                Some(out["SecretArn"].as_str())
            ),
        ]
    );

    let before = aws.events("hooks").await.len();
    aws.cfn
        .execute_change_set()
        .change_set_name(&id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ExecuteChangeSet: {e:?}\nmoto:\n{}", moto.logs()));
    let stack = aws.stack("hooks").await;
    assert_eq!(
        stack.stack_status(),
        Some(&StackStatus::UpdateComplete),
        "{stack:?}"
    );
    assert_eq!(aws.secret_value(&out["SecretArn"]).await, "s3cr3t-2");
    let params = parameters(&stack);
    assert_eq!(
        params.get("WebhookSecret").map(String::as_str),
        Some("****")
    );
    assert_eq!(params.get("Stage").map(String::as_str), Some("beta"));
    assert_eq!(params.get("CodeKey").map(String::as_str), Some(CODE_KEY));
    let updated = outputs(&stack);
    assert_eq!(updated["Stage"], "beta");
    assert_eq!(updated["FunctionUrl"], out["FunctionUrl"], "the URL stays");

    // Each resource's own status: the two updated ones, the rest as created.
    let described = aws
        .cfn
        .describe_stack_resources()
        .stack_name("hooks")
        .send()
        .await
        .expect("DescribeStackResources");
    let listed = aws
        .cfn
        .list_stack_resources()
        .stack_name("hooks")
        .send()
        .await
        .expect("ListStackResources");
    let described: HashMap<&str, &str> = described
        .stack_resources()
        .iter()
        .map(|r| {
            (
                r.logical_resource_id().expect("id"),
                r.resource_status().expect("status").as_str(),
            )
        })
        .collect();
    let listed: HashMap<&str, &str> = listed
        .stack_resource_summaries()
        .iter()
        .map(|r| {
            (
                r.logical_resource_id().expect("id"),
                r.resource_status().expect("status").as_str(),
            )
        })
        .collect();
    assert_eq!(described, listed);
    assert_eq!(described.len(), RESOURCES.len(), "{described:?}");
    for (logical_id, _) in RESOURCES {
        let expected = match logical_id {
            "Secret" | "Fn" => "UPDATE_COMPLETE",
            _ => "CREATE_COMPLETE",
        };
        assert_eq!(described[logical_id], expected, "{described:?}");
    }
    let config = aws
        .lambda
        .get_function_configuration()
        .function_name(&out["FunctionName"])
        .send()
        .await
        .expect("GetFunctionConfiguration");
    let variables = config
        .environment()
        .and_then(|e| e.variables())
        .expect("environment");
    assert_eq!(variables.get("STAGE").map(String::as_str), Some("beta"));

    // The update's events: the two resources, inside the stack's update.
    let events = aws.events("hooks").await;
    let events = &events[before..];
    let statuses: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.logical_id.as_str(), e.status.as_str()))
        .collect();
    assert_eq!(
        statuses.first(),
        Some(&("hooks", "UPDATE_IN_PROGRESS")),
        "{events:#?}"
    );
    assert_eq!(
        statuses.last(),
        Some(&("hooks", "UPDATE_COMPLETE")),
        "{events:#?}"
    );
    for logical_id in ["Secret", "Fn"] {
        assert!(
            position(events, logical_id, "UPDATE_IN_PROGRESS")
                < position(events, logical_id, "UPDATE_COMPLETE"),
            "{events:#?}"
        );
    }
    assert_eq!(events.len(), 7, "only Secret and Fn change: {events:#?}");

    // The stack recorded the new values: sending them again changes nothing,
    // and AWS then creates the change set as FAILED with this reason.
    for (name, parameters) in [
        (
            "same-values",
            vec![
                parameter("WebhookSecret", "s3cr3t-2"),
                parameter("Stage", "beta"),
                parameter("CodeBucket", CODE_BUCKET),
                parameter("CodeKey", CODE_KEY),
            ],
        ),
        (
            "previous-values",
            ["WebhookSecret", "Stage", "CodeBucket", "CodeKey"]
                .into_iter()
                .map(previous)
                .collect(),
        ),
    ] {
        let id = aws
            .change_set(
                "hooks",
                name,
                ChangeSetType::Update,
                Some(&template()),
                parameters,
            )
            .await;
        let described = aws
            .cfn
            .describe_change_set()
            .change_set_name(name)
            .stack_name("hooks")
            .send()
            .await
            .expect("DescribeChangeSet");
        assert_eq!(described.change_set_id(), Some(id.as_str()));
        assert_eq!(
            described.status(),
            Some(&ChangeSetStatus::Failed),
            "{described:?}"
        );
        assert_eq!(
            described.execution_status(),
            Some(&ExecutionStatus::Unavailable)
        );
        assert_eq!(
            described.status_reason(),
            Some(
                "The submitted information didn't contain changes. Submit different information to create a change set."
            )
        );
        assert!(described.changes().is_empty(), "{described:?}");

        let refused = aws
            .cfn
            .execute_change_set()
            .change_set_name(&id)
            .send()
            .await
            .expect_err("a FAILED change set cannot be executed");
        assert_eq!(
            error_code(&refused),
            "InvalidChangeSetStatus",
            "{refused:?}"
        );

        aws.cfn
            .delete_change_set()
            .change_set_name(&id)
            .send()
            .await
            .expect("DeleteChangeSet");
        let gone = aws
            .cfn
            .describe_change_set()
            .change_set_name(&id)
            .send()
            .await
            .expect_err("deleted");
        assert_eq!(error_code(&gone), "ChangeSetNotFound", "{gone:?}");
    }

    // The old secret value is a change again.
    aws.change_set(
        "hooks",
        "back",
        ChangeSetType::Update,
        None,
        vec![
            parameter("WebhookSecret", "s3cr3t-1"),
            previous("Stage"),
            previous("CodeBucket"),
            previous("CodeKey"),
        ],
    )
    .await;
    let described = aws
        .cfn
        .describe_change_set()
        .change_set_name("back")
        .stack_name("hooks")
        .send()
        .await
        .expect("DescribeChangeSet");
    let changed: Vec<_> = described
        .changes()
        .iter()
        .filter_map(|c| c.resource_change()?.logical_resource_id())
        .collect();
    assert_eq!(changed, ["Secret"]);
}

#[tokio::test]
async fn delete_stack_leaves_no_secret_url_config_or_policies() {
    let moto = Moto::start();
    let aws = Clients::new(&moto).await;
    // Keep the function, bucket and queue past the stack, so that what the
    // stack put on them is seen to be removed.
    let mut template = template();
    for retained in ["Fn", "Bucket", "Queue"] {
        template["Resources"][retained]["DeletionPolicy"] = json!("Retain");
    }
    // This stack is made by CreateStack, not by a change set.
    aws.upload_code().await;
    let created = aws
        .cfn
        .create_stack()
        .stack_name("hooks")
        .template_body(template.to_string())
        .capabilities(Capability::CapabilityIam)
        .set_parameters(Some(deploy_parameters("s3cr3t-1")))
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateStack: {e:?}\nmoto:\n{}", moto.logs()));
    let stack_id = created.stack_id().expect("stack id").to_owned();
    let stack = aws.stack("hooks").await;
    assert_eq!(stack.stack_status(), Some(&StackStatus::CreateComplete));
    let params = parameters(&stack);
    assert_eq!(
        params.get("WebhookSecret").map(String::as_str),
        Some("****"),
        "NoEcho is masked"
    );
    let out = outputs(&stack);
    let function = &out["FunctionName"];
    assert!(aws.queue_policy(&out["QueueUrl"]).await.is_some());
    let before = aws.events("hooks").await.len();

    aws.cfn
        .delete_stack()
        .stack_name("hooks")
        .send()
        .await
        .expect("DeleteStack");

    let deleted = aws.stack(&stack_id).await;
    assert_eq!(deleted.stack_status(), Some(&StackStatus::DeleteComplete));
    assert!(deleted.outputs().is_empty(), "{deleted:?}");
    let listed = aws.cfn.list_stacks().send().await.expect("ListStacks");
    let summary = listed
        .stack_summaries()
        .iter()
        .find(|s| s.stack_id() == Some(stack_id.as_str()))
        .expect("stack summary");
    assert_eq!(
        summary.stack_status().map(|s| s.as_str()),
        Some("DELETE_COMPLETE")
    );

    // The secret is gone at once, without a recovery window.
    let secret = aws
        .secrets
        .describe_secret()
        .secret_id(&out["SecretArn"])
        .send()
        .await
        .expect_err("secret deleted");
    assert_eq!(
        error_code(&secret),
        "ResourceNotFoundException",
        "{secret:?}"
    );
    let secrets = aws
        .secrets
        .list_secrets()
        .send()
        .await
        .expect("ListSecrets");
    assert!(secrets.secret_list().is_empty(), "{secrets:?}");

    // The retained function has no URL and no permissions left.
    aws.lambda
        .get_function()
        .function_name(function)
        .send()
        .await
        .expect("the function is retained");
    let url = aws
        .lambda
        .get_function_url_config()
        .function_name(function)
        .send()
        .await
        .expect_err("URL config deleted");
    assert_eq!(error_code(&url), "ResourceNotFoundException", "{url:?}");
    let policy = aws
        .lambda
        .get_policy()
        .function_name(function)
        .send()
        .await
        .expect_err("permissions removed");
    assert_eq!(
        error_code(&policy),
        "ResourceNotFoundException",
        "{policy:?}"
    );

    // The retained bucket and queue have no policies left.
    let bucket_policy = aws
        .s3
        .get_bucket_policy()
        .bucket(&out["BucketName"])
        .send()
        .await
        .expect_err("bucket policy deleted");
    assert_eq!(
        error_code(&bucket_policy),
        "NoSuchBucketPolicy",
        "{bucket_policy:?}"
    );
    assert_eq!(aws.queue_policy(&out["QueueUrl"]).await, None);

    // Each deleted resource went DELETE_IN_PROGRESS then DELETE_COMPLETE, the
    // retained ones DELETE_SKIPPED, all inside the stack's deletion.
    let events = aws.events(&stack_id).await;
    let events = &events[before..];
    assert_eq!(
        (events[0].logical_id.as_str(), events[0].status.as_str()),
        ("hooks", "DELETE_IN_PROGRESS")
    );
    let last = events.last().expect("events");
    assert_eq!(
        (last.logical_id.as_str(), last.status.as_str()),
        ("hooks", "DELETE_COMPLETE")
    );
    for (logical_id, resource_type) in RESOURCES {
        if ["Fn", "Bucket", "Queue"].contains(&logical_id) {
            let skipped = position(events, logical_id, "DELETE_SKIPPED");
            assert_eq!(events[skipped].resource_type, resource_type);
            continue;
        }
        let begin = position(events, logical_id, "DELETE_IN_PROGRESS");
        let end = position(events, logical_id, "DELETE_COMPLETE");
        assert!(begin < end, "{logical_id}: {events:#?}");
        assert_eq!(events[end].resource_type, resource_type);
        assert!(!events[end].physical_id.is_empty(), "{:?}", events[end]);
    }
    // Dependents go before what they depend on.
    assert!(
        position(events, "FnUrl", "DELETE_COMPLETE")
            < position(events, "Role", "DELETE_IN_PROGRESS")
    );
    assert!(
        position(events, "QueuePolicy", "DELETE_COMPLETE")
            < position(events, "Secret", "DELETE_IN_PROGRESS")
    );
}

#[tokio::test]
async fn failed_resources_roll_back_like_aws() {
    let moto = Moto::start();
    let aws = Clients::new(&moto).await;

    // A create whose function has a malformed role: the secret it refers to
    // is created, the function fails, and everything is rolled back.
    let failing = json!({
        "Parameters": { "WebhookSecret": { "Type": "String", "NoEcho": true } },
        "Resources": {
            "Secret": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": { "SecretString": { "Ref": "WebhookSecret" } }
            },
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.12",
                    "Handler": "index.handler",
                    "Role": "not-a-role-arn",
                    "Code": { "ZipFile": "def handler(event, context):\n    return event\n" },
                    "Environment": { "Variables": { "SECRET_ARN": { "Ref": "Secret" } } }
                }
            }
        },
        "Outputs": { "SecretArn": { "Value": { "Ref": "Secret" } } }
    });
    let id = aws
        .change_set(
            "broken",
            "create",
            ChangeSetType::Create,
            Some(&failing),
            vec![parameter("WebhookSecret", "s3cr3t")],
        )
        .await;
    // Accepted; the failure comes after.
    aws.execute(&id).await;
    let stack = aws.stack("broken").await;
    assert_eq!(
        stack.stack_status(),
        Some(&StackStatus::RollbackComplete),
        "{stack:?}"
    );
    assert!(stack.outputs().is_empty(), "{stack:?}");
    let change_set = aws
        .cfn
        .describe_change_set()
        .change_set_name(&id)
        .send()
        .await
        .expect("DescribeChangeSet");
    assert_eq!(
        change_set.execution_status(),
        Some(&ExecutionStatus::ExecuteFailed)
    );

    let events = aws.events("broken").await;
    let statuses: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.logical_id.as_str(), e.status.as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("broken", "REVIEW_IN_PROGRESS"),
            ("broken", "CREATE_IN_PROGRESS"),
            ("Secret", "CREATE_IN_PROGRESS"),
            ("Secret", "CREATE_COMPLETE"),
            ("Fn", "CREATE_IN_PROGRESS"),
            ("Fn", "CREATE_FAILED"),
            ("broken", "ROLLBACK_IN_PROGRESS"),
            ("Secret", "DELETE_IN_PROGRESS"),
            ("Secret", "DELETE_COMPLETE"),
            ("broken", "ROLLBACK_COMPLETE"),
        ],
        "{events:#?}"
    );
    let failed = &events[5];
    assert_eq!(failed.resource_type, "AWS::Lambda::Function");
    let reason = failed
        .reason
        .as_deref()
        .expect("CREATE_FAILED has a reason");
    assert!(reason.contains("not-a-role-arn"), "{reason}");
    assert_eq!(
        events[6].reason.as_deref(),
        Some("The following resource(s) failed to create: [Fn]. Rollback requested by user.")
    );
    let secrets = aws
        .secrets
        .list_secrets()
        .send()
        .await
        .expect("ListSecrets");
    assert!(secrets.secret_list().is_empty(), "rolled back: {secrets:?}");
    let resources = aws
        .cfn
        .describe_stack_resources()
        .stack_name("broken")
        .send()
        .await
        .expect("DescribeStackResources");
    assert!(resources.stack_resources().is_empty(), "{resources:?}");
    // A stack in ROLLBACK_COMPLETE can only be deleted.
    aws.cfn
        .delete_stack()
        .stack_name("broken")
        .send()
        .await
        .expect("DeleteStack");
    let listed = aws.cfn.list_stacks().send().await.expect("ListStacks");
    assert_eq!(
        listed.stack_summaries()[0]
            .stack_status()
            .map(|s| s.as_str()),
        Some("DELETE_COMPLETE")
    );

    // An update that fails (an AuthType the schema does not allow) rolls the
    // stack back to its previous template and parameters.
    let out = aws.deploy("hooks", &template(), "s3cr3t-1").await;
    let mut invalid = template();
    invalid["Resources"]["FnUrl"]["Properties"]["AuthType"] = json!("PUBLIC");
    let id = aws
        .change_set(
            "hooks",
            "bad-update",
            ChangeSetType::Update,
            Some(&invalid),
            vec![
                parameter("WebhookSecret", "s3cr3t-2"),
                previous("CodeBucket"),
                previous("CodeKey"),
            ],
        )
        .await;
    let before = aws.events("hooks").await.len();
    aws.execute(&id).await;
    let stack = aws.stack("hooks").await;
    assert_eq!(
        stack.stack_status(),
        Some(&StackStatus::UpdateRollbackComplete),
        "{stack:?}"
    );
    assert_eq!(outputs(&stack)["FunctionUrl"], out["FunctionUrl"]);
    assert_eq!(
        aws.secret_value(&out["SecretArn"]).await,
        "s3cr3t-1",
        "value rolled back"
    );
    let url = aws
        .lambda
        .get_function_url_config()
        .function_name(&out["FunctionName"])
        .send()
        .await
        .expect("GetFunctionUrlConfig");
    assert_eq!(url.auth_type().as_str(), "NONE");
    let events = aws.events("hooks").await;
    let events = &events[before..];
    let failed = position(events, "FnUrl", "UPDATE_FAILED");
    assert!(
        events[failed]
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("AuthType"),
        "{:?}",
        events[failed]
    );
    let rollback = position(events, "hooks", "UPDATE_ROLLBACK_IN_PROGRESS");
    assert!(failed < rollback);
    assert_eq!(
        events[rollback].reason.as_deref(),
        Some("The following resource(s) failed to update: [FnUrl]. ")
    );
    let last = events.last().expect("events");
    assert_eq!(
        (last.logical_id.as_str(), last.status.as_str()),
        ("hooks", "UPDATE_ROLLBACK_COMPLETE")
    );
}

/// Conditions and updates in place, as the ebhook stack meets them when an older template is
/// replaced: a resource whose Condition is false is not in the stack's resources (moto listed a
/// blank one); an event bus that only gains a Condition that holds is updated in place and keeps
/// its rules (moto deleted and remade it); a queue's new MaximumMessageSize is applied in place
/// (moto ignored it).
#[tokio::test]
async fn conditions_and_updates_in_place_match_aws() {
    let moto = Moto::start();
    let aws = Clients::new(&moto).await;
    let mut conditional = template();
    conditional["Conditions"] = json!({
        "IsProd": { "Fn::Equals": [{ "Ref": "Stage" }, "prod"] },
        "IsBeta": { "Fn::Equals": [{ "Ref": "Stage" }, "beta"] }
    });
    conditional["Resources"]["BetaQueue"] =
        json!({ "Type": "AWS::SQS::Queue", "Condition": "IsBeta" });
    let out = aws.deploy("hooks", &conditional, "s3cr3t-1").await;
    let listed = |summaries: &[aws_sdk_cloudformation::types::StackResourceSummary]| {
        let mut ids: Vec<(String, String)> = summaries
            .iter()
            .map(|r| {
                (
                    r.logical_resource_id().unwrap_or_default().to_owned(),
                    r.physical_resource_id().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        ids.sort();
        ids
    };
    let before = aws
        .cfn
        .list_stack_resources()
        .stack_name("hooks")
        .send()
        .await
        .expect("ListStackResources");
    let before = listed(before.stack_resource_summaries());
    let mut expected: Vec<&str> = RESOURCES.iter().map(|(id, _)| *id).collect();
    expected.sort_unstable();
    assert_eq!(
        before.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
        expected,
        "no BetaQueue, and no blank entry for it"
    );
    let described = aws
        .cfn
        .describe_stack_resources()
        .stack_name("hooks")
        .send()
        .await
        .expect("DescribeStackResources");
    assert_eq!(described.stack_resources().len(), RESOURCES.len());

    let bus = &out["BusName"];
    aws.events
        .put_rule()
        .name("consumer")
        .event_bus_name(bus)
        .event_pattern(r#"{"source":["ebhook.test"]}"#)
        .send()
        .await
        .expect("PutRule");
    let arn = bus_arn(&aws.events, bus).await;

    let mut updated = conditional.clone();
    updated["Resources"]["Bus"]["Condition"] = json!("IsProd");
    updated["Resources"]["Queue"]["Properties"] = json!({ "MaximumMessageSize": 1_048_576 });
    let id = aws
        .change_set(
            "hooks",
            "update",
            ChangeSetType::Update,
            Some(&updated),
            vec![
                previous("WebhookSecret"),
                previous("CodeBucket"),
                previous("CodeKey"),
            ],
        )
        .await;
    aws.execute(&id).await;
    let stack = aws.stack("hooks").await;
    assert_eq!(stack.stack_status(), Some(&StackStatus::UpdateComplete));
    let after = aws
        .cfn
        .list_stack_resources()
        .stack_name("hooks")
        .send()
        .await
        .expect("ListStackResources");
    assert_eq!(
        listed(after.stack_resource_summaries()),
        before,
        "physical ids"
    );
    assert_eq!(
        bus_rules(&aws.events, bus).await,
        ["consumer"],
        "the bus kept its rule"
    );
    assert_eq!(bus_arn(&aws.events, bus).await, arn);
    let size = aws
        .sqs
        .get_queue_attributes()
        .queue_url(&out["QueueUrl"])
        .attribute_names(QueueAttributeName::MaximumMessageSize)
        .send()
        .await
        .expect("GetQueueAttributes");
    assert_eq!(
        size.attributes()
            .and_then(|a| a.get(&QueueAttributeName::MaximumMessageSize))
            .map(String::as_str),
        Some("1048576")
    );
    // The queue kept the policy its QueuePolicy resource gave it.
    assert!(aws.queue_policy(&out["QueueUrl"]).await.is_some());
}
