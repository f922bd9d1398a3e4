"""The CI snippets in examples/ci/ set what they seem to set, once a CI system has parsed them.

An unquoted `` #`` in a YAML value starts a comment: ``${{ github.workflow }} #${{ ... }}``
set the run name to the workflow's name alone, the same for every run. The YAML snippets are
parsed here as the CI system parses them; the Jenkinsfile (Groovy) is checked for what can be
checked without Jenkins.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tmupload.targets.registry import all_options

CI = Path(__file__).resolve().parent.parent / "examples" / "ci"
GITHUB = CI / "github-actions.yml"
GITLAB = CI / "gitlab-ci.yml"
JENKINS = CI / "Jenkinsfile"
VARIABLE = re.compile(r"\bTMUPLOAD_[A-Z_]+\b")

# What each YAML snippet hands to tmupload, as the CI system reads it.
EXPECTED: dict[Path, dict[str, str]] = {
    GITHUB: {
        "TMUPLOAD_URL": "${{ vars.ET_URL }}",
        "TMUPLOAD_PROJECT": "${{ vars.ET_PROJECT }}",
        "TMUPLOAD_USER": "${{ secrets.ET_USER }}",
        "TMUPLOAD_PASSWORD": "${{ secrets.ET_PASSWORD }}",
        "TMUPLOAD_EXECUTION_PACKAGE": "CI/${{ github.ref_name }}",
        "TMUPLOAD_RUN_NAME": "${{ github.workflow }} #${{ github.run_number }}",
    },
    GITLAB: {
        "TMUPLOAD_URL": "https://et.example.com/EnterpriseTester",
        "TMUPLOAD_PROJECT": "Payments",
        "TMUPLOAD_EXECUTION_PACKAGE": "CI/$CI_COMMIT_REF_NAME",
        "TMUPLOAD_RUN_NAME": "$CI_PIPELINE_NAME #$CI_PIPELINE_IID",
    },
}


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def walk(node: Any) -> Iterator[Any]:
    """Every mapping, list and scalar in a parsed document."""
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        yield from walk(child)


def settings_in(document: Any) -> dict[str, Any]:
    """Every ``TMUPLOAD_*`` key of the document's mappings (env:, variables:) and its value."""
    found: dict[str, Any] = {}
    for node in walk(document):
        if isinstance(node, dict):
            found.update({k: v for k, v in node.items() if str(k).startswith("TMUPLOAD_")})
    return found


@pytest.mark.parametrize("path", sorted(EXPECTED), ids=lambda path: path.name)
def test_yaml_snippet_parses_into_the_intended_settings(path: Path) -> None:
    assert settings_in(load(path)) == EXPECTED[path]


@pytest.mark.parametrize("path", sorted(EXPECTED), ids=lambda path: path.name)
def test_the_run_name_keeps_its_number(path: Path) -> None:
    run_name = settings_in(load(path))["TMUPLOAD_RUN_NAME"]
    name, sep, number = run_name.partition(" #")
    assert sep and name and number, f"{path.name}: the run name was cut to {run_name!r}"


def test_no_github_expression_is_cut_short() -> None:
    strings = [node for node in walk(load(GITHUB)) if isinstance(node, str)]
    assert any("${{" in text for text in strings)
    for text in strings:
        assert text.count("${{") == text.count("}}"), text


def test_every_snippet_names_the_same_settings() -> None:
    named = {
        path.name: set(VARIABLE.findall(path.read_text())) for path in (GITHUB, GITLAB, JENKINS)
    }
    assert named[GITHUB.name] == named[GITLAB.name] == named[JENKINS.name], named


def test_every_variable_named_is_a_setting() -> None:
    # The password and the token are read from the environment only, never from a flag.
    known = {spec.env for spec in all_options()} | {"TMUPLOAD_PASSWORD", "TMUPLOAD_TOKEN"}
    for path in (GITHUB, GITLAB, JENKINS):
        unknown = set(VARIABLE.findall(path.read_text())) - known
        assert not unknown, f"{path.name} sets {unknown}, which tmupload does not read"


def test_jenkinsfile_interpolates_where_it_means_to() -> None:
    text = JENKINS.read_text()
    assert text.count("{") == text.count("}")
    assignments = dict(re.findall(r"^\s*(TMUPLOAD_[A-Z_]+)\s*=\s*(.+?)\s*$", text, re.MULTILINE))
    assert assignments["TMUPLOAD_RUN_NAME"] == '"${env.JOB_NAME} #${env.BUILD_NUMBER}"'
    for name, value in assignments.items():
        # Groovy interpolates "${...}" in double quotes only; in single quotes it stays literal.
        if "${" in value:
            assert value.startswith('"') and value.endswith('"'), f"{name} = {value}"


SHARDED = [CI / "github-actions-shards.yml", CI / "gitlab-ci-shards.yml", CI / "Jenkinsfile-shards"]
_SECRETS = ("TMUPLOAD_USER", "TMUPLOAD_PASSWORD", "TMUPLOAD_TOKEN")


def _jobs(path: Path) -> dict[str, str]:
    """Each job of a sharded snippet, as the text of its part (name -> text)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yml", ".yaml"):
        document = load(path)
        jobs = document.get("jobs", document)
        return {name: yaml.safe_dump(job) for name, job in jobs.items() if isinstance(job, dict)}
    tests, _, send = text.partition("post {")
    return {"tests": tests, "send": send}


@pytest.mark.parametrize("path", SHARDED, ids=lambda path: path.name)
def test_sharded_snippets_spool_without_credentials_and_send_once(path: Path) -> None:
    jobs = _jobs(path)
    shard_jobs = [text for text in jobs.values() if "--tm-defer" in text]
    send_jobs = [text for text in jobs.values() if "tmupload send" in text]
    assert shard_jobs and len(send_jobs) == 1, jobs
    for text in shard_jobs:
        assert "--tm-upload" in text
        assert not any(secret in text for secret in _SECRETS), "a shard needs no credentials"
    assert "TMUPLOAD_USER" in send_jobs[0] and "TMUPLOAD_PASSWORD" in send_jobs[0]
