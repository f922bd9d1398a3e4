"""The tree-structure batch submission (docs/servers/qtest.md §4.1) and its queue job
(docs/servers/qtest.md §5).

``POST …/auto-test-logs`` only queues the body (``submit``). The job lands lazily: no thread
runs it. :func:`process_due_jobs`, called at the start of every request and by the snapshot,
validates and applies each job whose ``job_delay`` has passed, in submission order. A job
with any invalid log ends ``FAILED`` and changes nothing [inference: the reference does not
say whether a batch is partly applied]; otherwise it ends ``SUCCESS`` with a JSON *string*
``content`` (docs/servers/qtest.md §5).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from .fields import (
    parse_attachments,
    parse_defect_keys,
    parse_status,
    parse_steps,
    parse_text,
)
from .protocol import parse_time
from .state import (
    TERMINAL_STATES,
    Attachment,
    Cycle,
    Job,
    State,
    StepLog,
    TestCaseItem,
    TestLogItem,
    TestRunItem,
)

__all__ = ["BatchError", "process_due_jobs", "submit"]

#: [inference] qTest limits names to 500 characters (the spec's bound for cycle names,
#: docs/servers/qtest.md §8).
MAX_NAME = 500
#: docs/servers/qtest.md §7.1: the spec's text for a defect that cannot be linked.
DEFECT_NOT_FOUND = "Could not find defect(s) in qTest Manager"


class BatchError(Exception):
    """The job fails: ``errors`` holds one ``{index, automation_content, error}`` per problem."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


@dataclass
class _Log:
    name: str
    content: str
    module_names: list[str]
    status: str
    automation_status: str
    start: float
    end: float
    note: str
    build_number: str
    build_url: str
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)
    steps: list[StepLog] = field(default_factory=list)
    defect_keys: list[str] = field(default_factory=list)


def submit(state: State, project_id: int, payload: Any, login: str, now: float) -> Job:
    """Queue a submission; it lands ``job_delay`` seconds later (docs/servers/qtest.md §5)."""
    job = Job(state.new_id(), project_id, payload, login, now, now + state.config.job_delay)
    state.jobs[job.id] = job
    return job


def process_due_jobs(state: State, now: float) -> None:
    pending = [j for j in state.jobs.values() if j.state not in TERMINAL_STATES]
    for job in sorted(pending, key=lambda j: (j.due_at, j.id)):
        if job.due_at > now:
            break
        _process(state, job)


def _process(state: State, job: Job) -> None:
    try:
        cycle, logs = _validate(state, job.project_id, job.payload)
    except BatchError as exc:
        job.state = "FAILED"
        if state.config.plain_text_failures:
            details = "; ".join(f"test_logs[{e['index']}]: {e['error']}" for e in exc.errors)
            job.content = f"{exc.message} {details}".strip()
        else:
            job.content = json.dumps({"message": exc.message, "errors": exc.errors})
        return
    result = _apply(state, job, cycle, logs)
    job.state = "SUCCESS"
    job.content = json.dumps(result)


# -- validation (docs/servers/qtest.md §4.1, §4.3) -------------------------------------------------


def _validate(state: State, project_id: int, payload: Any) -> tuple[Cycle, list[_Log]]:
    if not isinstance(payload, dict):
        raise BatchError("The request body must be a JSON object (AutomationRequest).")
    ref = payload.get("test_cycle")
    if ref is None or ref == "":
        raise BatchError("test_cycle is required: the ID or PID of the parent test cycle.")
    cycle = state.find_by_ref(state.cycles, project_id, ref)
    if cycle is None:
        raise BatchError(f"Test cycle '{ref}' does not exist in project {project_id}.")
    raw_logs = payload.get("test_logs")
    if not isinstance(raw_logs, list) or not raw_logs:
        # [inference] an empty list is refused too: there is nothing to submit
        raise BatchError("test_logs is required and must be a non-empty array.")
    logs: list[_Log] = []
    errors: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_logs):
        problems: list[str] = []
        log = _validate_log(state, project_id, raw, problems)
        content = raw.get("automation_content") if isinstance(raw, dict) else None
        errors.extend({"index": index, "automation_content": content, "error": p} for p in problems)
        if log is not None:
            logs.append(log)
    if errors:
        first = errors[0]
        raise BatchError(
            f"{len({e['index'] for e in errors})} of {len(raw_logs)} test logs are invalid; "
            f"nothing was submitted. First: test_logs[{first['index']}]: {first['error']}",
            errors,
        )
    return cycle, logs


def _validate_log(state: State, project_id: int, raw: Any, problems: list[str]) -> _Log | None:
    if not isinstance(raw, dict):
        problems.append("a test log must be a JSON object.")
        return None
    name = parse_text(raw, "name", problems, required=True)
    if len(name) > MAX_NAME:
        problems.append(f"name is longer than {MAX_NAME} characters.")
    content = parse_text(raw, "automation_content", problems, required=True)
    modules = raw.get("module_names")
    if (
        not isinstance(modules, list)
        or not modules
        or not all(isinstance(m, str) and m.strip() for m in modules)
    ):
        # docs/servers/qtest.md §4.1: required on the tree endpoint, folder names outermost first
        problems.append("module_names is required: a non-empty array of non-empty strings.")
        modules = []
    automation_status = parse_text(raw, "status", problems, required=True)
    status = parse_status(state, automation_status, "status", problems)
    moments: dict[str, float | None] = {}
    for key in ("exe_start_date", "exe_end_date"):
        value = raw.get(key)
        moments[key] = None if value in (None, "") else parse_time(value)
        if value in (None, ""):
            problems.append(f"{key} is required.")
        elif moments[key] is None:
            problems.append(f"{key} {value!r} is not an ISO 8601 date-time.")
    start, end = moments["exe_start_date"], moments["exe_end_date"]
    if start is not None and end is not None and end < start:
        problems.append("exe_end_date is before exe_start_date.")  # [inference]
    note = parse_text(raw, "note", problems, required=False)
    if (raw.get("tosca_guid") is None) != (raw.get("tosca_node_path") is None):
        problems.append("tosca_guid and tosca_node_path go together (give both or neither).")
    version = raw.get("test_case_version_id")
    if version is not None:
        case = state.test_case_by_content(project_id, content) if content else None
        if case is None:
            # docs/servers/qtest.md §4.1: "leave it out when the test case does not exist yet,
            # otherwise the request fails"
            problems.append("test_case_version_id is given but the test case does not exist.")
        elif str(version) != str(case.version_id):
            problems.append(f"test_case_version_id {version} is not a version of {case.pid}.")
    props = raw.get("properties")
    if props is not None and not (
        isinstance(props, list) and all(isinstance(p, dict) for p in props)
    ):
        problems.append("properties must be an array of PropertyResource objects.")
    log = _Log(
        name=name,
        content=content,
        module_names=[str(m).strip() for m in modules],
        status=status,
        automation_status=automation_status,
        start=start or 0.0,
        end=end or 0.0,
        note=note,
        build_number=str(raw.get("build_number") or ""),
        build_url=str(raw.get("build_url") or ""),
    )
    log.attachments = parse_attachments(raw.get("attachments"), "attachments", problems)
    log.steps = parse_steps(state, raw.get("test_step_logs"), problems)
    log.defect_keys = parse_defect_keys(raw.get("defect_pids"), problems)
    return log if not problems else None


# -- applying (docs/servers/qtest.md §4.1) ---------------------------------------------------------


def _apply(state: State, job: Job, cycle: Cycle, logs: list[_Log]) -> dict[str, Any]:
    now = job.due_at
    project_id = job.project_id
    linked: list[str] = []
    unknown: list[str] = []
    landed = []
    for item in logs:
        case = _test_case(state, project_id, item, now)
        run = _run_of(state, job, cycle, item, case)
        log = _new_log(state, job, run, item)
        for key in item.defect_keys:
            defect = state.defect_by_key(project_id, key)
            if defect is None:
                # [inference] an unknown key does not fail the job: the log lands unlinked and
                # the key is reported in content (docs/servers/qtest.md §7.1 leaves this
                # [UNCONFIRMED])
                unknown.append(key)
            elif defect.id not in log.defect_ids:
                log.defect_ids.append(defect.id)
                linked.append(defect.key)
        landed.append(
            {
                "automation_content": item.content,
                "testCaseId": case.id,
                "testRunId": run.id,
                "testRunPid": run.pid,
                "testLogId": log.id,
                "status": log.status,
            }
        )
    fail = [{"pids": sorted(set(unknown)), "error": DEFECT_NOT_FOUND}] if unknown else []
    # [inference] the keys of a SUCCESS content are not published (docs/servers/qtest.md §5); these
    # follow the plugin's ``totalTestLogs`` and the single-log endpoint's ``linkedDefects``
    # (docs/servers/qtest.md §7.1)
    return {
        "projectId": project_id,
        "testCycleId": cycle.id,
        "testCyclePid": cycle.pid,
        "totalTestLogs": len(logs),
        "testLogs": landed,
        "linkedDefects": {"success": list(dict.fromkeys(linked)), "fail": fail},
    }


def _run_of(state: State, job: Job, cycle: Cycle, item: _Log, case: TestCaseItem) -> TestRunItem:
    """The run of ``item``'s Automation Content in its (new or found) cycle, made if need be."""
    now = job.due_at
    target = cycle
    # docs/servers/qtest.md §4.1: first name is a cycle under test_cycle
    for name in item.module_names:
        target = state.child_cycle(target, name, now)
    run = state.run_in_cycle(target.id, item.content)
    if run is None:
        run = TestRunItem(
            id=state.new_id(),
            pid=state.new_pid(job.project_id, "TR"),
            name=item.name,
            project_id=job.project_id,
            cycle_id=target.id,
            test_case_id=case.id,
            automation_content=item.content,
            created_at=now,
        )
        state.runs[run.id] = run
    return run


def _new_log(state: State, job: Job, run: TestRunItem, item: _Log) -> TestLogItem:
    """A new test log of ``run``, with its attachments (its defects are linked by the caller)."""
    now = job.due_at
    log = TestLogItem(
        id=state.new_id(),
        run_id=run.id,
        status=item.status,
        automation_status=item.automation_status,
        exe_start=item.start,
        exe_end=item.end,
        note=item.note,
        submitted_by=job.login,
        created_at=now,
        build_number=item.build_number,
        build_url=item.build_url,
        steps=item.steps,
    )
    for name, content_type, data in item.attachments:
        digest = hashlib.sha256(data).hexdigest()
        attachment = Attachment(state.new_id(), name, content_type, data, digest, log.id, now)
        state.attachments[attachment.id] = attachment
        log.attachments.append(attachment)
    state.logs[log.id] = log
    run.log_ids.append(log.id)
    return log


def _test_case(state: State, project_id: int, item: _Log, now: float) -> TestCaseItem:
    """docs/servers/qtest.md §4.1: matched by Automation Content anywhere in the project; names and
    locations of existing test cases never change."""
    case = state.test_case_by_content(project_id, item.content)
    if case is not None:
        return case
    module_id = 0
    for name in item.module_names:
        module_id = state.child_module(project_id, module_id, name).id
    case = TestCaseItem(
        id=state.new_id(),
        pid=state.new_pid(project_id, "TC"),
        name=item.name,
        automation_content=item.content,
        project_id=project_id,
        module_id=module_id,
        version_id=state.new_id(),
        created_at=now,
    )
    state.test_cases[case.id] = case
    return case
