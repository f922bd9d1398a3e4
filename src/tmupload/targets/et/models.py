"""The shapes of Enterprise Tester's answers (docs/servers/et.md §2-§8), and the readers of its
bodies.

Models are tolerant (``extra="allow"``): the reference is built from several ET versions and
marks many shapes as unconfirmed, so unknown fields are kept and missing optional ones are None.
Result nodes are plain records instead (a run holds 100,000 of them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tmupload.errors import ServerProtocolError

__all__ = [
    "EtEntity",
    "EtNode",
    "EtRun",
    "EtTask",
    "EtTicket",
    "items_of",
    "json_body",
    "nodes_body",
    "odata_quote",
    "parse_model",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class EtEntity(_Model):
    Id: str
    Name: str = ""
    Self: str | None = None


class EtRun(_Model):
    Id: str
    Status: str | None = None
    ImportedAt: str | None = None
    StartedAt: str | None = None
    FinishedAt: str | None = None
    Totals: dict[str, Any] | None = None
    Self: str | None = None


@dataclass(slots=True)
class EtNode:
    """A result node (docs/servers/et.md §5.3), only the fields read. A plain record, not a model: a
    run can hold 100,000 of them and a large one is read whole."""

    Id: str
    Name: str = ""
    Status: str | None = None
    HasChildren: bool = False
    HasIncidents: bool = False
    Description: str | None = None
    Children: list[EtNode] | None = None


class EtTask(_Model):
    Id: str | None = None
    Complete: bool = False
    Error: str | None = None
    Message: str | None = None
    Self: str | None = None
    ProgressInPercent: float | None = None
    IncidentId: str | None = None


class EtTicket(_Model):
    Key: str
    Id: str | None = None
    ExternalSystemId: str | None = None
    ExternalSystemName: str | None = None
    IncidentId: str | None = None
    Links: list[dict[str, Any]] = Field(default_factory=list)


def _node(data: Any) -> EtNode:
    """A result node without pydantic's validation (a full validation cost as much as the
    download); already one when it was decoded by :func:`_node_hook`."""
    if isinstance(data, EtNode):
        return data
    if not isinstance(data, dict) or not isinstance(data.get("Id"), str):
        raise ServerProtocolError(f"unexpected result node from the server: {str(data)[:200]}")
    children = data.get("Children")
    return EtNode(
        Id=data["Id"],
        Name=str(data.get("Name") or ""),
        Status=data.get("Status"),
        HasChildren=bool(data.get("HasChildren")),
        HasIncidents=bool(data.get("HasIncidents")),
        Description=data.get("Description"),
        Children=[_node(child) for child in children] if isinstance(children, list) else None,
    )


def _node_hook(data: dict[str, Any]) -> Any:
    """``json.loads`` object hook: a node becomes an :class:`EtNode` as soon as it is decoded,
    so its other fields (``Self``, ``Metadata``, ``Notes``, dates ...) are freed at once instead
    of all 100,000 nodes of a large run being held as dicts (the read's peak memory)."""
    if isinstance(data.get("Id"), str) and ("HasChildren" in data or "Status" in data):
        return _node(data)
    return data


def nodes_body(response: httpx.Response, what: str) -> list[EtNode]:
    try:
        body = json.loads(response.content, object_hook=_node_hook)
    except ValueError:
        return [_node(item) for item in items_of(json_body(response, what), what)]
    return [_node(item) for item in items_of(body, what)]


def odata_quote(value: str) -> str:
    """A string literal for OData ``$filter`` and TQL: single quotes, doubled inside."""
    return "'" + value.replace("'", "''") + "'"


def items_of(body: Any, what: str) -> list[Any]:
    """Collections come as a paging envelope or, for some resources, a bare array
    (docs/servers/et.md §2.5)."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and isinstance(body.get("Items"), list):
        return list(body["Items"])
    raise ServerProtocolError(f"the server's answer for {what} is neither a list nor {{Items}}")


def json_body(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ServerProtocolError(
            f"the server answered {what} with something that is not JSON "
            f"(HTTP {response.status_code}, {response.headers.get('content-type', '?')}); "
            "is the URL the Enterprise Tester address including the application path "
            "(e.g. https://host/EnterpriseTester)?"
        ) from None


ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_model(model: type[ModelT], data: Any, what: str) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ServerProtocolError(f"unexpected {what} from the server: {exc.errors()[0]}") from None
