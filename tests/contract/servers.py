"""Each target's emulator, served over loopback, seen the same way by the contract suite.

A ``Server`` says how to point tmupload at it (flags and credentials) and reads back what
landed in the emulator's own terms, turned into the suite's neutral words: per case id the
status of its latest upload (``passed``, ``failed`` — an error counts as failed, since not
every server tells them apart — or ``skipped``), the (case id, key) links, how many uploads
landed, and which requests wrote.

Which servers there are is the registry's (``tmupload.targets.registry``): every registered
target with an emulator is served here, started from its spec's emulator module; what differs
per server is how to read what landed, one reader class each below (``@_reads``).

The qTest and Zephyr emulators run in strict mode (``EmulatorConfig.strict``): where their
server's reference leaves a fact unconfirmed, they give the strictest plausible answer, so a
client that passes here does not lean on a guess.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Protocol

from tmupload.targets.registry import all_options, get_spec, target_names

__all__ = ["SERVERS", "Server", "ServerFactory", "upload_args"]


class Server(Protocol):
    target: str
    title: str
    url: str

    def credentials(self, kind: str = "ok") -> dict[str, str]:
        """Environment for a login that is ``ok``, ``wrong`` or ``readonly``."""
        ...

    def args(self) -> list[str]:
        """pytest flags that point tmupload at this server (beyond credentials)."""
        ...

    def cli_args(self) -> list[str]:
        """The same for the ``tmupload`` command."""
        ...

    def landed(self) -> dict[str, str]:
        """case id -> neutral status of the latest upload."""
        ...

    def uploads(self) -> int:
        """How many uploads of the suite landed (runs, or logs per test, or phases)."""
        ...

    def links(self) -> set[tuple[str, str]]:
        """(case id, ticket key) pairs the server holds."""
        ...

    def writes(self) -> list[tuple[str, str]]:
        """(method, path) of every request that changed something."""
        ...

    def attachments(self) -> dict[str, list[tuple[str, str]]]:
        """case id -> (file name, sha256) of every attachment on its latest result."""
        ...

    def drop_next_upload_answer(self) -> None:
        """Apply the next upload request, then drop the connection without an answer."""
        ...

    def names(self) -> list[str]:
        """The test names the latest upload shows, as a person reads them in a list of it
        (ET: result nodes; qTest: test runs; Zephyr: a phase's executions), repeats kept."""
        ...

    def notes(self) -> dict[str, str]:
        """case id -> the failure text the server keeps on its latest result (ET: the node's
        output; qTest: the log's note; Zephyr: the execution's notes)."""
        ...


ServerFactory = Callable[[], AbstractContextManager[Server]]


class _Reader:
    """What every reader shares: where an upload goes, as flags for both front ends, and the
    server's title as the registry has it. A reader is made with its emulator and URL."""

    target: ClassVar[str]
    #: The EmulatorConfig the contract suite runs its emulator with.
    config: ClassVar[dict[str, Any]] = {}
    #: Settings beyond the URL that say where results go (project, release, ...).
    placement: ClassVar[dict[str, str]] = {"project": "Demo"}

    def __init__(self, emulator: Any, url: str) -> None:
        self.emulator = emulator
        self.url = url
        self.title = get_spec(self.target).title

    def args(self) -> list[str]:
        return self._flags("--tm-")

    def cli_args(self) -> list[str]:
        return self._flags("--")

    def _flags(self, prefix: str) -> list[str]:
        given = {"target": self.target, "url": self.url, **self.placement}
        return [part for name, value in given.items() for part in (prefix + name, value)]


#: target name -> its reader class (the targets themselves come from the registry).
_READERS: dict[str, type[_Reader]] = {}


def _reads(reader: type[_Reader]) -> type[_Reader]:
    _READERS[reader.target] = reader
    return reader


@contextmanager
def _serve(emulator_module: str, reader: type[_Reader]) -> Iterator[Server]:
    """The target's emulator on loopback, seen through its reader."""
    module = importlib.import_module(emulator_module)
    emulator = module.Emulator(module.EmulatorConfig(**reader.config))
    with module.serve_in_thread(emulator) as server:
        yield reader(emulator, server.url)  # type: ignore[misc]


def _servers() -> dict[str, ServerFactory]:
    """Every registered target that has an emulator, by name, in the registry's order."""
    servers: dict[str, ServerFactory] = {}
    for name in target_names():
        spec = get_spec(name)
        if spec.emulator is None:
            continue  # nothing to run the contract against (a sketch, a plug-in's target)
        if name not in _READERS:
            raise LookupError(
                f"target {name!r} has an emulator but no reader in tests/contract/servers.py: "
                "add one (@_reads) so the contract suite runs against it"
            )
        servers[name] = partial(_serve, spec.emulator, _READERS[name])
    return servers


def _node_id_form(name: str) -> str:
    """A test name as a server shows it (``test_x[é]``) -> as its pytest node id has it: the
    parameter id's non-ASCII characters escaped as pytest escapes them (``test_x[\\xe9]``)."""
    from _pytest.compat import ascii_escaped

    head, bracket, ids = name.partition("[")
    return head + bracket + "".join(c if c.isascii() else ascii_escaped(c) for c in ids)


def _et_leaves(run: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(case id, node) of every leaf result node of an ET run (suite name :: node name)."""
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(node: dict[str, Any], parent: str) -> None:
        if node["Children"]:
            for child in node["Children"]:
                walk(child, node["Name"])
        else:
            found.append((f"{parent}::{_node_id_form(node['Name'])}", node))

    for root in run["Nodes"]:
        walk(root, "")
    return found


_ET_STATUS = {"Passed": "passed", "Failed": "failed", "Error": "failed", "Skipped": "skipped"}


@_reads
class EtServer(_Reader):
    target = "et"
    config: ClassVar[dict[str, Any]] = {"import_delay": 0.01, "link_delay": 0.0}
    _logins: ClassVar[dict[str, tuple[str, str]]] = {
        "ok": ("admin", "admin"),
        "wrong": ("admin", "wrong-canary-pw"),
        "readonly": ("viewer", "viewer"),
    }

    def credentials(self, kind: str = "ok") -> dict[str, str]:
        user, password = self._logins[kind]
        return {"TMUPLOAD_USER": user, "TMUPLOAD_PASSWORD": password}

    def _runs(self) -> list[dict[str, Any]]:
        return list(self.emulator.snapshot()["runs"])

    def landed(self) -> dict[str, str]:
        runs = self._runs()
        if not runs:
            return {}
        return {
            case_id: _ET_STATUS.get(node["Status"], node["Status"])
            for case_id, node in _et_leaves(runs[-1])
        }

    def uploads(self) -> int:
        return len(self._runs())

    def links(self) -> set[tuple[str, str]]:
        names = {}
        for run in self._runs():
            for suite in run["Nodes"]:
                for node in suite["Children"] or []:
                    names[node["Name"]] = f"{suite['Name']}::{_node_id_form(node['Name'])}"
        return {
            (names.get(link["NodeName"], link["NodeName"]), link["TicketKey"])
            for link in self.emulator.snapshot()["node_links"]
        }

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _ in self.emulator.requests if m not in ("GET", "HEAD")]

    def attachments(self) -> dict[str, list[tuple[str, str]]]:
        runs = self._runs()
        found: dict[str, list[tuple[str, str]]] = {}
        for suite in runs[-1]["Nodes"] if runs else []:
            for node in suite["Children"] or []:
                files = [(a["Name"], a["Sha256"]) for a in node.get("Attachments", [])]
                if files:
                    found[f"{suite['Name']}::{_node_id_form(node['Name'])}"] = files
        return found

    def drop_next_upload_answer(self) -> None:
        self.emulator.configure_faults(fail_next=["drop_after_apply"], only_methods={"POST"})

    def names(self) -> list[str]:
        runs = self._runs()
        return [node["Name"] for _, node in _et_leaves(runs[-1])] if runs else []

    def notes(self) -> dict[str, str]:
        runs = self._runs()
        return {
            case_id: node["Metadata"].get("Output", "")
            for case_id, node in (_et_leaves(runs[-1]) if runs else [])
        }


# The qTest and Zephyr emulators take the same token and logins. An empty value unsets: the
# token would otherwise win over a login.
_TOKEN_LOGINS = {
    "ok": {"TMUPLOAD_TOKEN": "demo-token", "TMUPLOAD_USER": "", "TMUPLOAD_PASSWORD": ""},
    "wrong": {"TMUPLOAD_TOKEN": "wrong-token-canary"},
    "readonly": {"TMUPLOAD_TOKEN": "", "TMUPLOAD_USER": "viewer", "TMUPLOAD_PASSWORD": "viewer"},
}

_QTEST_STATUS = {"passed": "passed", "failed": "failed"}


@_reads
class QTestServer(_Reader):
    target = "qtest"
    config: ClassVar[dict[str, Any]] = {"job_delay": 0.0, "strict": True}

    def credentials(self, kind: str = "ok") -> dict[str, str]:
        return _TOKEN_LOGINS[kind]

    def _runs(self) -> list[dict[str, Any]]:
        return [run for run in self.emulator.snapshot()["test_runs"] if run["logs"]]

    def landed(self) -> dict[str, str]:
        # Unexecuted (what SKIP maps to), Blocked, Incomplete: not run, so "skipped" here.
        return {
            run["automation_content"]: _QTEST_STATUS.get(run["status"].lower(), "skipped")
            for run in self._runs()
        }

    def uploads(self) -> int:
        return max((len(run["logs"]) for run in self._runs()), default=0)

    def links(self) -> set[tuple[str, str]]:
        return {
            (run["automation_content"], key)
            for run in self._runs()
            for log in run["logs"]
            for key in log["defects"]
        }

    def writes(self) -> list[tuple[str, str]]:
        return [
            (m, p)
            for m, p, _ in self.emulator.requests
            if m not in ("GET", "HEAD") and not p.endswith("/search") and "/oauth/" not in p
        ]

    def attachments(self) -> dict[str, list[tuple[str, str]]]:
        found: dict[str, list[tuple[str, str]]] = {}
        for run in self._runs():
            files = [(a["name"], a["sha256"]) for a in run["logs"][-1]["attachments"]]
            if files:
                found[run["automation_content"]] = files
        return found

    def drop_next_upload_answer(self) -> None:
        # The parent cycle exists first, so that the dropped POST is the submission itself.
        import httpx

        headers = {"Authorization": "Bearer demo-token"}
        with httpx.Client(base_url=self.url, headers=headers) as client:
            (project,) = client.get("/api/v3/projects").json()
            client.post(
                f"/api/v3/projects/{project['id']}/test-cycles",
                params={"parentId": "0", "parentType": "root"},
                json={"name": "Automation"},
            ).raise_for_status()
        self.emulator.configure_faults(fail_next=["drop_after_apply"], only_methods={"POST"})

    def names(self) -> list[str]:
        return [run["name"] for run in self._runs()]

    def notes(self) -> dict[str, str]:
        return {run["automation_content"]: run["logs"][-1]["note"] for run in self._runs()}


_ZEPHYR_STATUS = {"Pass": "passed", "Fail": "failed"}


def _zephyr_case_id(folder_path: str, name: str) -> str:
    """``Automation/test_suite.py/TestA`` + ``TestA::test_same`` ->
    ``test_suite.py::TestA::test_same`` (the client's layout: the repository folder, the node
    id's path parts, then the name, which carries the classes and readable parameter ids)."""
    parts = folder_path.split("/")[1:]
    file_at = next((i for i, part in enumerate(parts) if part.endswith(".py")), len(parts) - 1)
    classes = parts[file_at + 1 :]
    if classes and name.startswith("::".join(classes) + "::"):
        classes = []  # the name carries them
    return "::".join(["/".join(parts[: file_at + 1]), *classes, _node_id_form(name)])


@_reads
class ZephyrServer(_Reader):
    target = "zephyr"
    config: ClassVar[dict[str, Any]] = {"strict": True}
    placement: ClassVar[dict[str, str]] = {"project": "Demo", "release": "2026.4"}

    def credentials(self, kind: str = "ok") -> dict[str, str]:
        return _TOKEN_LOGINS[kind]

    def _phases(self) -> list[dict[str, Any]]:
        return [phase for cycle in self.emulator.snapshot()["cycles"] for phase in cycle["phases"]]

    def landed(self) -> dict[str, str]:
        phases = self._phases()
        if not phases:
            return {}
        # Not Executed (what skipped maps to), WIP, Blocked: not run, so "skipped" here.
        return {
            _zephyr_case_id(e["folder_path"], e["test_case_name"]): _ZEPHYR_STATUS.get(
                e["status_name"], "skipped"
            )
            for e in phases[-1]["executions"]
        }

    def uploads(self) -> int:
        return len(self._phases())

    def links(self) -> set[tuple[str, str]]:
        return {
            (_zephyr_case_id(e["folder_path"], e["test_case_name"]), key)
            for phase in self._phases()
            for e in phase["executions"]
            for key in e["defects"]
        }

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _ in self.emulator.requests if m not in ("GET", "HEAD")]

    def attachments(self) -> dict[str, list[tuple[str, str]]]:
        phases = self._phases()
        found: dict[str, list[tuple[str, str]]] = {}
        for e in phases[-1]["executions"] if phases else []:
            files = [(a["name"], a["sha256"]) for a in e["attachments"]]
            if files:
                found[_zephyr_case_id(e["folder_path"], e["test_case_name"])] = files
        return found

    def drop_next_upload_answer(self) -> None:
        # The folders exist first, so that the dropped POST is the bulk test-case creation
        # (the first of the upload's creations that could land twice).
        import httpx

        headers = {"Authorization": "Bearer demo-token"}
        base = f"{self.url}/flex/services/rest/latest"
        with httpx.Client(base_url=base, headers=headers) as client:
            (project,) = client.get("/project").json()
            (release,) = client.get(f"/release/project/{project['id']}").json()
            parent = 0
            for name in ("Automation", "test_suite.py"):
                kind = "Phase" if parent == 0 else "Module"
                body = {"name": name, "type": kind, "releaseId": release["id"], "description": ""}
                made = client.post("/testcasetree", params={"parentid": parent}, json=body)
                parent = made.raise_for_status().json()["id"]
            for name in ("TestA", "TestB"):
                body = {"name": name, "type": "Module", "releaseId": release["id"]}
                client.post("/testcasetree", params={"parentid": parent}, json=body)
        self.emulator.configure_faults(fail_next=["drop_after_apply"], only_methods={"POST"})

    def names(self) -> list[str]:
        phases = self._phases()
        return [e["test_case_name"] for e in phases[-1]["executions"]] if phases else []

    def notes(self) -> dict[str, str]:
        phases = self._phases()
        return {
            _zephyr_case_id(e["folder_path"], e["test_case_name"]): e["notes"]
            for e in (phases[-1]["executions"] if phases else [])
        }


#: target name -> how to start its emulator and read it: the registry's targets that have one.
SERVERS: dict[str, ServerFactory] = _servers()


def upload_args(server: Server, outbox: Path, *extra: str) -> list[str]:
    """pytest flags for an upload to ``server`` spooling into ``outbox``."""
    return [
        "--tm-upload",
        *server.args(),
        f"--tm-outbox={outbox}",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        *extra,
    ]


#: Every variable tmupload reads: the outer environment must not steer a scenario.
READ_ENV = (*(spec.env for spec in all_options()), "TMUPLOAD_PASSWORD", "TMUPLOAD_TOKEN")


@contextmanager
def serving(name: str, environ: Any) -> Iterator[Server]:
    """The target's emulator, started, with its login in the environment and every other
    variable tmupload reads cleared (``environ``: the test's ``MonkeyPatch``)."""
    for variable in READ_ENV:
        environ.delenv(variable, raising=False)
    with SERVERS[name]() as started:
        for key, value in started.credentials().items():
            environ.setenv(key, value)
        yield started
