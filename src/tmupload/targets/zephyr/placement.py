"""Who uploads and where (docs/servers/zephyr.md §3, §5.1, §5.6; §7 steps 1-2). Read-only.

The tester id from ``GET /user/current``; the project and the release by numeric id or exact
name (never created); the server's execution status list, against which the status map is
checked here — before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from tmupload.errors import ConfigError, ServerProtocolError
from tmupload.settings import Settings
from tmupload.targets.zephyr.api import ZephyrApi, as_id
from tmupload.targets.zephyr.statusmap import (
    ServerStatus,
    parse_status_list,
    resolve_status_map,
)

__all__ = [
    "Placement",
    "find_project",
    "find_release",
    "resolve_placement",
    "server_statuses",
    "tester_id",
]


@dataclass
class Placement:
    tester_id: int
    project_id: int
    project_name: str
    release_id: int
    release_name: str
    #: outcome -> status id to send; None: leave the execution unexecuted
    statuses: dict[str, str | None]
    #: every status the server has: id -> name (to word what is read back)
    status_names: dict[str, str]

    def as_data(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Placement:
        return cls(**{key: data[key] for key in cls.__dataclass_fields__})


def tester_id(api: ZephyrApi) -> int:
    """docs/servers/zephyr.md §3: ``GET /user/current`` -> ``id``, the ``testerId`` of every
    execution."""
    user = api.current_user()
    found = as_id(user.get("id"))
    if found is None:
        raise ServerProtocolError(
            "GET /user/current answered without a numeric id: is --tm-url a Zephyr "
            "Enterprise server (e.g. https://ze.example.com)?"
        )
    return found


def find_project(
    api: ZephyrApi, project: str, user_id: int, flag: str = "--tm-project"
) -> tuple[int, str]:
    """(id, name) of the project given by numeric id or exact name; never created."""
    if project.isdigit():
        found = api.project(int(project))
        if found is not None and as_id(found.get("id")) is not None:
            return int(project), str(found.get("name") or project)
    projects = api.projects(user_id)
    named = [p for p in projects if str(p.get("name", "")) == project and as_id(p.get("id"))]
    if not named:
        visible = ", ".join(sorted(str(p.get("name")) for p in projects)[:20]) or "none"
        raise ConfigError(
            f"there is no Zephyr project {project!r} visible to this account (a name must "
            f"match exactly, or give the numeric id; visible: {visible}); tmupload never "
            f"creates projects — fix {flag} or ask for access"
        )
    chosen = min(named, key=lambda p: as_id(p["id"]) or 0)
    return int(as_id(chosen["id"]) or 0), project


def find_release(
    api: ZephyrApi, project_id: int, release: str, flag: str = "--tm-release"
) -> tuple[int, str]:
    """(id, name) of the release given by exact name or id (docs/servers/zephyr.md §5.1); never
    created."""
    releases = api.releases(project_id)
    for item in releases:
        if str(item.get("name", "")) == release and as_id(item.get("id")) is not None:
            return int(as_id(item["id"]) or 0), release
    for item in releases:
        if release.isdigit() and as_id(item.get("id")) == int(release):
            return int(release), str(item.get("name") or release)
    names = ", ".join(str(r.get("name")) for r in releases[:20]) or "none"
    raise ConfigError(
        f"there is no release {release!r} in the Zephyr project (exact name or id; it has: "
        f"{names}); tmupload never creates releases — fix {flag}"
    )


def _flag(settings: Settings, name: str) -> str:
    return settings.flag(name)


#: How many release names a message lists.
SHOWN_RELEASES = 20


def offer_releases(settings: Settings, missing: tuple[str, ...]) -> str:
    """For "upload needs --tm-release": the releases of the project, so the user can pick
    one without opening Zephyr. Best effort and quick (one attempt, a few seconds): this
    adds to an error, so any failure only leaves the list out."""
    from tmupload.errors import TmUploadError
    from tmupload.http.poll import Deadline
    from tmupload.targets.zephyr.api import zephyr_client

    if "release" not in missing or settings.project is None:
        return ""
    quick = settings.model_copy(update={"timeout": min(settings.timeout, 5.0)})
    try:
        with zephyr_client(quick, attempts=1, deadline=Deadline(10.0)) as http:
            api = ZephyrApi(http)
            project_id, name = find_project(
                api, settings.project, tester_id(api), _flag(settings, "project")
            )
            releases = [str(item.get("name")) for item in api.releases(project_id)]
    except TmUploadError:
        return ""
    shown = ", ".join(releases[:SHOWN_RELEASES]) or "none"
    if len(releases) > SHOWN_RELEASES:
        shown += f", … ({len(releases)} in all)"
    return f"; the releases of the project {name!r}: {shown}"


def server_statuses(api: ZephyrApi) -> list[ServerStatus]:
    return parse_status_list(api.status_preference())


def resolve_placement(
    api: ZephyrApi, settings: Settings, status_map: Mapping[str, str]
) -> Placement:
    """Everything an upload needs before its first write; raises ConfigError early."""
    assert settings.project is not None
    tester = tester_id(api)
    project_id, project_name = find_project(
        api, settings.project, tester, _flag(settings, "project")
    )
    release = str(settings.option("release"))
    release_id, release_name = find_release(api, project_id, release, _flag(settings, "release"))
    statuses = server_statuses(api)
    resolved = resolve_status_map(status_map, statuses, settings.flag("status_map"))
    return Placement(
        tester_id=tester,
        project_id=project_id,
        project_name=project_name,
        release_id=release_id,
        release_name=release_name,
        statuses=resolved,
        status_names={s.id: s.name for s in statuses},
    )
