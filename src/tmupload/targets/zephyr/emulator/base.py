"""What every resource group shares: the state, the config and lookups that answer 404."""

from __future__ import annotations

from typing import Any

from .config import EmulatorConfig, ExecutionStatus
from .protocol import ApiError, as_int
from .state import Cycle, Execution, Folder, Phase, Project, Release, State, User

__all__ = ["Resources"]


class Resources:
    """Base of the resource mixins; handlers run under the emulator's lock."""

    config: EmulatorConfig
    state: State
    #: Strict mode now (``EmulatorConfig.strict``, switched by ``/_emulator/strict``).
    strict: bool

    def check_bulk(self, count: int, what: str) -> None:
        """docs/servers/zephyr.md §2: a bulk call handles at most ``max_bulk`` items (the plugin's
        BATCH_SIZE)."""
        if count > self.config.max_bulk:
            raise ApiError(
                400, f"Too many {what}: {count}; a bulk call takes at most {self.config.max_bulk}."
            )

    def project(self, project_id: int) -> Project:
        project = self.state.projects.get(project_id)
        if project is None:
            raise ApiError(404, f"Project {project_id} not found.")
        return project

    def release(self, release_id: int) -> Release:
        release = self.state.releases.get(release_id)
        if release is None:
            raise ApiError(404, f"Release {release_id} not found.")
        return release

    def body_release(self, value: Any) -> Release:
        """A ``releaseId`` from a body: required, and an unknown one is a 400 [inference]."""
        release_id = as_int(value, "releaseId")
        assert release_id is not None
        release = self.state.releases.get(release_id)
        if release is None:
            raise ApiError(400, f"Release {release_id} does not exist.")
        return release

    def folder(self, folder_id: int) -> Folder:
        folder = self.state.folders.get(folder_id)
        if folder is None:
            raise ApiError(404, f"Tree node {folder_id} not found.")
        return folder

    def cycle(self, cycle_id: int) -> Cycle:
        cycle = self.state.cycles.get(cycle_id)
        if cycle is None:
            raise ApiError(404, f"Cycle {cycle_id} not found.")
        return cycle

    def phase(self, phase_id: int) -> Phase:
        phase = self.state.phases.get(phase_id)
        if phase is None:
            raise ApiError(404, f"Cycle phase {phase_id} not found.")
        return phase

    def execution(self, execution_id: int) -> Execution:
        execution = self.state.executions.get(execution_id)
        if execution is None:
            raise ApiError(404, f"Execution {execution_id} not found.")
        return execution

    def tester(self, value: Any, default: User) -> int:
        """A tester id from a request: absent means the caller; unknown is a 400 [inference]."""
        tester_id = as_int(value, "testerId", required=False)
        if tester_id is None:
            return default.id
        if self.state.user_by_id(tester_id) is None:
            raise ApiError(400, f"User {tester_id} does not exist.")
        return tester_id

    def active_status(self, value: Any) -> ExecutionStatus:
        """docs/servers/zephyr.md §5.6: a status id from the preference list that is ``active``; the
        plugin sends only those [CLIENT]. [inference] an inactive or unknown id is refused with a
        400."""
        status_id = as_int(value, "status")
        assert status_id is not None
        status = self.config.status(status_id)
        if status is None:
            raise ApiError(400, f"Execution status {status_id} does not exist.")
        if not status.active:
            raise ApiError(400, f"Execution status {status_id} ({status.name}) is not active.")
        return status
