//! The template as deployed (`templates/ebhook.yaml`), read as data, against the names and
//! rules the CLI and the handler use; and the options that become its parameters.

use std::collections::BTreeSet;

use ebhook_handler::Provider;
use ebhook_handler::config as env;
use yaml_serde::Value;

use super::options::{LOG_RETENTION_DAYS, MEMORY_SIZE_RANGE};
use super::*;
use crate::cli::{Arch, Compliance};

fn parse(text: &str) -> Value {
    yaml_serde::from_str(text).expect("YAML")
}

fn template() -> Value {
    parse(TEMPLATE)
}

fn resource<'a>(doc: &'a Value, name: &str) -> &'a Value {
    &doc["Resources"][name]
}

fn statements(doc: &Value) -> &Vec<Value> {
    let policies = resource(doc, "Role")["Properties"]["Policies"]
        .as_sequence()
        .expect("Policies");
    assert_eq!(policies.len(), 1, "one inline policy");
    policies[0]["PolicyDocument"]["Statement"]
        .as_sequence()
        .expect("Statement")
}

/// Names a value refers to: `Ref`, `Fn::GetAtt` (resource), `${...}` in `Fn::Sub`, and the
/// conditions named by `Fn::If` and `Condition`.
fn references(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Mapping(map) => {
            for (key, item) in map {
                match (key.as_str(), item) {
                    (Some("Ref" | "Condition"), Value::String(name)) => {
                        out.insert(name.clone());
                    }
                    (Some("Fn::GetAtt" | "Fn::If"), Value::Sequence(args)) => {
                        out.insert(args[0].as_str().expect("a name").to_owned());
                    }
                    (Some("Fn::Sub"), Value::String(text)) => {
                        for part in text.split("${").skip(1) {
                            let name = part.split('}').next().expect("}");
                            out.insert(name.split('.').next().expect("name").to_owned());
                        }
                    }
                    _ => {}
                }
                references(item, out);
            }
        }
        Value::Sequence(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

fn refs(value: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    references(value, &mut out);
    out
}

fn keys(map: &Value) -> BTreeSet<String> {
    map.as_mapping()
        .expect("a mapping")
        .keys()
        .map(|k| k.as_str().expect("a string key").to_owned())
        .collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn the_parameters_are_the_constants_with_the_options_defaults() {
    let doc = template();
    let params = &doc["Parameters"];
    assert_eq!(keys(params), names(&PARAMETERS));
    let providers: Vec<Value> = Provider::all().map(|p| Value::from(p.as_str())).collect();
    assert_eq!(
        params[PARAM_PROVIDER]["AllowedValues"],
        Value::Sequence(providers)
    );
    // No default: the one choice every deployment makes.
    assert!(params[PARAM_PROVIDER].get("Default").is_none());
    for (name, value) in Settings::default()
        .parameters(named("github"))
        .iter()
        .skip(1)
    {
        let default = &params[*name]["Default"];
        let default = match default {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            other => panic!("{name}: default {other:?}"),
        };
        assert_eq!(&default, value, "{name}'s default");
    }
    let allowed: Vec<Value> = LOG_RETENTION_DAYS.iter().map(|&d| Value::from(d)).collect();
    assert_eq!(
        params[PARAM_LOG_RETENTION_DAYS]["AllowedValues"],
        Value::Sequence(allowed)
    );
    assert_eq!(
        params[PARAM_MEMORY_SIZE]["MinValue"],
        Value::from(*MEMORY_SIZE_RANGE.start())
    );
    assert_eq!(
        params[PARAM_MEMORY_SIZE]["MaxValue"],
        Value::from(*MEMORY_SIZE_RANGE.end())
    );
    assert_eq!(
        params[PARAM_RESERVED_CONCURRENCY]["MinValue"],
        Value::from(0)
    );
    // The CLI's --compliance values are the parameter's, in its order.
    let compliance: Vec<Value> = [Compliance::None, Compliance::ControlTower]
        .iter()
        .map(|c| Value::from(c.parameter_value()))
        .collect();
    assert_eq!(
        params[PARAM_COMPLIANCE]["AllowedValues"],
        Value::Sequence(compliance)
    );
    let secret = &params[PARAM_SIGNING_SECRET];
    assert_eq!(secret["NoEcho"], Value::from(true));
    assert_eq!(secret["Default"], Value::from(UNSET_SIGNING_SECRET));
    // The console's parameter groups name every parameter once.
    let grouped: Vec<String> = doc["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
        .as_sequence()
        .expect("ParameterGroups")
        .iter()
        .flat_map(|g| g["Parameters"].as_sequence().expect("Parameters").clone())
        .map(|p| p.as_str().expect("a name").to_owned())
        .collect();
    assert_eq!(grouped.len(), PARAMETERS.len());
    assert_eq!(
        grouped.into_iter().collect::<BTreeSet<_>>(),
        names(&PARAMETERS)
    );
}

#[test]
fn every_name_is_defined_and_every_parameter_used() {
    let doc = template();
    let defined: BTreeSet<String> = keys(&doc["Parameters"])
        .into_iter()
        .chain(keys(&doc["Resources"]))
        .chain(keys(&doc["Conditions"]))
        .collect();
    let used = refs(&doc["Resources"])
        .into_iter()
        .chain(refs(&doc["Outputs"]))
        .chain(refs(&doc["Conditions"]))
        .collect::<BTreeSet<_>>();
    for name in &used {
        assert!(
            name.starts_with("AWS::") || defined.contains(name),
            "{name} is referenced but not defined"
        );
    }
    for name in keys(&doc["Parameters"])
        .iter()
        .chain(&keys(&doc["Conditions"]))
    {
        assert!(used.contains(name), "{name} is never used");
    }
    // Nothing is left for a renderer to fill in.
    assert!(!TEMPLATE.contains('@'), "a placeholder in the template");
    assert!(refs(&doc["Metadata"]).is_empty());
}

#[test]
fn cloudformation_decides_the_conditions() {
    let doc = template();
    let retention = |days: &[u32]| -> String {
        days.iter()
            .map(|d| format!("{{Fn::Equals: [{{Ref: LogRetentionInDays}}, {d}]}}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    assert_eq!(
        doc["Conditions"],
        parse(&format!(
            "CreateEventBus: {{Fn::Equals: [{{Ref: EventBusName}}, '']}}\n\
             HasReservedConcurrency: {{Fn::Not: [{{Fn::Equals: [{{Ref: ReservedConcurrency}}, 0]}}]}}\n\
             ControlTower: {{Fn::Equals: [{{Ref: Compliance}}, control-tower]}}\n\
             HasKmsKeyArn: {{Fn::Not: [{{Fn::Equals: [{{Ref: KmsKeyArn}}, '']}}]}}\n\
             CreateKmsKey: {{Fn::And: [{{Condition: ControlTower}}, {{Fn::Not: [{{Condition: HasKmsKeyArn}}]}}]}}\n\
             ShortLogRetention: {{Fn::Or: [{}, {{Fn::Or: [{}]}}]}}\n\
             RaiseLogRetention: {{Fn::And: [{{Condition: ControlTower}}, {{Condition: ShortLogRetention}}]}}\n\
             DedupeEnabled: {{Fn::Not: [{{Fn::Equals: [{{Ref: DedupeWindow}}, 0]}}]}}\n\
             HasAlarmTopicArn: {{Fn::Not: [{{Fn::Equals: [{{Ref: AlarmTopicArn}}, '']}}]}}\n\
             HasAlarmEmail1: {{Fn::Not: [{{Fn::Equals: [{{Ref: AlarmEmail1}}, '']}}]}}\n\
             HasAlarmEmail2: {{Fn::Not: [{{Fn::Equals: [{{Ref: AlarmEmail2}}, '']}}]}}\n\
             HasAlarmEmail3: {{Fn::Not: [{{Fn::Equals: [{{Ref: AlarmEmail3}}, '']}}]}}\n\
             CreateAlarmTopic: {{Fn::And: [{{Fn::Not: [{{Condition: HasAlarmTopicArn}}]}}, {{Fn::Or: \
             [{{Condition: HasAlarmEmail1}}, {{Condition: HasAlarmEmail2}}, {{Condition: HasAlarmEmail3}}]}}]}}\n\
             HasAlarmTopic: {{Fn::Or: [{{Condition: HasAlarmTopicArn}}, {{Condition: CreateAlarmTopic}}]}}\n\
             SubscribeAlarmEmail1: {{Fn::And: [{{Condition: CreateAlarmTopic}}, {{Condition: HasAlarmEmail1}}]}}\n\
             SubscribeAlarmEmail2: {{Fn::And: [{{Condition: CreateAlarmTopic}}, {{Condition: HasAlarmEmail2}}]}}\n\
             SubscribeAlarmEmail3: {{Fn::And: [{{Condition: CreateAlarmTopic}}, {{Condition: HasAlarmEmail3}}]}}\n\
             CreateAlarmTopicKey: {{Fn::And: [{{Condition: CreateAlarmTopic}}, {{Fn::Not: [{{Condition: CreateKmsKey}}]}}]}}",
            retention(&[1, 3, 5, 7, 14, 30, 60, 90]),
            retention(&[120, 150, 180]),
        ))
    );
    // Every retention CloudWatch Logs allows under 365 days, and no other.
    let short: Vec<u32> = LOG_RETENTION_DAYS
        .iter()
        .copied()
        .filter(|&d| d < 365)
        .collect();
    assert_eq!(short, [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180]);
    let bus = resource(&doc, "Bus");
    assert_eq!(bus["Type"], Value::from("AWS::Events::EventBus"));
    assert_eq!(bus["Condition"], Value::from("CreateEventBus"));
    assert_eq!(bus["Properties"], parse("Name: {Ref: AWS::StackName}"));
    let table = resource(&doc, "DedupeTable");
    assert_eq!(table["Condition"], Value::from("DedupeEnabled"));
    let props = &table["Properties"];
    assert_eq!(props["BillingMode"], Value::from("PAY_PER_REQUEST"));
    assert_eq!(
        props["TimeToLiveSpecification"],
        parse("{AttributeName: expiresAt, Enabled: true}")
    );
    assert_eq!(
        props["TimeToLiveSpecification"]["AttributeName"],
        Value::from(ebhook_handler::dedupe::EXPIRES_AT)
    );
    assert_eq!(
        props["SSESpecification"],
        parse(
            "{SSEEnabled: true, SSEType: {Fn::If: [ControlTower, KMS, {Ref: AWS::NoValue}]}, \
             KMSMasterKeyId: {Fn::If: [ControlTower, {Fn::If: [HasKmsKeyArn, {Ref: KmsKeyArn}, \
             {Fn::GetAtt: [KmsKey, Arn]}]}, {Ref: AWS::NoValue}]}}"
        )
    );
    // Only the bus, the dedupe table, what compliance mode adds and the alarm topic are
    // conditional; everything else (the alarms and the dashboard too) exists in every stack.
    for (name, r) in doc["Resources"].as_mapping().expect("Resources") {
        let expected = match name.as_str().expect("a logical id") {
            "Bus" => Some("CreateEventBus"),
            "KmsKey" => Some("CreateKmsKey"),
            "DedupeTable" => Some("DedupeEnabled"),
            "AccessLogBucket" | "AccessLogBucketPolicy" => Some("ControlTower"),
            "AlarmTopicKey" => Some("CreateAlarmTopicKey"),
            "AlarmTopic" => Some("CreateAlarmTopic"),
            "AlarmEmailSubscription1" => Some("SubscribeAlarmEmail1"),
            "AlarmEmailSubscription2" => Some("SubscribeAlarmEmail2"),
            "AlarmEmailSubscription3" => Some("SubscribeAlarmEmail3"),
            _ => None,
        };
        assert_eq!(
            r.get("Condition").and_then(Value::as_str),
            expected,
            "{name:?}"
        );
    }
    // Compliance mode's key, where it is used.
    let key = parse("{Fn::If: [HasKmsKeyArn, {Ref: KmsKeyArn}, {Fn::GetAtt: [KmsKey, Arn]}]}");
    let if_compliant = |value: &Value| {
        let mut branches = vec![Value::from("ControlTower"), value.clone()];
        branches.push(parse("Ref: AWS::NoValue"));
        let mut map = yaml_serde::Mapping::new();
        map.insert(Value::from("Fn::If"), Value::Sequence(branches));
        Value::Mapping(map)
    };
    let props = |name: &str| &resource(&doc, name)["Properties"];
    assert_eq!(props("Secret")["KmsKeyId"], if_compliant(&key));
    assert_eq!(props("LogGroup")["KmsKeyId"], if_compliant(&key));
    for queue in ["DeadLetterQueue", "UnreplayableQueue"] {
        assert_eq!(
            props(queue)["KmsMasterKeyId"],
            if_compliant(&key),
            "{queue}"
        );
    }
    assert_eq!(
        props("PayloadBucket")["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
            ["KMSMasterKeyID"],
        if_compliant(&key)
    );
    let bus_name =
        parse("Fn::If: [CreateEventBus, {Fn::GetAtt: [Bus, Name]}, {Ref: EventBusName}]");
    let bus_arn = parse(
        "Fn::If: [CreateEventBus, {Fn::GetAtt: [Bus, Arn]}, {Fn::Sub: \
         'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${EventBusName}'}]",
    );
    let vars = &resource(&doc, "Function")["Properties"]["Environment"]["Variables"];
    assert_eq!(vars[env::EVENT_BUS], bus_name);
    assert_eq!(doc["Outputs"][OUTPUT_EVENT_BUS_NAME]["Value"], bus_name);
    assert_eq!(doc["Outputs"][OUTPUT_EVENT_BUS_ARN]["Value"], bus_arn);
    assert_eq!(statements(&doc)[0]["Resource"], bus_arn);
    assert_eq!(
        resource(&doc, "Function")["Properties"]["ReservedConcurrentExecutions"],
        parse("Fn::If: [HasReservedConcurrency, {Ref: ReservedConcurrency}, {Ref: AWS::NoValue}]")
    );
}

#[test]
fn the_provider_comes_from_its_parameter_only() {
    let doc = template();
    for provider in Provider::all() {
        let name = provider.as_str();
        for (line, text) in TEMPLATE.lines().enumerate() {
            // The parameter's allowed values, and prose.
            let prose = text.trim_start().starts_with('#') || text.trim() == format!("- {name}");
            assert!(prose || !text.contains(name), "line {}: {text}", line + 1);
        }
    }
    let vars = &resource(&doc, "Function")["Properties"]["Environment"]["Variables"];
    assert_eq!(vars[env::PROVIDER], parse("Ref: Provider"));
    assert_eq!(
        doc["Outputs"][OUTPUT_PROVIDER]["Value"],
        parse("Ref: Provider")
    );
    for (name, described) in [
        (
            "Secret",
            "ebhook ${Provider} webhook signing secret (stack ${AWS::StackName})",
        ),
        (
            "Role",
            "ebhook ${Provider} handler (stack ${AWS::StackName})",
        ),
        ("Function", "ebhook: ${Provider} webhooks onto EventBridge"),
    ] {
        let mut sub = yaml_serde::Mapping::new();
        sub.insert("Fn::Sub".into(), described.into());
        assert_eq!(
            resource(&doc, name)["Properties"]["Description"],
            Value::Mapping(sub),
            "{name}"
        );
    }
}

#[test]
fn outputs_are_the_constants_and_never_the_secret() {
    let doc = template();
    assert_eq!(
        keys(&doc["Outputs"]),
        names(&[
            OUTPUT_WEBHOOK_URL,
            OUTPUT_EVENT_BUS_NAME,
            OUTPUT_EVENT_BUS_ARN,
            OUTPUT_FUNCTION_NAME,
            OUTPUT_SECRET_ARN,
            OUTPUT_PROVIDER,
            OUTPUT_DEAD_LETTER_QUEUE_URL,
            OUTPUT_PAYLOAD_BUCKET,
            OUTPUT_ALARM_NAMES,
            OUTPUT_DASHBOARD_URL,
            OUTPUT_ALARM_TOPIC_ARN,
        ])
    );
    assert!(!refs(&doc["Outputs"]).contains(PARAM_SIGNING_SECRET));
    assert_eq!(
        doc["Outputs"][OUTPUT_WEBHOOK_URL]["Value"],
        parse("Fn::GetAtt: [FunctionUrl, FunctionUrl]")
    );
    assert_eq!(
        doc["Outputs"][OUTPUT_SECRET_ARN]["Value"],
        parse("Ref: Secret")
    );
    assert_eq!(
        doc["Outputs"][OUTPUT_FUNCTION_NAME]["Value"],
        parse("Ref: Function")
    );
}

#[test]
fn function_gets_the_secret_arn_never_the_secret() {
    let doc = template();
    let function = &resource(&doc, "Function")["Properties"];
    let vars = &function["Environment"]["Variables"];
    assert_eq!(
        keys(vars),
        names(&[
            env::PROVIDER,
            env::PROVIDER_SCHEME,
            env::EVENT_BUS,
            env::SECRET_ARN,
            env::PUBLIC_BASE_URL,
            env::FORWARD_BUDGET,
            env::DEAD_LETTER_QUEUE_URL,
            env::PAYLOAD_BUCKET,
            env::PAYLOAD_BUCKET_OWNER,
            env::DEDUPE_TABLE,
            env::DEDUPE_WINDOW,
            // The Stack dimension of the handler's metrics (issue 18; the handler's side reads it).
            "EBHOOK_STACK_NAME",
        ])
    );
    assert_eq!(
        vars[env::DEDUPE_TABLE],
        parse("Fn::If: [DedupeEnabled, {Ref: DedupeTable}, {Ref: AWS::NoValue}]")
    );
    assert_eq!(
        vars[env::DEDUPE_WINDOW],
        parse("Fn::If: [DedupeEnabled, {Ref: DedupeWindow}, {Ref: AWS::NoValue}]")
    );
    assert_eq!(vars[env::SECRET_ARN], parse("Ref: Secret"));
    assert_eq!(vars[env::FORWARD_BUDGET], Value::from("2000"));
    assert_eq!(
        vars[env::DEAD_LETTER_QUEUE_URL],
        parse("Ref: DeadLetterQueue")
    );
    assert_eq!(vars[env::PAYLOAD_BUCKET], parse("Ref: PayloadBucket"));
    assert_eq!(
        vars[env::PAYLOAD_BUCKET_OWNER],
        parse("Ref: AWS::AccountId")
    );
    assert_eq!(vars[env::PUBLIC_BASE_URL], parse("Ref: PublicBaseUrl"));
    // Only the secret resource sees the secret.
    let holders: Vec<&str> = doc["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| refs(r).contains(PARAM_SIGNING_SECRET))
        .map(|(name, _)| name.as_str().expect("a name"))
        .collect();
    assert_eq!(holders, ["Secret"]);
}

#[test]
fn function_settings_are_the_parameters() {
    let doc = template();
    let f = &resource(&doc, "Function")["Properties"];
    assert_eq!(f["Runtime"], Value::from("provided.al2023"));
    assert_eq!(f["Handler"], Value::from("bootstrap"));
    assert_eq!(f["Timeout"], Value::from(10));
    assert_eq!(f["Architectures"], parse("[{Ref: Architecture}]"));
    assert_eq!(f["MemorySize"], parse("Ref: MemorySize"));
    assert_eq!(
        f["Code"],
        parse("{S3Bucket: {Ref: CodeS3Bucket}, S3Key: {Ref: CodeS3Key}}")
    );
    assert_eq!(f["LoggingConfig"]["LogGroup"], parse("Ref: LogGroup"));
    assert_eq!(
        f["FunctionName"],
        parse(&format!(
            "Fn::Sub: \"${{AWS::StackName}}{FUNCTION_NAME_SUFFIX}\""
        ))
    );
    let log_group = &resource(&doc, "LogGroup")["Properties"];
    assert_eq!(
        log_group["LogGroupName"],
        parse(&format!(
            "Fn::Sub: \"/aws/lambda/${{AWS::StackName}}{FUNCTION_NAME_SUFFIX}\""
        ))
    );
    assert_eq!(
        log_group["RetentionInDays"],
        parse("Fn::If: [RaiseLogRetention, 365, {Ref: LogRetentionInDays}]")
    );
    // SQS takes messages up to 1 MiB (since 2026-01-29), and so does the dead-letter queue.
    assert_eq!(
        resource(&doc, "DeadLetterQueue")["Properties"]["MaximumMessageSize"],
        Value::from(1_048_576)
    );
}

#[test]
fn policy_statements_are_scoped_to_this_stack() {
    let doc = template();
    let role = &resource(&doc, "Role")["Properties"];
    assert!(role.get("ManagedPolicyArns").is_none());
    assert_eq!(
        role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
        Value::from("lambda.amazonaws.com")
    );
    let mut statements = statements(&doc).clone();
    // The dedupe table's statement is there only with dedupe on: item writes, no reads.
    let dedupe = statements.remove(5);
    assert_eq!(
        dedupe,
        parse(
            "Fn::If: [DedupeEnabled, {Sid: ClaimDeliveriesInTheDedupeTable, Effect: Allow, \
             Action: [dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem], \
             Resource: {Fn::GetAtt: [DedupeTable, Arn]}}, {Ref: AWS::NoValue}]"
        )
    );
    // Compliance mode's statement is there only in that mode.
    assert_eq!(
        statements[4],
        parse(
            "Fn::If: [ControlTower, {Sid: UseTheKmsKey, Effect: Allow, Action: [kms:Decrypt, \
             kms:GenerateDataKey], Resource: {Fn::If: [HasKmsKeyArn, {Ref: KmsKeyArn}, {Fn::GetAtt: [KmsKey, Arn]}]}}, {Ref: AWS::NoValue}]"
        )
    );
    let statements: Vec<&Value> = statements
        .iter()
        .map(|s| s.get("Fn::If").map_or(s, |branches| &branches[1]))
        .collect();
    let actions: Vec<Value> = statements.iter().map(|s| s["Action"].clone()).collect();
    assert_eq!(
        actions,
        [
            parse("events:PutEvents"),
            parse("secretsmanager:GetSecretValue"),
            parse("sqs:SendMessage"),
            parse("s3:PutObject"),
            parse("[kms:Decrypt, kms:GenerateDataKey]"),
            parse("[logs:CreateLogStream, logs:PutLogEvents]"),
        ]
    );
    for statement in &statements {
        assert_eq!(statement["Effect"], Value::from("Allow"));
    }
    assert_eq!(statements[1]["Resource"], parse("Ref: Secret"));
    assert_eq!(
        statements[2]["Resource"],
        parse("Fn::GetAtt: [DeadLetterQueue, Arn]")
    );
    assert_eq!(
        statements[3]["Resource"],
        parse(
            "[{Fn::Sub: '${PayloadBucket.Arn}/oversized/*'}, \
             {Fn::Sub: '${PayloadBucket.Arn}/dead-letter/*'}]"
        )
    );
    assert_eq!(
        statements[5]["Resource"],
        parse("Fn::GetAtt: [LogGroup, Arn]")
    );
}

#[test]
fn only_the_function_role_writes_to_the_payload_bucket() {
    let doc = template();
    let policy = &resource(&doc, "PayloadBucketPolicy")["Properties"]["PolicyDocument"];
    let statements = policy["Statement"].as_sequence().expect("statements");
    let deny = statements
        .iter()
        .find(|s| s["Sid"] == "OnlyTheHandlerWrites")
        .expect("a statement denying other writers");
    assert_eq!(deny["Effect"], Value::from("Deny"));
    assert_eq!(deny["Principal"], parse("AWS: '*'"));
    // Writes only: replay and teardown still read and delete.
    assert_eq!(deny["Action"], Value::from("s3:PutObject"));
    assert_eq!(deny["Resource"], parse("Fn::Sub: '${PayloadBucket.Arn}/*'"));
    assert_eq!(
        deny["Condition"],
        parse("ArnNotEquals: {aws:PrincipalArn: {Fn::GetAtt: [Role, Arn]}}")
    );
}

#[test]
fn function_url_is_public_with_both_permissions() {
    let doc = template();
    let url = &resource(&doc, "FunctionUrl")["Properties"];
    assert_eq!(url["AuthType"], Value::from("NONE"));
    assert_eq!(
        url["TargetFunctionArn"],
        parse("Fn::GetAtt: [Function, Arn]")
    );
    let permission = |name: &str| &resource(&doc, name)["Properties"];
    assert_eq!(
        *permission("FunctionUrlPermission"),
        parse(
            "{Action: lambda:InvokeFunctionUrl, FunctionName: {Ref: Function}, Principal: '*', \
             FunctionUrlAuthType: NONE}"
        )
    );
    assert_eq!(
        *permission("FunctionInvokePermission"),
        parse(
            "{Action: lambda:InvokeFunction, FunctionName: {Ref: Function}, Principal: '*', \
             InvokedViaFunctionUrl: true}"
        )
    );
}

#[test]
fn artifacts_template_is_the_bucket_stack() {
    let doc = parse(ARTIFACTS_TEMPLATE);
    assert_eq!(keys(&doc["Outputs"]), names(&[ARTIFACTS_OUTPUT_BUCKET]));
    // One parameter, which the CLI's --compliance values fill.
    assert_eq!(keys(&doc["Parameters"]), names(&[PARAM_COMPLIANCE]));
    let allowed: Vec<Value> = [Compliance::None, Compliance::ControlTower]
        .iter()
        .map(|c| Value::from(c.parameter_value()))
        .collect();
    assert_eq!(
        doc["Parameters"][PARAM_COMPLIANCE]["AllowedValues"],
        Value::Sequence(allowed)
    );
    let bucket = &doc["Resources"]["Bucket"];
    assert_eq!(bucket["Type"], Value::from("AWS::S3::Bucket"));
    let props = &bucket["Properties"];
    for block in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(
            props["PublicAccessBlockConfiguration"][block],
            Value::from(true)
        );
    }
    assert_eq!(
        props["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
        Value::from("BucketOwnerEnforced")
    );
    let statement =
        &doc["Resources"]["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(statement["Effect"], Value::from("Deny"));
    assert_eq!(statement["Action"], parse("['s3:*']"));
}

#[test]
fn settings_become_parameters() {
    assert_eq!(
        Settings::default().parameters(named("zendesk")),
        [
            (PARAM_PROVIDER, "zendesk".to_owned()),
            (PARAM_PROVIDER_SCHEME, String::new()),
            (PARAM_EVENT_BUS_NAME, String::new()),
            (PARAM_RESERVED_CONCURRENCY, "0".to_owned()),
            (PARAM_ARCHITECTURE, "x86_64".to_owned()),
            (PARAM_LOG_RETENTION_DAYS, "30".to_owned()),
            (PARAM_MEMORY_SIZE, "128".to_owned()),
            (PARAM_PUBLIC_BASE_URL, String::new()),
            (PARAM_COMPLIANCE, "none".to_owned()),
            (PARAM_KMS_KEY_ARN, String::new()),
            (PARAM_DEDUPE_WINDOW, "0".to_owned()),
            (PARAM_ALARM_TOPIC_ARN, String::new()),
            (PARAM_ALARM_EMAILS[0], String::new()),
            (PARAM_ALARM_EMAILS[1], String::new()),
            (PARAM_ALARM_EMAILS[2], String::new()),
        ]
    );
    let settings = Settings {
        existing_bus: Some("orders".to_owned()),
        arch: Arch::Arm64,
        log_retention_days: 14,
        reserved_concurrency: Some(7),
        memory_size: 256,
        public_base_url: Some("https://hooks.example.com".to_owned()),
        provider_scheme: Some("auth=basic".to_owned()),
        compliance: Compliance::ControlTower,
        kms_key: Some("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab".to_owned()),
        dedupe_window: Some(7200),
        alarm_emails: vec![
            "ops@example.com".to_owned(),
            "oncall@example.com".to_owned(),
        ],
        alarm_topic: None,
    };
    let all = settings.parameters(named("twilio"));
    assert_eq!(all.len(), 15);
    // Every parameter but one: the third address is not given, so its default stays.
    assert!(all.contains(&(PARAM_COMPLIANCE, "control-tower".to_owned())));
    assert!(all.contains(&(PARAM_DEDUPE_WINDOW, "7200".to_owned())));
    assert!(all.contains(&(PARAM_RESERVED_CONCURRENCY, "7".to_owned())));
    assert!(all.contains(&(PARAM_ALARM_EMAILS[0], "ops@example.com".to_owned())));
    assert!(all.contains(&(PARAM_ALARM_EMAILS[1], "oncall@example.com".to_owned())));
    assert!(all.contains(&(PARAM_ALARM_EMAILS[2], String::new())));
    // The overrides name only what differs from the template's defaults.
    let overridden: Vec<_> = all
        .iter()
        .filter(|(name, value)| {
            !(*name == PARAM_ALARM_TOPIC_ARN || *name == PARAM_ALARM_EMAILS[2]) || !value.is_empty()
        })
        .cloned()
        .collect();
    assert_eq!(overridden.len(), 13);
    assert_eq!(settings.overrides(Some(named("twilio"))), overridden);
    assert_eq!(Settings::default().overrides(None), []);
    assert_eq!(
        Settings {
            memory_size: 512,
            ..Settings::default()
        }
        .overrides(Some(named("github"))),
        [
            (PARAM_PROVIDER, "github".to_owned()),
            (PARAM_MEMORY_SIZE, "512".to_owned())
        ]
    );
}

#[test]
fn invalid_options_name_the_option() {
    let base = Settings::default();
    let mut cases: Vec<(Settings, &str)> = vec![
        (
            Settings {
                log_retention_days: 8,
                ..base.clone()
            },
            "--log-retention-days 8",
        ),
        (
            Settings {
                memory_size: 64,
                ..base.clone()
            },
            "--memory-size 64",
        ),
        (
            Settings {
                memory_size: 10241,
                ..base.clone()
            },
            "--memory-size 10241",
        ),
        (
            Settings {
                reserved_concurrency: Some(0),
                ..base.clone()
            },
            "--reserved-concurrency 0",
        ),
    ];
    for window in [0, 59, 31_536_001] {
        cases.push((
            Settings {
                dedupe_window: Some(window),
                ..base.clone()
            },
            "--dedupe-window",
        ));
    }
    for url in ["hooks.example.com", "https://", "https://h.example.com/a?b"] {
        cases.push((
            Settings {
                public_base_url: Some(url.to_owned()),
                ..base.clone()
            },
            "--public-base-url",
        ));
    }
    for bus in [
        String::new(),
        "my bus".to_owned(),
        "aws.partner/zendesk.com/123/default".to_owned(),
        "arn:aws:events:us-east-1:123456789012:event-bus/b".to_owned(),
        "x".repeat(257),
        "bus*".to_owned(),
    ] {
        cases.push((
            Settings {
                existing_bus: Some(bus),
                ..base.clone()
            },
            "--event-bus",
        ));
    }
    let key = "arn:aws:kms:us-east-1:123456789012:key/0b2c1e4a-7a63-4a5e-9f0e-1234567890ab";
    // A key is for compliance mode only.
    cases.push((
        Settings {
            kms_key: Some(key.to_owned()),
            ..base.clone()
        },
        "--kms-key",
    ));
    for arn in [
        "alias/ebhook",
        "0b2c1e4a-7a63-4a5e-9f0e-1234567890ab",
        "arn:aws:kms:us-east-1:123456789012:alias/ebhook",
        "arn:aws:kms:us-east-1:1234:key/0b2c1e4a",
        "arn:aws:s3:us-east-1:123456789012:key/0b2c1e4a",
        "arn:aws:kms:us-east-1:123456789012:key/",
        "arn:AWS:kms:us-east-1:123456789012:key/0b2c1e4a",
    ] {
        cases.push((
            Settings {
                compliance: Compliance::ControlTower,
                kms_key: Some(arn.to_owned()),
                ..base.clone()
            },
            "--kms-key",
        ));
    }
    for (arn, partition) in [(key, "aws"), (&key.replace(":aws:", ":aws-us-gov:"), "gov")] {
        let settings = Settings {
            compliance: Compliance::ControlTower,
            kms_key: Some(arn.to_owned()),
            ..base.clone()
        };
        assert!(settings.validate().is_ok(), "{partition}: {arn}");
    }
    for (settings, option) in cases {
        let error = settings.validate().expect_err(option);
        assert!(
            error.to_string().starts_with(option),
            "{error} should name {option}"
        );
    }
}

#[test]
fn valid_edge_options_pass() {
    for settings in [
        Settings {
            memory_size: 10240,
            log_retention_days: 3653,
            existing_bus: Some("a.b-c_D9".to_owned()),
            ..Settings::default()
        },
        Settings {
            memory_size: 128,
            log_retention_days: 1,
            existing_bus: Some("x".repeat(256)),
            public_base_url: Some("http://localhost:8080/prefix/".to_owned()),
            dedupe_window: Some(60),
            ..Settings::default()
        },
        Settings {
            dedupe_window: Some(31_536_000),
            ..Settings::default()
        },
    ] {
        settings.validate().expect("valid");
    }
}

#[test]
fn stack_names() {
    let new_bus = Settings::default();
    let default_bus = Settings {
        existing_bus: Some("default".to_owned()),
        ..Settings::default()
    };
    check_stack_name("ebhook-github", &new_bus).expect("valid");
    check_stack_name(&"s".repeat(MAX_STACK_NAME_LEN), &new_bus).expect("valid");
    for bad in [
        "s".repeat(MAX_STACK_NAME_LEN + 1),
        "1abc".to_owned(),
        "a_b".to_owned(),
        String::new(),
    ] {
        assert!(check_stack_name(&bad, &new_bus).is_err(), "{bad}");
    }
    assert!(check_stack_name("default", &new_bus).is_err());
    check_stack_name("default", &default_bus).expect("valid");
}

/// The stack options as `ebhook template` parses them.
fn args(args: &[&str]) -> crate::cli::StackArgs {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    let cli = Cli::try_parse_from([&["ebhook", "template"], args].concat()).expect("parses");
    match cli.command {
        Command::Template(args) => args.stack,
        other => panic!("parsed as {other:?}"),
    }
}

#[test]
fn settings_from_options() {
    assert_eq!(Settings::from(&args(&[])), Settings::default());
    assert_eq!(
        args(&["--provider", "github"]).provider.map(Provider::from),
        Some(named("github"))
    );
    let given = args(&[
        "--provider",
        "twilio",
        "--event-bus",
        "",
        "--arch",
        "arm64",
        "--log-retention-days",
        "60",
        "--reserved-concurrency",
        "3",
        "--memory-size",
        "512",
        "--public-base-url",
        "",
        "--compliance",
        "control-tower",
        "--kms-key",
        "arn:aws:kms:us-east-1:123456789012:key/k-1",
    ]);
    assert_eq!(
        Settings::from(&given),
        Settings {
            existing_bus: None,
            arch: Arch::Arm64,
            log_retention_days: 60,
            reserved_concurrency: Some(3),
            memory_size: 512,
            public_base_url: None,
            provider_scheme: None,
            compliance: Compliance::ControlTower,
            kms_key: Some("arn:aws:kms:us-east-1:123456789012:key/k-1".to_owned()),
            dedupe_window: None,
            alarm_emails: Vec::new(),
            alarm_topic: None,
        }
    );
    // --alarm-email is repeatable, in the order given; an empty --alarm-topic means none.
    let alarms = Settings::from(&args(&[
        "--alarm-email",
        "a@example.com",
        "--alarm-email",
        "b@example.com",
        "--alarm-topic",
        "",
    ]));
    assert_eq!(alarms.alarm_emails, ["a@example.com", "b@example.com"]);
    assert_eq!(alarms.alarm_topic, None);
    let topic = "arn:aws:sns:eu-west-1:123456789012:ops-alerts";
    assert_eq!(
        Settings::from(&args(&["--alarm-topic", topic]))
            .alarm_topic
            .as_deref(),
        Some(topic)
    );
    // --dedupe remembers a day unless --dedupe-window says otherwise.
    let dedupe = |extra: &[&str]| {
        let mut all = vec!["--provider", "github", "--dedupe"];
        all.extend_from_slice(extra);
        Settings::from(&args(&all)).dedupe_window
    };
    assert_eq!(dedupe(&[]), Some(86_400));
    assert_eq!(dedupe(&["--dedupe-window", "2h"]), Some(7200));
    assert_eq!(dedupe(&["--dedupe-window", "3d"]), Some(259_200));
}

#[test]
fn a_generic_provider_is_described_by_its_options_and_the_others_are_not() {
    let given = |extra: &[&str]| {
        let mut all = vec!["--provider", "generic"];
        all.extend_from_slice(extra);
        Settings::from(&args(&all))
    };
    let hmac = given(&[
        "--signature-header",
        "X-Signature",
        "--signature-prefix",
        "sha256=",
        "--signed",
        "timestamp-body",
        "--signed-delimiter",
        ".",
        "--timestamp-header",
        "X-Timestamp",
        "--event-type",
        "json:type",
    ]);
    assert_eq!(
        hmac.provider_scheme.as_deref(),
        Some(
            "auth=hmac&header=X-Signature&prefix=sha256%3D&signed=timestamp-body&delimiter=.&timestamp-header=X-Timestamp&event=json%3Atype"
        )
    );
    let described = hmac.described(named("generic")).unwrap();
    assert!(
        described
            .setup_steps("https://u/", "s")
            .contains("x-signature")
    );
    assert!(
        hmac.parameters(named("generic"))
            .contains(&(PARAM_PROVIDER_SCHEME, hmac.provider_scheme.clone().unwrap()))
    );
    for (extra, needle) in [
        (&[][..], "EBHOOK_PROVIDER_SCHEME is not set"),
        (
            &["--signature-header", "X-S", "--signature-algorithm", "md5"][..],
            "sha1, sha256 or sha512",
        ),
        (
            &["--signature-header", "X-S", "--signed", "timestamp-body"][..],
            "needs timestamp-header",
        ),
        (
            &["--token-header", "X-Key", "--event-type", "type"][..],
            "header:<Name> or json:",
        ),
    ] {
        let e = given(extra).described(named("generic")).unwrap_err();
        assert!(e.to_string().contains(needle), "{extra:?}: {e}");
        assert!(e.to_string().contains("--signature-"), "{e}");
    }
    // Every other provider signs one way: describing one is a mistake, not ignored.
    let token = given(&["--token-header", "X-Key"]);
    assert!(token.described(named("generic")).is_ok());
    assert!(token.described(named("github")).is_err());
    assert!(Settings::default().described(named("github")).is_ok());
}

fn named(name: &str) -> Provider {
    name.parse().unwrap()
}

/// The alarms' names after the stack's name (`<stack>-<purpose>`), in output
/// [`OUTPUT_ALARM_NAMES`]'s order.
const ALARM_PURPOSES: [&str; 6] = [
    "DeadLetterWaiting",
    "UnreplayableWaiting",
    "RejectedSignatures",
    "FunctionErrors",
    "FunctionThrottles",
    "PutEventsFailing",
];

fn alarms(doc: &Value) -> Vec<(String, &Value)> {
    let resources = doc["Resources"].as_mapping().expect("Resources");
    resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::CloudWatch::Alarm")
        .map(|(id, r)| (id.as_str().expect("an id").to_owned(), r))
        .collect()
}

#[test]
fn every_alarm_is_named_after_the_stack_and_listed_in_the_output() {
    let doc = template();
    let alarms = alarms(&doc);
    let mut named: Vec<String> = Vec::new();
    for (id, alarm) in &alarms {
        let p = &alarm["Properties"];
        let name = p["AlarmName"]["Fn::Sub"]
            .as_str()
            .expect("AlarmName is a Fn::Sub");
        let purpose = name
            .strip_prefix("${AWS::StackName}-")
            .unwrap_or_else(|| panic!("{id}: {name} is not <stack>-<purpose>"));
        assert_eq!(
            format!("{purpose}Alarm"),
            *id,
            "{id}: named after its purpose"
        );
        named.push(purpose.to_owned());
        // Why it fires and what to do, for whoever gets the notification.
        let description = match &p["AlarmDescription"] {
            Value::String(text) => text.clone(),
            other => other["Fn::Sub"].as_str().expect("a description").to_owned(),
        };
        assert!(
            description.len() > 80 && description.len() <= 1024,
            "{id}: {description}"
        );
        assert_eq!(p["TreatMissingData"], Value::from("notBreaching"), "{id}");
        assert_eq!(
            p["ComparisonOperator"],
            Value::from("GreaterThanThreshold"),
            "{id}"
        );
        // The topic when there is one, else nobody; told when it clears too.
        let actions = parse(
            "Fn::If: [HasAlarmTopic, [{Fn::If: [HasAlarmTopicArn, {Ref: AlarmTopicArn}, \
             {Ref: AlarmTopic}]}], {Ref: AWS::NoValue}]",
        );
        assert_eq!(p["AlarmActions"], actions, "{id}");
        assert_eq!(p["OKActions"], actions, "{id}");
    }
    assert_eq!(named, ALARM_PURPOSES);
    let listed: Vec<String> = ALARM_PURPOSES
        .iter()
        .map(|p| format!("${{{p}Alarm}}"))
        .collect();
    assert_eq!(
        doc["Outputs"][OUTPUT_ALARM_NAMES]["Value"]["Fn::Sub"],
        Value::from(listed.join(","))
    );
}

#[test]
fn the_alarms_watch_the_handlers_metrics_by_stack_and_provider() {
    let doc = template();
    let by_stack = parse(
        "[{Name: Stack, Value: {Ref: AWS::StackName}}, {Name: Provider, Value: {Ref: Provider}}]",
    );
    let alarm = |purpose: &str| doc["Resources"][format!("{purpose}Alarm")]["Properties"].clone();
    let rejected = alarm("RejectedSignatures");
    assert_eq!(
        rejected["Namespace"],
        Value::from(ebhook_handler::metrics::NAMESPACE)
    );
    assert_eq!(rejected["MetricName"], Value::from("Deliveries"));
    let mut with_outcome = by_stack.as_sequence().expect("dimensions").clone();
    with_outcome.push(parse("{Name: Outcome, Value: rejected_signature}"));
    assert_eq!(rejected["Dimensions"], Value::Sequence(with_outcome));
    assert_eq!(rejected["Statistic"], Value::from("Sum"));
    assert_eq!(rejected["Period"], Value::from(300));
    assert_eq!(rejected["Threshold"], Value::from(10));
    let put = alarm("PutEventsFailing");
    assert_eq!(put["MetricName"], Value::from("PutEventsFailed"));
    assert_eq!(put["Dimensions"], by_stack);
    for purpose in ["FunctionErrors", "FunctionThrottles"] {
        let a = alarm(purpose);
        assert_eq!(a["Namespace"], Value::from("AWS/Lambda"));
        assert_eq!(
            a["Dimensions"],
            parse("[{Name: FunctionName, Value: {Ref: Function}}]")
        );
    }
    for (purpose, queue) in [
        ("DeadLetterWaiting", "DeadLetterQueue"),
        ("UnreplayableWaiting", "UnreplayableQueue"),
    ] {
        let a = alarm(purpose);
        assert_eq!(
            a["MetricName"],
            Value::from("ApproximateNumberOfMessagesVisible")
        );
        assert_eq!(
            a["Dimensions"],
            parse(&format!(
                "[{{Name: QueueName, Value: {{Fn::GetAtt: [{queue}, QueueName]}}}}]"
            ))
        );
        assert_eq!(a["Threshold"], Value::from(0));
    }
    // The handler is told the stack's name, the Stack dimension's value.
    assert_eq!(
        resource(&doc, "Function")["Properties"]["Environment"]["Variables"]["EBHOOK_STACK_NAME"],
        parse("Ref: AWS::StackName")
    );
}

#[test]
fn e_mail_addresses_get_an_encrypted_topic_and_a_given_topic_none() {
    let doc = template();
    let topic = resource(&doc, "AlarmTopic");
    assert_eq!(topic["Condition"], Value::from("CreateAlarmTopic"));
    // Never SNS's AWS managed key: CloudWatch cannot use it.
    assert_eq!(
        topic["Properties"]["KmsMasterKeyId"],
        parse(
            "Fn::If: [CreateKmsKey, {Fn::GetAtt: [KmsKey, Arn]}, {Fn::GetAtt: [AlarmTopicKey, Arn]}]"
        )
    );
    for (i, name) in PARAM_ALARM_EMAILS.iter().enumerate() {
        let n = i + 1;
        let subscription = resource(&doc, &format!("AlarmEmailSubscription{n}"));
        assert_eq!(
            subscription["Condition"],
            Value::from(format!("SubscribeAlarmEmail{n}"))
        );
        assert_eq!(
            subscription["Properties"]["Endpoint"],
            parse(&format!("Ref: {name}"))
        );
        assert_eq!(subscription["Properties"]["Protocol"], Value::from("email"));
        assert_eq!(
            doc["Conditions"][format!("SubscribeAlarmEmail{n}")],
            parse(&format!(
                "Fn::And: [{{Condition: CreateAlarmTopic}}, {{Condition: HasAlarmEmail{n}}}]"
            ))
        );
    }
    // Both keys let CloudWatch use them for this stack's alarms only.
    let cloudwatch = |policy: &Value| {
        policy["Statement"]
            .as_sequence()
            .expect("Statement")
            .iter()
            .map(|s| s.get("Fn::If").map_or(s.clone(), |f| f[1].clone()))
            .find(|s| s["Principal"]["Service"] == "cloudwatch.amazonaws.com")
            .expect("a statement for CloudWatch")
    };
    for key in ["AlarmTopicKey", "KmsKey"] {
        let statement = cloudwatch(&resource(&doc, key)["Properties"]["KeyPolicy"]);
        assert_eq!(
            statement["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"],
            Value::from(
                "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:${AWS::StackName}-*"
            ),
            "{key}"
        );
    }
    assert_eq!(
        doc["Outputs"][OUTPUT_ALARM_TOPIC_ARN]["Condition"],
        Value::from("HasAlarmTopic")
    );
}

#[test]
fn the_dashboard_shows_the_handlers_metrics_for_this_stack() {
    let doc = template();
    let body = resource(&doc, "Dashboard")["Properties"]["DashboardBody"]["Fn::Sub"]
        .as_str()
        .expect("a Fn::Sub body");
    // Valid JSON once CloudFormation has substituted the names.
    let parsed: serde_json::Value = serde_json::from_str(&body.replace("${", "")).expect("JSON");
    assert!(parsed["widgets"].as_array().is_some_and(|w| w.len() >= 4));
    for metric in [
        "Deliveries",
        "Latency",
        "PutEventsAttempts",
        "PutEventsFailed",
        "ApproximateNumberOfMessagesVisible",
    ] {
        assert!(body.contains(&format!("\"{metric}\"")), "{metric}");
    }
    for outcome in ["accepted", "dead_lettered", "rejected_signature", "failed"] {
        assert!(body.contains(&format!("\"{outcome}\"")), "{outcome}");
    }
    assert_eq!(
        doc["Outputs"][OUTPUT_DASHBOARD_URL]["Value"]["Fn::Sub"],
        Value::from(
            "https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}#dashboards/dashboard/${Dashboard}"
        )
    );
}

#[test]
fn alarm_options_are_checked() {
    let emails = |list: &[&str]| Settings {
        alarm_emails: list.iter().map(|s| (*s).to_owned()).collect(),
        ..Settings::default()
    };
    emails(&["a@example.com", "b@example.com", "c@example.co.uk"])
        .validate()
        .expect("three addresses");
    let too_many = emails(&[
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "d@example.com",
    ])
    .validate()
    .expect_err("four");
    assert!(matches!(too_many, OptionError::TooManyAlarmEmails(4)));
    assert!(too_many.to_string().contains("--alarm-topic"), "{too_many}");
    for bad in [
        "ops",
        "ops@",
        "@example.com",
        "o ps@example.com",
        "a@b@example.com",
        "ops@localhost",
    ] {
        let e = emails(&[bad]).validate().expect_err(bad);
        assert!(
            e.to_string().starts_with(&format!("--alarm-email {bad:?}")),
            "{e}"
        );
    }
    let e = emails(&["a@example.com", "A@Example.com"])
        .validate()
        .expect_err("repeated");
    assert!(matches!(e, OptionError::RepeatedAlarmEmail(_)), "{e}");
    let topic = "arn:aws:sns:eu-west-1:123456789012:ops-alerts";
    let with_topic = |arn: &str| Settings {
        alarm_topic: Some(arn.to_owned()),
        ..Settings::default()
    };
    with_topic(topic).validate().expect("a topic");
    with_topic("arn:aws-us-gov:sns:us-gov-west-1:123456789012:a_b")
        .validate()
        .expect("gov");
    for bad in [
        "ops-alerts",
        "arn:aws:sqs:eu-west-1:123456789012:q",
        "arn:aws:sns:eu-west-1:1234:ops",
        "arn:aws:sns:eu-west-1:123456789012:ops.fifo",
        "arn:aws:sns:eu-west-1:123456789012:",
    ] {
        let e = with_topic(bad).validate().expect_err(bad);
        assert!(
            e.to_string().starts_with(&format!("--alarm-topic {bad:?}")),
            "{e}"
        );
    }
    let both = Settings {
        alarm_emails: vec!["a@example.com".to_owned()],
        ..with_topic(topic)
    };
    let e = both.validate().expect_err("both");
    assert!(matches!(e, OptionError::AlarmEmailWithTopic), "{e}");
    assert!(e.to_string().contains("aws sns subscribe"), "{e}");
    // The template's patterns take what the CLI takes.
    let doc = template();
    assert_eq!(
        doc["Parameters"][PARAM_ALARM_TOPIC_ARN]["AllowedPattern"],
        Value::from("^(arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256})?$")
    );
    for name in PARAM_ALARM_EMAILS {
        assert_eq!(
            doc["Parameters"][name]["AllowedPattern"],
            Value::from(r"^([^\s\x40]+\x40[^\s\x40]+)?$")
        );
    }
}
