"""Where results go in qTest: the project, an optional release, the parent test-cycle path
(docs/servers/qtest.md §8; §10 step 2). Below that cycle qTest builds the sub-cycles from
``module_names`` by itself (docs/servers/qtest.md §4.1), so only this path is found or created here.

Creating a cycle is not idempotent, and qTest allows two cycles of one name: each creation is
declared in the journal first, every segment is looked up by exact name before it is created,
and among same-named cycles the oldest (lowest id) is always the one used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from tmupload.errors import ConfigError, ServerProtocolError, ServerUnavailable, TransportError
from tmupload.settings import Settings
from tmupload.targets.base import Journal
from tmupload.targets.qtest.api import QTestApi

__all__ = ["Placement", "find_project", "placement_for", "resolve_placement", "split_path"]


@dataclass
class Placement:
    project_id: str
    project_name: str
    release_id: str | None = None
    cycle_id: str | None = None  # None in a dry run when the path does not exist yet
    cycle_pid: str | None = None
    cycle_url: str | None = None
    created: list[str] = field(default_factory=list)

    def as_data(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "project_name": self.project_name,
            "release_id": self.release_id,
            "cycle_id": self.cycle_id,
            "cycle_pid": self.cycle_pid,
            "cycle_url": self.cycle_url,
            "created": self.created,
        }


def split_path(path: str) -> list[str]:
    """``--tm-cycle`` segments are separated by ``/`` (README.md#configuration); empty ones are
    dropped."""
    return [segment.strip() for segment in path.split("/") if segment.strip()]


#: How many project names a "no such project" message lists (as Zephyr's does).
SHOWN_PROJECTS = 20


def find_project(api: QTestApi, project: str) -> tuple[str, str]:
    """(id, name) of the project given by numeric id or exact name; never created."""
    if project.isdigit():
        found = api.project(project)
        if found is not None and found.get("id") is not None:
            return str(found["id"]), str(found.get("name") or project)
    projects = api.projects()
    named = [item for item in projects if str(item.get("name")) == project]
    if not named:
        names = sorted(str(item.get("name")) for item in projects)
        visible = ", ".join(names[:SHOWN_PROJECTS]) or "none"
        if len(names) > SHOWN_PROJECTS:
            visible += f", … ({len(names)} in all)"
        raise ConfigError(
            f"there is no qTest project {project!r} visible to this account (a name must match "
            f"exactly, or give the numeric id; visible: {visible}); tmupload never creates "
            f"projects — fix {api.http.flag('project')} or ask for access"
        )
    return str(named[0]["id"]), project


def _release(api: QTestApi, project_id: str, release: str) -> str:
    for item in api.releases(project_id):
        if str(item.get("name")) == release or str(item.get("id")) == release:
            return str(item["id"])
        if str(item.get("pid") or "") == release:
            return str(item["id"])
    raise ConfigError(
        f"there is no release {release!r} in the qTest project (name, id or PID, exact); "
        f"tmupload never creates releases — fix {api.http.flag('release')} or leave it out to "
        "put the cycle under the project's root"
    )


def _oldest(cycles: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    same = [c for c in cycles if str(c.get("name", "")).strip() == name and "id" in c]
    return min(same, key=lambda c: int(c["id"]) if str(c["id"]).isdigit() else 0) if same else None


def resolve_placement(
    api: QTestApi,
    *,
    project: str,
    cycle_path: str,
    release: str | None,
    create: bool,
    journal: Journal | None = None,
) -> Placement:
    """Find, and unless ``create`` is False also create, the parent cycle path."""
    project_id, project_name = find_project(api, project)
    placement = Placement(project_id, project_name)
    parent_type, parent_id = "root", "0"
    if release:
        placement.release_id = _release(api, project_id, release)
        parent_type, parent_id = "release", placement.release_id
    segments = split_path(cycle_path)
    if not segments:
        raise ConfigError(
            f"the test cycle path {cycle_path!r} is empty: fix {api.http.flag('cycle')}"
        )
    cycle: dict[str, Any] | None = None
    for depth, name in enumerate(segments):
        path = "/".join(segments[: depth + 1])
        found = _oldest(api.cycles(project_id, parent_type, parent_id), name)
        if found is None:
            placement.created.append(f"test cycle {path}")
            if not create:
                return placement  # dry run: everything below is new too
            found = _create(api, project_id, parent_type, parent_id, name, path, journal)
        cycle = found
        parent_type, parent_id = "test-cycle", str(found["id"])
    assert cycle is not None
    placement.cycle_id = str(cycle["id"])
    placement.cycle_pid = str(cycle.get("pid") or "") or None
    placement.cycle_url = str(cycle.get("web_url") or "") or None
    return placement


def placement_for(
    api: QTestApi, settings: Settings, *, create: bool, journal: Journal | None
) -> Placement:
    """``resolve_placement`` for the project, release and cycle path the settings name."""
    assert settings.project is not None
    return resolve_placement(
        api,
        project=settings.project,
        cycle_path=settings.option("cycle"),
        release=settings.option("release"),
        create=create,
        journal=journal,
    )


def _create(
    api: QTestApi,
    project_id: str,
    parent_type: str,
    parent_id: str,
    name: str,
    path: str,
    journal: Journal | None,
) -> dict[str, Any]:
    step = f"cycle:{path}"
    if journal is not None:
        journal.declare(step, {"parent": f"{parent_type}:{parent_id}", "at_epoch": time.time()})
    try:
        created = api.create_cycle(project_id, parent_type, parent_id, name)
    except (TransportError, ServerUnavailable):
        # The answer was lost: the cycle may exist now. Look before anyone creates it again.
        again = _oldest(api.cycles(project_id, parent_type, parent_id), name)
        if again is None:
            raise
        created = again
    if "id" not in created:
        raise ServerProtocolError(f"the server created the test cycle {path!r} but named no id")
    if journal is not None:
        journal.finish(step, {"id": str(created["id"])})
    return created
