"""Where a run goes in ET: project, script package path, automated test, execution package
path and assignment (docs/servers/et.md §9 steps 2-4, §9 steps 2-4)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tmupload.errors import ConfigError
from tmupload.settings import Settings
from tmupload.targets.et.api import EtApi
from tmupload.targets.et.models import EtEntity

__all__ = ["Placement", "resolve_placement", "split_path"]


@dataclass
class Placement:
    project_id: str | None = None
    script_package_id: str | None = None
    automated_test_id: str | None = None
    execution_package_id: str | None = None
    assignment_id: str | None = None
    # Human-readable lines for what is (or, in a dry run, would be) created.
    created: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.assignment_id is not None


def split_path(path: str) -> list[str]:
    """Package paths are written with ``/`` (README.md#configuration); empty segments are
    dropped."""
    return [segment.strip() for segment in path.split("/") if segment.strip()]


def _exact(items: list[EtEntity], name: str) -> EtEntity | None:
    # TQL's ``~`` is *contains* and Packages() may match by name anywhere: pick the exact name.
    for item in items:
        if item.Name == name:
            return item
    return None


def _package_path(
    api: EtApi,
    kind: str,
    label: str,
    path: str,
    project_id: str,
    placement: Placement,
    *,
    create: bool,
) -> str | None:
    segments = split_path(path)
    if not segments:
        raise ConfigError(f"the {label} path {path!r} is empty")
    parent_id: str | None = None
    for depth, segment in enumerate(segments):
        if parent_id is None and depth > 0:
            # An earlier segment would be created in a dry run: everything below is new too.
            placement.created.append(f"{label} {'/'.join(segments[: depth + 1])}")
            continue
        if depth == 0:
            found = _exact(api.find_packages(kind, segment, project_id=project_id), segment)
        else:
            found = _exact(api.find_packages(kind, segment, parent_id=parent_id), segment)
        if found is not None:
            parent_id = found.Id
            continue
        placement.created.append(f"{label} {'/'.join(segments[: depth + 1])}")
        if not create:
            parent_id = None
            continue
        if depth == 0:
            parent_id = api.create_package(kind, segment, project_id=project_id).Id
        else:
            parent_id = api.create_package(kind, segment, parent_id=parent_id).Id
    return parent_id


#: How many project names a "no such project" message lists.
SHOWN_PROJECTS = 20


def find_project(api: EtApi, name: str) -> str:
    projects = [item for item in api.find_projects(name) if item.Name == name]
    if not projects:
        names = api.project_names(SHOWN_PROJECTS + 1)
        visible = ", ".join(names[:SHOWN_PROJECTS]) or "none"
        if len(names) > SHOWN_PROJECTS:
            visible += ", …"
        raise ConfigError(
            f"there is no project named {name!r} on the server (names are exact and "
            f"case-sensitive; this account sees: {visible}); tmupload never creates projects "
            f"— create it in Enterprise Tester or fix {api.http.flag('project')}"
        )
    return projects[0].Id


def resolve_placement(api: EtApi, settings: Settings, *, create: bool) -> Placement:
    """Find, and unless ``create`` is False also create, everything down to the assignment
    (the project, packages and automated test the settings name)."""
    project = settings.project
    assert project is not None
    script_package = settings.option("script_package")
    automated_test = settings.option("automated_test")
    execution_package = settings.option("execution_package")
    placement = Placement()
    placement.project_id = find_project(api, project)
    placement.script_package_id = _package_path(
        api,
        "scriptpackages",
        "script package",
        script_package,
        placement.project_id,
        placement,
        create=create,
    )
    if placement.script_package_id is not None:
        found = _exact(
            api.find_automated_tests(automated_test, placement.script_package_id), automated_test
        )
        if found is not None:
            placement.automated_test_id = found.Id
    if placement.automated_test_id is None:
        placement.created.append(f"automated test {automated_test!r} (UnitTest/JUnit)")
        if create:
            assert placement.script_package_id is not None
            placement.automated_test_id = api.create_automated_test(
                automated_test, placement.script_package_id
            ).Id
    placement.execution_package_id = _package_path(
        api,
        "executionpackages",
        "execution package",
        execution_package,
        placement.project_id,
        placement,
        create=create,
    )
    if placement.automated_test_id and placement.execution_package_id:
        assignments = api.find_assignments(
            placement.automated_test_id, placement.execution_package_id
        )
        if assignments:
            placement.assignment_id = assignments[0].Id
    if placement.assignment_id is None:
        placement.created.append(
            f"assignment of {automated_test!r} in execution package {execution_package!r}"
        )
        if create:
            assert placement.automated_test_id and placement.execution_package_id
            placement.assignment_id = api.create_assignment(
                placement.automated_test_id, placement.execution_package_id
            ).Id
    return placement
