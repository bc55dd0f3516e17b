"""The local stack: moto (AWS) + the Norce emulator + the template's resources, in one process.

``python -m norcekit_local`` runs it in the foreground; the demo and e2e tests start the same thing
in-process::

    with LocalStack(root=tmp_path) as stack:
        env = stack.env()          # export into a process to run norcekit against the stack
        stack.info["queue_url"]    # everything also written to <root>/stack.json

Extension point: a *service* is anything with ``name``, ``start(stack) -> dict | None`` and
``stop()``. Services start after the AWS resources and the emulator, in order, and stop in reverse;
what ``start`` returns is recorded under ``services.<name>`` in stack.json. The webhook front, the
SQS consumer and the job monitor ticks plug in this way (see :data:`DEFAULT_SERVICE_FACTORIES`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from aws_lambda_powertools.utilities.parameters import clear_caches as clear_parameter_caches

from norce_emulator import Emulator, EmulatorConfig
from norcekit.settings import Settings, settings_from_environ
from norcekit.wiring import Components

from .aws import LOOPBACK, MotoServer
from .consumer import EventConsumerService, OrderConsumerService
from .monitor_service import JobMonitorService
from .resources import (
    LOCAL_ERP_PASSWORD,
    LOCAL_ERP_USERNAME,
    LOCAL_NORCE_CLIENT_ID,
    LOCAL_NORCE_CLIENT_SECRET,
    LOCAL_ORDER_PASSWORD,
    LOCAL_ORDER_USERNAME,
    LOCAL_WEBHOOK_SECRET,
    TEMPLATE_PATH,
    LocalResources,
    create_resources,
    local_secret_values,
)
from .sample_data import generate_sample_data
from .sink import SinkService
from .tenant import NorceTenant, emulator_only, norce_summary_line
from .webhook_front import WebhookFrontService

DEFAULT_ROOT = ".local"
DEFAULT_REGION = "eu-north-1"
DEFAULT_STACK_NAME = "local"
#: Norce ApplicationId and AccountId of the local tenant (the emulator accepts any AccountId).
LOCAL_APPLICATION_ID = 1042
LOCAL_ACCOUNT_ID = 101
LOCAL_CONFIG = Path(__file__).resolve().parent / "config" / "local.yaml"
STACK_FILE = "stack.json"
ENV_FILE = "stack.env"


#: The running stack of this process, if any (moto's backends are shared by every server in it).
_active: list[LocalStack] = []
_active_lock = threading.Lock()


class Service(Protocol):
    """Something the local stack runs next to moto and the emulator (webhook front, consumer, ...)."""

    name: str

    def start(self, stack: LocalStack) -> Mapping[str, Any] | None: ...

    def stop(self) -> None: ...


#: What ``python -m norcekit_local`` and the demo run besides moto and the emulator, in start order
#: (the sink exports its URL before the consumer's processor reads the configuration). Each entry
#: builds a fresh service.
DEFAULT_SERVICE_FACTORIES: list[Callable[[], Service]] = [
    SinkService,
    WebhookFrontService,
    EventConsumerService,
    OrderConsumerService,
    JobMonitorService,
]


class LocalStack:
    """Starts moto on loopback, the Norce emulator and the template's resources; writes stack.json."""

    def __init__(
        self,
        root: str | Path = DEFAULT_ROOT,
        *,
        region: str = DEFAULT_REGION,
        stack_name: str = DEFAULT_STACK_NAME,
        moto_port: int = 0,
        norce_port: int = 0,
        emulator_overrides: Mapping[str, Any] | None = None,
        services: Iterable[Service] = (),
        sample_data: bool = True,
        template_path: str | Path = TEMPLATE_PATH,
        parameters: Mapping[str, str] | None = None,
        norce: NorceTenant | None = None,
    ) -> None:
        """``norce``: a real tenant instead of the bundled emulator (which is then not started)."""
        self.root = Path(root).resolve()
        self.region = region
        self.stack_name = stack_name
        self.template_path = Path(template_path)
        self.sample_data = sample_data
        self.parameter_overrides = dict(parameters or {})
        self.services: list[Service] = list(services)
        self.moto = MotoServer(port=moto_port, region=region)
        self.tenant = norce
        self._emulator = (
            None
            if norce is not None
            else Emulator(
                EmulatorConfig(
                    host=LOOPBACK,
                    port=norce_port,
                    client_id=LOCAL_NORCE_CLIENT_ID,
                    client_secret=LOCAL_NORCE_CLIENT_SECRET,
                    application_id=LOCAL_APPLICATION_ID,
                ),
                **dict(emulator_overrides or {}),
            )
        )
        self.resources: LocalResources | None = None
        #: Variables services add for the others (e.g. the sink's URL, named in the local config).
        self.extra_env: dict[str, str] = {}
        self.info: dict[str, Any] = {}
        self._started: list[Service] = []
        self._running = False

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> LocalStack:
        if self._running:
            return self
        with _active_lock:
            if _active:
                raise RuntimeError(
                    "a local stack is already running in this process (moto's state is process-wide); "
                    f"stop it first: {_active[0].root}"
                )
            _active.append(self)
        self._running = True
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.moto.start()
        if self._emulator is not None:
            self._emulator.start()
        secrets = local_secret_values()
        if self.tenant is not None:
            secrets["NorceCredentialsSecret"] = self.tenant.secret_value()
        self.resources = create_resources(
            self.moto.client,
            stack_name=self.stack_name,
            region=self.region,
            parameters=self._parameters(),
            secret_values=secrets,
            template_path=self.template_path,
        )
        has_sample = self.sample_data and generate_sample_data(self.sample_dir)
        self.info = self._describe(has_sample)
        self.write()
        for service in self.services:
            self._started.append(service)
            details = service.start(self)
            if details:
                self.info.setdefault("services", {})[service.name] = dict(details)
            self.info["env"] = self.env()
            self.write()

    def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        while self._started:
            service = self._started.pop()
            with contextlib.suppress(Exception):  # one failing service must not keep ports open
                service.stop()
        try:
            if self._emulator is not None:
                self._emulator.stop()
            self.moto.stop()
            # Handlers run in-process by services cache Powertools providers whose boto3 clients
            # point at this (now closed) endpoint; drop them so later code in the process makes new ones.
            clear_parameter_caches()  # type: ignore[no-untyped-call]
        finally:
            with _active_lock:
                _active.remove(self)
        # stack.json describes a running stack; leaving it would point clients at closed ports.
        for name in (STACK_FILE, ENV_FILE):
            with contextlib.suppress(FileNotFoundError):
                (self.root / name).unlink()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._running

    @property
    def emulator(self) -> Emulator:
        """The bundled emulator; refused with a clear message when a real tenant is in use."""
        if self._emulator is None:
            assert self.tenant is not None
            raise emulator_only("the Norce emulator's admin API", self.tenant.url)
        return self._emulator

    @property
    def uses_emulator(self) -> bool:
        return self._emulator is not None

    @property
    def norce_url(self) -> str:
        return self.tenant.url if self.tenant is not None else self.emulator.base_url

    # --- description ----------------------------------------------------------------------------
    @property
    def sample_dir(self) -> Path:
        return self.root / "sample"

    @property
    def stack_file(self) -> Path:
        return self.root / STACK_FILE

    def _parameters(self) -> dict[str, str]:
        """Template parameters for the local stack (what samconfig.toml is for a deployment)."""
        parameters = {
            "Stage": "dev",
            "NorceEnvironment": "playground",
            "NorceApplicationId": str(LOCAL_APPLICATION_ID),
            "NorceAccountId": str(LOCAL_ACCOUNT_ID),
            "NorcekitConfig": str(LOCAL_CONFIG) if LOCAL_CONFIG.is_file() else "",
        }
        if self.tenant is not None:
            parameters.update(self.tenant.parameters())
        parameters.update(self.parameter_overrides)
        return parameters

    def env(self) -> dict[str, str]:
        """Environment for a process that runs norcekit against this stack."""
        if self.resources is None:
            raise RuntimeError("local stack not started")
        env = dict(self.resources.env)  # the template's function environment, resolved locally
        env.update(self.moto.env())
        env.update(
            {
                "NORCE_BASE_URL": self.norce_url,
                "NORCEKIT_SAMPLE_DIR": str(self.sample_dir),
                # Not a function setting (no Lambda reads the DLQ); operator tools (CLI redrive) do.
                "EVENT_DLQ_URL": self.resources.dlq_url,
                # No X-Ray daemon locally; metrics still print as EMF lines.
                "POWERTOOLS_TRACE_DISABLED": "true",
                # Keep a developer's real AWS profile out of local runs.
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            }
        )
        if self.tenant is not None:
            env.update(self.tenant.env())
        env.update(self.extra_env)
        return env

    def environ(self) -> dict[str, str]:
        """What an in-process norcekit object reads: this process's environment under :meth:`env`
        (as a function's environment would be; ``os.environ`` itself is never changed)."""
        # The shell's own NORCE_* (say, a tenant's) must not reach a stack that names its own Norce.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("NORCE_")}
        return {**inherited, **self.env()}

    def settings(self, **overrides: Any) -> Settings:
        return settings_from_environ(self.environ(), **overrides)

    def components(self, *, settings_overrides: Mapping[str, Any] | None = None, **kwargs: Any) -> Components:
        """A new :class:`~norcekit.wiring.Components` on this stack (one per in-process "container")."""
        environ = self.environ()
        settings = settings_from_environ(environ, **dict(settings_overrides or {}))
        return Components(settings, environ=environ, **kwargs)

    def _describe(self, has_sample: bool) -> dict[str, Any]:
        assert self.resources is not None
        res = self.resources
        return {
            "pid": os.getpid(),
            "root": str(self.root),
            "region": self.region,
            "stack_name": self.stack_name,
            **self._describe_norce(),
            "aws_endpoint_url": self.moto.endpoint_url,
            "table": res.table,
            "queue_url": res.queue_url,
            "queue_arn": res.queue_arn,
            "dlq_url": res.dlq_url,
            "dlq_arn": res.dlq_arn,
            "scheduler_dlq_url": res.scheduler_dlq_url,
            "bucket": res.bucket,
            "event_bus": res.event_bus,
            "bus_sink_queue_url": res.bus_sink_queue_url,
            "norce_credentials_secret_arn": res.secrets["NorceCredentialsSecret"],
            "webhook_secrets_arn": res.secrets["WebhookSecretsSecret"],
            "webhook_secret": LOCAL_WEBHOOK_SECRET,
            "webhook_secret_header": res.env.get("WEBHOOK_SECRET_HEADER", ""),
            # The local credentials of POST /orders (Norce) and /orders/answers (the ERP): fake ones.
            "order_receiver_username": LOCAL_ORDER_USERNAME,
            "order_receiver_password": LOCAL_ORDER_PASSWORD,
            "order_answer_username": LOCAL_ERP_USERNAME,
            "order_answer_password": LOCAL_ERP_PASSWORD,
            "order_queue_url": res.env.get("ORDER_QUEUE_URL"),
            "order_answer_queue_url": res.env.get("ORDER_ANSWER_QUEUE_URL"),
            "source_credentials_secret_arn": res.secrets.get("SourceCredentialsSecret"),
            "target_credentials_secret_arn": res.secrets.get("TargetCredentialsSecret"),
            "sample_data_dir": str(self.sample_dir) if has_sample else None,
            "quarantine": {
                "bucket": res.bucket,
                "prefix": "quarantine/",
                "uri": f"s3://{res.bucket}/quarantine/",
            },
            "unresolved_env": list(res.unresolved_env),
            "env": self.env(),
            "services": {},
        }

    def _describe_norce(self) -> dict[str, Any]:
        if self.tenant is not None:
            return self.tenant.describe()  # the secret stays in the stack's Secrets Manager only
        return {
            "norce_mode": "emulator",
            "norce_url": self.emulator.base_url,
            "norce_admin_url": f"{self.emulator.base_url}/_admin/",
            "norce_client_id": LOCAL_NORCE_CLIENT_ID,
            "norce_client_secret": LOCAL_NORCE_CLIENT_SECRET,  # the emulator's, not real
            "norce_application_id": LOCAL_APPLICATION_ID,
            "norce_account_id": LOCAL_ACCOUNT_ID,
        }

    def write(self) -> Path:
        """Write stack.json (and stack.env, for ``set -a; . .local/stack.env``)."""
        self.root.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.stack_file, json.dumps(self.info, indent=2, sort_keys=True) + "\n")
        lines = [f"{name}={shlex.quote(value)}" for name, value in sorted(self.info["env"].items())]
        _atomic_write(self.root / ENV_FILE, "\n".join(lines) + "\n")
        return self.stack_file

    def summary(self) -> str:
        info = self.info
        lines = [
            f"norcekit local stack ({info['stack_name']}, pid {info['pid']})",
            norce_summary_line(self.info),
            f"  AWS (moto)       {info['aws_endpoint_url']}  region {info['region']}",
            f"  table            {info['table']}",
            f"  event queue      {info['queue_url']}",
            f"  event DLQ        {info['dlq_url']}",
            f"  bucket           s3://{info['bucket']}  (quarantine/ for rejected payloads)",
            f"  event bus        {info['event_bus']}  -> sink {info['bus_sink_queue_url']}",
            f"  sample data      {info['sample_data_dir'] or '(not generated)'}",
        ]
        for name, details in info.get("services", {}).items():
            lines.append(f"  {name:<16} {json.dumps(details)}")
        lines.append(f"  stack file       {self.stack_file}  (env: set -a; . {self.root / ENV_FILE})")
        return "\n".join(lines)


def _atomic_write(path: Path, text: str) -> None:
    """Readers polling for the file never see half of it."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def load_stack_info(root: str | Path = DEFAULT_ROOT) -> dict[str, Any]:
    """stack.json of a running local stack (raises FileNotFoundError when none is running)."""
    info: dict[str, Any] = json.loads((Path(root) / STACK_FILE).read_text(encoding="utf-8"))
    return info
