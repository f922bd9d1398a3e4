"""``tmupload check --target zephyr``: each thing an upload needs, checked read-only.

Server and login (``GET /user/current``, docs/servers/zephyr.md §3), project and release
(docs/servers/zephyr.md §5.1), the cycle (docs/servers/zephyr.md §5.4), and the status map against
the server's status list (docs/servers/zephyr.md §5.6) — the same check an upload makes before its
first write.
"""

from __future__ import annotations

from collections.abc import Iterator

from tmupload.errors import TmUploadError
from tmupload.settings import Settings
from tmupload.targets.toolkit.checks import CheckLine, configuration, first_call_failed, login_words
from tmupload.targets.zephyr.api import ZephyrApi, zephyr_client
from tmupload.targets.zephyr.cycle import find_cycle
from tmupload.targets.zephyr.placement import (
    find_project,
    find_release,
    server_statuses,
    tester_id,
)
from tmupload.targets.zephyr.statusmap import parse_status_map, resolve_status_map

__all__ = ["run_checks"]


def run_checks(settings: Settings) -> Iterator[CheckLine]:
    """Yield (passed, line) for configuration, server, login, project, release, cycle and
    statuses."""

    def flag(name: str) -> str:
        return settings.flag(name)

    option = flag("status_map")
    status_map = yield from configuration(
        settings, lambda: parse_status_map(settings.option("status_map"), option)
    )
    if status_map is None:
        return
    login = login_words(settings)
    with zephyr_client(settings, attempts=2) as http:
        api = ZephyrApi(http)
        try:
            tester = tester_id(api)
        except TmUploadError as exc:  # a 404 at GET /user/current is the URL
            yield from first_call_failed(exc, "server")
            return
        yield True, "server reachable"
        yield True, f"login: {login} accepted (tester id {tester})"
        try:
            project_id, _ = find_project(api, str(settings.project), tester, flag("project"))
            yield True, f"project {settings.project!r} found (id {project_id})"
            release = str(settings.option("release"))
            release_id, _ = find_release(api, project_id, release, flag("release"))
            yield True, f"release {release!r} found (id {release_id})"
        except TmUploadError as exc:
            yield False, f"project and release: {exc}"
            return
        cycle = str(settings.option("cycle"))
        try:
            found = find_cycle(api, release_id, cycle)
        except TmUploadError as exc:
            yield False, f"cycle: {exc}"
            return
        if found is None:
            yield True, f"cycle {cycle!r}: the first upload will create it"
        else:
            yield True, f"cycle {cycle!r} exists (id {found.get('id')})"
        try:
            statuses = server_statuses(api)
            resolved = resolve_status_map(status_map, statuses, option)
        except TmUploadError as exc:
            yield False, f"statuses: {exc}"
            return
        names = {s.id: s.name for s in statuses}
        sent = ", ".join(
            f"{outcome}={'unexecuted' if value is None else names.get(value, value)}"
            for outcome, value in resolved.items()
        )
        yield True, f"statuses: {sent} (all active on the server)"
    # No call in the reference reads the account's own permissions: say what was not verified.
    yield (
        None,
        "write access: not verified (the API does not tell an account its permissions); the "
        "account must be allowed to create test cases, cycles and phases and to execute — a "
        "read-only account gets HTTP 403 at the first upload",
    )
