"""Invoking a deployed function: the operator's ``import run --stack`` asks the stack to run it.

:class:`LambdaInvoker` is the small interface the CLI uses; :class:`BotoLambdaInvoker` is the Lambda
API behind it (the process's client from :class:`~norcekit.wiring.aws.AwsClients`), and tests give
a stand-in, since a Lambda invoked on moto without Docker runs no code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import orjson

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


class InvokeError(Exception):
    """Lambda refused the invocation, or the function raised (its message is in ``str()``)."""


class LambdaInvoker(Protocol):
    def start(self, function: str, event: Mapping[str, Any]) -> None:
        """Queue one asynchronous invocation (``Event``), as EventBridge Scheduler does."""
        ...

    def call(self, function: str, event: Mapping[str, Any]) -> Any:
        """Invoke and wait (``RequestResponse``); the function's answer, decoded."""
        ...


class BotoLambdaInvoker:
    def __init__(self, client: LambdaClient) -> None:
        self.client = client

    def start(self, function: str, event: Mapping[str, Any]) -> None:
        response = self.client.invoke(
            FunctionName=function, InvocationType="Event", Payload=orjson.dumps(event)
        )
        if response.get("StatusCode") != 202:
            raise InvokeError(f"Lambda did not queue {function} (status {response.get('StatusCode')})")

    def call(self, function: str, event: Mapping[str, Any]) -> Any:
        response = self.client.invoke(
            FunctionName=function, InvocationType="RequestResponse", Payload=orjson.dumps(event)
        )
        body = orjson.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            message = body.get("errorMessage") if isinstance(body, dict) else body
            raise InvokeError(f"{function} failed: {message}")
        return body


__all__ = ["BotoLambdaInvoker", "InvokeError", "LambdaInvoker"]
