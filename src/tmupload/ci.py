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

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class _System:
    """One CI system: how to tell it runs this, and which of its variables say what.

    A tuple of variables is tried in order, the first set wins; ``run_key`` needs all of
    its variables (joined by ``-``, after ``key_prefix:`` so that no other system's id can
    equal it). ``build_url`` is a template of ``{VARIABLE}`` (``{VARIABLE/}``: without a
    trailing slash), None unless every variable in it is set."""

    name: str
    key_prefix: str
    on: str  # the variable set to "true" (any case) when the system runs this
    run_key: tuple[str, ...]
    build: tuple[str, ...]
    build_url: str
    commit: str
    branch: tuple[str, ...]
    on_any_value: bool = False  # ``on`` set to anything counts (Jenkins sets a URL)
    defaults: Mapping[str, str] = field(default_factory=dict)  # for variables left unset

    def runs_here(self, env: Mapping[str, str]) -> bool:
        value = env.get(self.on, "")
        return bool(value) if self.on_any_value else value.lower() == "true"

    def info(self, env: Mapping[str, str]) -> BuildInfo:
        def value(name: str) -> str | None:
            return (env.get(name, "").strip() or None) or self.defaults.get(name)

        def first(names: tuple[str, ...]) -> str | None:
            return next((found for found in map(value, names) if found), None)

        parts = [value(name) for name in self.run_key]
        key = f"{self.key_prefix}:" + "-".join(map(str, parts)) if all(parts) else None

        def fill(found: re.Match[str]) -> str:
            text = value(found.group(1))
            if text is None:
                raise LookupError(found.group(1))
            return text.rstrip("/") if found.group(2) else text

        try:
            url: str | None = _PLACEHOLDER.sub(fill, self.build_url)
        except LookupError:
            url = None
        return BuildInfo(
            self.name, key, first(self.build), url, value(self.commit), first(self.branch)
        )


_PLACEHOLDER = re.compile(r"\{([A-Z_]+)(/?)\}")

# In the order they are looked for: Jenkins last, as its sign (JENKINS_URL) is the loosest.
_SYSTEMS = (
    _System(
        "GitHub Actions",
        "github",
        on="GITHUB_ACTIONS",
        # A re-run of the workflow is another run (its first attempt may not say so).
        run_key=("GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT"),
        defaults={"GITHUB_RUN_ATTEMPT": "1"},
        build=("GITHUB_RUN_NUMBER",),
        build_url="{GITHUB_SERVER_URL}/{GITHUB_REPOSITORY}/actions/runs/{GITHUB_RUN_ID}",
        commit="GITHUB_SHA",
        branch=("GITHUB_REF_NAME",),
    ),
    _System(
        "GitLab CI",
        "gitlab",
        on="GITLAB_CI",
        run_key=("CI_PIPELINE_ID",),
        build=("CI_PIPELINE_IID", "CI_PIPELINE_ID"),
        build_url="{CI_PIPELINE_URL}",
        commit="CI_COMMIT_SHA",
        branch=("CI_COMMIT_REF_NAME",),
    ),
    _System(
        "Azure Pipelines",
        "azure",
        on="TF_BUILD",
        run_key=("BUILD_BUILDID",),
        build=("BUILD_BUILDNUMBER",),
        build_url="{SYSTEM_COLLECTIONURI/}/{SYSTEM_TEAMPROJECT}"
        "/_build/results?buildId={BUILD_BUILDID}",
        commit="BUILD_SOURCEVERSION",
        branch=("BUILD_SOURCEBRANCHNAME",),
    ),
    _System(
        "CircleCI",
        "circleci",
        on="CIRCLECI",
        run_key=("CIRCLE_WORKFLOW_ID",),
        build=("CIRCLE_BUILD_NUM",),
        build_url="{CIRCLE_BUILD_URL}",
        commit="CIRCLE_SHA1",
        branch=("CIRCLE_BRANCH",),
    ),
    _System(
        "Buildkite",
        "buildkite",
        on="BUILDKITE",
        run_key=("BUILDKITE_BUILD_ID",),
        build=("BUILDKITE_BUILD_NUMBER",),
        build_url="{BUILDKITE_BUILD_URL}",
        commit="BUILDKITE_COMMIT",
        branch=("BUILDKITE_BRANCH",),
    ),
    _System(
        "Jenkins",
        "jenkins",
        on="JENKINS_URL",
        on_any_value=True,
        run_key=("BUILD_TAG",),
        build=("BUILD_NUMBER",),
        build_url="{BUILD_URL}",
        commit="GIT_COMMIT",
        branch=("BRANCH_NAME", "GIT_BRANCH"),
    ),
)


def detect(env: Mapping[str, str]) -> BuildInfo | None:
    """The CI system ``env`` belongs to and its build, or None outside the six known."""
    for system in _SYSTEMS:
        if system.runs_here(env):
            return system.info(env)
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
