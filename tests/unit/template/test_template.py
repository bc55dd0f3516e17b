"""template.yaml: the deployable stack is wired the way the design says.

The template is read with cfn-lint's CloudFormation-aware YAML loader (short-form intrinsics become
``{"Ref": ...}`` / ``{"Fn::GetAtt": [...]}``). IAM checks run on the SAM-*translated* template, so
the policies SAM generates from policy templates are checked too.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.api import lint_file
from cfnlint.decode import cfn_yaml
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from norcekit.events.claims import DEFAULT_PREFIX as CLAIMS_PREFIX
from norcekit.observability import MetricName
from norcekit.settings import ENV_ALIASES, Settings
from norcekit.state.orders import RETENTION as ORDER_RETENTION
from norcekit.state.table import TABLE_DEFINITION, TTL_ATTRIBUTE
from norcekit.wiring.orders import ORDER_BODY_PREFIX

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE_PATH = ROOT / "template.yaml"
FUNCTIONS = {
    "ImportRunnerFunction": "import_runner",
    "JobMonitorFunction": "job_monitor",
    "WebhookReceiverFunction": "webhook_receiver",
    "EventProcessorFunction": "event_processor",
    "OrderReceiverFunction": "order_receiver",
    "OrderDeliveryFunction": "order_delivery",
    "OrderAnswersFunction": "order_answers",
    "ScheduleSyncFunction": "schedule_sync",
}
MODES = ("full", "delta")


def _plain(node: Any) -> Any:
    """cfn-lint's node classes → plain dicts/lists/strs (deep-copyable, JSON-able)."""
    return json.loads(json.dumps(node))


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return _plain(cfn_yaml.load(str(TEMPLATE_PATH)))


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


@pytest.fixture(scope="module")
def translated(template: dict[str, Any]) -> dict[str, Any]:
    """The template after the SAM transform (as CloudFormation would receive it)."""
    sam = copy.deepcopy(template)
    for resource in sam["Resources"].values():
        for key in ("CodeUri", "ContentUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = "s3://bucket/key"  # what `sam package` puts there
    session = boto3.session.Session(
        region_name="eu-north-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    translator = Translator(managed_policy_map={}, sam_parser=Parser(), boto_session=session)
    return translator.translate(sam, parameter_values={})


def of_type(resources: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in resources.items() if r["Type"] == type_}


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def get_att(name: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [name, attribute]}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- lint ---------------------------------------------------------------------------------------


def test_cfn_lint_reports_nothing() -> None:
    matches = lint_file(TEMPLATE_PATH)
    assert [str(m) for m in matches] == []


# --- functions and layer ------------------------------------------------------------------------


def test_every_function_runs_python313_on_arm64_with_the_layer(translated: dict[str, Any]) -> None:
    functions = of_type(translated["Resources"], "AWS::Lambda::Function")
    assert set(functions) == set(FUNCTIONS)
    for name, function in functions.items():
        props = function["Properties"]
        assert props["Runtime"] == "python3.13", name
        assert props["Architectures"] == ["arm64"], name
        assert props["Handler"] == "app.handler", name
        layer_refs = [layer["Ref"] for layer in props["Layers"]]
        assert any(layer.startswith("NorcekitLayer") for layer in layer_refs), name


def test_function_code_lives_in_functions_dir(resources: dict[str, Any]) -> None:
    for name, folder in FUNCTIONS.items():
        code_uri = resources[name]["Properties"]["CodeUri"]
        assert code_uri.rstrip("/") == f"functions/{folder}"
        assert (ROOT / code_uri / "app.py").is_file(), f"{name}: {code_uri}app.py missing"


def test_layer_is_built_from_the_norcekit_package(resources: dict[str, Any]) -> None:
    layer = resources["NorcekitLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Properties"]["ContentUri"].rstrip("/") == "layers/norcekit"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    # Built by layers/norcekit/Makefile: the hashed lock for arm64 plus compiled bytecode
    # (tests/unit/deps checks the lock, tests/bench/layer.py the built artifact).
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    makefile = (ROOT / "layers/norcekit/Makefile").read_text()
    assert "build-NorcekitLayer:" in makefile
    assert "--require-hashes" in makefile and "--platform $(PLATFORM)" in makefile
    assert "PLATFORM ?= manylinux2014_aarch64" in makefile
    assert "compileall" in makefile and "--invalidation-mode unchecked-hash" in makefile
    assert (ROOT / "layers/norcekit/requirements.txt").is_file()
    assert (ROOT / "layers/norcekit/norcekit/__init__.py").is_file()


def test_tracing_is_one_switch_for_functions_api_and_the_tracer(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["Tracing"]
    assert parameter["AllowedValues"] == ["Active", "PassThrough"]
    function = template["Globals"]["Function"]
    assert function["Tracing"] == ref("Tracing")
    env = function["Environment"]["Variables"]
    assert env["POWERTOOLS_TRACE_DISABLED"] == {"Fn::If": ["TracingActive", "false", "true"]}
    assert template["Conditions"]["TracingActive"] == {"Fn::Equals": [ref("Tracing"), "Active"]}
    api = template["Resources"]["WebhookApi"]["Properties"]
    assert api["TracingEnabled"] == {"Fn::If": ["TracingActive", True, False]}
    handlers = sorted((ROOT / "functions").glob("*/app.py"))
    assert len(handlers) >= len(FUNCTIONS)
    for path in handlers:
        handler, folder = path.read_text(), path.parent.name
        assert "tracer = get_tracer()" in handler, folder
        assert "@tracer.capture_lambda_handler(capture_response=False)\n" in handler, folder


def test_the_webhook_bench_runs_with_the_functions_constant_environment(template: dict[str, Any]) -> None:
    """The cold-start bench measures what a deployed function imports: every constant variable it
    sets that the template also sets (PYDANTIC_DISABLE_PLUGINS, the Powertools service) agrees."""
    from tests.bench.bench_webhook import ENV  # noqa: PLC0415 - bench code, only here

    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["PYDANTIC_DISABLE_PLUGINS"] == "__all__"
    shared = {name for name, value in env.items() if isinstance(value, str)} & set(ENV)
    assert {"PYDANTIC_DISABLE_PLUGINS", "POWERTOOLS_SERVICE_NAME"} <= shared
    assert {name: ENV[name] for name in shared} == {name: env[name] for name in shared}


def test_every_function_may_send_its_traces(translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    for name in FUNCTIONS:
        assert resources[name]["Properties"]["TracingConfig"] == {"Mode": ref("Tracing")}, name
        arns = json.dumps(resources[f"{name}Role"]["Properties"]["ManagedPolicyArns"])
        assert "AWSXrayWriteOnlyAccess" in arns, name


def test_import_runner_has_fifteen_minutes_and_no_async_retries(resources: dict[str, Any]) -> None:
    props = resources["ImportRunnerFunction"]["Properties"]
    assert props["Timeout"] == 900
    assert props["MemorySize"] == 1769
    # A retried run would start a second import of the same window behind the lease lock's back.
    assert props["EventInvokeConfig"]["MaximumRetryAttempts"] == 0


def test_webhook_receiver_answers_within_norces_five_second_timeout(resources: dict[str, Any]) -> None:
    props = resources["WebhookReceiverFunction"]["Properties"]
    assert props["Timeout"] <= 10
    assert props["MemorySize"] == 512
    (event,) = props["Events"].values()
    assert event["Type"] == "Api"
    assert event["Properties"] == {
        "RestApiId": ref("WebhookApi"),
        "Path": "/events/{EventType}",
        "Method": "POST",
    }


def test_one_aws_call_gives_up_well_inside_its_functions_timeout(template: dict[str, Any]) -> None:
    """botocore's Config (norcekit.wiring.aws) from the function's settings: attempts x (connect +
    read) plus standard-mode backoff (at most min(20, 2**n) s before retry n) ends before the
    Lambda timeout, so the handler sees the failure (answers, quarantines, records it) instead
    of being cut off by it."""
    defaults = {name: Settings.model_fields[name].default for name in ("aws_connect_timeout_s",
                "aws_read_timeout_s", "aws_max_attempts")}  # fmt: skip
    shared = template["Globals"]["Function"]["Environment"]["Variables"]
    for name in FUNCTIONS:
        props = template["Resources"][name]["Properties"]
        env = {**shared, **props.get("Environment", {}).get("Variables", {})}
        value = {key: float(env.get(key.upper(), default)) for key, default in defaults.items()}
        attempts = int(value["aws_max_attempts"])
        worst = attempts * (value["aws_connect_timeout_s"] + value["aws_read_timeout_s"]) + sum(
            min(20, 2**n) for n in range(1, attempts)
        )
        timeout = props.get("Timeout", template["Globals"]["Function"]["Timeout"])
        assert worst < timeout, f"{name}: one AWS call may take {worst:.0f}s of {timeout}s"


def test_globals_pass_the_settings_the_kit_reads(template: dict[str, Any]) -> None:
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    required = {
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
        "TABLE_NAME",
        "NORCE_SLUG",
        "NORCE_ENVIRONMENT",
        "NORCE_APPLICATION_ID",
        "NORCE_CREDENTIALS_SECRET_ARN",
        "NORCE_ACCOUNT_ID",
        "QUARANTINE_BUCKET",
        "EVENT_QUEUE_URL",
        "WEBHOOK_SECRETS_ARN",
        "WEBHOOK_SECRET_HEADER",
        "NORCEKIT_CONFIG",
    }
    assert required <= set(env)
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Norcekit"
    # The metric dimension `stack` that the alarms and the dashboard select on.
    assert env["STACK_NAME"] == ref("AWS::StackName")
    # A typo in a variable name would silently leave the setting at its default.
    settings_names = {name.upper() for name in Settings.model_fields}
    settings_names.update(alias for aliases in ENV_ALIASES.values() for alias in aliases)
    for name in required - {n for n in required if n.startswith("POWERTOOLS_")}:
        assert name in settings_names, f"{name} is not a norcekit setting"


def test_optional_settings_are_omitted_when_empty_rather_than_set_to_blank(template: dict[str, Any]) -> None:
    # Settings rejects NORCE_APPLICATION_ID="" (not an int) and NORCE_SLUG="" (empty slug).
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    for name in ("NORCE_SLUG", "NORCE_APPLICATION_ID", "NORCE_ACCOUNT_ID", "NORCEKIT_CONFIG"):
        condition, _value, absent = env[name]["Fn::If"]
        assert absent == ref("AWS::NoValue"), name
        assert condition in template["Conditions"], name


# --- IAM ----------------------------------------------------------------------------------------


def _statements(translated: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, resource in translated["Resources"].items():
        props = resource.get("Properties", {})
        documents = []
        if resource["Type"] == "AWS::IAM::Role":
            documents += [p["PolicyDocument"] for p in props.get("Policies", [])]
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents.append(props["PolicyDocument"])
        if resource["Type"] in ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy"):
            documents.append(props["PolicyDocument"])
        for document in documents:
            for statement in as_list(document["Statement"]):
                yield name, statement


def test_no_allow_statement_has_a_wildcard_action(translated: dict[str, Any]) -> None:
    allows = [(n, s) for n, s in _statements(translated) if s["Effect"] == "Allow"]
    assert allows, "no IAM statements found"
    for name, statement in allows:
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{name}: {action}"


def test_deny_statements_are_only_the_tls_guards(translated: dict[str, Any]) -> None:
    # Denies may use a service wildcard: they refuse plain-HTTP access to the bucket and queues.
    denies = [(n, s) for n, s in _statements(translated) if s["Effect"] == "Deny"]
    assert {n for n, _ in denies} == {"DataBucketPolicy", "QueuesTlsOnlyPolicy", "OrderAnswerQueuePolicy"}
    for _name, statement in denies:
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_no_allow_statement_grants_every_resource(translated: dict[str, Any]) -> None:
    for name, statement in _statements(translated):
        if statement["Effect"] != "Allow":
            continue
        if (name, statement["Action"]) == ("ScheduleSyncFunctionRole", "scheduler:ListSchedules"):
            continue  # ListSchedules has no resource type (Service Authorization Reference)
        for resource in as_list(statement["Resource"]):
            assert resource != "*", f"{name}: {statement}"


def test_only_aws_managed_policies_that_aws_requires_are_attached(translated: dict[str, Any]) -> None:
    # Exceptions (AWS-managed, cannot be scoped by us): SAM attaches AWSLambdaBasicExecutionRole to
    # every function role (CloudWatch Logs), and API Gateway's account-wide logging role needs
    # AmazonAPIGatewayPushToCloudWatchLogs. Notably *not* AWSLambdaSQSQueueExecutionRole (sqs:* on
    # every queue): the event processor's polling rights are scoped to the event queue instead.
    attached = set()
    for resource in of_type(translated["Resources"], "AWS::IAM::Role").values():
        for arn in resource["Properties"].get("ManagedPolicyArns", []):
            attached.add(arn["Fn::Sub"] if isinstance(arn, dict) else arn)
    names = {arn.rsplit("/", 1)[-1] for arn in attached}
    # AWSXrayWriteOnlyAccess: SAM attaches it for `Tracing` (the functions send their traces).
    assert names == {
        "AWSLambdaBasicExecutionRole",
        "AmazonAPIGatewayPushToCloudWatchLogs",
        "AWSXrayWriteOnlyAccess",
    }


def _role_actions(translated: dict[str, Any], role: str) -> dict[str, list[Any]]:
    actions: dict[str, list[Any]] = {}
    for name, statement in _statements(translated):
        if name == role and statement["Effect"] == "Allow":
            for action in as_list(statement["Action"]):
                actions.setdefault(action, []).extend(as_list(statement["Resource"]))
    return actions


def test_secrets_are_readable_only_by_the_functions_that_need_them(translated: dict[str, Any]) -> None:
    expected = {
        "ImportRunnerFunctionRole": [ref("NorceCredentialsSecret"), ref("SourceCredentialsSecret")],
        "JobMonitorFunctionRole": [ref("NorceCredentialsSecret")],
        "WebhookReceiverFunctionRole": [ref("WebhookSecretsSecret")],
        "EventProcessorFunctionRole": [ref("NorceCredentialsSecret"), ref("TargetCredentialsSecret")],
        "OrderReceiverFunctionRole": [ref("OrderReceiverSecret"), ref("OrderAnswerSecret")],
        "OrderDeliveryFunctionRole": [ref("TargetCredentialsSecret")],
        "OrderAnswersFunctionRole": [ref("NorceCredentialsSecret")],
    }
    for role, secrets in expected.items():
        assert _role_actions(translated, role)["secretsmanager:GetSecretValue"] == secrets, role


def test_webhook_receiver_can_only_queue_and_quarantine(translated: dict[str, Any]) -> None:
    actions = _role_actions(translated, "WebhookReceiverFunctionRole")
    assert actions["sqs:SendMessage"] == [get_att("EventQueue", "Arn")]
    assert actions["s3:PutObject"] == [
        {"Fn::Sub": "${DataBucket.Arn}/quarantine/*"},
        {"Fn::Sub": "${DataBucket.Arn}/claims/*"},  # claim check for payloads beyond the queue limit
    ]
    assert not any(a.startswith("dynamodb:") for a in actions)
    assert set(actions) == {"sqs:SendMessage", "s3:PutObject", "secretsmanager:GetSecretValue"}


def test_order_receiver_stores_queues_and_quarantines_nothing_else(translated: dict[str, Any]) -> None:
    actions = _role_actions(translated, "OrderReceiverFunctionRole")
    assert actions["sqs:SendMessage"] == [get_att("OrderQueue", "Arn"), get_att("OrderAnswerQueue", "Arn")]
    bodies = {"Fn::Sub": "${DataBucket.Arn}/" + ORDER_BODY_PREFIX + "*"}  # bodies beyond an item's size
    assert actions["s3:PutObject"] == [{"Fn::Sub": "${DataBucket.Arn}/quarantine/*"}, bodies]
    assert actions["s3:GetObject"] == [bodies]
    dynamo = {a for a in actions if a.startswith("dynamodb:")}
    assert dynamo == {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"}
    assert not any(a.startswith("dynamodb:Delete") or a.startswith("dynamodb:Scan") for a in actions)


def test_the_order_delivery_reads_large_order_bodies_which_outlive_their_orders(
    translated: dict[str, Any], resources: dict[str, Any]
) -> None:
    bodies = {"Fn::Sub": "${DataBucket.Arn}/" + ORDER_BODY_PREFIX + "*"}
    assert bodies in _role_actions(translated, "OrderDeliveryFunctionRole")["s3:GetObject"]
    rules = {r["Id"]: r for r in resources["DataBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireLargeOrderBodies"]["Prefix"] == ORDER_BODY_PREFIX
    assert rules["ExpireLargeOrderBodies"]["ExpirationInDays"] > ORDER_RETENTION.days


def test_orders_route_and_answers_route_share_the_throttled_api(resources: dict[str, Any]) -> None:
    events = resources["OrderReceiverFunction"]["Properties"]["Events"]
    routes = {(e["Properties"]["Path"], e["Properties"]["Method"]) for e in events.values()}
    assert routes == {("/orders", "POST"), ("/orders/answers", "POST")}
    assert all(e["Properties"]["RestApiId"] == ref("WebhookApi") for e in events.values())
    assert resources["OrderReceiverFunction"]["Properties"]["Timeout"] <= 10


def test_order_queues_redrive_to_dlqs_and_consumers_report_partial_failures(
    resources: dict[str, Any],
) -> None:
    for queue, dlq, consumer in (
        ("OrderQueue", "OrderDLQ", "OrderDeliveryQueueMapping"),
        ("OrderAnswerQueue", "OrderAnswerDLQ", "OrderAnswersQueueMapping"),
    ):
        redrive = resources[queue]["Properties"]["RedrivePolicy"]
        assert redrive["deadLetterTargetArn"] == get_att(dlq, "Arn")
        mapping = resources[consumer]["Properties"]
        assert mapping["EventSourceArn"] == get_att(queue, "Arn")
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_erp_answer_events_on_the_bus_reach_the_answers_queue_only_through_the_rule(
    resources: dict[str, Any],
) -> None:
    rule = resources["OrderAnswerRule"]["Properties"]
    assert rule["EventBusName"] == ref("TargetEventBus")
    assert rule["EventPattern"] == {"detail-type": ["norcekit.order.answer"]}
    assert rule["Targets"][0]["Arn"] == get_att("OrderAnswerQueue", "Arn")
    statements = resources["OrderAnswerQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allow = next(s for s in statements if s["Effect"] == "Allow")
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": get_att("OrderAnswerRule", "Arn")}}


def test_order_failures_alarm(resources: dict[str, Any]) -> None:
    alarms = _alarms_by_signal(resources)
    queue = lambda name: json.dumps(get_att(name, "QueueName"))  # noqa: E731
    for signal in (
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue("OrderDLQ")),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue("OrderAnswerDLQ")),
        ("Norcekit", MetricName.ORDERS_NOT_STORED, ""),
        ("Norcekit", MetricName.ORDERS_NOT_QUEUED, ""),
        ("Norcekit", MetricName.ORDERS_REJECTED, ""),
        ("Norcekit", MetricName.ORDER_DELIVERY_FAILURES, ""),
        ("Norcekit", MetricName.ORDER_ANSWERS_FAILED, ""),
    ):
        assert signal in alarms, f"no alarm for {signal}"
        assert alarms[signal]["AlarmActions"] == [ref("AlarmTopic")]


def test_the_order_receiver_url_is_an_output(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["OrderReceiverUrl"]["Value"] == {
        "Fn::Sub": "https://${WebhookApi}.execute-api.${AWS::Region}.amazonaws.com/v1/orders"
    }
    assert outputs["OrderReceiverSecretArn"]["Value"] == ref("OrderReceiverSecret")


def test_event_queue_size_limit_is_set_explicitly(template: dict[str, Any]) -> None:
    queue = template["Resources"]["EventQueue"]["Properties"]
    assert queue["MaximumMessageSize"] == 262144  # = EVENT_QUEUE_MAX_MESSAGE_BYTES' default


def test_event_processor_may_read_and_write_target_documents(translated: dict[str, Any]) -> None:
    """The S3 target HEADs the current document before its conditional put: without GetObject and
    ListBucket a not-yet-written document answers 403 and every delivery would retry into the DLQ."""
    actions = _role_actions(translated, "EventProcessorFunctionRole")
    targets = {"Fn::Sub": "${DataBucket.Arn}/targets/*"}
    assert targets in actions["s3:PutObject"]
    claims = {"Fn::Sub": "${DataBucket.Arn}/claims/*"}
    assert actions["s3:GetObject"] == [targets, claims, {"Fn::Sub": "${DataBucket.Arn}/config/*"}]
    assert actions["s3:ListBucket"] == [get_att("DataBucket", "Arn")]
    assert actions["events:PutEvents"]


def test_every_job_finishing_function_may_quarantine_rejected_items(translated: dict[str, Any]) -> None:
    """Both finish jobs through the tracker, which keeps each item a Succeeded job rejected."""
    quarantine = {"Fn::Sub": "${DataBucket.Arn}/quarantine/*"}
    for role in ("JobMonitorFunctionRole", "EventProcessorFunctionRole", "ImportRunnerFunctionRole"):
        assert quarantine in _role_actions(translated, role)["s3:PutObject"], role


def test_scheduler_roles_may_only_invoke_their_function(translated: dict[str, Any]) -> None:
    for role, function in (
        ("ImportSchedulerRole", "ImportRunnerFunction"),
        ("JobMonitorSchedulerRole", "JobMonitorFunction"),
    ):
        actions = _role_actions(translated, role)
        assert actions == {
            "lambda:InvokeFunction": [get_att(function, "Arn")],
            "sqs:SendMessage": [get_att("SchedulerDLQ", "Arn")],  # the schedules' DLQ
        }, role


# --- queues -------------------------------------------------------------------------------------


def test_event_queue_redrives_to_the_dlq_after_at_least_five_receives(template: dict[str, Any]) -> None:
    redrive = template["Resources"]["EventQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == get_att("EventDLQ", "Arn")
    parameter = template["Parameters"][redrive["maxReceiveCount"]["Ref"]]
    assert parameter["Default"] >= 5
    assert parameter["MinValue"] >= 5


def test_queue_visibility_covers_six_processor_timeouts(resources: dict[str, Any]) -> None:
    visibility = resources["EventQueue"]["Properties"]["VisibilityTimeout"]
    assert visibility >= 6 * resources["EventProcessorFunction"]["Properties"]["Timeout"]


def test_queues_are_encrypted_and_dlqs_keep_messages_fourteen_days(resources: dict[str, Any]) -> None:
    for name in ("EventQueue", "EventDLQ", "SchedulerDLQ"):
        assert resources[name]["Properties"]["SqsManagedSseEnabled"] is True, name
    for name in ("EventDLQ", "SchedulerDLQ"):
        assert resources[name]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600, name


def test_processor_reports_partial_batch_failures_with_bounded_concurrency(template: dict[str, Any]) -> None:
    mappings = of_type(template["Resources"], "AWS::Lambda::EventSourceMapping")
    assert set(mappings) == {
        "EventProcessorQueueMapping",
        "OrderDeliveryQueueMapping",
        "OrderAnswersQueueMapping",
    }
    props = mappings["EventProcessorQueueMapping"]["Properties"]
    assert props["FunctionName"] == ref("EventProcessorFunction")
    assert props["EventSourceArn"] == get_att("EventQueue", "Arn")
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    batch = template["Parameters"][props["BatchSize"]["Ref"]]
    assert (batch["MinValue"], batch["MaxValue"]) == (10, 50)
    # Lambda requires a batching window for batches above 10 messages.
    window = template["Parameters"][props["MaximumBatchingWindowInSeconds"]["Ref"]]
    assert window["MinValue"] >= 1
    concurrency = template["Parameters"][props["ScalingConfig"]["MaximumConcurrency"]["Ref"]]
    assert concurrency["MinValue"] >= 2  # Lambda's minimum for MaximumConcurrency


# --- table --------------------------------------------------------------------------------------


def test_table_is_created_from_the_state_modules_definition(resources: dict[str, Any]) -> None:
    props = resources["StateTable"]["Properties"]

    def by_name(items: list[dict[str, Any]], key: str) -> dict[str, Any]:
        return {item[key]: item for item in items}

    assert props["KeySchema"] == TABLE_DEFINITION["KeySchema"]
    assert by_name(props["AttributeDefinitions"], "AttributeName") == by_name(
        TABLE_DEFINITION["AttributeDefinitions"], "AttributeName"
    )
    assert by_name(props["GlobalSecondaryIndexes"], "IndexName") == by_name(
        TABLE_DEFINITION["GlobalSecondaryIndexes"], "IndexName"
    )
    assert props["BillingMode"] == TABLE_DEFINITION["BillingMode"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}


def test_table_is_recoverable_encrypted_and_retained(resources: dict[str, Any]) -> None:
    table = resources["StateTable"]
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["Properties"]["SSESpecification"] == {"SSEEnabled": True}
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


# --- bucket and secrets -------------------------------------------------------------------------


def test_bucket_is_private_encrypted_versioned_and_expires_quarantine(resources: dict[str, Any]) -> None:
    bucket = resources["DataBucket"]
    props = bucket["Properties"]
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireQuarantine"]["Prefix"] == "quarantine/"
    assert rules["ExpireQuarantine"]["ExpirationInDays"] == ref("QuarantineRetentionDays")
    assert "NoncurrentVersionExpiration" in rules["ExpireNoncurrentVersions"]
    assert bucket["DeletionPolicy"] == "Retain"
    policy = resources["DataBucketPolicy"]["Properties"]
    assert policy["Bucket"] == ref("DataBucket")


def test_claim_checked_payloads_expire_after_any_redrive_could_need_them(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    rules = {r["Id"]: r for r in resources["DataBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireEventClaims"]["Prefix"] == CLAIMS_PREFIX  # where the receiver stores them
    assert rules["ExpireEventClaims"]["ExpirationInDays"] == ref("EventClaimRetentionDays")
    parameter = template["Parameters"]["EventClaimRetentionDays"]
    dlq_days = int(resources["EventDLQ"]["Properties"]["MessageRetentionPeriod"]) / 86400
    assert parameter["MinValue"] > dlq_days
    assert parameter["Default"] >= parameter["MinValue"]


def test_secrets_hold_no_values(resources: dict[str, Any]) -> None:
    secrets = of_type(resources, "AWS::SecretsManager::Secret")
    assert set(secrets) == {
        "NorceCredentialsSecret",
        "WebhookSecretsSecret",
        "SourceCredentialsSecret",
        "TargetCredentialsSecret",
        "OrderReceiverSecret",
        "OrderAnswerSecret",
    }

    def blank(value: Any) -> bool:
        if isinstance(value, dict):
            return all(blank(v) for v in value.values())
        if isinstance(value, list):
            return all(blank(v) for v in value)
        return value == ""

    for name, secret in secrets.items():
        value = json.loads(secret["Properties"]["SecretString"])
        assert blank(value), f"{name} carries a value in the template"
    # Fails closed: an empty list of accepted webhook secrets rejects every webhook.
    assert json.loads(secrets["WebhookSecretsSecret"]["Properties"]["SecretString"]) == []


# --- schedules ----------------------------------------------------------------------------------


def test_import_schedules_come_from_the_configuration_not_the_template(template: dict[str, Any]) -> None:
    schedules = of_type(template["Resources"], "AWS::Scheduler::Schedule")
    assert set(schedules) == {"JobMonitorSchedule"}  # import-* schedules: ScheduleSyncFunction
    for gone in ("FullImportScheduleExpression", "DeltaImportScheduleExpression", "ProductsImports"):
        assert gone not in template["Parameters"], gone
    assert template["Resources"]["ImportScheduleGroup"]["Type"] == "AWS::Scheduler::ScheduleGroup"
    assert "ImportSchedulerRole" in template["Resources"] and "SchedulerDLQ" in template["Resources"]


def test_a_configuration_upload_runs_the_schedule_sync_with_the_stacks_targets(
    template: dict[str, Any],
) -> None:
    props = template["Resources"]["ScheduleSyncFunction"]["Properties"]
    pattern = props["Events"]["ConfigUploaded"]["Properties"]["Pattern"]
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"] == {
        "bucket": {"name": [ref("DataBucket")]},
        "object": {"key": [{"prefix": "config/"}]},
    }
    bucket = template["Resources"]["DataBucket"]["Properties"]
    assert bucket["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    assert props["Environment"]["Variables"] == {
        "IMPORT_SCHEDULE_GROUP": ref("ImportScheduleGroup"),
        "IMPORT_RUNNER_ARN": get_att("ImportRunnerFunction", "Arn"),
        "IMPORT_SCHEDULER_ROLE_ARN": get_att("ImportSchedulerRole", "Arn"),
        "SCHEDULER_DLQ_ARN": get_att("SchedulerDLQ", "Arn"),
        "SCHEDULE_TIMEZONE": ref("ScheduleTimezone"),
    }
    # `norcekit schedules sync --stack` reads the same targets from the outputs.
    outputs = template["Outputs"]
    for name in (
        "ImportScheduleGroupName",
        "ImportRunnerFunctionArn",
        "ImportSchedulerRoleArn",
        "SchedulerDLQArn",
    ):
        assert name in outputs, name


def test_schedules_never_retry_and_park_failures_in_the_scheduler_dlq(template: dict[str, Any]) -> None:
    schedules = of_type(template["Resources"], "AWS::Scheduler::Schedule")
    targets = {json.dumps(get_att("JobMonitorFunction", "Arn"))}  # import schedules: schedule sync
    assert {json.dumps(s["Properties"]["Target"]["Arn"]) for s in schedules.values()} == targets
    for name, schedule in schedules.items():
        props = schedule["Properties"]
        assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}, name
        assert props["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 0, name
        assert props["Target"]["DeadLetterConfig"] == {"Arn": get_att("SchedulerDLQ", "Arn")}, name


def test_job_monitor_ticks_every_minute_by_default(template: dict[str, Any]) -> None:
    props = template["Resources"]["JobMonitorSchedule"]["Properties"]
    assert props["Target"]["Arn"] == get_att("JobMonitorFunction", "Arn")
    assert template["Parameters"][props["ScheduleExpression"]["Ref"]]["Default"] == "rate(1 minute)"


# --- alarms and dashboard -----------------------------------------------------------------------

_INSIGHTS = re.compile(
    r"SELECT (SUM|MAX|AVG|MIN|COUNT)\((\w+)\) FROM Norcekit WHERE stack = '\$\{AWS::StackName\}'"
)


def _alarms_by_signal(resources: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(namespace, metric, dimension target or '') → alarm properties."""
    found = {}
    for alarm in of_type(resources, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if "MetricName" in props:
            (dimension,) = props["Dimensions"]
            target = json.dumps(dimension["Value"])
            found[(props["Namespace"], props["MetricName"], target)] = props
        else:
            (query,) = [m for m in props["Metrics"] if m.get("ReturnData")]
            match = _INSIGHTS.fullmatch(query["Expression"]["Fn::Sub"])
            assert match, query["Expression"]
            found[("Norcekit", match.group(2), "")] = props
    return found


def test_every_failure_signal_has_an_alarm_wired_to_the_topic(resources: dict[str, Any]) -> None:
    alarms = _alarms_by_signal(resources)
    queue = lambda name: json.dumps(get_att(name, "QueueName"))  # noqa: E731
    expected = [
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue("EventDLQ")),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage", queue("EventQueue")),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue("SchedulerDLQ")),
        *[
            ("AWS/Lambda", metric, json.dumps(ref(function)))
            for function in FUNCTIONS
            for metric in ("Errors", "Throttles")
        ],
        ("Norcekit", MetricName.JOBS_FAILED, ""),
        ("Norcekit", MetricName.JOBS_STUCK, ""),
        ("Norcekit", MetricName.WATERMARK_LAG_SECONDS, ""),
        ("Norcekit", MetricName.WEBHOOKS_UNAUTHORIZED, ""),
        ("Norcekit", MetricName.IMPORT_RUNS_REFUSED, ""),
        ("Norcekit", MetricName.ITEMS_FAILED_IN_NORCE, ""),
    ]
    for signal in expected:
        assert signal in alarms, f"no alarm for {signal}"
        props = alarms[signal]
        assert props["AlarmActions"] == [ref("AlarmTopic")], signal
        assert props["TreatMissingData"] == "notBreaching", signal


def test_every_alarm_watches_only_this_stack(resources: dict[str, Any]) -> None:
    """dev, stage and prod in one account and region share the namespace: no alarm may aggregate it."""
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 20
    own = set(resources)
    for name, alarm in alarms.items():
        props = alarm["Properties"]
        if "MetricName" in props:
            # AWS metrics: the dimension names one of this stack's functions or queues.
            for dimension in props["Dimensions"]:
                value = dimension["Value"]
                target = value.get("Ref") or value.get("Fn::GetAtt", [None])[0]
                assert target in own, f"{name}: {dimension}"
        else:
            for query in props["Metrics"]:
                expression = query["Expression"]
                assert isinstance(expression, dict), f"{name}: {expression}"
                assert "WHERE stack = '${AWS::StackName}'" in expression["Fn::Sub"], name


def test_custom_metric_alarms_use_names_the_kit_emits(resources: dict[str, Any]) -> None:
    emitted = {m.value for m in MetricName}
    for namespace, metric, _ in _alarms_by_signal(resources):
        if namespace == "Norcekit":
            assert metric in emitted, metric


def test_dashboard_is_valid_json_over_emitted_metrics(resources: dict[str, Any]) -> None:
    body = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    # Substitute ${...} the way CloudFormation will, then parse.
    dashboard = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))
    text = json.dumps(dashboard)
    emitted = {m.value for m in MetricName}
    referenced = set(re.findall(r"SELECT \w+\((\w+)\) FROM Norcekit", text))
    referenced |= set(re.findall(r'MetricName=\\\\?"(\w+)', text))
    # Every custom-metric query selects this stack's data points only.
    assert len(re.findall(r"FROM Norcekit WHERE stack = 'x'", text)) == text.count("FROM Norcekit")
    assert text.count("SEARCH(") == text.count('stack=\\"x\\"') > 0
    assert referenced, "dashboard shows no custom metrics"
    assert referenced <= emitted
    for metric in ("ImportRuns", "JobLeadTimeSeconds", "WebhooksReceived", "QueryCalls", "QueryCacheHits"):
        assert metric in referenced, metric
    assert "AWS/Lambda" in text and "Errors" in text
    # Per import, not per entity: two imports of one entity (two source systems) stay apart.
    grouped = dict(re.findall(r"SELECT \w+\((\w+)\) FROM Norcekit WHERE stack = 'x' GROUP BY (\w+)", text))
    for metric in ("ImportRuns", "ImportDurationSeconds", "WatermarkLagSeconds", "JobLeadTimeSeconds"):
        assert grouped[metric] == "import", metric


# --- API and outputs ----------------------------------------------------------------------------


def test_api_is_throttled_and_access_logged_without_headers(resources: dict[str, Any]) -> None:
    props = resources["WebhookApi"]["Properties"]
    assert props["StageName"] == "v1"
    (settings,) = props["MethodSettings"]
    assert {"ThrottlingRateLimit", "ThrottlingBurstLimit"} <= set(settings)
    assert props["AccessLogSetting"]["DestinationArn"] == get_att("WebhookApiAccessLogGroup", "Arn")
    # The shared secret travels in a header: access logs must never include headers or the body.
    log_format = props["AccessLogSetting"]["Format"]
    assert "header" not in log_format.lower() and "$context.requestBody" not in log_format


def test_a_fresh_account_gets_the_logging_role_before_the_logging_stage(template: dict[str, Any]) -> None:
    """Access logging needs the account's API Gateway CloudWatch role; without one the stage fails."""
    resources = template["Resources"]
    parameter = template["Parameters"]["ApiGatewayCloudWatchRole"]
    assert parameter["Default"] == "create"
    assert resources["ApiGatewayAccount"]["Condition"] == "CreateApiGatewayCloudWatchRole"
    assert resources["ApiGatewayAccount"]["Properties"]["CloudWatchRoleArn"] == get_att(
        "ApiGatewayCloudWatchLogsRole", "Arn"
    )
    # The retained account setting keeps pointing at the role: it is retained too.
    assert resources["ApiGatewayCloudWatchLogsRole"]["DeletionPolicy"] == "Retain"
    assert resources["WebhookApi"]["DependsOn"] == "ApiGatewayAccountReady"
    ready = resources["ApiGatewayAccountReady"]
    assert ready["Metadata"]["AccountSetting"] == {
        "Fn::If": ["CreateApiGatewayCloudWatchRole", ref("ApiGatewayAccount"), "none"]
    }


def test_the_translated_stage_waits_for_the_account_setting(translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    (stage,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage"]
    depends = set(as_list(stage.get("DependsOn", [])))
    deployment = stage["Properties"]["DeploymentId"]["Ref"]
    depends |= set(as_list(resources[deployment].get("DependsOn", [])))
    rest_api = resources[deployment]["Properties"]["RestApiId"]["Ref"]
    depends |= set(as_list(resources[rest_api].get("DependsOn", [])))
    assert "ApiGatewayAccountReady" in depends


def test_outputs_tell_an_operator_where_everything_is(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    for name in (
        "WebhookBaseUrl",
        "TableName",
        "EventQueueUrl",
        "EventDLQUrl",
        "BucketName",
        "DashboardUrl",
        "AlarmTopicArn",
        "SecretArns",
        "EventBusName",
    ):
        assert name in outputs, name
    assert outputs["WebhookBaseUrl"]["Value"] == {
        "Fn::Sub": "https://${WebhookApi}.execute-api.${AWS::Region}.amazonaws.com/v1/events"
    }


def test_samconfig_has_dev_stage_and_prod(template: dict[str, Any]) -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    assert config["default"]["global"]["parameters"]["region"] == "eu-north-1"
    stacks = set()
    for env in ("default", "stage", "prod"):
        deploy = config[env]["deploy"]["parameters"]
        assert deploy["capabilities"] == "CAPABILITY_IAM", env
        assert deploy["resolve_s3"] is True, env
        stacks.add(deploy["stack_name"])
        for override in deploy["parameter_overrides"]:
            name, _, value = override.partition("=")
            assert name in template["Parameters"], f"{env}: unknown parameter {name}"
            allowed = template["Parameters"][name].get("AllowedValues")
            assert allowed is None or value in [str(a) for a in allowed], f"{env}: {override}"
    assert len(stacks) == 3
