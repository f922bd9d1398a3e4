"""Auth, error answers, paging, TQL and OData as the reference documents them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from tmupload.targets.et.emulator import Emulator, EmulatorConfig, TrackerLink

if TYPE_CHECKING:
    from conftest import Et

BASE_URL = "http://et.test/EnterpriseTester"


def _client(emu: Emulator, auth: tuple[str, str] | None) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=emu), base_url=BASE_URL, auth=auth)


@pytest.mark.parametrize("auth", [None, ("admin", "wrong"), ("nobody", "admin")])
def test_missing_or_wrong_credentials_are_401_with_a_basic_challenge(
    emu: Emulator, auth: tuple[str, str] | None
) -> None:
    with _client(emu, auth) as anonymous:
        answer = anonymous.get("/api/projects")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="Enterprise Tester"'
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert answer.json()["Message"]


def test_read_only_user_may_get_but_not_change(emu: Emulator, et: Et) -> None:
    project = et.project_id()
    with _client(emu, ("viewer", "viewer")) as viewer:
        assert viewer.get("/api/projects").status_code == 200
        refused = viewer.post("/api/scriptpackages", json={"ProjectId": project, "Name": "x"})
    assert refused.status_code == 403
    assert refused.json()["Message"].startswith("You do not have permission to")
    assert emu.snapshot()["script_packages"] == []


def test_unknown_ids_paths_and_methods(client: httpx.Client) -> None:
    missing = client.get("/api/project/3fa6ec13-3939-45b6-beb1-dd03e00a83f9")
    assert missing.status_code == 404 and missing.json()["Message"]
    assert client.get("/api/project/not-a-guid").status_code == 404
    nowhere = client.get("/api/nothing/here")
    assert nowhere.status_code == 404
    assert nowhere.json()["Message"].startswith("No resource at")
    assert client.get("http://et.test/Other/api/projects").status_code == 404
    wrong = client.delete("/api/projects")
    assert wrong.status_code == 405
    assert "GET" in wrong.headers["Allow"]


def test_upload_that_is_not_multipart_is_415(et: Et) -> None:
    placement = et.placement()
    answer = et.client.post(
        f"/api/automatedtestassignment/{placement.assignment_id}/runs",
        content=b"<testsuite/>",
        headers={"Content-Type": "text/xml"},
    )
    assert answer.status_code == 415
    assert "multipart" in answer.json()["Message"]


def test_upload_to_unknown_assignment_is_404(et: Et) -> None:
    answer = et.upload("3fa6ec13-3939-45b6-beb1-dd03e00a83f9", et.junit(("a", "passed")))
    assert answer.status_code == 404


@pytest.mark.parametrize(
    ("collection", "body", "missing"),
    [
        ("automatedtests", {"Name": "no package"}, "PackageId"),
        ("scriptpackages", {"Name": "orphan"}, "ProjectId"),
        ("automatedtestassignments", {"AutomatedTestId": "x"}, "PackageId"),
    ],
)
def test_validation_failures_are_403_with_a_message(
    client: httpx.Client, collection: str, body: dict[str, str], missing: str
) -> None:
    answer = client.post(f"/api/{collection}", json=body)
    assert answer.status_code == 403
    assert missing in answer.json()["Message"]


def test_missing_test_name_is_403(et: Et) -> None:
    placement = et.placement()
    answer = et.client.post("/api/automatedtests", json={"PackageId": placement.script_package_id})
    assert answer.status_code == 403
    assert "Name" in answer.json()["Message"]


def test_project_filter_doubles_single_quotes_and_refuses_other_syntax() -> None:
    emu = Emulator(EmulatorConfig(projects=["Demo", "Bob's team"], external_systems={}))
    with _client(emu, ("admin", "admin")) as client:
        found = client.get("/api/projects", params={"$filter": "Name eq 'Bob''s team'"}).json()
        assert [p["Name"] for p in found["Items"]] == ["Bob's team"]
        assert found["Total"] == 1 and found["Skip"] == 0 and found["Top"] == 25
        none = client.get("/api/projects", params={"$filter": "Name eq 'Bob'"}).json()
        assert none["Items"] == [] and none["Total"] == 0
        refused = client.get("/api/projects", params={"$filter": "startswith(Name,'B')"})
        assert refused.status_code == 400 and refused.json()["Message"]
        paged = client.get("/api/projects", params={"$top": "1", "$skip": "1"}).json()
        assert [p["Name"] for p in paged["Items"]] == ["Bob's team"] and paged["Total"] == 2
        assert client.get("/api/projects", params={"$top": "many"}).status_code == 400


def test_project_expands_external_system_links(client: httpx.Client, et: Et) -> None:
    project_id = et.project_id()
    plain = client.get(f"/api/project/{project_id}").json()
    assert "ExternalSystemLinks" not in plain and "ExternalSystemLinks" in plain["Expands"]
    expanded = client.get(
        f"/api/project/{project_id}", params={"$expand": "ExternalSystemLinks"}
    ).json()
    (link,) = expanded["ExternalSystemLinks"]
    assert (link["Name"], link["Type"], link["Enabled"]) == ("Jira", "Incident", True)
    assert "ExternalSystemLinks" not in expanded["Expands"]
    listed = client.get("/api/externalsystemlinks").json()
    assert [item["Id"] for item in listed["Items"]] == [link["Id"]]


def test_package_tql_by_name_path_and_parent(et: Et) -> None:
    project = et.project_id()
    top = et.create("executionpackages", {"ProjectId": project, "Name": "Release"})
    assert top["Stereotype"] == "Package"
    child = et.create("executionpackages", {"ParentId": top["Id"], "Name": "Nightly"})
    assert {link["Rel"] for link in child["Links"]} >= {"Children", "Project"}

    def query(tql: str) -> list[str]:
        answer = et.client.get("/api/executionpackages", params={"tql": tql})
        assert answer.status_code == 200, answer.text
        return [item["Id"] for item in answer.json()["Items"]]

    assert query(f"Id IN Packages('Release|Nightly') AND Project='{project}'") == [child["Id"]]
    assert query(f"Id IN Packages('Release') AND Project='{project}'") == [top["Id"]]
    assert query(f"Id IN Packages('Nightly') AND Package='{top['Id']}'") == [child["Id"]]
    assert query(f"Id IN Packages('Release') AND Package='{top['Id']}'") == []
    assert query(f"Id IN Packages('Nightly') AND Project='{project}'") == [child["Id"]]
    # script packages are a separate tree
    scripts_tql = f"Id IN Packages('Release') AND Project='{project}'"
    scripts = et.client.get("/api/scriptpackages", params={"tql": scripts_tql}).json()
    assert scripts["Items"] == []
    children = et.client.get(f"/api/executionpackage/{top['Id']}/children").json()
    assert [item["Id"] for item in children["Items"]] == [child["Id"]]


def test_automated_test_tql_tilde_is_contains(et: Et) -> None:
    placement = et.placement(test_name="Unit Tests")
    for name in ["Unit Tests (nightly)", "Smoke"]:
        et.create("automatedtests", {"PackageId": placement.script_package_id, "Name": name})
    tql = f"Name~'unit tests' AND Package='{placement.script_package_id}'"
    found = et.client.get("/api/automatedtests", params={"tql": tql}).json()
    # '~' is a case-insensitive contains: the client must pick the exact name itself
    assert sorted(item["Name"] for item in found["Items"]) == ["Unit Tests", "Unit Tests (nightly)"]
    other = et.create("scriptpackages", {"ProjectId": placement.project_id, "Name": "Other"})
    elsewhere = et.client.get(
        "/api/automatedtests", params={"tql": f"Name~'Unit' AND Package='{other['Id']}'"}
    ).json()
    assert elsewhere["Items"] == []
    unsupported = et.client.get("/api/automatedtests", params={"tql": "Name ~ 'x' OR Id = 'y'"})
    assert unsupported.status_code == 400


def test_assignment_tql_accepts_quoted_and_unquoted_guids(et: Et) -> None:
    placement = et.placement()
    for template in ("TestId={t} AND Package={p}", "TestId='{t}' AND Package='{p}'"):
        tql = template.format(t=placement.test_id, p=placement.execution_package_id)
        found = et.client.get("/api/automatedtestassignments", params={"tql": tql}).json()
        assert [item["Id"] for item in found["Items"]] == [placement.assignment_id]
    other = et.create("executionpackages", {"ProjectId": placement.project_id, "Name": "Other"})
    tql = f"TestId={placement.test_id} AND Package={other['Id']}"
    assert et.client.get("/api/automatedtestassignments", params={"tql": tql}).json()["Items"] == []


def test_custom_app_path_and_separator() -> None:
    config = EmulatorConfig(app_path="/et/", package_path_separator="/")
    emu = Emulator(config)
    transport = httpx.WSGITransport(app=emu)
    with httpx.Client(transport=transport, base_url="http://h", auth=("admin", "admin")) as c:
        assert c.get("/EnterpriseTester/api").status_code == 404
        info = c.get("/et/api/systeminfo").json()
    assert info["PackagePathSeparator"] == "/"
    assert info["RootUrl"] == "http://h/et/"


def test_html_page_escapes_and_lists_runs(et: Et) -> None:
    placement = et.placement(test_name="<script>alert(1)</script>")
    run = et.import_run(placement.assignment_id, et.junit(("test_<b>bold</b>", "failed")))
    page = et.client.get("/", auth=None)  # the page needs no credentials
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "test_&lt;b&gt;bold&lt;/b&gt;" in page.text
    assert run["Id"] in page.text
    one = et.client.get("/", params={"run": run["Id"]}, auth=None)
    assert one.status_code == 200 and "test_&lt;b&gt;bold" in one.text
    assert et.client.get("/", params={"run": "nope"}, auth=None).status_code == 404


def test_html_page_shows_a_bounded_number_of_nodes(et: Et) -> None:
    placement = et.placement()
    xml = et.junit(*[(f"case_{i:05d}", "passed") for i in range(10_000)])
    run = et.import_run(placement.assignment_id, xml)
    index = et.client.get("/", auth=None).text
    assert "case_00498" in index and "case_00499" not in index  # the suite row is one of 500
    assert "Showing the first 500 of 10001 nodes" in index
    full = et.client.get("/", params={"run": run["Id"]}, auth=None).text
    assert "case_09999" in full


def test_two_trackers_are_listed_per_project() -> None:
    config = EmulatorConfig(
        external_systems={
            "Demo": [TrackerLink("Jira", ["PAY-17"]), TrackerLink("Jira EU", ["PAY-17", "EU-1"])]
        }
    )
    with _client(Emulator(config), ("admin", "admin")) as client:
        links = client.get("/api/externalsystemlinks").json()["Items"]
    assert [link["Name"] for link in links] == ["Jira", "Jira EU"]
    assert links[0]["Id"] != links[1]["Id"]
