"""Which CI system runs this, and what it says of the build: from its documented variables.

A run carries the build that made it (number, a link to the job or pipeline, commit, branch),
and CI shards share a *run key* — the CI's id of the whole pipeline run, the same in every
job of it — so that ``tmupload send`` makes one run of them. Six systems are known; anywhere
else nothing is detected and ``--tm-run-key`` / ``--tm-build`` / ``--tm-build-url`` say it.

Each system's variables, as its documentation names them:

* GitHub Actions (``GITHUB_ACTIONS=true``): ``GITHUB_RUN_ID`` + ``GITHUB_RUN_ATTEMPT`` (a
  re-run of the workflow is another run), ``GITHUB_RUN_NUMBER``,
  ``GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID``, ``GITHUB_SHA``,
  ``GITHUB_REF_NAME``;
* GitLab CI (``GITLAB_CI=true``): ``CI_PIPELINE_ID``, ``CI_PIPELINE_IID``,
  ``CI_PIPELINE_URL``, ``CI_COMMIT_SHA``, ``CI_COMMIT_REF_NAME``;
* Jenkins (``JENKINS_URL``): ``BUILD_TAG``, ``BUILD_NUMBER``, ``BUILD_URL``, ``GIT_COMMIT``,
  ``BRANCH_NAME`` or ``GIT_BRANCH``;
* Azure Pipelines (``TF_BUILD=True``): ``BUILD_BUILDID``, ``BUILD_BUILDNUMBER``,
  ``SYSTEM_COLLECTIONURI`` + ``SYSTEM_TEAMPROJECT`` + ``_build/results?buildId=``,
  ``BUILD_SOURCEVERSION``, ``BUILD_SOURCEBRANCHNAME``;
* CircleCI (``CIRCLECI=true``): ``CIRCLE_WORKFLOW_ID``, ``CIRCLE_BUILD_NUM``,
  ``CIRCLE_BUILD_URL``, ``CIRCLE_SHA1``, ``CIRCLE_BRANCH``;
* Buildkite (``BUILDKITE=true``): ``BUILDKITE_BUILD_ID``, ``BUILDKITE_BUILD_NUMBER``,
  ``BUILDKITE_BUILD_URL``, ``BUILDKITE_COMMIT``, ``BUILDKITE_BRANCH``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tmupload.settings import Settings

__all__ = ["BuildInfo", "build_settings", "detect", "with_build"]


@dataclass(frozen=True)
class BuildInfo:
    system: str  # "GitHub Actions", ...
    run_key: str | None  # the pipeline run, the same in every shard of it
    build: str | None
    build_url: str | None
    commit: str | None = None
    branch: str | None = None

    def as_environment(self) -> dict[str, str]:
        """What a run's environment records of the build (no empty values)."""
        values = {
            "ci": self.system,
            "build": self.build,
            "build_url": self.build_url,
            "commit": self.commit,
            "branch": self.branch,
        }
        return {key: value for key, value in values.items() if value}


def _value(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _key(system: str, *parts: str | None) -> str | None:
    """A run key that no other system's id can equal."""
    if not all(parts):
        return None
    return f"{system}:" + "-".join(str(part) for part in parts)


def _github(env: Mapping[str, str]) -> BuildInfo:
    run_id = _value(env, "GITHUB_RUN_ID")
    server, repository = _value(env, "GITHUB_SERVER_URL"), _value(env, "GITHUB_REPOSITORY")
    url = (
        f"{server}/{repository}/actions/runs/{run_id}" if server and repository and run_id else None
    )
    return BuildInfo(
        "GitHub Actions",
        _key("github", run_id, _value(env, "GITHUB_RUN_ATTEMPT") or "1"),
        _value(env, "GITHUB_RUN_NUMBER"),
        url,
        _value(env, "GITHUB_SHA"),
        _value(env, "GITHUB_REF_NAME"),
    )


def _gitlab(env: Mapping[str, str]) -> BuildInfo:
    return BuildInfo(
        "GitLab CI",
        _key("gitlab", _value(env, "CI_PIPELINE_ID")),
        _value(env, "CI_PIPELINE_IID") or _value(env, "CI_PIPELINE_ID"),
        _value(env, "CI_PIPELINE_URL"),
        _value(env, "CI_COMMIT_SHA"),
        _value(env, "CI_COMMIT_REF_NAME"),
    )


def _jenkins(env: Mapping[str, str]) -> BuildInfo:
    return BuildInfo(
        "Jenkins",
        _key("jenkins", _value(env, "BUILD_TAG")),
        _value(env, "BUILD_NUMBER"),
        _value(env, "BUILD_URL"),
        _value(env, "GIT_COMMIT"),
        _value(env, "BRANCH_NAME") or _value(env, "GIT_BRANCH"),
    )


def _azure(env: Mapping[str, str]) -> BuildInfo:
    build_id = _value(env, "BUILD_BUILDID")
    collection, project = _value(env, "SYSTEM_COLLECTIONURI"), _value(env, "SYSTEM_TEAMPROJECT")
    url = (
        f"{collection.rstrip('/')}/{project}/_build/results?buildId={build_id}"
        if collection and project and build_id
        else None
    )
    return BuildInfo(
        "Azure Pipelines",
        _key("azure", build_id),
        _value(env, "BUILD_BUILDNUMBER"),
        url,
        _value(env, "BUILD_SOURCEVERSION"),
        _value(env, "BUILD_SOURCEBRANCHNAME"),
    )


def _circleci(env: Mapping[str, str]) -> BuildInfo:
    return BuildInfo(
        "CircleCI",
        _key("circleci", _value(env, "CIRCLE_WORKFLOW_ID")),
        _value(env, "CIRCLE_BUILD_NUM"),
        _value(env, "CIRCLE_BUILD_URL"),
        _value(env, "CIRCLE_SHA1"),
        _value(env, "CIRCLE_BRANCH"),
    )


def _buildkite(env: Mapping[str, str]) -> BuildInfo:
    return BuildInfo(
        "Buildkite",
        _key("buildkite", _value(env, "BUILDKITE_BUILD_ID")),
        _value(env, "BUILDKITE_BUILD_NUMBER"),
        _value(env, "BUILDKITE_BUILD_URL"),
        _value(env, "BUILDKITE_COMMIT"),
        _value(env, "BUILDKITE_BRANCH"),
    )


def detect(env: Mapping[str, str]) -> BuildInfo | None:
    """The CI system ``env`` belongs to and its build, or None outside the six known."""
    if env.get("GITHUB_ACTIONS", "").lower() == "true":
        return _github(env)
    if env.get("GITLAB_CI", "").lower() == "true":
        return _gitlab(env)
    if env.get("TF_BUILD", "").lower() == "true":
        return _azure(env)
    if env.get("CIRCLECI", "").lower() == "true":
        return _circleci(env)
    if env.get("BUILDKITE", "").lower() == "true":
        return _buildkite(env)
    if env.get("JENKINS_URL"):
        return _jenkins(env)
    return None


def build_settings(
    given: Mapping[str, str | None], env: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """(the settings the CI fills in where ``given`` has none: ``run_key``, ``build``,
    ``build_url``; what a run's environment records of the build). ``--tm-build`` and
    ``--tm-build-url`` win over the CI's."""
    info = detect(env)
    filled: dict[str, str] = {}
    record: dict[str, str] = info.as_environment() if info is not None else {}
    for name in ("run_key", "build", "build_url"):
        value = given.get(name) or (getattr(info, name) if info is not None else None)
        if value and not given.get(name):
            filled[name] = value
        if value and name != "run_key":
            record[name] = value
    return filled, record


def with_build(settings: Settings, env: Mapping[str, str]) -> tuple[Settings, dict[str, str]]:
    """``settings`` with the CI's run key and build where they say none, and what the run's
    environment records of the build."""
    given = {name: getattr(settings, name) for name in ("run_key", "build", "build_url")}
    filled, record = build_settings(given, env)
    return settings.model_copy(update=filled), record
