"""Listing executions, setting their status, notes and time, and linking defects
(docs/servers/zephyr.md §5.5–§5.8).

Every write here validates its whole batch before it changes anything [inference]: one unknown
execution or inactive status rejects the call and leaves the others as they were.
"""

from __future__ import annotations

from typing import Any

from .base import Resources
from .config import ExecutionStatus
from .protocol import ApiError, Request, Response, as_int, json_response
from .state import Execution, User
from .views import execution_view, page_envelope

__all__ = ["ExecutionResources"]


class ExecutionResources(Resources):
    # -- reading (docs/servers/zephyr.md §5.5 step 3) ----------------------------------------------

    def get_executions(self, request: Request, user: User) -> Response:
        """``GET /execution?cyclephaseid=&offset=&pagesize=`` -> ``{"results": [...]}``.

        [inference] A page holds at most ``result_size_cap`` executions whatever ``pagesize``
        asks (an absent or 0 ``pagesize`` gets the cap too), and ``resultSize`` is the count
        of all of the phase's executions: a client that reads one page and stops, or stops at
        the first page shorter than its ``pagesize``, misses executions.
        """
        phase_id = request.int_param("cyclephaseid")
        if phase_id is None:
            raise ApiError(400, "Query parameter cyclephaseid is required.")
        phase = self.phase(phase_id)
        offset = max(request.int_param("offset", 0) or 0, 0)
        asked = request.int_param("pagesize", 0) or 0
        cap = self.config.result_size_cap
        size = min(asked, cap) if asked > 0 else cap
        executions = self.state.executions_of(phase.id)
        page = [execution_view(self.state, e) for e in executions[offset : offset + size]]
        return json_response(200, page_envelope(page, offset, len(executions)))

    def get_execution(self, request: Request, user: User, execution_id: str) -> Response:
        return json_response(200, execution_view(self.state, self.execution(int(execution_id))))

    def get_execution_ids(self, request: Request, user: User) -> Response:
        """docs/servers/zephyr.md §5.5 [BP]: ``GET /execution/ids?ids=``. [inference] unknown ids
        are skipped."""
        found = []
        for part in request.param("ids").split(","):
            if part.strip().isdigit() and int(part) in self.state.executions:
                found.append(execution_view(self.state, self.state.executions[int(part)]))
        return json_response(200, found)

    # -- one execution (docs/servers/zephyr.md §5.6, way 1) ----------------------------------------

    def put_execution(self, request: Request, user: User, execution_id: str) -> Response:
        """``PUT`` [BP] or ``POST`` [DOC] ``/execution/{id}?status=&testerid=&time=`` with an
        optional ``{"notes", …}`` body. Which method a server takes is [UNCONFIRMED];
        ``config.single_execute_methods`` decides (both by default), the other answers 405."""
        if request.method not in self.config.single_execute_methods:
            allowed = ", ".join(self.config.single_execute_methods)
            raise ApiError(405, f"{request.method} is not allowed here.", {"Allow": allowed})
        execution = self.execution(int(execution_id))
        status = self.active_status(request.param("status"))
        tester = self.tester(request.param("testerid"), user)
        body: dict[str, Any] = request.json_object() if request.body.strip() else {}
        notes = body.get("notes")
        if notes is not None and not isinstance(notes, str):
            raise ApiError(400, "notes must be a string.")
        actual = as_int(request.param("time"), "time", required=False)
        self._apply(execution, status, tester, user, notes, actual, None)
        return json_response(200, execution_view(self.state, execution))

    # -- many executions, one status (docs/servers/zephyr.md §5.6, way 2) --------------------------

    def put_execution_bulk(self, request: Request, user: User) -> Response:
        """``PUT /execution/bulk?status=&testerid=…`` with ``{"ids": [...], "serachView":
        false}`` (the plugin's spelling) -> array of RTS. [inference] ≤ ``max_bulk`` ids."""
        status = self.active_status(request.param("status"))
        tester = self.tester(request.param("testerid"), user)
        body = request.json_object()
        ids = body.get("ids")
        if not isinstance(ids, list) or not ids:
            raise ApiError(400, "ids must be a non-empty array of execution ids.")
        if len(ids) > self.config.max_bulk:
            raise ApiError(400, f"Too many ids: {len(ids)}; at most {self.config.max_bulk}.")
        executions = [self._known(as_int(i, "ids[]") or 0) for i in ids]
        for execution in executions:
            self._apply(execution, status, tester, user, None, None, None)
        return json_response(200, [execution_view(self.state, e) for e in executions])

    # -- many executions, each its own status (docs/servers/zephyr.md §5.6, way 3) -----------------

    def put_execution_bulk_execute(self, request: Request, user: User) -> Response:
        """``PUT /execution/bulk/execute`` with ``[{"rtsId", "testerId", "status", "notes",
        "actualTime" (ms), "executedOn" (ms), "changedOn", "changeBy"}]``, ≤500 a call."""
        items = request.json_list(self.config.max_bulk)
        planned = []
        for index, item in enumerate(items):
            where = f"item {index}"
            if not isinstance(item, dict):
                raise ApiError(400, f"{where} must be an object.")
            execution = self._known(as_int(item.get("rtsId"), f"{where}: rtsId") or 0)
            status = self.active_status(item.get("status"))
            tester = self.tester(item.get("testerId"), user)
            notes = item.get("notes")
            if notes is not None and not isinstance(notes, str):
                raise ApiError(400, f"{where}: notes must be a string.")
            actual = as_int(item.get("actualTime"), f"{where}: actualTime", required=False)
            if actual is not None and actual < 0:
                raise ApiError(400, f"{where}: actualTime must not be negative.")
            executed = as_int(item.get("executedOn"), f"{where}: executedOn", required=False)
            planned.append((execution, status, tester, notes, actual, executed))
        for execution, status, tester, notes, actual, executed in planned:
            self._apply(execution, status, tester, user, notes, actual, executed)
        return json_response(200, [execution_view(self.state, p[0]) for p in planned])

    def _known(self, execution_id: int) -> Execution:
        execution = self.state.executions.get(execution_id)
        if execution is None:
            raise ApiError(400, f"Execution {execution_id} does not exist.")
        return execution

    def _apply(
        self,
        execution: Execution,
        status: ExecutionStatus,
        tester_id: int,
        user: User,
        notes: str | None,
        actual_time: int | None,
        executed_on: int | None,
    ) -> None:
        """Overwrite (docs/servers/zephyr.md §6: repeating a status update just overwrites it)."""
        now = self.state.now_ms()
        execution.status_id = status.id
        execution.tester_id = tester_id
        execution.changed_on = now
        if status.id == self.config.not_executed_status_id:
            execution.executed_on = None
            execution.executed_by = None
        else:
            execution.executed_on = executed_on if executed_on is not None else now
            execution.executed_by = user.id
        if notes is not None:
            execution.notes = notes
        if actual_time is not None:
            execution.actual_time = actual_time

    # -- defects (docs/servers/zephyr.md §5.8) -----------------------------------------------------

    def post_defect_mapping(self, request: Request, user: User) -> Response:
        """``POST /defectmapping/`` "Save defect schedule" [BP]; the body is [UNCONFIRMED].

        [inference] Accepted: one object or an array of objects, each naming the execution as
        ``scheduleId`` (or ``releaseTestScheduleId``, the plugin's name for it in step
        results) and the defect as ``defectId`` (a key such as ``"PAY-17"``) or ``defectList``
        (an array of keys). Anything else is a 400 naming these shapes; an unknown execution
        or key is a 404. Linking a key twice keeps one link. Answers the links saved.
        """
        data = request.json()
        items = data if isinstance(data, list) else [data]
        if not items or len(items) > self.config.max_bulk:
            raise ApiError(400, f"Send 1 to {self.config.max_bulk} defect mappings.")
        planned: list[tuple[Execution, list[str]]] = []
        for index, item in enumerate(items):
            planned.append(self._mapping(index, item))
        saved = []
        for execution, keys in planned:
            for key in keys:
                if key not in execution.defects:
                    execution.defects.append(key)
                saved.append({"scheduleId": execution.id, "defectId": key})
        return json_response(200, saved)

    def _mapping(self, index: int, item: Any) -> tuple[Execution, list[str]]:
        shape = (
            'expected {"scheduleId": <execution id>, "defectId": "KEY-1"} or '
            '{"scheduleId": <execution id>, "defectList": ["KEY-1", ...]}'
        )
        if not isinstance(item, dict):
            raise ApiError(400, f"item {index}: {shape}.")
        schedule = item.get("scheduleId", item.get("releaseTestScheduleId"))
        if schedule is None:
            raise ApiError(400, f"item {index}: no scheduleId; {shape}.")
        if "defectId" in item and isinstance(item["defectId"], str) and item["defectId"]:
            keys = [item["defectId"]]
        elif isinstance(item.get("defectList"), list) and item["defectList"]:
            keys = item["defectList"]
            if not all(isinstance(k, str) and k for k in keys):
                raise ApiError(400, f"item {index}: defectList holds non-string keys; {shape}.")
        else:
            raise ApiError(400, f"item {index}: no defectId or defectList; {shape}.")
        execution_id = as_int(schedule, f"item {index}: scheduleId") or 0
        execution = self.state.executions.get(execution_id)
        if execution is None:
            raise ApiError(404, f"item {index}: execution {execution_id} not found.")
        unknown = [k for k in keys if k not in self.config.defects]
        if unknown:
            raise ApiError(404, f"item {index}: defect {', '.join(unknown)} not found.")
        return execution, list(keys)
