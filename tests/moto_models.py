"""Emulator extensions for moto 5.2.5, loaded by tests/moto_server.py.

moto's CloudFormation falls short of AWS in ways the ebhook stack (and the
CLI that deploys it) run into. Everything here makes the emulator behave like
AWS; nothing here is product code. `install()` applies it once, before the
server starts. The sections:

1. Resource types moto does not model: AWS::Lambda::Url,
   AWS::SecretsManager::Secret, AWS::S3::BucketPolicy, AWS::SQS::QueuePolicy,
   AWS::CloudWatch::Alarm (single-metric alarms, named by AlarmName) and
   AWS::SNS::Subscription (create, update, delete; Ref and Fn::GetAtt as AWS
   gives them).
2. Lambda permissions for function URLs (FunctionUrlAuthType,
   InvokedViaFunctionUrl) as conditions in the resource policy, and
   AWS::Lambda::Permission without moto's stray keys, with update and delete.
3. Change sets: parameter-only changes, CREATE/UPDATE execution that records
   the template, parameters and outputs, and the FAILED no-op change set.
4. NoEcho parameters shown as "****".
5. Resource-level stack events (and each resource's status in
   DescribeStackResources), failure handling and rollback.
6. EventBridge rule targets: a target that cannot take an event (an SQS
   queue refuses a message over 1 MiB) does not fail PutEvents.
7. S3's ExpectedBucketOwner (the x-amz-expected-bucket-owner header): a
   request naming another account than the bucket's gets 403 AccessDenied,
   as on AWS; moto ignored the header. A bucket tagged
   `ebhook-emulator:owner` = ACCOUNT counts as owned by ACCOUNT, so a test
   can stand in for a bucket of the same name in someone else's account.
8. CloudWatch's embedded metric format: a JSON log event with an `_aws`
   block put through PutLogEvents becomes metrics (PutMetricData for each
   declared metric, dimensions and root values), as CloudWatch Logs does;
   moto only stored the line. And AWS::SNS::Topic updated in place when its
   TopicName is unchanged (moto replaced it, dropping its subscriptions), and
   an AWS::KMS::Key's KeyPolicy kept as JSON text (GetKeyPolicy gave an object).

Smaller gaps met on the way are fixed too: Ref of AWS::Events::EventBus (the
bus name), bucket policy Conditions in moto's S3 policy enforcement (a policy
denying insecure transport blocked every upload), function URLs ending in
"/", AWS's wording for a parameter without a value, resources whose Condition
is false (moto listed them in ListStackResources and DescribeStackResources
as blank entries; AWS leaves them out), and updates that AWS makes
in place where moto replaced or ignored: an event bus whose Name is unchanged
(moto deleted it, with its rules, and made it again) and a queue's attributes
(moto applied only VisibilityTimeout and ReceiveMessageWaitTimeSeconds).
A resource whose Condition changes on an update is created or deleted (moto
updated it in place, or failed on one that was never there).
A bucket's VersioningConfiguration, ObjectLockEnabled and LoggingConfiguration
are applied on create and update (moto's bucket model ignored them, so a versioned
bucket was emptied as if it had no versions), and a list element
that Fn::If resolves to AWS::NoValue is removed, as AWS removes it.
CloudWatch Logs JSON filter patterns (equality terms joined by &&) select
events, where moto returned every event for them.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from datetime import datetime, timezone
from typing import Any

from moto.awslambda import exceptions as lambda_exceptions
from moto.awslambda import models as lambda_models
from moto.awslambda.policy import Policy as LambdaPolicy
from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import (
    AlreadyExistsException,
    CloudFormationError,
    MissingParameterError,
    UnformattedGetAttTemplateException,
    ValidationError,
)
from moto.cloudformation.parsing import OutputMap, ResourceMap
from moto.cloudformation.utils import generate_changeset_id, generate_stack_id
from moto.cloudformation.utils import validate_create_change_set
from moto.cloudwatch.models import cloudwatch_backends
from moto.core.common_models import CloudFormationModel
from moto.events import models as events_models
from moto.iam import models as iam_models
from moto.kms import models as kms_models
from moto.logs import models as logs_models
from moto.s3 import models as s3_models
from moto.s3.models import s3_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.sns import models as sns_models
from moto.sns.models import sns_backends
from moto.sqs import models as sqs_models
from moto.sqs.models import sqs_backends
from moto.core.utils import camelcase_to_underscores
from moto.utilities.utils import get_partition

logger = logging.getLogger("ebhook_emulator")

# moto's instance tracker files every model under the second component of its
# module name, so the extra models need a dotted module name of their own.
MODEL_MODULE = "ebhook_emulator.models"

Stack = cfn_models.Stack
ChangeSet = cfn_models.ChangeSet
Change = cfn_models.Change
Event = cfn_models.Event
CloudFormationBackend = cfn_models.CloudFormationBackend


def _error_text(error: BaseException) -> str:
    return getattr(error, "message", None) or str(error) or type(error).__name__


def _error_code(error: BaseException) -> str:
    code = getattr(error, "code", None) or getattr(error, "error_type", None)
    return code if isinstance(code, str) else type(error).__name__


def _ignore_missing(action, *args: Any) -> None:
    """Runs a cleanup call whose target may already be gone (AWS treats a
    delete of something already deleted as done)."""
    try:
        action(*args)
    except Exception as error:  # noqa: BLE001 - any "not found" from any backend
        logger.info("cleanup skipped: %s", _error_text(error))


def _policy_text(document: Any) -> str:
    # CloudFormation takes a policy document as JSON text or as an object.
    return document if isinstance(document, str) else json.dumps(document)


def _replace(
    cls: Any,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> Any:
    """A replacement, as CloudFormation makes one: the new resource first, then the old goes."""
    replacement = cls.create_from_cloudformation_json(
        new_resource_name, cloudformation_json, account_id, region_name
    )
    original_resource.delete(account_id, region_name)
    return replacement


# ---------------------------------------------------------------------------
# 1. Resource types moto 5.2.5 does not model
# ---------------------------------------------------------------------------


class _Described:
    """The CloudFormation side of an emulated resource, from three class attributes:
    its type, the property that names it (`NAME_PROPERTY`, "" for none), and `ID` and
    `ATTRIBUTES`, the instance fields that Ref (the physical id) and each Fn::GetAtt give.
    Mixed in before CloudFormationModel, whose direct subclasses moto looks models up in."""

    TYPE = ""
    NAME_PROPERTY = ""
    ID = ""
    ATTRIBUTES: dict[str, str] = {}

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name in self.ATTRIBUTES:
            return getattr(self, self.ATTRIBUTES[attribute_name])
        raise UnformattedGetAttTemplateException()

    @property
    def physical_resource_id(self) -> str:
        return getattr(self, self.ID)


class LambdaUrl(_Described, CloudFormationModel):
    """AWS::Lambda::Url. Ref is the function ARN; GetAtt FunctionUrl and
    FunctionArn. TargetFunctionArn and Qualifier need a replacement; AuthType,
    Cors and InvokeMode change in place and keep the URL."""

    __module__ = MODEL_MODULE
    TYPE = "AWS::Lambda::Url"
    ID = "function_arn"
    ATTRIBUTES = {"FunctionArn": "function_arn", "FunctionUrl": "url"}

    def __init__(self, account_id: str, region_name: str, function_arn: str, url: str):
        self.account_id = account_id
        self.region_name = region_name
        self.function_arn = function_arn
        self.url = url

    @staticmethod
    def _config(properties: dict[str, Any]) -> dict[str, Any]:
        auth_type = properties.get("AuthType")
        if auth_type not in ("NONE", "AWS_IAM"):
            # AWS validates the property schema before calling Lambda.
            raise ValidationError(
                message=f"Properties validation failed: #/AuthType: {auth_type!r} is not a valid enum value (NONE, AWS_IAM)"
            )
        return {
            key: properties[key]
            for key in ("AuthType", "Cors", "InvokeMode")
            if key in properties
        }

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> LambdaUrl:
        properties = cloudformation_json["Properties"]
        config = cls._config(properties)
        backend = lambda_models.lambda_backends[account_id][region_name]
        function = backend.get_function(properties["TargetFunctionArn"])
        url_config = backend.create_function_url_config(function.function_arn, config)
        return cls(account_id, region_name, function.function_arn, url_config.url)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: LambdaUrl,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> LambdaUrl:
        properties = cloudformation_json["Properties"]
        backend = lambda_models.lambda_backends[account_id][region_name]
        function = backend.get_function(properties["TargetFunctionArn"])
        if function.function_arn != original_resource.function_arn:
            # Another function: a replacement, with a new URL.
            return _replace(
                cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
            )
        config = cls._config(properties)
        url_config = backend.update_function_url_config(function.function_arn, config)
        # moto's update only sets AuthType and Cors when given; AWS applies the
        # whole new configuration (a removed Cors is gone, InvokeMode changes).
        url_config.config = config
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        backend = lambda_models.lambda_backends[account_id][region_name]
        _ignore_missing(backend.delete_function_url_config, self.function_arn)


class SecretsManagerSecret(_Described, CloudFormationModel):
    """AWS::SecretsManager::Secret. Ref and GetAtt Id are the secret's ARN.
    A new Name replaces the secret; SecretString, GenerateSecretString and
    Description change in place (a new secret version for the value)."""

    __module__ = MODEL_MODULE
    TYPE = "AWS::SecretsManager::Secret"
    NAME_PROPERTY = "Name"
    ID = "arn"
    ATTRIBUTES = {"Id": "arn"}

    def __init__(
        self,
        account_id: str,
        region_name: str,
        arn: str,
        name: str,
        properties: dict[str, Any],
    ):
        self.account_id = account_id
        self.region_name = region_name
        self.arn = arn
        self.name = name
        self.properties = properties

    @staticmethod
    def _value(properties: dict[str, Any], backend: Any) -> str | None:
        if "SecretString" in properties:
            return str(properties["SecretString"])
        spec = properties.get("GenerateSecretString")
        if spec is None:
            return None

        def flag(key: str, default: bool = False) -> bool:
            return str(spec.get(key, default)).lower() == "true"

        password = json.loads(
            backend.get_random_password(
                password_length=int(spec.get("PasswordLength", 32)),
                exclude_characters=spec.get("ExcludeCharacters", ""),
                exclude_numbers=flag("ExcludeNumbers"),
                exclude_punctuation=flag("ExcludePunctuation"),
                exclude_uppercase=flag("ExcludeUppercase"),
                exclude_lowercase=flag("ExcludeLowercase"),
                include_space=flag("IncludeSpace"),
                require_each_included_type=flag("RequireEachIncludedType", True),
            )
        )["RandomPassword"]
        template = spec.get("SecretStringTemplate")
        key = spec.get("GenerateStringKey")
        if template is None or key is None:
            return password
        document = json.loads(template)
        document[key] = password
        return json.dumps(document)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> SecretsManagerSecret:
        properties = cloudformation_json["Properties"]
        if "SecretString" in properties and "GenerateSecretString" in properties:
            raise ValidationError(
                message="You can't specify both SecretString and GenerateSecretString"
            )
        backend = secretsmanager_backends[account_id][region_name]
        backend.create_secret(
            name=resource_name,
            secret_string=cls._value(properties, backend),
            secret_binary=None,
            description=properties.get("Description", ""),
            tags=properties.get("Tags", []),
            kms_key_id=properties.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        secret = backend.describe_secret(resource_name)
        return cls(account_id, region_name, secret.arn, secret.name, properties)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: SecretsManagerSecret,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> SecretsManagerSecret:
        properties = cloudformation_json["Properties"]
        old = original_resource.properties
        if properties.get("Name") != old.get("Name"):
            # Name is a replacement property.
            return _replace(
                cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
            )

        backend = secretsmanager_backends[account_id][region_name]
        value_changed = properties.get("SecretString") != old.get(
            "SecretString"
        ) or properties.get("GenerateSecretString") != old.get("GenerateSecretString")
        value = cls._value(properties, backend) if value_changed else None
        if value is not None:
            # CloudFormation stores the new value as a new AWSCURRENT version.
            backend.put_secret_value(
                secret_id=original_resource.arn,
                secret_string=value,
                secret_binary=None,
                client_request_token=None,
                version_stages=["AWSCURRENT"],
            )
        if properties.get("Description", "") != old.get("Description", ""):
            secret = backend.describe_secret(original_resource.arn)
            secret.description = properties.get("Description", "")
        original_resource.properties = properties
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        # Stack deletion removes the secret outright, with no recovery window.
        backend = secretsmanager_backends[account_id][region_name]
        backend.delete_secret(
            self.arn, recovery_window_in_days=None, force_delete_without_recovery=True
        )


class S3BucketPolicy(CloudFormationModel):
    """AWS::S3::BucketPolicy. Ref gives the bucket name (AWS gives a
    generated id). A new Bucket moves the policy; a new document replaces it."""

    __module__ = MODEL_MODULE

    def __init__(self, account_id: str, region_name: str, bucket: str):
        self.account_id = account_id
        self.region_name = region_name
        self.bucket = bucket

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @property
    def physical_resource_id(self) -> str:
        return self.bucket

    @staticmethod
    def _backend(account_id: str, region_name: str) -> Any:
        return s3_backends[account_id][get_partition(region_name)]

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> S3BucketPolicy:
        properties = cloudformation_json["Properties"]
        bucket = properties["Bucket"]
        document = _policy_text(properties["PolicyDocument"])
        cls._backend(account_id, region_name).put_bucket_policy(
            bucket, document.encode("utf-8")
        )
        return cls(account_id, region_name, bucket)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: S3BucketPolicy,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> S3BucketPolicy:
        replacement = cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )
        if replacement.bucket != original_resource.bucket:
            original_resource.delete(account_id, region_name)
        return replacement

    def delete(self, account_id: str, region_name: str) -> None:
        backend = self._backend(account_id, region_name)
        _ignore_missing(backend.delete_bucket_policy, self.bucket)


class SQSQueuePolicy(_Described, CloudFormationModel):
    """AWS::SQS::QueuePolicy: the Policy attribute of each queue in Queues
    (queue URLs). Ref gives a generated id, as on AWS."""

    __module__ = MODEL_MODULE
    TYPE = "AWS::SQS::QueuePolicy"
    ID = "policy_id"
    ATTRIBUTES = {"Id": "policy_id"}

    def __init__(self, account_id: str, region_name: str, policy_id: str, queues: list[str]):
        self.account_id = account_id
        self.region_name = region_name
        self.policy_id = policy_id
        self.queues = queues

    @staticmethod
    def _queue_name(queue_url: str) -> str:
        return queue_url.rstrip("/").rsplit("/", 1)[-1]

    @classmethod
    def _set_policy(cls, account_id: str, region_name: str, queues: list[str], policy: str | None) -> None:
        backend = sqs_backends[account_id][region_name]
        for url in queues:
            backend.set_queue_attributes(cls._queue_name(url), {"Policy": policy})

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> SQSQueuePolicy:
        properties = cloudformation_json["Properties"]
        queues = list(properties["Queues"])
        document = _policy_text(properties["PolicyDocument"])
        cls._set_policy(account_id, region_name, queues, document)
        return cls(account_id, region_name, resource_name, queues)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: SQSQueuePolicy,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> SQSQueuePolicy:
        properties = cloudformation_json["Properties"]
        queues = list(properties["Queues"])
        document = _policy_text(properties["PolicyDocument"])
        cls._set_policy(account_id, region_name, queues, document)
        dropped = [url for url in original_resource.queues if url not in queues]
        _ignore_missing(cls._set_policy, account_id, region_name, dropped, None)
        original_resource.queues = queues
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        for url in self.queues:
            _ignore_missing(self._set_policy, account_id, region_name, [url], None)


class CloudWatchAlarm(_Described, CloudFormationModel):
    """AWS::CloudWatch::Alarm on a single metric, through moto's PutMetricAlarm.
    Ref (and the physical id) is the alarm's name, as on AWS."""

    __module__ = MODEL_MODULE
    TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"
    ID = "name"
    ATTRIBUTES = {"Arn": "arn"}

    def __init__(self, account_id: str, region_name: str, name: str):
        self.account_id = account_id
        self.region_name = region_name
        self.name = name

    @property
    def arn(self) -> str:
        partition = get_partition(self.region_name)
        return f"arn:{partition}:cloudwatch:{self.region_name}:{self.account_id}:alarm:{self.name}"

    @staticmethod
    def _put(account_id: str, region_name: str, name: str, properties: dict[str, Any]) -> None:
        def number(key: str) -> Any:
            value = properties.get(key)
            return None if value is None else float(value) if key == "Threshold" else int(value)

        cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=name,
            namespace=properties.get("Namespace"),
            metric_name=properties.get("MetricName"),
            comparison_operator=properties["ComparisonOperator"],
            evaluation_periods=number("EvaluationPeriods"),
            datapoints_to_alarm=number("DatapointsToAlarm"),
            period=number("Period"),
            threshold=number("Threshold"),
            statistic=properties.get("Statistic"),
            extended_statistic=properties.get("ExtendedStatistic"),
            description=properties.get("AlarmDescription", ""),
            dimensions=[{"Name": d["Name"], "Value": str(d["Value"])} for d in properties.get("Dimensions", [])],
            alarm_actions=list(properties.get("AlarmActions") or []),
            ok_actions=list(properties.get("OKActions") or []),
            insufficient_data_actions=list(properties.get("InsufficientDataActions") or []),
            unit=properties.get("Unit"),
            actions_enabled=str(properties.get("ActionsEnabled", True)).lower() != "false",
            treat_missing_data=properties.get("TreatMissingData"),
            evaluate_low_sample_count_percentile=properties.get("EvaluateLowSampleCountPercentile"),
        )

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CloudWatchAlarm:
        # moto passes AlarmName (cloudformation_name_type) as the resource name, or makes one.
        properties = cloudformation_json["Properties"]
        name = properties.get("AlarmName") or resource_name
        cls._put(account_id, region_name, name, properties)
        return cls(account_id, region_name, name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: CloudWatchAlarm,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CloudWatchAlarm:
        properties = cloudformation_json["Properties"]
        name = properties.get("AlarmName") or original_resource.name
        # A new name replaces the alarm; any other change is made in place (PutMetricAlarm
        # overwrites an alarm of the same name).
        cls._put(account_id, region_name, name, properties)
        if name != original_resource.name:
            original_resource.delete(account_id, region_name)
        return cls(account_id, region_name, name)

    def delete(self, account_id: str, region_name: str) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([self.name])


class SNSSubscription(_Described, CloudFormationModel):
    """AWS::SNS::Subscription through moto's Subscribe and Unsubscribe. Ref (and
    the physical id) is the subscription's ARN, as on AWS."""

    __module__ = MODEL_MODULE
    TYPE = "AWS::SNS::Subscription"
    ID = "arn"
    ATTRIBUTES = {"Arn": "arn"}

    def __init__(self, account_id: str, region_name: str, arn: str):
        self.account_id = account_id
        self.region_name = region_name
        self.arn = arn

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> SNSSubscription:
        properties = cloudformation_json["Properties"]
        backend = sns_backends[account_id][region_name]
        subscription = backend.subscribe(properties["TopicArn"], properties["Endpoint"], properties["Protocol"])
        for key in ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy"):
            if key in properties:
                value = properties[key]
                text = value if isinstance(value, str) else json.dumps(value)
                backend.set_subscription_attributes(subscription.arn, key, text)
        return cls(account_id, region_name, subscription.arn)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: SNSSubscription,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> SNSSubscription:
        # A new topic, endpoint or protocol is a new subscription on AWS too.
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        sns_backends[account_id][region_name].unsubscribe(self.arn)


EXTRA_MODELS = (LambdaUrl, SecretsManagerSecret, S3BucketPolicy, SQSQueuePolicy, CloudWatchAlarm, SNSSubscription)


# moto enforces bucket policies on object requests, but applies a statement
# whatever its Condition says. A bucket policy that denies insecure transport
# (Deny s3:* when aws:SecureTransport is false, as ebhook's artifacts bucket
# has) then refused every upload. SDK requests to AWS always use TLS; the
# emulator's plain HTTP on 127.0.0.1 stands in for that.
REQUEST_CONTEXT = {"aws:securetransport": "true"}


def _condition_holds(condition: dict[str, Any]) -> bool | None:
    """Whether a policy Condition holds for REQUEST_CONTEXT; None when the
    emulator cannot tell (a key or operator it does not know)."""
    for operator, entries in condition.items():
        operator = operator.removesuffix("IfExists")
        for key, expected in entries.items():
            actual = REQUEST_CONTEXT.get(key.lower())
            if actual is None:
                return None
            values = [str(v).lower() for v in (expected if isinstance(expected, list) else [expected])]
            if operator in ("Bool", "StringEquals", "StringEqualsIgnoreCase"):
                holds = actual in values
            elif operator in ("StringNotEquals", "StringNotEqualsIgnoreCase"):
                holds = actual not in values
            else:
                return None
            if not holds:
                return False
    return True


def _bucket_permission(self: Any, action: str, resource: str) -> Any:
    """A bucket policy's verdict, with each statement's Condition evaluated:
    a statement applies only when its condition holds (one the emulator cannot
    evaluate is left out)."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    if self.policy is None:
        return PermissionResult.NEUTRAL
    document = json.loads(self.policy.decode())
    statements = document.get("Statement", [])
    if not isinstance(statements, list):
        statements = [statements]
    applying = []
    for statement in statements:
        condition = statement.get("Condition")
        if condition:
            if _condition_holds(condition) is not True:
                continue
            statement = {key: value for key, value in statement.items() if key != "Condition"}
        applying.append(statement)
    return IAMPolicy(json.dumps({**document, "Statement": applying})).is_action_permitted(action, resource)


# ---------------------------------------------------------------------------
# 2. Lambda permissions for function URLs
# ---------------------------------------------------------------------------

# AddPermission request fields that become part of the policy statement.
PERMISSION_FIELDS = (
    "Action",
    "Principal",
    "SourceArn",
    "SourceAccount",
    "PrincipalOrgID",
    "EventSourceToken",
    "FunctionUrlAuthType",
    "InvokedViaFunctionUrl",
)

_original_decode_policy = LambdaPolicy.decode_policy


def _decode_policy(self: LambdaPolicy, obj: dict[str, Any]) -> Any:
    """AddPermission's FunctionUrlAuthType and InvokedViaFunctionUrl: AWS's
    GetPolicy shows them as conditions, e.g.
    {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}} and
    {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}; moto copies them into
    the statement as unknown keys."""
    auth_type = obj.pop("FunctionUrlAuthType", None)
    via_url = obj.pop("InvokedViaFunctionUrl", None)
    policy = _original_decode_policy(self, obj)
    if auth_type is None and via_url is None:
        return policy
    condition = obj.setdefault("Condition", {})
    if auth_type is not None:
        condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = auth_type
    if via_url is not None:
        flag = "true" if str(via_url).lower() == "true" else "false"
        condition.setdefault("Bool", {})["lambda:InvokedViaFunctionUrl"] = flag
    return policy


def _permission_create(
    cls: type,
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> Any:
    """AWS::Lambda::Permission as AddPermission with a generated statement id
    (moto put every property, FunctionName included, into the statement and
    could neither update nor delete it). Ref is the statement id."""
    properties = cloudformation_json["Properties"]
    backend = lambda_models.lambda_backends[account_id][region_name]
    function = backend.get_function(properties["FunctionName"])
    request = {key: properties[key] for key in PERMISSION_FIELDS if key in properties}
    request["StatementId"] = resource_name
    function.policy.add_statement(json.dumps(request))
    permission = cls(region=region_name)
    permission.account_id = account_id
    permission.function_name = function.function_name
    permission.statement_id = resource_name
    return permission


def _permission_update(
    cls: type,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> Any:
    # Every property of a Lambda permission needs a replacement.
    replacement = _permission_create(
        cls, new_resource_name, cloudformation_json, account_id, region_name
    )
    original_resource.delete(account_id, region_name)
    return replacement


def _permission_delete(self: Any, account_id: str, region_name: str) -> None:
    backend = lambda_models.lambda_backends[account_id][region_name]
    _ignore_missing(backend.remove_permission, self.function_name, self.statement_id)


_original_url_config_init = lambda_models.FunctionUrlConfig.__init__


def _url_config_init(self: Any, function: Any, config: dict[str, Any]) -> None:
    # AWS function URLs end with a slash: https://<id>.lambda-url.<region>.on.aws/
    _original_url_config_init(self, function=function, config=config)
    if not self.url.endswith("/"):
        self.url += "/"


# ---------------------------------------------------------------------------
# 5 (first part). Resource-level stack events
# ---------------------------------------------------------------------------
#
# moto creates resources lazily through ResourceMap.__getitem__, which calls
# parsing.parse_and_create_resource; updates go through
# parsing.parse_and_update_resource and deletions through
# ResourceMap._delete_resource. The replacements below do the same work and
# record AWS's events around it on the stack that owns the resource map.
# moto retries updates and deletions in passes (to get past dependency
# errors), so IN_PROGRESS events are recorded once per operation and failures
# are kept until the stack operation is known to have failed.


class ResourceFailure(Exception):
    """A resource could not be created; the stack operation fails and rolls back."""

    def __init__(self, logical_id: str, reason: str):
        super().__init__(reason)
        self.logical_id = logical_id
        self.reason = reason


def _stack_of(resource_map: ResourceMap) -> Stack | None:
    return getattr(resource_map, "_ebhook_stack", None)


def _physical_id(resource: Any) -> str:
    try:
        value = getattr(resource, "physical_resource_id", "")
    except Exception:  # noqa: BLE001 - a model's property may fail half-built
        return ""
    return value if isinstance(value, str) else ""


def _begin_operation(resource_map: ResourceMap) -> None:
    resource_map._ebhook_once = set()
    # logical id -> (resource type, physical id, failed status, reason)
    resource_map._ebhook_failures = {}


def _created_order(resource_map: ResourceMap) -> list[str]:
    if not hasattr(resource_map, "_ebhook_created"):
        resource_map._ebhook_created = []
    return resource_map._ebhook_created


def _add_event(
    stack: Stack | None,
    logical_id: str,
    resource_type: str,
    physical_id: str,
    status: str,
    reason: str | None = None,
) -> None:
    if stack is None:
        return
    event = Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=logical_id,
        physical_resource_id=physical_id,
        resource_type=resource_type,
        resource_status=status,
        resource_status_reason=reason,
        resource_properties=None,
    )
    event.sendToSns(stack.account_id, stack.region_name, stack.notification_arns)
    stack.events.append(event)
    _resource_states(stack)[logical_id] = (status, event.timestamp)


def _resource_states(stack: Stack) -> dict[str, tuple[str, Any]]:
    """Each resource's latest status and its time, from its events."""
    if not hasattr(stack, "_ebhook_resource_states"):
        stack._ebhook_resource_states = {}
    return stack._ebhook_resource_states


_original_resource_dto_init = cfn_responses.StackResourceDTO.__init__


def _resource_dto_init(self: Any, stack: Stack, resource: Any) -> None:
    # DescribeStackResource(s): the resource's own status and time (moto
    # showed the stack's status and a fixed 2010 timestamp).
    _original_resource_dto_init(self, stack, resource)
    state = _resource_states(stack).get(self.logical_resource_id)
    if state is not None:
        self.resource_status, self.timestamp = state


def _response_list_stack_resources(self: Any) -> Any:
    from moto.core.responses import ActionResult

    stack, resources = self.cloudformation_backend.list_stack_resources(self._get_param("StackName"))
    summaries = []
    for resource in resources:
        logical_id = getattr(resource, "logical_resource_id", "")
        status, timestamp = _resource_states(stack).get(logical_id, ("CREATE_COMPLETE", stack.creation_time))
        summaries.append(
            {
                "LogicalResourceId": logical_id,
                "PhysicalResourceId": _physical_id(resource),
                "ResourceType": getattr(resource, "cf_resource_type", ""),
                "ResourceStatus": status,
                "LastUpdatedTimestamp": timestamp,
            }
        )
    return ActionResult({"StackResourceSummaries": summaries})


def _add_event_once(resource_map: ResourceMap, logical_id: str, *event: Any) -> None:
    once = getattr(resource_map, "_ebhook_once", None)
    if once is None:
        _begin_operation(resource_map)
        once = resource_map._ebhook_once
    key = (logical_id, event[2])
    if key not in once:
        once.add(key)
        _add_event(_stack_of(resource_map), logical_id, *event)


def _record_failure(
    resource_map: ResourceMap, logical_id: str, resource_type: str, physical_id: str, status: str, reason: str
) -> None:
    if getattr(resource_map, "_ebhook_failures", None) is None:
        _begin_operation(resource_map)
    resource_map._ebhook_failures[logical_id] = (resource_type, physical_id, status, reason)


def _clear_failure(resource_map: ResourceMap, logical_id: str) -> None:
    failures = getattr(resource_map, "_ebhook_failures", None)
    if failures:
        failures.pop(logical_id, None)


def _handler_reason(error: BaseException) -> str:
    return f'Resource handler returned message: "{_error_text(error)}" (HandlerErrorCode: {_error_code(error)})'


def _create_resource(
    logical_id: str,
    resource_json: dict[str, Any],
    resources_map: ResourceMap,
    account_id: str,
    region_name: str,
) -> Any:
    condition = resource_json.get("Condition")
    if condition and not resources_map.lazy_condition_map[condition]:
        return None
    resource_type = resource_json["Type"]
    # Resolves the properties first, which creates the resources they refer to,
    # so that this resource's events come after theirs, as on AWS.
    parsed = parsing.parse_resource_and_generate_name(logical_id, resource_json, resources_map)
    if not parsed:
        return None
    resource_class, cleaned_json, physical_name = parsed
    stack = _stack_of(resources_map)
    _add_event(stack, logical_id, resource_type, "", "CREATE_IN_PROGRESS")
    try:
        resource = resource_class.create_from_cloudformation_json(
            physical_name,
            cleaned_json,
            account_id,
            region_name,
            LogicalId=logical_id,
            StackId=resources_map.stack_id,
            ResourceType=resource_type,
        )
    except Exception as error:
        reason = _handler_reason(error)
        _add_event(stack, logical_id, resource_type, "", "CREATE_FAILED", reason)
        _record_failure(resources_map, logical_id, resource_type, "", "CREATE_FAILED", reason)
        raise ResourceFailure(logical_id, reason) from error
    resource.cf_resource_type = resource_type
    resource.logical_resource_id = logical_id
    _created_order(resources_map).append(logical_id)
    _add_event(stack, logical_id, resource_type, _physical_id(resource), "CREATE_COMPLETE")
    return resource


def _update_resource(
    logical_id: str,
    resource_json: dict[str, Any],
    resources_map: ResourceMap,
    account_id: str,
    region_name: str,
) -> Any:
    # A resource whose Condition changed: AWS creates it when the condition now holds and
    # deletes it when it no longer does (moto updated a resource that was not there).
    condition = resource_json.get("Condition")
    holds = not condition or resources_map.lazy_condition_map[condition]
    existing = resources_map._parsed_resources.get(logical_id)
    if not holds:
        if existing is not None:
            resources_map._delete_resource(existing, resource_json)
        return None
    if existing is None:
        resources_map._parsed_resources.pop(logical_id, None)
        return _create_resource(logical_id, resource_json, resources_map, account_id, region_name)
    parsed = parsing.parse_resource_and_generate_name(logical_id, resource_json, resources_map)
    if not parsed:
        return None
    resource_class, cleaned_json, new_name = parsed
    resource_type = resource_json["Type"]
    original = resources_map[logical_id]
    if hasattr(resource_class.update_from_cloudformation_json, "__isabstractmethod__"):
        # moto cannot update this type and would forget the resource (it
        # stores None); keep it as it is.
        logger.warning("moto cannot update %s (%s); left unchanged", logical_id, resource_type)
        return original
    _add_event_once(resources_map, logical_id, resource_type, _physical_id(original), "UPDATE_IN_PROGRESS")
    try:
        updated = resource_class.update_from_cloudformation_json(
            original_resource=original,
            new_resource_name=new_name,
            cloudformation_json=cleaned_json,
            account_id=account_id,
            region_name=region_name,
        )
    except Exception as error:
        _record_failure(
            resources_map, logical_id, resource_type, _physical_id(original), "UPDATE_FAILED", _handler_reason(error)
        )
        raise
    _clear_failure(resources_map, logical_id)
    updated.cf_resource_type = resource_type
    updated.logical_resource_id = logical_id
    _add_event(_stack_of(resources_map), logical_id, resource_type, _physical_id(updated), "UPDATE_COMPLETE")
    return updated


_original_delete_resource = ResourceMap._delete_resource


def _delete_resource(self: ResourceMap, parsed_resource: Any, resource_json: dict[str, Any]) -> None:
    logical_id = getattr(parsed_resource, "logical_resource_id", "")
    resource_type = resource_json.get("Type", "")
    physical_id = _physical_id(parsed_resource)
    _add_event_once(self, logical_id, resource_type, physical_id, "DELETE_IN_PROGRESS")
    try:
        _original_delete_resource(self, parsed_resource, resource_json)
    except Exception as error:
        _record_failure(self, logical_id, resource_type, physical_id, "DELETE_FAILED", _handler_reason(error))
        raise
    _clear_failure(self, logical_id)
    _add_event(_stack_of(self), logical_id, resource_type, physical_id, "DELETE_COMPLETE")


def _delete_all(self: ResourceMap) -> None:
    """Deletes the stack's resources, newest first (AWS deletes in reverse
    dependency order; moto walks a set, so its events came in random order).
    Retained resources get AWS's DELETE_SKIPPED event."""
    created = [name for name in reversed(_created_order(self)) if name in self._resource_json_map]
    pending = created + [name for name in self._resource_json_map if name not in created]
    for name in list(pending):
        resource = self._parsed_resources.get(name)
        if resource is None or isinstance(resource, str):
            pending.remove(name)
        elif self._resource_json_map[name].get("DeletionPolicy") == "Retain":
            pending.remove(name)
            _add_event_once(
                self, name, self._resource_json_map[name]["Type"], _physical_id(resource), "DELETE_SKIPPED"
            )
    last_error: Exception | None = None
    while pending:
        progressed = False
        for name in list(pending):
            try:
                self._delete_resource(self._parsed_resources[name], self._resource_json_map[name])
            except Exception as error:  # noqa: BLE001 - retried in the next pass
                last_error = error
                continue
            self._parsed_resources.pop(name, None)
            pending.remove(name)
            progressed = True
        if not progressed:
            assert last_error is not None
            raise last_error


def _emit_deferred_failures(stack: Stack) -> list[str]:
    """Records the UPDATE_FAILED/DELETE_FAILED events kept back during moto's
    retry passes; returns the logical ids of all failed resources."""
    failures = getattr(stack.resource_map, "_ebhook_failures", {}) or {}
    for logical_id, (resource_type, physical_id, status, reason) in failures.items():
        if status != "CREATE_FAILED":  # created failures were recorded at once
            _add_event(stack, logical_id, resource_type, physical_id, status, reason)
    return list(failures)


def _forget_resources(stack: Stack) -> None:
    """After a failed create, a rollback or a deletion the stack keeps only the
    resources that exist, and shows no outputs (as on AWS). moto's resource
    map creates a missing resource lazily on any read (DescribeStacks outputs,
    DescribeStackResources), which would bring failed or deleted ones back."""
    resource_map = stack.resource_map
    resource_map._resource_json_map = {
        name: definition
        for name, definition in resource_map._resource_json_map.items()
        if isinstance(resource_map._parsed_resources.get(name), CloudFormationModel)
    }
    stack.output_map = OutputMap(resource_map, {"Outputs": {}}, stack.stack_id)


# ---------------------------------------------------------------------------
# 3 and 5. Stack operations: create, update, delete, change sets
# ---------------------------------------------------------------------------

# Per-request options read by the response wrappers (OnFailure, DisableRollback).
_REQUEST = threading.local()

_original_create_resource_map = Stack._create_resource_map


def _create_resource_map(self: Stack) -> ResourceMap:
    resource_map = _original_create_resource_map(self)
    resource_map._ebhook_stack = self
    return resource_map


def _parameter_text(value: Any) -> Any:
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return None if value is None else str(value)


def _effective_parameters(template: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    slots = (template or {}).get("Parameters") or {}
    values = {name: slot.get("Default") for name, slot in slots.items()}
    values.update({name: value for name, value in parameters.items() if name in values})
    return {name: _parameter_text(value) for name, value in values.items()}


def _changed_parameters(resource_map: ResourceMap, template: dict[str, Any], parameters: dict[str, Any]) -> set[str]:
    old = {name: _parameter_text(value) for name, value in resource_map.resolved_parameters.items()}
    new = _effective_parameters(template, parameters)
    return {name for name, value in new.items() if old.get(name) != value}


_SUB_NAME = re.compile(r"\$\{([^!}][^}]*)\}")


def _references(node: Any) -> set[str]:
    """Names a template fragment refers to: Ref, and ${Name} / ${Name.Attr}
    inside Fn::Sub (moto only looked at Ref)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) and value else value
                if isinstance(text, str):
                    found.update(match.split(".")[0] for match in _SUB_NAME.findall(text))
                if isinstance(value, list) and len(value) > 1:
                    found |= _references(value[1])
            else:
                found |= _references(value)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item)
    return found


def _conditions_used(node: Any) -> set[str]:
    """Conditions a template fragment depends on: `Condition: Name` and the first
    argument of Fn::If."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Condition" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::If" and isinstance(value, list) and value and isinstance(value[0], str):
                found.add(value[0])
                found |= _conditions_used(value[1:])
            else:
                found |= _conditions_used(value)
    elif isinstance(node, list):
        for item in node:
            found |= _conditions_used(item)
    return found


def _changed_conditions(template: dict[str, Any], changed: set[str]) -> set[str]:
    """Conditions whose value may change with the changed parameters, directly or through
    another condition."""
    conditions = (template or {}).get("Conditions") or {}
    result: set[str] = set()
    grew = True
    while grew:
        grew = False
        for name, definition in conditions.items():
            if name not in result and (
                changed & _references(definition) or result & _conditions_used(definition)
            ):
                result.add(name)
                grew = True
    return result


def _definition(resource: dict[str, Any]) -> dict[str, Any]:
    # moto adds an empty Properties to the definitions it has created from. Metadata is left
    # out: AWS does not update (or replace) a resource whose Metadata alone changed.
    definition = {**resource, "Properties": resource.get("Properties") or {}}
    definition.pop("Metadata", None)
    return definition


def _resource_diff(
    self: ResourceMap, other_template: dict[str, Any], parameters: dict[str, Any] | None = None
) -> dict[str, list[str]]:
    """Which resources a new template and parameters add, modify and remove.
    A resource whose definition is the same is modified when a parameter it
    refers to, or a condition it uses, has a new effective value (moto compared
    raw inputs, and its change sets never passed the parameters at all)."""
    old = self._resource_json_map
    new = other_template.get("Resources") or {}
    changed = _changed_parameters(self, other_template, parameters) if parameters is not None else set()
    # A property chosen by Fn::If changes with the parameters its condition reads (moto
    # followed only Ref).
    conditions = _changed_conditions(other_template, changed)
    return {
        "Add": [name for name in new if name not in old],
        "Modify": [
            name
            for name in new
            if name in old
            and (
                _definition(new[name]) != _definition(old[name])
                or changed & _references(new[name])
                or conditions & _conditions_used(new[name])
            )
        ],
        "Remove": [name for name in old if name not in new],
    }


def _stack_parameter_list(self: Stack) -> list[dict[str, Any]]:
    """DescribeStacks parameters: NoEcho values as "****", as AWS shows them
    (moto compared values against the list of keys, so it never masked)."""
    slots = (self.template_dict or {}).get("Parameters") or {}
    hidden = {name for name, slot in slots.items() if str(slot.get("NoEcho", "false")).lower() == "true"}
    return [
        {
            "ParameterKey": name,
            "ParameterValue": "****" if name in hidden else _parameter_text(value),
        }
        for name, value in self.resource_map.resolved_parameters.items()
    ]


def _failure_summary(verb: str, failed: list[str]) -> str:
    return f"The following resource(s) failed to {verb}: [{', '.join(failed)}]. "


def _set_status(stack: Stack, status: str, reason: str | None = None) -> None:
    stack.status = status
    stack.stack_status_reason = reason
    stack._add_stack_event(status, resource_status_reason=reason)


def _backend_of(stack: Stack) -> CloudFormationBackend:
    return cfn_models.cloudformation_backends[stack.account_id][stack.region_name]


def _register_exports(backend: CloudFormationBackend, stack: Stack) -> None:
    for name in [name for name, export in backend.exports.items() if export.exporting_stack_id == stack.stack_id]:
        del backend.exports[name]
    for export in stack.exports:
        owner = backend.exports.get(export.name)
        if owner is not None and owner.exporting_stack_id != stack.stack_id:
            raise ValidationError(
                message=f"Export with name {export.name} is already exported by stack {owner.exporting_stack_id}"
            )
    for export in stack.exports:
        backend.exports[export.name] = export


def _run_create(backend: CloudFormationBackend, stack: Stack, on_failure: str) -> None:
    """Creates the stack's resources. A failure gives CREATE_FAILED on the
    resource, then as on AWS (OnFailure): ROLLBACK (the default: delete what
    was created, ROLLBACK_COMPLETE), DO_NOTHING (CREATE_FAILED) or DELETE."""
    _set_status(stack, "CREATE_IN_PROGRESS", "User Initiated")
    resource_map = stack.resource_map
    _begin_operation(resource_map)
    try:
        ready = resource_map.create(stack.template_dict)
        stack.description = stack.template_dict.get("Description")
        _register_exports(backend, stack)
    except Exception as error:  # noqa: BLE001 - every failure fails the stack
        failed = _emit_deferred_failures(stack)
        reason = _failure_summary("create", failed) if failed else _error_text(error)
        if not isinstance(error, ResourceFailure):
            logger.warning("stack %s failed: %s", stack.name, reason, exc_info=error)
        if on_failure == "DO_NOTHING":
            stack.disable_rollback = True
            _forget_resources(stack)
            _set_status(stack, "CREATE_FAILED", reason)
            return
        _set_status(stack, "ROLLBACK_IN_PROGRESS", reason + "Rollback requested by user.")
        _begin_operation(resource_map)
        try:
            resource_map.delete()
        except Exception as rollback_error:  # noqa: BLE001
            _emit_deferred_failures(stack)
            _set_status(stack, "ROLLBACK_FAILED", _error_text(rollback_error))
            return
        _forget_resources(stack)
        _set_status(stack, "ROLLBACK_COMPLETE")
        if on_failure == "DELETE":
            backend.delete_stack(stack.stack_id)
        return
    if ready:
        _set_status(stack, "CREATE_COMPLETE")


def _backend_create_stack(
    self: CloudFormationBackend,
    name: str,
    template: str,
    parameters: dict[str, Any],
    notification_arns: list[str] | None = None,
    tags: dict[str, str] | None = None,
    role_arn: str | None = None,
    enable_termination_protection: bool | None = False,
    timeout_in_mins: int | None = None,
    stack_policy_body: str | None = None,
) -> Stack:
    """CreateStack: the template and parameters are checked at once (a
    ValidationError, no stack); resource failures happen after the call
    returns, as events and a ROLLBACK_COMPLETE stack."""
    if any(stack.name == name for stack in self.stacks.values()):
        raise AlreadyExistsException(f"Stack [{name}] already exists")
    stack = Stack(
        stack_id=generate_stack_id(name, self.region_name, self.account_id),
        name=name,
        template=template,
        parameters=parameters,
        account_id=self.account_id,
        region_name=self.region_name,
        notification_arns=notification_arns,
        tags=tags,
        role_arn=role_arn,
        cross_stack_resources=self.exports,
        enable_termination_protection=enable_termination_protection,
        timeout_in_mins=timeout_in_mins,
        stack_policy_body=stack_policy_body,
    )
    self.stacks[stack.stack_id] = stack
    _run_create(self, stack, getattr(_REQUEST, "on_failure", None) or "ROLLBACK")
    return stack


def _reload_parameters(resource_map: ResourceMap, parameters: dict[str, Any]) -> None:
    # moto kept the old inputs when none were given and never dropped the
    # values of parameters a new template no longer declares.
    resource_map.input_parameters = parameters
    resource_map.resolved_parameters = {}
    resource_map.load_parameters()


def _stack_update(
    self: Stack,
    template: str,
    role_arn: str | None = None,
    parameters: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> None:
    """UpdateStack / an UPDATE change set. The new template and parameters are
    checked first (ValidationError, nothing changed). A failing resource gives
    UPDATE_FAILED and a rollback to the previous template and parameters
    (UPDATE_ROLLBACK_COMPLETE), as AWS does; moto left the stack half-updated."""
    parameters = dict(parameters or {})
    new_dict = self.parse_template(template)
    ResourceMap(
        self.stack_id,
        self.name,
        parameters,
        self.tags,
        region_name=self.region_name,
        account_id=self.account_id,
        template=new_dict,
        cross_stack_resources=self.cross_stack_resources,
    ).load()

    previous = (self.template, self.template_dict, dict(self.resource_map.input_parameters))
    resource_map = self.resource_map
    _set_status(self, "UPDATE_IN_PROGRESS", "User Initiated")
    _begin_operation(resource_map)
    try:
        self.template, self.template_dict = template, new_dict
        # moto's update keeps the previous inputs when it is given none.
        resource_map.input_parameters = parameters
        resource_map.update(new_dict, parameters)
        _reload_parameters(resource_map, parameters)
        self.parameters = parameters
        self.output_map = self._create_output_map()
        self.description = new_dict.get("Description")
        _register_exports(_backend_of(self), self)
    except Exception as error:  # noqa: BLE001 - every failure rolls back
        failed = _emit_deferred_failures(self)
        reason = _failure_summary("update", failed) if failed else _error_text(error)
        if not isinstance(error, ResourceFailure) and not failed:
            logger.warning("stack %s update failed: %s", self.name, reason, exc_info=error)
        _set_status(self, "UPDATE_ROLLBACK_IN_PROGRESS", reason)
        self.template, self.template_dict, old_parameters = previous
        _begin_operation(resource_map)
        try:
            resource_map.input_parameters = old_parameters
            resource_map.update(self.template_dict, old_parameters)
            _reload_parameters(resource_map, old_parameters)
            self.parameters = old_parameters
            self.output_map = self._create_output_map()
        except Exception as rollback_error:  # noqa: BLE001
            _emit_deferred_failures(self)
            _set_status(self, "UPDATE_ROLLBACK_FAILED", _error_text(rollback_error))
            return
        _set_status(self, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        _set_status(self, "UPDATE_ROLLBACK_COMPLETE")
        return
    _set_status(self, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    _set_status(self, "UPDATE_COMPLETE")
    self.role_arn = role_arn
    if tags is not None:
        self.tags = tags


def _stack_delete(self: Stack) -> None:
    """DeleteStack: per-resource events; a resource that cannot be deleted
    leaves the stack in DELETE_FAILED (moto lost the stack)."""
    _set_status(self, "DELETE_IN_PROGRESS", "User Initiated")
    _begin_operation(self.resource_map)
    try:
        self.resource_map.delete()
    except Exception as error:  # noqa: BLE001
        failed = _emit_deferred_failures(self)
        reason = _failure_summary("delete", failed) if failed else _error_text(error)
        _set_status(self, "DELETE_FAILED", reason)
        return
    _forget_resources(self)
    _set_status(self, "DELETE_COMPLETE")


def _backend_delete_stack(self: CloudFormationBackend, name_or_stack_id: str) -> None:
    stack = self.stacks.get(name_or_stack_id) or next(
        (stack for stack in self.stacks.values() if stack.name == name_or_stack_id), None
    )
    if stack is None:
        return  # AWS: deleting a stack that does not exist succeeds
    stack.delete()
    if stack.status != "DELETE_COMPLETE":
        return
    del self.stacks[stack.stack_id]
    self.deleted_stacks[stack.stack_id] = stack
    for name in [name for name, export in self.exports.items() if export.exporting_stack_id == stack.stack_id]:
        del self.exports[name]
    for change_set_id in [key for key, cs in self.change_sets.items() if cs.stack_id == stack.stack_id]:
        del self.change_sets[change_set_id]


# --- change sets ---


# moto finds an error's service (for its error shapes) from the error class's
# module name, moto.<service>.*.


class ChangeSetNotFound(CloudFormationError):
    __module__ = "moto.cloudformation.ebhook_emulator"
    code = "ChangeSetNotFoundException"


class InvalidChangeSetStatus(CloudFormationError):
    __module__ = "moto.cloudformation.ebhook_emulator"
    code = "InvalidChangeSetStatusException"


NO_CHANGES_REASON = (
    "The submitted information didn't contain changes. Submit different information to create a change set."
)

# Properties whose change replaces the resource, for DescribeChangeSet's
# Replacement (besides a resource's name property).
REPLACING_PROPERTIES = {
    "AWS::Lambda::Url": ("TargetFunctionArn", "Qualifier"),
    "AWS::S3::BucketPolicy": ("Bucket",),
    "AWS::Lambda::Permission": None,  # every property
}


def _change_set_parameters_get(self: ChangeSet) -> dict[str, Any]:
    """DescribeChangeSet shows NoEcho values as "****" too."""
    slots = (getattr(self, "template_dict", None) or {}).get("Parameters") or {}
    return {
        name: "****" if str(slots.get(name, {}).get("NoEcho", "false")).lower() == "true" else value
        for name, value in self._ebhook_parameters.items()
    }


def _change_set_parameters_set(self: ChangeSet, value: dict[str, Any]) -> None:
    self._ebhook_parameters = dict(value or {})


def _replacement(resource_type: str, old: dict[str, Any], new: dict[str, Any]) -> str:
    old_props = old.get("Properties") or {}
    new_props = new.get("Properties") or {}
    if resource_type in REPLACING_PROPERTIES and REPLACING_PROPERTIES[resource_type] is None:
        # Every property replaces, but a change of Metadata alone replaces nothing.
        return "True" if old_props != new_props else "False"
    keys = list(REPLACING_PROPERTIES.get(resource_type) or ())
    name_property = parsing.resource_name_property_from_type(resource_type)
    if name_property:
        keys.append(name_property)
    return "True" if any(old_props.get(key) != new_props.get(key) for key in keys) else "False"


def _change_set_diff(self: ChangeSet) -> list[Change]:
    """The changes of a change set, parameters included (moto diffed the
    template only), with AWS's PhysicalResourceId, Replacement, Scope and
    Details for the parameters that cause a Modify."""
    resource_map = self.stack.resource_map
    old = resource_map._resource_json_map
    new = self.template_dict.get("Resources") or {}
    by_action = _resource_diff(resource_map, self.template_dict, self._ebhook_parameters)
    changed_parameters = _changed_parameters(resource_map, self.template_dict, self._ebhook_parameters)
    changes = []
    for action in ("Add", "Modify", "Remove"):
        for name in by_action[action]:
            definition = new.get(name) if action != "Remove" else old[name]
            change = Change(action=action, logical_resource_id=name, resource_type=definition["Type"])
            if action != "Add":
                change.physical_resource_id = _physical_id(resource_map._parsed_resources.get(name))
            if action == "Modify":
                change.replacement = _replacement(definition["Type"], old[name], new[name])
                change.scope = ["Properties"]
                change.details = [
                    {
                        "Target": {"Attribute": "Properties", "RequiresRecreation": "Never"},
                        "Evaluation": "Static",
                        "ChangeSource": "ParameterReference",
                        "CausingEntity": parameter,
                    }
                    for parameter in sorted(changed_parameters & _references(new[name]))
                ]
            else:
                change.scope = []
                change.details = []
            changes.append(change)
    return changes


def _backend_create_change_set(
    self: CloudFormationBackend,
    stack_name: str,
    change_set_name: str,
    template: str,
    parameters: dict[str, str],
    description: str,
    change_set_type: str,
    notification_arns: list[str] | None = None,
    tags: dict[str, str] | None = None,
    role_arn: str | None = None,
) -> tuple[str, str]:
    """CreateChangeSet. An UPDATE with the same template and the same
    parameter values is created with Status FAILED and AWS's StatusReason
    (moto raised "No updates are to be performed."). A CREATE change set
    for a stack already in REVIEW_IN_PROGRESS reuses that stack."""
    validate_create_change_set(change_set_name)
    # UsePreviousValue gives the typed values moto keeps (lists for list types).
    parameters = {name: _parameter_text(value) for name, value in parameters.items()}
    existing = next(
        (stack for stack in self.stacks.values() if stack_name in (stack.name, stack.stack_id)), None
    )
    template_dict = Stack.parse_template(template)
    # Template and parameters are validated when the change set is created.
    ResourceMap(
        "",
        stack_name,
        parameters,
        tags or {},
        region_name=self.region_name,
        account_id=self.account_id,
        template=template_dict,
        cross_stack_resources=self.exports,
    ).load()
    if change_set_type == "UPDATE":
        if existing is None:
            raise ValidationError(stack_name)
        if existing.status in (
            "REVIEW_IN_PROGRESS",
            "CREATE_FAILED",
            "ROLLBACK_COMPLETE",
            "ROLLBACK_FAILED",
            "DELETE_FAILED",
            "UPDATE_ROLLBACK_FAILED",
        ):
            raise ValidationError(
                message=f"Stack:{existing.stack_id} is in {existing.status} state and can not be updated."
            )
        stack = existing
    elif existing is not None and existing.status != "REVIEW_IN_PROGRESS":
        raise AlreadyExistsException(
            f"Stack [{stack_name}] already exists and cannot be created again with the changeSet [{change_set_name}]."
        )
    elif existing is not None:
        stack = existing
    else:
        stack = Stack(
            stack_id=generate_stack_id(stack_name, self.region_name, self.account_id),
            name=stack_name,
            template={},
            parameters=parameters,
            account_id=self.account_id,
            region_name=self.region_name,
            notification_arns=notification_arns,
            tags=tags,
            role_arn=role_arn,
            cross_stack_resources=self.exports,
        )
        self.stacks[stack.stack_id] = stack
        _set_status(stack, "REVIEW_IN_PROGRESS", "User Initiated")

    change_set = ChangeSet(
        change_set_type=change_set_type,
        change_set_id=generate_changeset_id(change_set_name, self.region_name, self.account_id),
        change_set_name=change_set_name,
        stack=stack,
        template=template,
        parameters=parameters,
        description=description,
        notification_arns=notification_arns,
        tags=tags,
        role_arn=role_arn,
    )
    unchanged = (
        change_set_type == "UPDATE"
        and stack.template_dict == template_dict
        and _effective_parameters(stack.template_dict, stack.resource_map.input_parameters)
        == _effective_parameters(template_dict, parameters)
        and (not tags or tags == stack.tags)
    )
    if unchanged:
        change_set.status = "FAILED"
        change_set.execution_status = "UNAVAILABLE"
        change_set.status_reason = NO_CHANGES_REASON
    else:
        change_set.status = "CREATE_COMPLETE"
        change_set.execution_status = "AVAILABLE"
    self.change_sets[change_set.change_set_id] = change_set
    return change_set.change_set_id, stack.stack_id


def _find_change_set(self: CloudFormationBackend, change_set_name: str, stack_name: str | None) -> ChangeSet:
    if change_set_name in self.change_sets:
        return self.change_sets[change_set_name]
    for change_set in reversed(list(self.change_sets.values())):
        if change_set.change_set_name == change_set_name and (
            not stack_name or stack_name in (change_set.stack_name, change_set.stack_id)
        ):
            return change_set
    raise ChangeSetNotFound(f"ChangeSet [{change_set_name}] does not exist")


def _backend_describe_change_set(self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None) -> ChangeSet:
    return _find_change_set(self, change_set_name, stack_name)


def _backend_delete_change_set(self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None) -> None:
    change_set = _find_change_set(self, change_set_name, stack_name)
    if change_set.execution_status == "EXECUTE_IN_PROGRESS":
        raise InvalidChangeSetStatus(
            f"Cannot delete ChangeSet {change_set.change_set_id} while it is in EXECUTE_IN_PROGRESS"
        )
    del self.change_sets[change_set.change_set_id]


def _backend_execute_change_set(
    self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
) -> None:
    """ExecuteChangeSet. A CREATE change set gives the stack its template,
    parameters and outputs and creates the resources like CreateStack; an
    UPDATE change set runs the update (resources, parameters, outputs). Only an
    AVAILABLE change set can be executed; afterwards the stack's other change
    sets are gone, as on AWS."""
    change_set = _find_change_set(self, change_set_name, stack_name)
    if change_set.status != "CREATE_COMPLETE" or change_set.execution_status != "AVAILABLE":
        raise InvalidChangeSetStatus(
            f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current status of [{change_set.status}]"
        )
    stack = self.stacks[change_set.stack_id]
    parameters = change_set._ebhook_parameters
    change_set.execution_status = "EXECUTE_IN_PROGRESS"
    if change_set.change_set_type == "CREATE":
        stack.template = change_set.template
        stack.parameters = parameters
        stack._parse_template()
        stack.description = stack.template_dict.get("Description")
        stack.resource_map = stack._create_resource_map()
        stack.output_map = stack._create_output_map()
        on_failure = "DO_NOTHING" if getattr(_REQUEST, "disable_rollback", False) else "ROLLBACK"
        _run_create(self, stack, on_failure)
        succeeded = stack.status == "CREATE_COMPLETE"
    else:
        stack.update(
            change_set.template,
            role_arn=change_set.role_arn or stack.role_arn,
            parameters=parameters,
            tags=change_set.tags or None,
        )
        succeeded = stack.status == "UPDATE_COMPLETE"
    change_set.execution_status = "EXECUTE_COMPLETE" if succeeded else "EXECUTE_FAILED"
    for key in [key for key, other in self.change_sets.items() if other.stack_id == stack.stack_id and other is not change_set]:
        del self.change_sets[key]


# --- request options the backend methods do not receive ---

_original_response_create_stack = cfn_responses.CloudFormationResponse.create_stack
_original_response_execute_change_set = cfn_responses.CloudFormationResponse.execute_change_set
_original_response_create_change_set = cfn_responses.CloudFormationResponse.create_change_set
_original_validate_different_update = cfn_responses.CloudFormationResponse._validate_different_update


def _response_create_stack(self: Any) -> Any:
    # CreateStack's OnFailure (ROLLBACK | DELETE | DO_NOTHING) and DisableRollback.
    on_failure = self._get_param("OnFailure")
    if self._get_bool_param("DisableRollback", False):
        on_failure = "DO_NOTHING"
    _REQUEST.on_failure = on_failure
    try:
        return _original_response_create_stack(self)
    finally:
        _REQUEST.on_failure = None


def _response_execute_change_set(self: Any) -> Any:
    _REQUEST.disable_rollback = self._get_bool_param("DisableRollback", False)
    try:
        return _original_response_execute_change_set(self)
    finally:
        _REQUEST.disable_rollback = False


def _response_create_change_set(self: Any) -> Any:
    # moto's response raised "No updates are to be performed." here; AWS
    # creates a FAILED change set instead (see _backend_create_change_set).
    self._ebhook_creating_change_set = True
    return _original_response_create_change_set(self)


def _validate_different_update(self: Any, *args: Any, **kwargs: Any) -> None:
    if getattr(self, "_ebhook_creating_change_set", False):
        return
    _original_validate_different_update(self, *args, **kwargs)


def _response_describe_change_set(self: Any) -> Any:
    from moto.core.responses import ActionResult

    change_set = self.cloudformation_backend.describe_change_set(
        self._get_param("ChangeSetName"), self._get_param("StackName")
    )
    return ActionResult(change_set)


def _response_delete_change_set(self: Any) -> Any:
    from moto.core.responses import EmptyResult

    self.cloudformation_backend.delete_change_set(
        self._get_param("ChangeSetName"), self._get_param("StackName")
    )
    return EmptyResult()


def _missing_parameter_init(self: Any, parameter_name: str) -> None:
    # AWS's wording for a parameter without value or default.
    CloudFormationError.__init__(self, f"Parameters: [{parameter_name}] must have values")


# ---------------------------------------------------------------------------

_installed = False


# IAM: AWS keeps inline policies as JSON text (GetRolePolicy returns it URL-encoded); moto's
# Role model stored the CloudFormation dict as is, so GetRolePolicy returned Python's repr.
_original_role_put_policy = iam_models.Role.put_policy


def _role_put_policy(self: Any, policy_name: str, policy_json: Any) -> None:
    if not isinstance(policy_json, str):
        policy_json = json.dumps(policy_json)
    _original_role_put_policy(self, policy_name, policy_json)


# Lambda: CreateFunction for a name that exists fails with ResourceConflictException ("Function
# already exist"), through the API and through CloudFormation alike; moto added a version.
_original_create_function = lambda_models.LambdaBackend.create_function


class ResourceConflict(lambda_exceptions.LambdaClientError):
    code = 409

    def __init__(self, message: str):
        super().__init__("ResourceConflictException", message)


def _create_function(self: Any, spec: dict[str, Any]) -> Any:
    name = spec.get("FunctionName")
    if name and name in self._lambdas._functions:
        raise ResourceConflict(f"Function already exist: {name}")
    return _original_create_function(self, _text_environment(spec))


# Lambda environment variables are strings. CloudFormation turns a Number parameter given to one
# (ebhook's DedupeWindow) into its text; moto kept the number, and GetFunction then answered
# JSON that no SDK reads ("expected ValueString").
def _text_environment(spec: dict[str, Any]) -> dict[str, Any]:
    variables = (spec.get("Environment") or {}).get("Variables")
    if not isinstance(variables, dict):
        return spec
    text = {k: v if isinstance(v, str) else _parameter_text(v) or "" for k, v in variables.items()}
    return {**spec, "Environment": {**spec["Environment"], "Variables": text}}


# CloudFormation drops a list element that is an Fn::If choosing AWS::NoValue (ebhook's role
# statement for the dedupe table, there only with dedupe on); moto kept it as null, so the role's
# policy held a null statement. clean_json calls itself through the module, so this wrapper
# sees every nested list.
_original_clean_json = parsing.clean_json


def _may_vanish(node: Any) -> bool:
    return isinstance(node, dict) and ("Fn::If" in node or node.get("Ref") == "AWS::NoValue")


def _clean_json(resource_json: Any, resources_map: Any) -> Any:
    if isinstance(resource_json, list):
        kept = []
        for item in resource_json:
            value = _clean_json(item, resources_map)
            if value is None and _may_vanish(item):
                continue
            kept.append(value)
        return kept
    return _original_clean_json(resource_json, resources_map)


_original_update_configuration = lambda_models.LambdaFunction.update_configuration


def _update_configuration(self: Any, config_updates: dict[str, Any]) -> Any:
    return _original_update_configuration(self, _text_environment(config_updates))


# EventBridge: AWS::Events::EventBus changes in place unless its Name changes (Name is its one
# replacement property for a custom bus); moto deleted the bus, with every rule on it, and made
# it again on any update, such as a template that adds a Condition which holds.


def _event_bus_update(
    cls: Any,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> Any:
    if new_resource_name == original_resource.name:
        return original_resource
    return _replace(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    )


# SQS: CloudFormation changes a queue's attributes in place (QueueName and FifoQueue replace
# it); moto's update applied VisibilityTimeout and ReceiveMessageWaitTimeSeconds and ignored the
# rest, so a new MaximumMessageSize (ebhook's dead-letter queue: 256 KiB, then 1 MiB) was lost.
_QUEUE_NUMBERS_IN_PLACE = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
)


def _queue_update(
    cls: Any,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> Any:
    properties = cloudformation_json["Properties"]
    queue = sqs_backends[account_id][region_name].get_queue(original_resource.name)
    for key in _QUEUE_NUMBERS_IN_PLACE:
        if key in properties:
            setattr(queue, camelcase_to_underscores(key), int(properties[key]))
    if "SqsManagedSseEnabled" in properties:
        queue.sqs_managed_sse_enabled = str(properties["SqsManagedSseEnabled"]).lower() == "true"
    return queue


_original_bucket_create = s3_models.FakeBucket.create_from_cloudformation_json.__func__


def _bucket_create(
    cls: Any,
    resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> Any:
    bucket = _original_bucket_create(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )
    _apply_bucket_properties(bucket, cloudformation_json.get("Properties", {}), account_id, region_name)
    return bucket


_original_bucket_update = s3_models.FakeBucket.update_from_cloudformation_json.__func__


def _bucket_update(
    cls: Any,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> Any:
    bucket = _original_bucket_update(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    )
    _apply_bucket_properties(bucket, cloudformation_json.get("Properties", {}), account_id, region_name)
    return bucket


def _apply_bucket_properties(bucket: Any, properties: Any, account_id: str, region_name: str) -> None:
    """What moto's bucket model ignored, on create and on update (AWS applies each in place):
    VersioningConfiguration, ObjectLockEnabled and LoggingConfiguration."""
    backend = s3_backends[account_id][get_partition(region_name)]
    status = properties.get("VersioningConfiguration", {}).get("Status")
    if status:
        backend.put_bucket_versioning(bucket.name, status)
    # S3 turns Object Lock on for an existing versioned bucket, objects or not (moto's
    # PutObjectLockConfiguration still refuses a bucket holding objects); it is never turned off.
    if str(properties.get("ObjectLockEnabled", "")).lower() == "true":
        bucket.object_lock_enabled = True
        bucket.versioning_status = "Enabled"
    logging = properties.get("LoggingConfiguration")
    if logging:
        target = logging.get("DestinationBucketName")
        if target not in backend.buckets:
            raise ValueError(f"LoggingConfiguration: no bucket {target}")
        # Set as declared: moto's PutBucketLogging wants the target's policy first, but the
        # stack creates that policy after this bucket (it names this bucket's ARN).
        bucket.logging = {"TargetBucket": target, "TargetPrefix": logging.get("LogFilePrefix", "")}
    else:
        bucket.logging = {}


# Fn::If: AWS removes an element of a list that resolves to AWS::NoValue (a policy statement
# chosen by a condition); moto kept it as null, so IAM saw a statement that is not one.
_original_clean_json = parsing.clean_json


def _is_no_value_choice(value: Any) -> bool:
    return isinstance(value, dict) and ("Fn::If" in value or value.get("Ref") == "AWS::NoValue")


def _clean_json(resource_json: Any, resources_map: Any) -> Any:
    if isinstance(resource_json, list):
        cleaned = [(item, _clean_json(item, resources_map)) for item in resource_json]
        return [value for item, value in cleaned if value is not None or not _is_no_value_choice(item)]
    return _original_clean_json(resource_json, resources_map)


# CloudWatch Logs filter patterns: moto matched every event for a JSON pattern
# (`{ $.outcome = "rejected" }`), so a filtered FilterLogEvents returned everything.
# AWS's equality terms joined by && are what ebhook sends; anything else in braces
# fails loudly rather than matching all.
_JSON_TERM = re.compile(r'^\$\.([A-Za-z0-9_]+)\s*=\s*(?:"([^"]*)"|([^\s"]+))$')


class _JsonEqualityFilter:
    def __init__(self, pattern: str):
        body = pattern.strip()[1:-1]
        self.terms = []
        for term in body.split("&&"):
            match = _JSON_TERM.match(term.strip())
            if not match:
                raise ValueError(f"the emulator's filter patterns lack this JSON term: {term!r}")
            self.terms.append((match.group(1), match.group(2) if match.group(2) is not None else match.group(3)))

    def matches(self, message: str) -> bool:
        try:
            value = json.loads(message)
        except ValueError:
            return False
        if not isinstance(value, dict):
            return False
        for key, expected in self.terms:
            actual = value.get(key)
            if actual is None or (str(actual).lower() if isinstance(actual, bool) else str(actual)) != expected:
                return False
        return True


def _event_message_filter(pattern: str) -> Any:
    from moto.logs.utils import EventMessageFilter

    if pattern and pattern.strip().startswith("{") and pattern.strip().endswith("}"):
        return _JsonEqualityFilter(pattern)
    return EventMessageFilter(pattern)


def install() -> None:
    """Applies every patch above (once)."""
    global _installed
    if _installed:
        return
    _installed = True

    # 1. moto finds models through CloudFormationModel.__subclasses__(), which
    # the classes above joined when they were defined; its lookup tables are
    # cached, so drop anything built before.
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    missing = [m.cloudformation_type() for m in EXTRA_MODELS if m not in parsing.get_model_list()]
    assert not missing, f"models not registered: {missing}"

    # 2.
    LambdaPolicy.decode_policy = _decode_policy
    permission = lambda_models.Permission
    permission.create_from_cloudformation_json = classmethod(_permission_create)
    permission.update_from_cloudformation_json = classmethod(_permission_update)
    permission.delete = _permission_delete
    permission.physical_resource_id = property(lambda self: self.statement_id)
    lambda_models.FunctionUrlConfig.__init__ = _url_config_init
    s3_models.FakeBucket.get_permission = _bucket_permission
    s3_models.FakeBucket.create_from_cloudformation_json = classmethod(_bucket_create)
    s3_models.FakeBucket.update_from_cloudformation_json = classmethod(_bucket_update)
    parsing.clean_json = _clean_json
    # Ref of AWS::Events::EventBus is the bus name; moto's model has no
    # physical id, so Ref gave the Python object.
    events_models.EventBus.physical_resource_id = property(lambda self: self.name)

    # A resource whose Condition is false is None in moto's resource map: not a resource.
    Stack.stack_resources = property(
        lambda self: [r for r in self.resource_map.values() if r is not None]
    )
    events_models.EventBus.update_from_cloudformation_json = classmethod(_event_bus_update)
    sqs_models.Queue.update_from_cloudformation_json = classmethod(_queue_update)

    iam_models.Role.put_policy = _role_put_policy
    lambda_models.LambdaBackend.create_function = _create_function
    lambda_models.LambdaFunction.update_configuration = _update_configuration
    parsing.clean_json = _clean_json

    from moto.logs import models as logs_models

    logs_models.EventMessageFilter = _event_message_filter

    # 3, 4, 5.
    parsing.parse_and_create_resource = _create_resource
    parsing.parse_and_update_resource = _update_resource
    ResourceMap._delete_resource = _delete_resource
    ResourceMap.delete = _delete_all
    ResourceMap.build_resource_diff = _resource_diff
    Stack._create_resource_map = _create_resource_map
    Stack.parameter_list = property(_stack_parameter_list)
    Stack.update = _stack_update
    Stack.delete = _stack_delete
    ChangeSet.parameters = property(_change_set_parameters_get, _change_set_parameters_set)
    ChangeSet.diff = _change_set_diff
    MissingParameterError.__init__ = _missing_parameter_init
    CloudFormationBackend.create_stack = _backend_create_stack
    CloudFormationBackend.delete_stack = _backend_delete_stack
    CloudFormationBackend.create_change_set = _backend_create_change_set
    CloudFormationBackend.describe_change_set = _backend_describe_change_set
    CloudFormationBackend.delete_change_set = _backend_delete_change_set
    CloudFormationBackend.execute_change_set = _backend_execute_change_set
    response = cfn_responses.CloudFormationResponse
    response.create_stack = _response_create_stack
    response.execute_change_set = _response_execute_change_set
    response.create_change_set = _response_create_change_set
    response._validate_different_update = _validate_different_update
    response.describe_change_set = _response_describe_change_set
    response.delete_change_set = _response_delete_change_set
    response.list_stack_resources = _response_list_stack_resources
    cfn_responses.StackResourceDTO.__init__ = _resource_dto_init

    # 7.
    from moto.s3 import responses as s3_responses

    for name in ("_bucket_response", "_key_response"):
        setattr(s3_responses.S3Response, name, _checks_expected_owner(getattr(s3_responses.S3Response, name)))

    # 8.
    logs_models.LogsBackend.put_log_events = _put_log_events_with_emf(logs_models.LogsBackend.put_log_events)
    sns_models.Topic.update_from_cloudformation_json = classmethod(_topic_update)
    kms_models.Key.create_from_cloudformation_json = classmethod(_key_create)

    # 6.
    for deliver in ("_send_to_sqs_queue", "_send_to_cw_log_group"):
        setattr(events_models.Rule, deliver, _delivery_failure_stays_with_the_target(getattr(events_models.Rule, deliver)))


# ---------------------------------------------------------------------------
# 8. CloudWatch embedded metric format (EMF), and SNS topics updated in place
# ---------------------------------------------------------------------------

# CloudWatch Logs turns a JSON log event with an `_aws` block into metrics: for
# each directive of `_aws.CloudWatchMetrics`, each of its metrics under each of
# its dimension sets, the value of the event's root field named after the
# metric (a number or a list of them), with the dimensions' values from the
# root fields they name, at `_aws.Timestamp` (ms). moto only stored the line.


def _emf_metrics(message: str) -> list[tuple[str, dict[str, Any]]]:
    """(namespace, PutMetricData datum) for each metric an EMF line declares;
    nothing for any other line, or for a declaration CloudWatch would reject."""
    try:
        root = json.loads(message)
    except ValueError:
        return []
    if not isinstance(root, dict) or not isinstance(root.get("_aws"), dict):
        return []
    meta = root["_aws"]
    try:
        timestamp = datetime.fromtimestamp(int(meta["Timestamp"]) / 1000, tz=timezone.utc).replace(tzinfo=None)
    except (KeyError, TypeError, ValueError, OverflowError):
        return []
    found = []
    for directive in meta.get("CloudWatchMetrics") or []:
        namespace = directive.get("Namespace")
        if not namespace:
            continue
        for dimension_set in directive.get("Dimensions") or [[]]:
            if any(name not in root for name in dimension_set):
                continue
            dimensions = [{"Name": name, "Value": str(root[name])} for name in dimension_set]
            for metric in directive.get("Metrics") or []:
                value = root.get(metric.get("Name"))
                values = value if isinstance(value, list) else [value]
                if not values or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                    continue
                datum = {
                    "MetricName": metric["Name"],
                    "Dimensions": dimensions,
                    "Timestamp": timestamp,
                    "Unit": metric.get("Unit"),
                }
                if isinstance(value, list):
                    datum["Values"] = [float(v) for v in values]
                else:
                    datum["Value"] = float(value)
                found.append((namespace, datum))
    return found


def _put_log_events_with_emf(original: Any) -> Any:
    def put_log_events(
        self: Any, log_group_name: str, log_stream_name: str, log_events: list[dict[str, Any]]
    ) -> Any:
        token, rejected = original(self, log_group_name, log_stream_name, log_events)
        first = rejected.get("tooOldLogEventEndIndex", -1) + 1
        last = rejected.get("tooNewLogEventStartIndex", len(log_events))
        cloudwatch = cloudwatch_backends[self.account_id][self.region_name]
        for event in log_events[first:last]:
            for namespace, datum in _emf_metrics(event.get("message", "")):
                cloudwatch.put_metric_data(namespace, [datum])
        return token, rejected

    return put_log_events


_original_key_create = kms_models.Key.create_from_cloudformation_json.__func__


def _key_create(cls: Any, resource_name: str, cloudformation_json: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
    """AWS::KMS::Key: GetKeyPolicy gives the key policy as JSON text, as on AWS (moto kept a
    template's KeyPolicy object as it was, and returned an object)."""
    properties = cloudformation_json["Properties"]
    properties["KeyPolicy"] = _policy_text(properties["KeyPolicy"])
    return _original_key_create(cls, resource_name, cloudformation_json, *args, **kwargs)


def _topic_update(
    cls: Any,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> Any:
    """AWS::SNS::Topic: a new TopicName replaces the topic; other properties
    (DisplayName, KmsMasterKeyId...) change in place, keeping its subscriptions
    (moto deleted the topic, and with it every subscription, and made a new one)."""
    properties = cloudformation_json["Properties"]
    name = properties.get("TopicName") or original_resource.name
    if name != original_resource.name:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
    for key in ("DisplayName", "KmsMasterKeyId", "DeliveryPolicy"):
        value = properties.get(key, "")
        setattr(original_resource, camelcase_to_underscores(key), value)
    return original_resource


# ---------------------------------------------------------------------------
# 6. EventBridge rule targets
# ---------------------------------------------------------------------------

# moto delivers to a rule's targets inside PutEvents, so a target that refuses
# the event (SQS: a message over the queue's MaximumMessageSize, at most 1 MiB,
# while an event of a 1 MiB entry is larger, as AWS's docs say) made PutEvents
# fail. On AWS, PutEvents has accepted the event by then: EventBridge retries
# the target, then drops the event or sends it to the target's dead-letter
# queue, and the caller never hears of it. The other targets still get it.


def _delivery_failure_stays_with_the_target(deliver: Any) -> Any:
    def deliver_or_log(self: Any, resource_id: str, event: Any, *args: Any) -> None:
        try:
            deliver(self, resource_id, event, *args)
        except Exception as error:  # noqa: BLE001 - any refusal stays with the target
            logger.warning("rule %s could not deliver to %s: %s", self.name, resource_id, _error_text(error))

    return deliver_or_log


# ---------------------------------------------------------------------------
# 7. S3's ExpectedBucketOwner
# ---------------------------------------------------------------------------

# The tag that makes a bucket count as another account's (see the docstring).
OWNER_TAG = "ebhook-emulator:owner"


def _bucket_owner(backend: Any, bucket_name: str) -> str | None:
    """The account a bucket belongs to; None when there is no such bucket
    (moto's own handling then answers NoSuchBucket)."""
    from moto.s3.exceptions import S3ClientError

    try:
        bucket = backend.get_bucket(bucket_name)
        tags = backend.tagger.list_tags_for_resource(bucket.arn).get("Tags", [])
    except S3ClientError:
        return None
    for tag in tags:
        if tag.get("Key") == OWNER_TAG:
            return str(tag.get("Value"))
    return str(bucket.account_id)


def _checks_expected_owner(original: Any) -> Any:
    """Wraps S3Response._bucket_response/_key_response (whose callers turn an
    S3ClientError into its XML answer): AWS refuses a request whose
    ExpectedBucketOwner is not the bucket's account with 403 AccessDenied."""
    from moto.s3.exceptions import S3AccessDeniedError

    def response(self: Any, request: Any, full_url: str, *args: Any, **kwargs: Any) -> Any:
        expected = request.headers.get("x-amz-expected-bucket-owner")
        bucket_name = self.parse_bucket_name_from_url(request, full_url)
        if expected and bucket_name:
            owner = _bucket_owner(self.backend, bucket_name)
            if owner is not None and owner != expected:
                raise S3AccessDeniedError()
        return original(self, request, full_url, *args, **kwargs)

    return response
