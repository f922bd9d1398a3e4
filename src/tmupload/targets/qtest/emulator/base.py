"""What every group of API handlers shares: the state, the request time, id parsing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, TypeVar

from .config import EmulatorConfig
from .protocol import ApiError
from .state import Project, State

__all__ = ["ResourceBase", "int_id"]


class _ProjectItem(Protocol):
    @property
    def project_id(self) -> int: ...


Item = TypeVar("Item", bound=_ProjectItem)


def int_id(text: str, what: str) -> int:
    """A path id (docs/servers/qtest.md §2: int64). [inference] anything else answers 400."""
    try:
        return int(text)
    except ValueError:
        raise ApiError(400, f"The {what} id '{text}' is not a number.") from None


class ResourceBase:
    """Handlers run under the emulator's lock; ``now`` is the time of the current request."""

    config: EmulatorConfig
    state: State
    now: float
    #: Strict mode now (``EmulatorConfig.strict``, switched by ``/_emulator/strict``).
    strict: bool

    def project(self, text: str, *, missing_status: int = 404) -> Project:
        """The project of a ``/projects/{projectId}`` path. [inference] unknown: 404 with a
        message (docs/servers/qtest.md §4.2 gives 400 for the v3.1 submission; ``missing_status``
        says which)."""
        project = self.state.projects.get(int_id(text, "project"))
        if project is None:
            raise ApiError(missing_status, f"Project {text} does not exist or you cannot see it.")
        return project

    def in_project(
        self, items: Mapping[int, Item], project_id: str, item_id: str, noun: str
    ) -> Item:
        """The item of a ``/projects/{projectId}/…/{id}`` path, ``noun`` naming its kind ("Test
        run"): 404 when it is unknown or belongs to another project, since ids are site-wide."""
        project = self.project(project_id)
        item = items.get(int_id(item_id, noun.lower()))
        if item is None or item.project_id != project.id:
            raise ApiError(404, f"{noun} {item_id} does not exist in project {project.id}.")
        return item
