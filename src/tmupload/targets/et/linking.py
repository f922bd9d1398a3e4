"""Link failing result nodes to defect tickets (docs/servers/et.md §7, §7.3, §8.4).

One ``LinkTicketToAutomatedTestRunResultNode`` background task per (node, key). The server
answers 500 both for an unknown ticket and for a ticket already linked to the node (§7):
the node's incidents and a ticket search tell the two apart. A server that does not know the
task type (older ET) gets the documented path instead, decided once per session: ticket search
-> start incident -> link the incident to the node.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import httpx

from tmupload.http.dialect import generic_message
from tmupload.targets.base import LinkResult
from tmupload.targets.et.api import EtApi
from tmupload.targets.et.models import EtTask, EtTicket

__all__ = ["LinkJob", "Linker"]

log = logging.getLogger("tmupload.et.links")

TASK_TYPE = "LinkTicketToAutomatedTestRunResultNode"


@dataclass(frozen=True)
class LinkJob:
    case_id: str
    node_id: str
    key: str
    external_system_link: str | None = None  # a name or an id, as the user wrote it


class Linker:
    """Links one (node, key) pair at a time; safe to call from several threads (the core's
    ``linking.link_all`` bounds the concurrency and journals each result)."""

    def __init__(self, api: EtApi, project_id: str, run_id: str) -> None:
        self.api = api
        self.project_id = project_id
        self.run_id = run_id
        self._legacy: bool | None = None  # None: not known yet whether the task type exists
        self._lock = threading.Lock()
        self._systems: dict[str, str] | None = None  # lower-cased name or id -> link id

    def link(self, job: LinkJob) -> LinkResult:
        system_id: str | None = None
        if job.external_system_link:
            system_id = self._system_id(job.external_system_link)
            if system_id is None:
                return LinkResult(
                    job.case_id,
                    job.key,
                    "failed",
                    f"the project has no external system link named {job.external_system_link!r}",
                )
        if self._legacy:
            return self._link_documented(job, system_id)
        parameters = {
            "AutomatedTestRunId": self.run_id,
            "ResultNodeId": job.node_id,
            "Key": job.key,
        }
        if system_id:
            parameters["ExternalSystemLinkId"] = system_id
        response, task = self.api.start_task({"Type": TASK_TYPE, "Parameters": parameters})
        if task is not None:
            self._legacy = False
            url = self.api.task_url(task, response.headers.get("Location"))
            self.api.wait_task(url, what=f"linking {job.key}")
            return LinkResult(job.case_id, job.key, "linked")
        return self._classify_500(job, system_id, _message(response))

    def _classify_500(self, job: LinkJob, system_id: str | None, message: str) -> LinkResult:
        tickets = self._tickets(job.key, system_id)
        if not tickets:
            return LinkResult(job.case_id, job.key, "unknown_ticket", message or "no such ticket")
        linked = {
            str(item.get("IncidentId"))
            for item in self.api.node_incidents(self.run_id, job.node_id)
        }
        if any(ticket.IncidentId and ticket.IncidentId in linked for ticket in tickets):
            return LinkResult(job.case_id, job.key, "already_linked")
        if len(tickets) > 1 and system_id is None:
            names = ", ".join(
                sorted({t.ExternalSystemName or t.ExternalSystemId or "?" for t in tickets})
            )
            return LinkResult(
                job.case_id,
                job.key,
                "failed",
                f"{job.key} exists in several defect trackers ({names}); say which with "
                "@pytest.mark.ticket(..., external_system_link='<name>')",
            )
        # The ticket exists and is not linked, yet the task failed: an ET without this task
        # type. Switch the whole session to the documented path once.
        with self._lock:
            if self._legacy is None or self._legacy is False:
                log.info("server rejected %s (%s); using the incident path", TASK_TYPE, message)
            self._legacy = True
        return self._link_documented(job, system_id, tickets)

    def _link_documented(
        self, job: LinkJob, system_id: str | None, tickets: list[EtTicket] | None = None
    ) -> LinkResult:
        tickets = tickets if tickets is not None else self._tickets(job.key, system_id)
        if not tickets:
            return LinkResult(job.case_id, job.key, "unknown_ticket", "no such ticket")
        if len(tickets) > 1:
            return LinkResult(
                job.case_id,
                job.key,
                "failed",
                f"{job.key} exists in several defect trackers; set external_system_link",
            )
        ticket = tickets[0]
        incident_id = ticket.IncidentId
        if not incident_id:
            start = next(
                (
                    link.get("Href")
                    for link in ticket.Links
                    if link.get("Rel") == "StartCreateIncident"
                ),
                None,
            )
            if not start:
                return LinkResult(
                    job.case_id, job.key, "failed", "the ticket offers no way to create an incident"
                )
            response = self.api.http.request("POST", str(start), idempotent=False, ok=(202, 200))
            task = self.api.wait_task(
                self.api.task_url(_task(response), response.headers.get("Location")),
                what=f"creating an incident for {job.key}",
            )
            incident_id = task.IncidentId
            if not incident_id:
                # Where the finished task puts IncidentId is not documented
                # (docs/servers/et.md §8.3): search again.
                again = self._tickets(job.key, system_id)
                incident_id = again[0].IncidentId if again else None
            if not incident_id:
                return LinkResult(job.case_id, job.key, "failed", "the server created no incident")
        linked = {
            str(item.get("IncidentId"))
            for item in self.api.node_incidents(self.run_id, job.node_id)
        }
        if incident_id in linked:
            return LinkResult(job.case_id, job.key, "already_linked")
        self.api.link_incident(self.run_id, job.node_id, incident_id)
        return LinkResult(job.case_id, job.key, "linked")

    def _tickets(self, key: str, system_id: str | None) -> list[EtTicket]:
        found = [
            ticket for ticket in self.api.search_tickets(self.project_id, key) if ticket.Key == key
        ]
        if system_id:
            found = [ticket for ticket in found if _ticket_link_id(ticket) == system_id]
        return found

    def _system_id(self, name_or_id: str) -> str | None:
        with self._lock:
            if self._systems is None:
                project = self.api.project(self.project_id, expand="ExternalSystemLinks")
                systems: dict[str, str] = {}
                for link in project.get("ExternalSystemLinks") or []:
                    if isinstance(link, dict) and link.get("Id"):
                        systems[str(link["Id"]).lower()] = str(link["Id"])
                        if link.get("Name"):
                            systems.setdefault(str(link["Name"]).lower(), str(link["Id"]))
                        if link.get("ExternalSystemName"):
                            systems.setdefault(
                                str(link["ExternalSystemName"]).lower(), str(link["Id"])
                            )
                self._systems = systems
            return self._systems.get(name_or_id.lower())


def _ticket_link_id(ticket: EtTicket) -> str | None:
    # The ticket's ExternalSystemId holds the external system *link* id (docs/servers/et.md §8.2).
    return ticket.ExternalSystemId


def _message(response: httpx.Response) -> str:
    return generic_message(response) or ""


def _task(response: httpx.Response) -> EtTask:
    return EtTask.model_validate(response.json())
