"""Create the stack's AWS resources in moto from template.yaml itself.

The table, queues, bucket, secrets and event bus are read from the SAM template's ``Resources``
(their ``Properties``, with the few intrinsics they use resolved against local values), and the
functions' environment is the template's ``Globals`` environment resolved the same way. So a change
to the template (a redrive setting, a new environment variable) reaches the local stack without
being written twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .template import (
    LOCAL_ERP_PASSWORD,
    LOCAL_ERP_USERNAME,
    LOCAL_NORCE_CLIENT_ID,
    LOCAL_NORCE_CLIENT_SECRET,
    LOCAL_ORDER_PASSWORD,
    LOCAL_ORDER_USERNAME,
    LOCAL_WEBHOOK_SECRET,
    NO_VALUE,
    TEMPLATE_PATH,
    Resolver,
    TemplateError,
    load_template,
)

# --- creation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalResources:
    """What was created in moto, by the template's logical ids where one exists."""

    table: str
    queue_url: str
    queue_arn: str
    dlq_url: str
    dlq_arn: str
    scheduler_dlq_url: str
    bucket: str
    event_bus: str
    bus_sink_queue_url: str
    secrets: dict[str, str]  # logical id -> ARN
    env: dict[str, str]  # the template's Globals environment, resolved
    unresolved_env: tuple[str, ...]  # variables naming something the local stack does not create


ClientFactory = Callable[[str], Any]


def _of_type(template: Mapping[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == type_}


def _one(template: Mapping[str, Any], type_: str) -> tuple[str, dict[str, Any]]:
    found = _of_type(template, type_)
    if len(found) != 1:
        raise TemplateError(f"expected one {type_} in the template, found {sorted(found)}")
    return next(iter(found.items()))


def physical_name(stack_name: str, logical_id: str) -> str:
    """Name for a resource CloudFormation would name: lowercase, valid for S3, SQS and DynamoDB."""
    return f"norcekit-{stack_name}-{logical_id.lower()}"


def create_table(dynamodb: Any, resolver: Resolver, stack_name: str) -> str:
    logical, resource = _one(resolver.template, "AWS::DynamoDB::Table")
    props = resolver.resolve(resource["Properties"])
    name = physical_name(stack_name, logical)
    request: dict[str, Any] = {
        key: props[key]
        for key in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "BillingMode")
        if key in props
    }
    if props.get("SSESpecification", {}).get("SSEEnabled"):
        request["SSESpecification"] = {"Enabled": True}
    dynamodb.create_table(TableName=name, **request)
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
        )
    if props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
        dynamodb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    resolver.refs[logical] = name
    return name


# SQS attributes whose CloudFormation property has the same name.
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
)


def _queue_attributes(props: Mapping[str, Any]) -> dict[str, str]:
    attributes = {}
    for key in _QUEUE_ATTRIBUTES:
        if key in props:
            value = props[key]
            attributes[key] = str(value).lower() if isinstance(value, bool) else str(value)
    if "RedrivePolicy" in props:
        redrive = dict(props["RedrivePolicy"])
        redrive["maxReceiveCount"] = int(redrive["maxReceiveCount"])
        attributes["RedrivePolicy"] = json.dumps(redrive)
    return attributes


def _queue_arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def create_queues(sqs: Any, resolver: Resolver, stack_name: str) -> None:
    """Every AWS::SQS::Queue, dead-letter queues before the queues that redrive into them."""
    pending = dict(_of_type(resolver.template, "AWS::SQS::Queue"))
    while pending:
        progressed = False
        for logical, resource in list(pending.items()):
            try:
                props = resolver.resolve(resource.get("Properties", {}))
            except TemplateError:
                continue  # refers to a queue not created yet
            name = physical_name(stack_name, logical)
            url = sqs.create_queue(QueueName=name, Attributes=_queue_attributes(props))["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            resolver.refs[logical] = url
            resolver.attributes[(logical, "Arn")] = arn
            resolver.attributes[(logical, "QueueName")] = name
            resolver.attributes[(logical, "QueueUrl")] = url
            del pending[logical]
            progressed = True
        if not progressed:
            raise TemplateError(f"cannot create queues {sorted(pending)}: unresolvable references")


def _lifecycle_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the S3 API's shape."""
    api: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"]}
    api["Filter"] = {"Prefix": rule.get("Prefix", "")}
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        days = rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
        api["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(days)}
    if "AbortIncompleteMultipartUpload" in rule:
        days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
        api["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": int(days)}
    return api


def create_bucket(s3: Any, resolver: Resolver, stack_name: str, region: str) -> str:
    logical, resource = _one(resolver.template, "AWS::S3::Bucket")
    props = resolver.resolve(resource.get("Properties", {}))
    name = physical_name(stack_name, logical)
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )
    if "BucketEncryption" in props:
        rules = [
            {
                # CloudFormation and the S3 API spell this key differently.
                "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                **({"BucketKeyEnabled": rule["BucketKeyEnabled"]} if "BucketKeyEnabled" in rule else {}),
            }
            for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        ]
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    if "OwnershipControls" in props:
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
    if "VersioningConfiguration" in props:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
    if "LifecycleConfiguration" in props:
        rules = [_lifecycle_rule(r) for r in props["LifecycleConfiguration"]["Rules"]]
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
    # The template's TLS-only bucket policy is left out: the local endpoint is plain HTTP on loopback.
    resolver.refs[logical] = name
    resolver.attributes[(logical, "Arn")] = f"arn:aws:s3:::{name}"
    return name


def local_secret_values() -> dict[str, dict[str, Any] | list[Any]]:
    """Local values for the template's secrets, by logical id (same JSON shapes as in AWS)."""
    return {
        "NorceCredentialsSecret": {
            "client_id": LOCAL_NORCE_CLIENT_ID,
            "client_secret": LOCAL_NORCE_CLIENT_SECRET,
        },
        "WebhookSecretsSecret": [LOCAL_WEBHOOK_SECRET],
        "SourceCredentialsSecret": {},
        "TargetCredentialsSecret": {},
        "OrderReceiverSecret": {"username": LOCAL_ORDER_USERNAME, "password": LOCAL_ORDER_PASSWORD},
        "OrderAnswerSecret": [{"username": LOCAL_ERP_USERNAME, "password": LOCAL_ERP_PASSWORD}],
    }


def create_secrets(
    secretsmanager: Any, resolver: Resolver, stack_name: str, values: Mapping[str, Any]
) -> dict[str, str]:
    arns = {}
    for logical, resource in _of_type(resolver.template, "AWS::SecretsManager::Secret").items():
        props = resolver.resolve(resource.get("Properties", {}))
        # Unknown secrets get the template's own (empty) placeholder value.
        value = values[logical] if logical in values else json.loads(props.get("SecretString", "{}"))
        arn = secretsmanager.create_secret(
            Name=f"norcekit-{stack_name}/{logical}",
            Description=props.get("Description", ""),
            SecretString=json.dumps(value),
        )["ARN"]
        resolver.refs[logical] = arn
        arns[logical] = arn
    return arns


def create_event_bus(
    events: Any, sqs: Any, resolver: Resolver, stack_name: str, account_id: str
) -> tuple[str, str]:
    """The template's bus, plus a rule forwarding everything on it to a "bus sink" queue to read."""
    logical, resource = _one(resolver.template, "AWS::Events::EventBus")
    name = resolver.resolve(resource["Properties"])["Name"]
    bus_arn = events.create_event_bus(Name=name)["EventBusArn"]
    resolver.refs[logical] = name
    resolver.attributes[(logical, "Arn")] = bus_arn
    resolver.attributes[(logical, "Name")] = name

    sink_name = f"norcekit-{stack_name}-bus-sink"
    sink_url = sqs.create_queue(QueueName=sink_name)["QueueUrl"]
    sink_arn = sqs.get_queue_attributes(QueueUrl=sink_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rule = f"norcekit-{stack_name}-bus-sink"
    events.put_rule(Name=rule, EventBusName=name, EventPattern=json.dumps({"account": [account_id]}))
    events.put_targets(Rule=rule, EventBusName=name, Targets=[{"Id": "bus-sink", "Arn": sink_arn}])
    return name, sink_url


def create_rules(events: Any, resolver: Resolver) -> list[str]:
    """The template's EventBridge rules (e.g. ERP order answers on the bus → the answers queue)."""
    names = []
    for logical, resource in _of_type(resolver.template, "AWS::Events::Rule").items():
        props = resolver.resolve(resource["Properties"])
        name = f"{props['EventBusName']}-{logical.lower()}"
        events.put_rule(
            Name=name, EventBusName=props["EventBusName"], EventPattern=json.dumps(props["EventPattern"])
        )
        targets = [
            {key: target[key] for key in ("Id", "Arn", "InputPath") if key in target}
            for target in props["Targets"]
        ]
        events.put_targets(Rule=name, EventBusName=props["EventBusName"], Targets=targets)
        names.append(name)
    return names


def create_schedule_group(scheduler: Any, resolver: Resolver, stack_name: str) -> dict[str, str]:
    """The import schedule group (``norcekit --local schedules sync`` fills it) and the schedule sync
    function's environment that names it, the scheduler role and the import function."""
    logical, _ = _one(resolver.template, "AWS::Scheduler::ScheduleGroup")
    name = physical_name(stack_name, logical)
    scheduler.create_schedule_group(Name=name)
    resolver.refs[logical] = name
    region, account = resolver.pseudo["AWS::Region"], resolver.pseudo["AWS::AccountId"]
    # The role and function are not created locally (functions run in-process); schedules only name them.
    role, function_name = (
        physical_name(stack_name, n) for n in ("ImportSchedulerRole", "ImportRunnerFunction")
    )
    resolver.attributes[("ImportSchedulerRole", "Arn")] = f"arn:aws:iam::{account}:role/{role}"
    resolver.attributes[("ImportRunnerFunction", "Arn")] = (
        f"arn:aws:lambda:{region}:{account}:function:{function_name}"
    )
    function = resolver.template.get("Resources", {}).get("ScheduleSyncFunction")
    if not isinstance(function, dict):
        raise TemplateError("expected resource ScheduleSyncFunction in the template")
    variables = function["Properties"]["Environment"]["Variables"]
    return {key: str(resolver.resolve(value)) for key, value in variables.items()}


def resolve_environment(resolver: Resolver) -> tuple[dict[str, str], tuple[str, ...]]:
    """The functions' Globals environment with local values; variables naming resources the
    local stack does not create (none today) are reported instead of guessed."""
    variables = resolver.template.get("Globals", {}).get("Function", {}).get("Environment", {})
    variables = variables.get("Variables", {})
    env: dict[str, str] = {}
    unresolved = []
    for name, value in variables.items():
        try:
            resolved = resolver.resolve(value)
        except TemplateError:
            unresolved.append(name)
            continue
        if resolved is not NO_VALUE:
            env[name] = str(resolved)
    return env, tuple(unresolved)


def create_resources(
    client: ClientFactory,
    *,
    stack_name: str,
    region: str,
    parameters: Mapping[str, str],
    secret_values: Mapping[str, Any],
    template_path: str | Path = TEMPLATE_PATH,
) -> LocalResources:
    """Create every data resource of the template in the AWS that ``client(service)`` talks to."""
    template = load_template(template_path)
    account_id = client("sts").get_caller_identity()["Account"]
    resolver = Resolver(
        template,
        parameters=dict(parameters),
        pseudo={
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::StackName": stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        },
    )
    sqs = client("sqs")
    table = create_table(client("dynamodb"), resolver, stack_name)
    create_queues(sqs, resolver, stack_name)
    bucket = create_bucket(client("s3"), resolver, stack_name, region)
    secrets = create_secrets(client("secretsmanager"), resolver, stack_name, secret_values)
    bus, sink_url = create_event_bus(client("events"), sqs, resolver, stack_name, account_id)
    create_rules(client("events"), resolver)
    env, unresolved = resolve_environment(resolver)
    env.update(create_schedule_group(client("scheduler"), resolver, stack_name))
    return LocalResources(
        table=table,
        queue_url=resolver.refs["EventQueue"],
        queue_arn=resolver.attributes[("EventQueue", "Arn")],
        dlq_url=resolver.refs["EventDLQ"],
        dlq_arn=resolver.attributes[("EventDLQ", "Arn")],
        scheduler_dlq_url=resolver.refs["SchedulerDLQ"],
        bucket=bucket,
        event_bus=bus,
        bus_sink_queue_url=sink_url,
        secrets=secrets,
        env=env,
        unresolved_env=unresolved,
    )


__all__ = [
    "LOCAL_ERP_PASSWORD",
    "LOCAL_ERP_USERNAME",
    "LOCAL_NORCE_CLIENT_ID",
    "LOCAL_NORCE_CLIENT_SECRET",
    "LOCAL_ORDER_PASSWORD",
    "LOCAL_ORDER_USERNAME",
    "LOCAL_WEBHOOK_SECRET",
    "NO_VALUE",
    "TEMPLATE_PATH",
    "ClientFactory",
    "LocalResources",
    "Resolver",
    "TemplateError",
    "create_bucket",
    "create_event_bus",
    "create_queues",
    "create_resources",
    "create_rules",
    "create_schedule_group",
    "create_secrets",
    "create_table",
    "load_template",
    "local_secret_values",
    "physical_name",
    "resolve_environment",
]
