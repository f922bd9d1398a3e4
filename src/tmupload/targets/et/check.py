"""``tmupload check``: each thing an upload needs, checked read-only, one line each with the fix."""

from __future__ import annotations

from collections.abc import Iterator

from tmupload.errors import ConfigError, TmUploadError
from tmupload.settings import Settings
from tmupload.targets.et.api import EtApi, et_client
from tmupload.targets.et.placement import resolve_placement
from tmupload.targets.toolkit.checks import CheckLine, first_call_failed

__all__ = ["run_checks"]


def run_checks(settings: Settings) -> Iterator[CheckLine]:
    """Yield (passed, line) for configuration, reachability, login, project and placement."""
    try:
        settings.require_target()
    except ConfigError as exc:
        yield False, f"configuration: {exc}"
        return
    yield True, f"configuration: {settings.url} as {settings.user}"
    with et_client(settings, attempts=2) as http:
        api = EtApi(http)
        scheme = "https (certificate verified)" if str(settings.url).startswith("https") else "http"
        try:
            api.root()
            info = api.systeminfo()
        except TmUploadError as exc:  # a 404 at GET /api is the URL
            reached = f"server reachable over {scheme}"
            yield from first_call_failed(exc, "server", reached=reached, login_statuses=(401,))
            return
        yield True, f"server reachable over {scheme}"
        yield (
            True,
            f"login: {settings.user} accepted by Enterprise Tester {info.get('Version', '?')}",
        )
        try:
            placement = resolve_placement(api, settings, create=False)
        except TmUploadError as exc:
            yield False, f"project and placement: {exc}"
            return
        yield True, f"project {settings.project!r} found"
        if placement.created:
            yield True, "placement: the first upload will create " + "; ".join(placement.created)
        else:
            yield True, "placement: script package, automated test and assignment exist"
        try:
            assert placement.project_id is not None
            project = api.project(placement.project_id, expand="ExternalSystemLinks")
        except TmUploadError as exc:
            yield False, f"external system links: {exc}"
            return
        links = [
            link for link in project.get("ExternalSystemLinks") or [] if isinstance(link, dict)
        ]
        trackers = [link for link in links if link.get("Type") == "Incident"]
        if trackers:
            names = ", ".join(str(link.get("Name") or link.get("Id")) for link in trackers)
            yield True, f"defect trackers for ticket links: {names}"
        else:
            yield (
                settings.no_link,
                "defect trackers: the project has none, so tickets cannot be linked "
                "(add an external system link in ET, or use --no-link)",
            )
    # ET has no documented call that reads an account's own permissions (docs/servers/et.md §3.2):
    # say plainly what was not verified instead of implying that all is well.
    yield (
        None,
        f"write access: not verified (Enterprise Tester does not tell an account its "
        f"permissions); {settings.user!r} must be allowed to create script and execution "
        "packages, automated tests and assignments, and to post runs — a read-only account "
        "gets HTTP 403 at the first upload",
    )
