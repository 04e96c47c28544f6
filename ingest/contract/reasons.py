"""Human-readable reasons from jsonschema-rs validation errors.

A reason names the field as ``data.<field>`` (``data.queues[0]`` inside arrays, ``data`` for the event
itself) and says what the contract wants, e.g. ``data.seq must be integer``,
``data must contain ['call_id', 'party_id'] properties``, ``data.dn_type must be one of [...]``.
A failed ``anyOf`` lists the alternatives by their ``description`` in the schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import jsonschema_rs

__all__ = ["first_error_reason"]

_Path = Sequence[str | int]
_KIND = jsonschema_rs.ValidationErrorKind
_REQUIRED = _KIND.Required


def field_name(path: _Path) -> str:
    """``['queues', 0]`` -> ``data.queues[0]``; ``[]`` -> ``data``."""
    name = "data"
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else f".{part}"
    return name


def _subschema(schema: dict[str, Any], schema_path: _Path) -> Any:
    node: Any = schema
    for part in schema_path:
        node = node[part]
    return node


def _describe(error: jsonschema_rs.ValidationError, schema: dict[str, Any]) -> str:
    kind, where = error.kind, field_name(error.instance_path)
    if isinstance(kind, _KIND.Type):
        return f"{where} must be {' or '.join(kind.types)}"
    if isinstance(kind, _KIND.Enum):
        return f"{where} must be one of {kind.options!r}"
    if isinstance(kind, _KIND.Constant):
        return f"{where} must be {kind.expected_value!r}"
    if isinstance(kind, _KIND.MinLength):
        return f"{where} must be at least {kind.limit} character{'s' if kind.limit != 1 else ''} long"
    if isinstance(kind, _KIND.MaxLength):
        return f"{where} must be at most {kind.limit} characters long"
    if isinstance(kind, _KIND.Minimum):
        return f"{where} must be bigger than or equal to {kind.limit}"
    if isinstance(kind, _KIND.Maximum):
        return f"{where} must be smaller than or equal to {kind.limit}"
    if isinstance(kind, _KIND.Pattern):
        return f"{where} must match pattern {kind.pattern}"
    if isinstance(kind, _KIND.AnyOf | _KIND.OneOfNotValid):
        alternatives = _subschema(schema, error.schema_path)
        described = [alt.get("description", "?") for alt in alternatives if isinstance(alt, dict)]
        return f"{where} must satisfy one of: {' or '.join(described)} ({kind.name})"
    return f"{where}: {error.message}"


def first_error_reason(
    errors: Iterable[jsonschema_rs.ValidationError], schema: dict[str, Any]
) -> tuple[jsonschema_rs.ValidationError, str] | None:
    """The first error and its reason; missing properties of the same object are named together.

    jsonschema-rs reports ``required`` before the properties, in schema order, so the first error is
    the same one for the same event every time.
    """
    iterator = iter(errors)
    first = next(iterator, None)
    if first is None:
        return None
    if not isinstance(first.kind, _REQUIRED):
        return first, _describe(first, schema)
    missing = [first.kind.property]
    for error in iterator:
        if not isinstance(error.kind, _REQUIRED) or list(error.instance_path) != list(first.instance_path):
            break
        missing.append(error.kind.property)
    return first, f"{field_name(first.instance_path)} must contain {missing!r} properties"
