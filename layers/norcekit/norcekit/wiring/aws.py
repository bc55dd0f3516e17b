"""Every boto3 client of a process, from one session, one endpoint and one ``botocore`` Config.

Nothing else in norcekit creates a boto3 client or resource: domain classes take theirs as a
constructor argument, and :class:`AwsClients` is where they come from. In Lambda the session is
boto3's usual chain (the function's role, ``AWS_REGION``); the CLI and the local stack pass the
region, endpoint and credentials of the stack they point at, so nothing changes ``os.environ`` or
boto3's default session.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_dynamodb import DynamoDBServiceResource
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

    from norcekit.settings import Settings

#: Defaults when no settings are given (the same as :class:`~norcekit.settings.Settings`').
DEFAULT_CONNECT_TIMEOUT_S = 2.0
DEFAULT_READ_TIMEOUT_S = 10.0
DEFAULT_MAX_ATTEMPTS = 3


def aws_client_config(settings: Settings | None = None) -> Config:
    """The one ``botocore`` Config of every AWS client: short timeouts, standard retries.

    botocore's defaults (60 s connect, 60 s read, 5 legacy attempts) would hold a webhook, which
    Norce abandons after 5 s, or a job-monitor tick for minutes on a dead endpoint.
    """
    connect = settings.aws_connect_timeout_s if settings else DEFAULT_CONNECT_TIMEOUT_S
    read = settings.aws_read_timeout_s if settings else DEFAULT_READ_TIMEOUT_S
    attempts = settings.aws_max_attempts if settings else DEFAULT_MAX_ATTEMPTS
    return Config(
        connect_timeout=connect,
        read_timeout=read,
        retries={"mode": "standard", "total_max_attempts": attempts},  # the first call included
    )


class _ClientOnFirstUse:
    """Stands in for a boto3 client and creates it when an attribute is first read (a call, ``meta``,
    ``exceptions``); from then on every attribute is the client's own."""

    def __init__(self, create: Callable[[], Any]) -> None:
        self._create = create

    def __getattr__(self, name: str) -> Any:
        # Only reached for names the proxy itself lacks, i.e. the client's.
        return getattr(self._create(), name)


class AwsClients:
    """boto3 clients of one process, created on first use and shared (boto3 clients are thread-safe).

    Resources are not thread-safe, so :meth:`dynamodb` returns a new one per call.
    """

    def __init__(
        self,
        *,
        session: boto3.Session | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        config: Config | None = None,
    ) -> None:
        self._session = session
        self.region = region
        self.endpoint_url = endpoint_url or None
        self.config = config or aws_client_config()
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, environ: Mapping[str, str] | None = None) -> AwsClients:
        """Clients for the stack that ``settings`` names.

        ``environ`` (the CLI's or the local stack's variables, never ``os.environ`` itself) supplies
        ``AWS_ENDPOINT_URL`` and explicit credentials; without it boto3's usual chain applies.
        """
        return cls.from_environ(environ or {}, region=settings.aws_region, config=aws_client_config(settings))

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str], *, region: str | None, config: Config | None = None
    ) -> AwsClients:
        """Clients for the endpoint and credentials ``environ`` names (``AWS_ENDPOINT_URL``,
        ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` or ``AWS_PROFILE``): the local stack's moto
        server, a CLI pointed at a stack. Without them, boto3's usual chain."""
        session = None
        if environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY"):
            session = boto3.Session(
                aws_access_key_id=environ["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=environ["AWS_SECRET_ACCESS_KEY"],
                aws_session_token=environ.get("AWS_SESSION_TOKEN") or None,
                region_name=region,
            )
        elif environ.get("AWS_PROFILE"):
            session = boto3.Session(profile_name=environ["AWS_PROFILE"], region_name=region)
        return cls(
            session=session, region=region, endpoint_url=environ.get("AWS_ENDPOINT_URL"), config=config
        )

    @property
    def session(self) -> boto3.Session:
        with self._lock:
            if self._session is None:
                # boto3's own chain (Lambda role, AWS_REGION); never its module-wide default session.
                self._session = boto3.Session(region_name=self.region)
            return self._session

    def client(self, service: str) -> Any:
        """The shared client of ``service`` (``"s3"``, ``"sqs"`` ...)."""
        session = self.session
        with self._lock:
            if service not in self._clients:
                self._clients[service] = session.client(
                    service,  # type: ignore[call-overload]
                    region_name=self.region,
                    endpoint_url=self.endpoint_url,
                    config=self.config,
                )
            return self._clients[service]

    def s3(self) -> S3Client:
        client: S3Client = self.client("s3")
        return client

    def s3_on_first_use(self) -> S3Client:
        """The shared S3 client, created when first called rather than now.

        For stores that most requests never touch: the webhook receiver writes to S3 only to
        quarantine or claim-check a payload, and creating an S3 client (a large service model to
        load and parse) would otherwise be part of every cold start's first request.
        """
        return cast("S3Client", _ClientOnFirstUse(self.s3))

    def sqs(self) -> SQSClient:
        client: SQSClient = self.client("sqs")
        return client

    def events(self) -> EventBridgeClient:
        client: EventBridgeClient = self.client("events")
        return client

    def secretsmanager(self) -> SecretsManagerClient:
        client: SecretsManagerClient = self.client("secretsmanager")
        return client

    def cloudformation(self) -> CloudFormationClient:
        client: CloudFormationClient = self.client("cloudformation")
        return client

    def lambda_(self) -> LambdaClient:
        client: LambdaClient = self.client("lambda")
        return client

    def dynamodb(self) -> DynamoDBServiceResource:
        """A new DynamoDB resource (one per thread that uses it)."""
        session = self.session
        with self._lock:
            resource: DynamoDBServiceResource = session.resource(
                "dynamodb", region_name=self.region, endpoint_url=self.endpoint_url, config=self.config
            )
        return resource

    def secrets_provider(self) -> SecretsProvider:
        """A Powertools ``SecretsProvider`` on this process's Secrets Manager client (its own cache)."""
        from aws_lambda_powertools.utilities.parameters import (  # noqa: PLC0415 - cold start: only secret readers
            SecretsProvider,
        )

        return SecretsProvider(boto3_client=self.secretsmanager())


__all__ = ["AwsClients", "aws_client_config"]
