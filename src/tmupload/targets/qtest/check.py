"""``tmupload check --target qtest``: each thing an upload needs, checked read-only.

Site and login, project, release, the parent cycle path, and the status map next to the
project's execution statuses (docs/servers/qtest.md §6: the automation strings themselves are mapped
in the project's Automation Settings, which the API does not show, so this is advice, not a
verdict).
"""

from __future__ import annotations

from collections.abc import Iterator

from tmupload.errors import ConfigError, TmUploadError
from tmupload.settings import Settings
from tmupload.targets.qtest.api import QTestApi, qtest_client
from tmupload.targets.qtest.payload import parse_status_map
from tmupload.targets.qtest.placement import find_project, resolve_placement
from tmupload.targets.toolkit.checks import CheckLine, configuration, first_call_failed, login_words

__all__ = ["run_checks"]


def run_checks(settings: Settings) -> Iterator[CheckLine]:
    """Yield (passed, line) for configuration, site, login, project, cycle and status map."""
    status_map = yield from configuration(
        settings,
        lambda: parse_status_map(settings.option("status_map"), settings.names("status_map")),
    )
    if status_map is None:
        return
    login = login_words(settings)
    with qtest_client(settings, attempts=2) as http:
        api = QTestApi(http)
        try:
            project_id, _ = find_project(api, str(settings.project))
        except ConfigError as exc:  # logged in, but no such project
            yield True, "site reachable"
            yield True, f"login: {login} accepted"
            yield False, f"project: {exc}"
            return
        except TmUploadError as exc:  # a 404 at the login or the project list is the URL
            yield from first_call_failed(exc, "site")
            return
        yield True, "site reachable"
        yield True, f"login: {login} accepted"
        yield True, f"project {settings.project!r} found (id {project_id})"
        try:
            placement = resolve_placement(
                api,
                project=project_id,
                cycle_path=settings.option("cycle"),
                release=settings.option("release"),
                create=False,
            )
        except TmUploadError as exc:
            yield False, f"release and test cycle: {exc}"
            return
        if placement.created:
            yield True, "test cycle: the first upload will create " + "; ".join(placement.created)
        else:
            yield True, f"test cycle {settings.option('cycle')!r} exists ({placement.cycle_pid})"
        try:
            statuses = [str(s.get("name")) for s in api.execution_statuses(project_id)]
        except TmUploadError as exc:
            yield False, f"execution statuses: {exc}"
            return
        sent = ", ".join(f"{outcome}={value}" for outcome, value in status_map.items())
        yield (
            True,
            f"status map {sent}: these automation strings must be mapped in the project's "
            "Automation Settings (Automation Integration) to its execution statuses "
            f"({', '.join(statuses) or 'none listed'}); change them with "
            f"{settings.flag('status_map')}",
        )
    # No call in the reference reads the account's own permissions: say what was not verified.
    yield (
        None,
        "write access: not verified (qTest's API does not tell an account its permissions); "
        "the account must be allowed to create test cycles and submit automation test logs — "
        "a read-only account gets HTTP 403 at the first upload",
    )
