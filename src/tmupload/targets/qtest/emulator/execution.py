"""Submitting results (docs/servers/qtest.md §4.1), tracking jobs (docs/servers/qtest.md §5),
reading runs and logs (docs/servers/qtest.md §7.4, §8)."""

from __future__ import annotations

from .automation import submit
from .base import ResourceBase, int_id
from .protocol import (
    ApiError,
    Request,
    Response,
    file_response,
    json_response,
    page_of,
)
from .state import Project, TestLogItem, TestRunItem
from .views import attachment_view, job_view, log_view, run_view

__all__ = ["ExecutionResources"]

#: docs/servers/qtest.md §8: ``parentType`` of the test-run list.
RUN_PARENT_TYPES = ("root", "release", "test-cycle", "test-suite")


class ExecutionResources(ResourceBase):
    # -- submission and job (docs/servers/qtest.md §4.1, §5) ---------------------------------

    def post_auto_test_logs(self, request: Request, project_id: str) -> Response:
        """Queue a tree-structure batch; 201 with the job (docs/servers/qtest.md §4.1).

        Only what stops the body from being read answers an HTTP error: ``type`` other than
        ``automation`` and an unknown project (400, as docs/servers/qtest.md §4.2 says of the v3.1
        endpoint [inference for this one]) and a body that is not a JSON object (400). Everything
        about the content fails the *job* (docs/servers/qtest.md §9: "not HTTP errors").
        """
        if request.param("type") != "automation":
            raise ApiError(
                400,
                f"type must be 'automation' (got {request.param('type')!r}); ref: always "
                "use type=automation.",
            )
        project = self.project(project_id, missing_status=400)
        payload = request.json_object()
        job = submit(self.state, project.id, payload, request.login, self.now)
        view = job_view(self.state, job, self.now, minimal=self.strict)
        view["state"] = "IN_WAITING"  # [inference] a fresh job is always reported waiting
        return json_response(201, view)

    def get_job(self, request: Request, job_id: str) -> Response:
        """docs/servers/qtest.md §5: ``/api/v3/projects/queue-processing/{id}``, no project segment.
        Strict mode: a SUCCESS job's ``content`` is ``"{}"`` (``EmulatorConfig.strict``)."""
        job = self.state.jobs.get(int_id(job_id, "job"))
        if job is None:
            raise ApiError(404, f"Queue processing job {job_id} does not exist.")
        return json_response(200, job_view(self.state, job, self.now, minimal=self.strict))

    # -- test runs (docs/servers/qtest.md §8) ------------------------------------------------------

    def _runs_under(self, request: Request, project: Project) -> list[TestRunItem]:
        """[inference] no ``parentId`` and no ``parentType``: every run of the project. Runs
        always sit in a cycle here, so under the root or a release only ``descendants``
        finds any."""
        runs = [r for r in self.state.runs.values() if r.project_id == project.id]
        raw_type, raw_id = request.param("parentType").strip(), request.param("parentId").strip()
        if not raw_type and not raw_id:
            return runs
        parent_type = raw_type.lower() or "root"
        if parent_type not in RUN_PARENT_TYPES:
            raise ApiError(400, f"parentType '{raw_type}' is not one of {RUN_PARENT_TYPES}.")
        deep = "descendants" in request.param("expand").lower()
        if parent_type == "root":
            return runs if deep else []
        parent_id = int_id(raw_id or "0", "parent")
        if parent_type == "test-suite":
            raise ApiError(404, f"Test suite {parent_id} does not exist in project {project.id}.")
        if parent_type == "release":
            release = self.state.releases.get(parent_id)
            if release is None or release.project_id != project.id:
                raise ApiError(404, f"Release {parent_id} does not exist in project {project.id}.")
            if not deep:
                return []
            cycle_ids: set[int] = set()
            for top in self.state.child_cycles(project.id, "release", parent_id):
                cycle_ids |= self.state.descendant_cycle_ids(top)
        else:
            cycle = self.state.cycles.get(parent_id)
            if cycle is None or cycle.project_id != project.id:
                raise ApiError(
                    404, f"Test cycle {parent_id} does not exist in project {project.id}."
                )
            cycle_ids = self.state.descendant_cycle_ids(cycle) if deep else {cycle.id}
        return [r for r in runs if r.cycle_id in cycle_ids]

    def get_runs(self, request: Request, project_id: str) -> Response:
        """docs/servers/qtest.md §8 ``TestRunListResource``: ``{page, page_size, total, items}``, by
        id; docs/servers/qtest.md §2 ``page`` (1-based) and ``pageSize`` (default 100, cut to 999).
        Strict mode: no Automation Content on the runs (``EmulatorConfig.strict``)."""
        project = self.project(project_id)
        page = page_of(request)
        runs = sorted(self._runs_under(request, project), key=lambda r: r.id)
        expand_case = "testcase" in request.param("expand").lower()
        items = [
            run_view(
                self.state, run, request.root, expand_case=expand_case, automation=not self.strict
            )
            for run in page.slice(runs)
        ]
        return json_response(
            200,
            {
                "links": [],
                "page": page.number,
                "page_size": page.size,
                "total": len(runs),
                "items": items,
            },
        )

    def _run(self, project_id: str, run_id: str) -> TestRunItem:
        return self.in_project(self.state.runs, project_id, run_id, "Test run")

    def get_run(self, request: Request, project_id: str, run_id: str) -> Response:
        """One run; strict mode: no Automation Content (``EmulatorConfig.strict``)."""
        run = self._run(project_id, run_id)
        expand_case = "testcase" in request.param("expand").lower()
        view = run_view(
            self.state, run, request.root, expand_case=expand_case, automation=not self.strict
        )
        return json_response(200, view)

    # -- test logs (docs/servers/qtest.md §7.4) ----------------------------------------------------

    def get_logs(self, request: Request, project_id: str, run_id: str) -> Response:
        """Paged like the run list. [inference] newest first."""
        run = self._run(project_id, run_id)
        page = page_of(request)
        logs = [self.state.logs[i] for i in reversed(run.log_ids)]
        expand_case = "testcase" in request.param("expand").lower()
        return json_response(
            200,
            {
                "links": [],
                "page": page.number,
                "page_size": page.size,
                "total": len(logs),
                "items": [
                    log_view(self.state, log, request.root, expand_case=expand_case)
                    for log in page.slice(logs)
                ],
            },
        )

    def get_last_log(self, request: Request, project_id: str, run_id: str) -> Response:
        """docs/servers/qtest.md §7.4 ``…/test-logs/last-run`` (``expand=testcase`` adds the test
        case)."""
        run = self._run(project_id, run_id)
        log = self.state.latest_log(run)
        if log is None:
            raise ApiError(404, f"Test run {run.pid} has no test log.")  # [inference]
        expand_case = "testcase" in request.param("expand").lower()
        return json_response(200, log_view(self.state, log, request.root, expand_case=expand_case))

    def get_log(self, request: Request, project_id: str, run_id: str, log_id: str) -> Response:
        run = self._run(project_id, run_id)
        log = self.state.logs.get(int_id(log_id, "test log"))
        if log is None or log.run_id != run.id:
            raise ApiError(404, f"Test log {log_id} does not belong to test run {run.pid}.")
        expand_case = "testcase" in request.param("expand").lower()
        return json_response(200, log_view(self.state, log, request.root, expand_case=expand_case))

    # -- attachments (docs/servers/qtest.md §8: ``{objectType}/{objectId}/attachments[/{id}]``)

    def log_of(self, project: Project, log_id: str) -> TestLogItem:
        log = self.state.logs.get(int_id(log_id, "test log"))
        if log is None or self.state.runs[log.run_id].project_id != project.id:
            raise ApiError(404, f"Test log {log_id} does not exist in project {project.id}.")
        return log

    def get_log_attachments(self, request: Request, project_id: str, log_id: str) -> Response:
        project = self.project(project_id)
        log = self.log_of(project, log_id)
        return json_response(
            200, [attachment_view(a, project.id, request.root) for a in log.attachments]
        )

    def get_log_attachment(
        self, request: Request, project_id: str, log_id: str, attachment_id: str
    ) -> Response:
        """The file's bytes with its content type."""
        log = self.log_of(self.project(project_id), log_id)
        wanted = int_id(attachment_id, "attachment")
        for attachment in log.attachments:
            if attachment.id == wanted:
                a = attachment
                return file_response(a.name, a.content_type, a.data, "attachment")
        raise ApiError(404, f"Attachment {attachment_id} does not belong to test log {log.id}.")
