"""Validate requests, responses and webhooks against the official SunCo v2 OpenAPI spec.

The spec is read from `../shared/spec/` (reference data, never copied into the project) and
validated with openapi-schema-validator's OpenAPI 3.0 validators over the spec's own component
schemas: `OAS30WriteValidator` for request bodies (read-only fields must not be sent) and
`OAS30ReadValidator` for responses and webhooks (write-only fields must not come back), with
`discriminator` honoured for the `oneOf` content types.

Two readings of the spec are made explicit here:
- `nullable: true` next to `allOf`/`oneOf`/`$ref` (no `type`) means "this may be null", as the
  spec's authors intend (OpenAPI 3.0.3 would strictly ignore it); such schemas are rewritten
  to `anyOf: [null, <schema>]` before validation.
- Error responses not listed on an operation are checked against `errorResponse`, which the
  spec's "Errors" section says every 4xx body is.

Usage: `validate_response("POST", "/sc/v2/apps/a/users", 201, body)`; each function raises
`SpecError` (an AssertionError) listing every violation.
"""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Optional, Tuple
from urllib.parse import urlsplit

import yaml
from jsonschema import FormatChecker, RefResolver
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator
from openapi_schema_validator._format import oas30_format_checker

SPEC_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "spec"
SPEC_PATH = SPEC_DIR / "sunco-v2-openapi.yaml"
EXAMPLES_PATH = SPEC_DIR / "sunco-v2-examples.json"
WEBHOOK_OPERATION = ("x-webhooks", "Webhook Event", "post")
# The schema requires nothing of an event; every documented event has these.
EVENT_FIELDS = ("id", "type", "payload")


class SpecError(AssertionError):
    """The instance does not match the spec; `errors` lists each violation."""

    def __init__(self, what: str, errors: List[str]) -> None:
        self.errors = errors
        super().__init__(f"{what} does not match the SunCo spec:\n  - " + "\n  - ".join(errors))


def _nullable_composites(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable_composites(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_composites(value) for key, value in node.items()}
    composite = any(key in node for key in ("allOf", "oneOf", "anyOf", "$ref"))
    if node.get("nullable") is True and "type" not in node and composite:
        outer = {k: node[k] for k in ("readOnly", "writeOnly", "description") if k in node}
        inner = {k: v for k, v in node.items() if k not in ("nullable", "readOnly", "writeOnly")}
        outer["anyOf"] = [{"enum": [None]}, inner]
        return outer
    return node


@lru_cache(maxsize=None)
def load_spec() -> Dict[str, Any]:
    """The spec as parsed YAML (cached), with composite `nullable` made explicit."""
    with open(SPEC_PATH, encoding="utf-8") as handle:
        raw = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return _nullable_composites(raw)


@lru_cache(maxsize=None)
def load_examples() -> Dict[str, Any]:
    """`sunco-v2-examples.json`: the spec's example payloads by name (cached)."""
    with open(EXAMPLES_PATH, encoding="utf-8") as handle:
        return json.load(handle)


def example_envelopes() -> Dict[str, Dict[str, Any]]:
    """The example webhook envelopes (those with `events`), by example name."""
    return {
        name: copy.deepcopy(value)
        for name, value in load_examples().items()
        if isinstance(value, dict) and "events" in value
    }


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checkers.update(oas30_format_checker.checkers)

    @checker.checks("uri")
    def _uri(value: Any) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme and (parts.netloc or parts.path))

    @checker.checks("email")
    def _email(value: Any) -> bool:
        return not isinstance(value, str) or re.fullmatch(r"[^@\s]+@[^@\s]+", value) is not None

    return checker


FORMATS = _format_checker()


@lru_cache(maxsize=None)
def _resolver() -> RefResolver:
    return RefResolver("", load_spec())


def _short(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[:limit] + "…"


def _errors(schema: Dict[str, Any], instance: Any, read: bool) -> List[str]:
    validator_class = OAS30ReadValidator if read else OAS30WriteValidator
    validator = validator_class(schema, resolver=_resolver(), format_checker=FORMATS)
    try:
        found = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    except (AttributeError, TypeError) as exc:  # a discriminator met a non-object
        return [f"not an object where the spec expects one ({exc})"]
    messages = []
    for error in found:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        detail = _short(error.message)
        if error.context:  # anyOf/oneOf: say why each branch failed
            reasons = sorted({_short(sub.message) for sub in error.context})[:5]
            detail += "; " + "; ".join(reasons)
        messages.append(f"at {where}: {detail}")
    return messages


def validate_schema(name: str, instance: Any, read: bool = True) -> None:
    """Validate against `#/components/schemas/<name>` (read = as a response or webhook)."""
    if name not in load_spec()["components"]["schemas"]:
        raise KeyError(f"no schema {name!r} in the spec")
    errors = _errors({"$ref": f"#/components/schemas/{name}"}, instance, read)
    if errors:
        raise SpecError(f"schema {name}", errors)


# Operations.
def api_path(path: str) -> str:
    """`http://host/sc/v2/apps/a/users?x=1` -> `/v2/apps/a/users`."""
    raw = urlsplit(path).path
    start = raw.find("/v2/")
    if start >= 0:
        raw = raw[start:]
    return raw.rstrip("/") or "/"


@lru_cache(maxsize=None)
def _templates() -> List[Tuple[re.Pattern, str]]:
    compiled = []
    for template in load_spec()["paths"]:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        compiled.append((re.compile(f"^{pattern}$"), template))
    # Fewest parameters first: a literal segment beats a parameter.
    compiled.sort(key=lambda item: (item[1].count("{"), -len(item[1])))
    return compiled


def operation(method: str, path: str) -> Tuple[str, Dict[str, Any]]:
    """The spec's path template and operation object for this call."""
    concrete = api_path(path)
    for pattern, template in _templates():
        if pattern.match(concrete):
            operations = load_spec()["paths"][template]
            found = operations.get(method.lower())
            if found is None:
                raise SpecError(f"{method} {concrete}", [f"no {method} operation on {template}"])
            return template, found
    raise SpecError(f"{method} {concrete}", ["no such path in the spec"])


def validate_request(
    method: str, path: str, body: Any, content_type: str = "application/json"
) -> None:
    """Validate a request body against the operation's `requestBody` schema."""
    template, op = operation(method, path)
    what = f"{method.upper()} {template} request"
    request_body = op.get("requestBody")
    if request_body is None:
        if body not in (None, {}, b"", ""):
            raise SpecError(what, ["the operation takes no request body"])
        return
    if body is None:
        if request_body.get("required"):
            raise SpecError(what, ["a request body is required"])
        return
    media = request_body.get("content", {}).get(content_type)
    if media is None:
        raise SpecError(what, [f"content type {content_type} is not accepted"])
    errors = _errors(media.get("schema", {}), body, read=False)
    if errors:
        raise SpecError(what, errors)


def response_schema(method: str, path: str, status: int) -> Tuple[str, Optional[Dict[str, Any]]]:
    """The template and the JSON schema of that response (None: no body documented)."""
    template, op = operation(method, path)
    responses = op.get("responses", {})
    response = responses.get(str(status)) or responses.get("default")
    if response is None:
        if status >= 400:
            return template, {"$ref": "#/components/schemas/errorResponse"}
        documented = ", ".join(sorted(responses))
        raise SpecError(
            f"{method.upper()} {template} response",
            [f"status {status} is not documented (documented: {documented})"],
        )
    content = response.get("content") or {}
    media = content.get("application/json") or next(iter(content.values()), None)
    return template, media.get("schema") if media else None


def validate_response(method: str, path: str, status: int, body: Any) -> None:
    """Validate a response status and JSON body against the operation's responses."""
    template, schema = response_schema(method, path, status)
    what = f"{method.upper()} {template} {status} response"
    if schema is None:
        if body not in (None, b"", ""):
            raise SpecError(what, ["the spec documents no body for this response"])
        return
    errors = _errors(schema, body, read=True)
    if errors:
        raise SpecError(what, errors)


# Webhooks.
def _webhook_body_schema() -> Dict[str, Any]:
    node: Any = load_spec()
    for key in WEBHOOK_OPERATION:
        node = node[key]
    return node["requestBody"]["content"]["application/json"]["schema"]


@lru_cache(maxsize=None)
def _event_schemas() -> Dict[str, str]:
    """Event type (the schema's title, e.g. `conversation:message`) -> `$ref`."""
    schemas = load_spec()["components"]["schemas"]
    mapping = {}
    for item in _webhook_body_schema()["properties"]["events"]["items"]["anyOf"]:
        ref = item["$ref"]
        mapping[schemas[ref.rsplit("/", 1)[-1]]["title"]] = ref
    return mapping


def webhook_event_types() -> FrozenSet[str]:
    """Every event type the spec documents."""
    return frozenset(_event_schemas())


def validate_webhook_event(event: Any) -> None:
    """Validate one event of an envelope against the `x-webhooks` schema of its type."""
    if not isinstance(event, dict):
        raise SpecError("webhook event", ["an event must be a JSON object"])
    event_type = event.get("type")
    what = f"webhook event {event_type!r}"
    missing = [f"missing {field!r}" for field in EVENT_FIELDS if field not in event]
    if missing:
        raise SpecError(what, missing)
    ref = _event_schemas().get(event_type) if isinstance(event_type, str) else None
    if ref is None:
        raise SpecError(what, ["not an event type of the spec"])
    errors = _errors({"$ref": ref}, event, read=True)
    if errors:
        raise SpecError(what, errors)


def validate_webhook(envelope: Any) -> None:
    """Validate a whole v2 webhook body: envelope, `webhook.version`, and every event."""
    # The envelope without its events (their `anyOf` of every type says little), then each
    # event against the schema of its own type.
    envelope_schema = copy.deepcopy(_webhook_body_schema())
    envelope_schema["properties"]["events"].pop("items")
    errors = _errors(envelope_schema, envelope, read=True)
    if not errors:
        if not isinstance(envelope.get("app"), dict) or "id" not in envelope["app"]:
            errors.append("missing app.id")
        webhook = envelope.get("webhook")
        if not isinstance(webhook, dict) or "id" not in webhook:
            errors.append("missing webhook.id")
        elif webhook.get("version") != "v2":
            errors.append(f"webhook.version is {webhook.get('version')!r}, not 'v2'")
        if not envelope.get("events"):
            errors.append("no events")
    if errors:
        raise SpecError("webhook envelope", errors)
    for event in envelope["events"]:
        validate_webhook_event(event)
