"""Background tasks (docs/servers/et.md §7, docs/servers/et.md §7) and the ticket-to-incident task
(docs/servers/et.md §8.3).

Tasks complete lazily, in ``State.tick`` (state.py); these handlers only validate and start them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .entities import Task, Ticket
from .protocol import ApiError, Request, Response, json_response, new_guid, normalize_guid
from .resource import ResourceBase, optional_text, required_text
from .result_views import task_json

__all__ = ["LINK_TASK_TYPE", "TaskResources"]

#: docs/servers/et.md §7 / docs/servers/et.md §7.3: the single-call ticket-link task type.
LINK_TASK_TYPE = "LinkTicketToAutomatedTestRunResultNode"


class _Progress(NamedTuple):
    """What a task shows while it runs (docs/servers/et.md §7.2)."""

    total: int
    processed: int
    percent: float
    message: str | None


#: docs/servers/et.md §7.1: the documented Reindex example.
_REINDEX = _Progress(total=10, processed=1, percent=0.1, message="Queuing index events")
_LINK = _Progress(total=3, processed=2, percent=0.67, message="Creating link")
_TICKET_LINK = _Progress(total=0, processed=0, percent=0.0, message=None)


class TaskResources(ResourceBase):
    """docs/servers/et.md §7.1 - §7.3, §8.3."""

    def get_task(self, request: Request, task_id: str) -> Response:
        """docs/servers/et.md §7.2: 200, or 404 for an unknown or flushed task."""
        task = self.state.tasks.get(task_id)
        if task is None:
            raise ApiError(404, f"No background task with id '{task_id}' exists.")
        return json_response(200, task_json(request.root, task))

    def post_task(self, request: Request) -> Response:
        """docs/servers/et.md §7.1: ``{"Type","Parameters"}`` -> 202 + ``Location``; 500 if the
        handler fails."""
        body = request.json_object()
        task_type = required_text(body, "Type")
        parameters = body.get("Parameters") or {}
        if not isinstance(parameters, dict):
            raise ApiError(403, "'Parameters' must be an object.")
        kind = task_type.lower()
        if kind == "reindex":
            return self._start_reindex(request)
        if kind == LINK_TASK_TYPE.lower() and not self.config.legacy_server:
            return self._start_link(request, parameters)
        raise ApiError(500, f"No background task type named '{task_type}' is registered")

    def _start_reindex(self, request: Request) -> Response:
        """docs/servers/et.md §7.1: the documented Reindex example, finished after
        ``link_delay``."""
        task = self._start_task("reindex-", "reindex", _REINDEX)
        location = f"{request.root}/api/backgroundtask/{task.id}"
        return json_response(202, task_json(request.root, task), {"Location": location})

    def _start_link(self, request: Request, parameters: dict[str, Any]) -> Response:
        """docs/servers/et.md §7: ``LinkTicketToAutomatedTestRunResultNode``.

        404 unknown run or node; 403 missing parameter; 500 when the ticket is not found (in
        the project's trackers, or in the given link), is ambiguous across two trackers, or
        is already linked to the node. Otherwise 202 with the tasks page's body and its
        ``Location`` quirk (no ``/backgroundtask/`` segment).
        """
        run_id = required_text(parameters, "AutomatedTestRunId")
        node_id = required_text(parameters, "ResultNodeId")
        key = required_text(parameters, "Key")
        link_id = optional_text(parameters, "ExternalSystemLinkId")
        run, node = self._node(run_id, node_id)
        project = self.state.run_project(run)
        links = self.state.project_links(project.id)
        if link_id is not None:
            chosen = [link for link in links if link.id == normalize_guid(link_id)]
            if not chosen:
                raise ApiError(
                    500,
                    f"The external system link '{link_id}' is not a defect tracker "
                    f"of project '{project.name}'.",
                )
            links = chosen
        tickets = [link.tickets_by_key[key] for link in links if key in link.tickets_by_key]
        if not tickets:
            raise ApiError(
                500,
                f"Could not find the ticket '{key}' in the defect trackers "
                f"of project '{project.name}'.",
            )
        if len(tickets) > 1:
            names = ", ".join(self.state.links[t.link_id].name for t in tickets)
            raise ApiError(
                500,
                f"The ticket key '{key}' exists in more than one external system ({names}); "
                "pass 'ExternalSystemLinkId' to choose one.",
            )
        ticket = tickets[0]
        linked = ticket.incident_id is not None and ticket.incident_id in node.incident_ids
        if linked or self.state.pending_link(run.id, node.id, ticket):
            # [inference] a link still being created counts as linked
            raise ApiError(500, f"The ticket '{key}' is already linked to this result node.")
        task = self._start_task(
            "linktickettoautomatedtestrunresultnode_",
            "link",
            _LINK,
            ticket,
            done_message="Link created",  # [inference]
            run_id=run.id,
            node_id=node.id,
        )
        # docs/servers/et.md §7 quirk: the Location header has no /backgroundtask/ segment
        return json_response(
            202, task_json(request.root, task), {"Location": f"{request.root}/api/{task.id}"}
        )

    def post_ticket_link(self, request: Request, link_id: str, ticket_id: str) -> Response:
        """docs/servers/et.md §8.3: start creating the incident that mirrors a ticket -> 202 task.

        The reference lists 403 (not 404) for invalid parameters, so an unknown link or
        ticket is a 403 here.
        """
        ticket = self._ticket(link_id, ticket_id, 403)
        task = self._start_task("ticketlinking_", "ticketlink", _TICKET_LINK, ticket)
        return json_response(202, task_json(request.root, task))

    def _start_task(
        self,
        id_prefix: str,
        kind: str,
        progress: _Progress,
        ticket: Ticket | None = None,
        *,
        done_message: str | None = None,
        run_id: str | None = None,
        node_id: str | None = None,
    ) -> Task:
        """Register a task that ``State.tick`` finishes ``link_delay`` from now."""
        now = self.now()
        task = Task(
            id=f"{id_prefix}{new_guid()}",
            kind=kind,
            started_at=now,
            due_at=now + self.config.link_delay,
            total=progress.total,
            processed=progress.processed,
            progress=progress.percent,
            message=progress.message,
            done_message=done_message,
            run_id=run_id,
            node_id=node_id,
            ticket=ticket,
        )
        return self.state.add_task(task)
