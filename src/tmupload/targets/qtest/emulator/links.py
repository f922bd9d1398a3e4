"""Linking defects to test logs after the submission, and reading links back
(docs/servers/qtest.md §7.2, §7.3).

Links live on test *logs* (docs/servers/qtest.md §7.3: a test run cannot be a link source). The
defects that exist are those of ``EmulatorConfig.defects``.
"""

from __future__ import annotations

from typing import Any

from .base import ResourceBase, int_id
from .protocol import ApiError, Request, Response, json_response
from .state import Defect, Project, TestLogItem
from .views import defect_object

__all__ = ["LinkResources"]

#: docs/servers/qtest.md §7.3: the ``type`` values of ``…/link`` and ``linked-artifacts``.
ARTIFACT_TYPES = (
    "releases",
    "builds",
    "requirements",
    "test-cases",
    "test-runs",
    "test-logs",
    "test-steps",
    "defects",
)


class LinkResources(ResourceBase):
    def _log(self, project: Project, log_id: str) -> TestLogItem:
        log = self.state.logs.get(int_id(log_id, "test log"))
        if log is None or self.state.runs[log.run_id].project_id != project.id:
            # docs/servers/qtest.md §7.2: the spec's 404 text is "Link defect unsuccessfully"
            raise ApiError(404, f"Link defect unsuccessfully: test log {log_id} does not exist.")
        return log

    def _keys(self, request: Request) -> list[str]:
        body = request.json()
        if not isinstance(body, list) or not body or not all(isinstance(k, str) for k in body):
            raise ApiError(400, "The body must be a non-empty JSON array of defect PIDs or keys.")
        return list(dict.fromkeys(k.strip() for k in body if k.strip()))

    def _defects(self, project: Project, keys: list[str]) -> list[Defect]:
        """Every key resolved, or 404 naming the unknown ones.

        [inference] all or nothing: with one unknown key, nothing is linked (the reference
        gives only the 404 and its text "Link defect unsuccessfully", docs/servers/qtest.md §7.2).
        """
        found = [(key, self.state.defect_by_key(project.id, key)) for key in keys]
        unknown = [key for key, defect in found if defect is None]
        if unknown:
            raise ApiError(
                404,
                "Link defect unsuccessfully: could not find defect(s) in qTest Manager: "
                + ", ".join(unknown),
            )
        return [defect for _, defect in found if defect is not None]

    def post_log_defects(self, request: Request, project_id: str, log_id: str) -> Response:
        """docs/servers/qtest.md §7.2 ``POST …/test-logs/{id}/defects`` with ``["PAY-17"]`` -> 201,
        an array of ``LinkedDefectContainer``. [inference] a key already linked stays linked
        once."""
        project = self.project(project_id)
        log = self._log(project, log_id)
        defects = self._defects(project, self._keys(request))
        for defect in defects:
            if defect.id not in log.defect_ids:
                log.defect_ids.append(defect.id)
        return json_response(201, [{"id": log.id, "objects": [defect_object(d) for d in defects]}])

    def delete_log_defects(self, request: Request, project_id: str, log_id: str) -> Response:
        """docs/servers/qtest.md §7.2: ``DELETE`` with the same body unlinks; 200 with the unlinked
        keys."""
        project = self.project(project_id)
        log = self._log(project, log_id)
        removed = []
        for key in self._keys(request):
            defect = self.state.defect_by_key(project.id, key)
            if defect is not None and defect.id in log.defect_ids:
                log.defect_ids.remove(defect.id)
                removed.append(defect.key)
        return json_response(200, removed)

    def _link_type(self, request: Request) -> str:
        link_type = request.param("type")
        if link_type not in ARTIFACT_TYPES:
            raise ApiError(400, f"type must be one of {', '.join(ARTIFACT_TYPES)}.")
        return link_type

    def _ids(self, request: Request) -> list[int]:
        body = request.json()
        if not isinstance(body, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in body
        ):
            raise ApiError(400, "The body must be a JSON array of int64 ids.")
        return list(dict.fromkeys(body))

    def post_log_link(self, request: Request, project_id: str, log_id: str) -> Response:
        """docs/servers/qtest.md §7.3 ``…/test-logs/{id}/link?type=defects`` with internal ids ->
        200; "System will ignore those objects that cannot be linked" (any other ``type`` links
        nothing here [inference])."""
        project = self.project(project_id)
        log = self._log(project, log_id)
        link_type, ids = self._link_type(request), self._ids(request)
        linked = []
        if link_type == "defects":
            for defect_id in ids:
                defect = self.state.defects.get(defect_id)
                if defect is None or defect.project_id != project.id:
                    continue
                if defect.id not in log.defect_ids:
                    log.defect_ids.append(defect.id)
                linked.append(defect)
        return json_response(200, [{"id": log.id, "objects": [_link(d) for d in linked]}])

    def delete_log_link(self, request: Request, project_id: str, log_id: str) -> Response:
        project = self.project(project_id)
        log = self._log(project, log_id)
        link_type, ids = self._link_type(request), self._ids(request)
        removed = []
        if link_type == "defects":
            for defect_id in ids:
                if defect_id in log.defect_ids:
                    log.defect_ids.remove(defect_id)
                    removed.append(self.state.defects[defect_id])
        return json_response(200, [{"id": log.id, "objects": [_link(d) for d in removed]}])

    def get_linked_artifacts(self, request: Request, project_id: str) -> Response:
        """docs/servers/qtest.md §7.3 ``linked-artifacts?type=<source type>&ids=1&ids=2`` (or
        ``pids=`` with defect keys when ``type=defects``): one container per source object found.

        [inference] ``type`` names the type of the objects given by ``ids``/``pids`` (the
        link source); ``ids`` may also be comma-separated; unknown ids are left out.
        """
        project = self.project(project_id)
        source_type = self._link_type(request)
        raw = [part for value in request.params("ids") for part in value.split(",")]
        pids = [part for value in request.params("pids") for part in value.split(",")]
        if not raw and not pids:
            raise ApiError(400, "Give ids (or pids with type=defects).")
        ids = [int_id(text.strip(), "object") for text in raw if text.strip()]
        containers: list[dict[str, Any]] = []
        if source_type == "test-logs":
            for log_id in ids:
                log = self.state.logs.get(log_id)
                if log is None or self.state.runs[log.run_id].project_id != project.id:
                    continue
                defects = [self.state.defects[i] for i in log.defect_ids]
                containers.append({"id": log.id, "objects": [defect_object(d) for d in defects]})
        elif source_type == "defects":
            wanted = [self.state.defects.get(i) for i in ids]
            wanted += [self.state.defect_by_key(project.id, pid) for pid in pids if pid.strip()]
            for defect in wanted:
                if defect is None or defect.project_id != project.id:
                    continue
                logs = [log for log in self.state.logs.values() if defect.id in log.defect_ids]
                containers.append(
                    {
                        "id": defect.id,
                        "pid": defect.key,
                        "objects": [
                            {"id": log.id, "link_type": "is_associated_with"} for log in logs
                        ],
                    }
                )
        else:
            containers = [{"id": i, "objects": []} for i in ids]
        return json_response(200, containers)


def _link(defect: Defect) -> dict[str, Any]:
    """[inference] a ``LinkedArtifactContainer`` object (docs/servers/qtest.md §7.3 names no
    fields)."""
    return {"id": defect.id, "pid": defect.key, "link_type": "is_associated_with"}
