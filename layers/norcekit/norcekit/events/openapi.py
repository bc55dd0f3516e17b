"""The webhook API's OpenAPI document, generated from the Powertools resolver.

``python -m norcekit.events.openapi > docs/openapi/webhook.json`` regenerates the committed file;
a test keeps it current. The request body (one schema per event type) is added here because the
route reads the raw body itself (authentication must come before any parsing).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import models_json_schema

from norcekit import __version__
from norcekit.norce.events import EVENT_MODELS

TITLE = "norcekit webhook receiver"


def openapi_document(secret_header: str | None = None) -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn  # noqa: PLC0415 - documentation only

    from norcekit.events.receiver import DEFAULT_SECRET_HEADER, SECURITY_SCHEME, build_resolver  # noqa: PLC0415 - avoid import cycle at module load

    def no_receiver() -> Any:
        raise RuntimeError("documentation only")

    app = build_resolver(no_receiver)
    header = secret_header or DEFAULT_SECRET_HEADER
    document: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title=TITLE,
            version=__version__,
            description=(
                "Receives Norce Commerce Event webhooks. Configure each event type in Norce Admin "
                "(Integrations → Events) with Url `<api>/events/<EventType>` and a static header "
                f"`{header}: <secret>`. Norce retries any non-2xx for about 22 hours, so the answer "
                "says whether the payload is stored, not whether it is good: 401 when the secret is "
                "missing or wrong (nothing is kept); 2xx once the payload is stored — 200 queued when "
                "valid, 202 quarantined when not (unknown event type, not strict JSON, invalid, too "
                "large, or the queue refused it; one copy per event type and body, however often Norce "
                "retries); 503 only when neither the queue nor the quarantine accepted it."
            ),
            security_schemes={SECURITY_SCHEME: APIKey(name=header, in_=APIKeyIn.header)},
        )
    )
    _, schemas = models_json_schema(
        [(model, "validation") for model in EVENT_MODELS.values()],
        ref_template="#/components/schemas/{model}",
    )
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.update(schemas.get("$defs", {}))
    operation = document["paths"]["/events/{EventType}"]["post"]
    operation["requestBody"] = {
        "required": True,
        "description": "The Norce event payload; its schema depends on the EventType path parameter.",
        "content": {
            "application/json": {
                "schema": {
                    # anyOf: the payload models overlap (extra properties allowed), so a valid body
                    # matches several of them and "oneOf" would reject every one.
                    "anyOf": [{"$ref": f"#/components/schemas/{name}"} for name in sorted(EVENT_MODELS)]
                }
            }
        },
    }
    # Powertools adds a 422 for request validation; this route validates the body itself (400).
    operation["responses"].pop("422", None)
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused not in json.dumps(document["paths"]):
            components.pop(unused, None)
    for parameter in operation.get("parameters", []):
        if parameter.get("name") == "EventType":
            parameter["schema"] = {"type": "string", "enum": sorted(EVENT_MODELS), "title": "EventType"}
    return document


def render(secret_header: str | None = None) -> str:
    return json.dumps(openapi_document(secret_header), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
