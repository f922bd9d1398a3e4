"""The CI systems tmupload knows, detected from their documented variables: the run key every
shard of one pipeline run shares, the build number, its link, the commit and the branch."""

from __future__ import annotations

import pytest

from tmupload.ci import detect, with_build
from tmupload.settings import resolve

SYSTEMS = {
    "GitHub Actions": (
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_RUN_ID": "9001",
            "GITHUB_RUN_ATTEMPT": "2",
            "GITHUB_RUN_NUMBER": "77",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "acme/shop",
            "GITHUB_SHA": "abc123",
            "GITHUB_REF_NAME": "main",
        },
        ("github:9001-2", "77", "https://github.com/acme/shop/actions/runs/9001", "abc123", "main"),
    ),
    "GitLab CI": (
        {
            "GITLAB_CI": "true",
            "CI_PIPELINE_ID": "5150",
            "CI_PIPELINE_IID": "12",
            "CI_PIPELINE_URL": "https://gitlab.example.com/acme/shop/-/pipelines/5150",
            "CI_COMMIT_SHA": "def456",
            "CI_COMMIT_REF_NAME": "feature/x",
        },
        (
            "gitlab:5150",
            "12",
            "https://gitlab.example.com/acme/shop/-/pipelines/5150",
            "def456",
            "feature/x",
        ),
    ),
    "Jenkins": (
        {
            "JENKINS_URL": "https://ci.example.com/",
            "BUILD_TAG": "jenkins-shop-main-31",
            "BUILD_NUMBER": "31",
            "BUILD_URL": "https://ci.example.com/job/shop/job/main/31/",
            "GIT_COMMIT": "0a0b0c",
            "BRANCH_NAME": "main",
        },
        (
            "jenkins:jenkins-shop-main-31",
            "31",
            "https://ci.example.com/job/shop/job/main/31/",
            "0a0b0c",
            "main",
        ),
    ),
    "Azure Pipelines": (
        {
            "TF_BUILD": "True",
            "BUILD_BUILDID": "420",
            "BUILD_BUILDNUMBER": "20261207.3",
            "SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/",
            "SYSTEM_TEAMPROJECT": "shop",
            "BUILD_SOURCEVERSION": "fedcba",
            "BUILD_SOURCEBRANCHNAME": "main",
        },
        (
            "azure:420",
            "20261207.3",
            "https://dev.azure.com/acme/shop/_build/results?buildId=420",
            "fedcba",
            "main",
        ),
    ),
    "CircleCI": (
        {
            "CIRCLECI": "true",
            "CIRCLE_WORKFLOW_ID": "wf-1",
            "CIRCLE_BUILD_NUM": "88",
            "CIRCLE_BUILD_URL": "https://circleci.com/gh/acme/shop/88",
            "CIRCLE_SHA1": "111222",
            "CIRCLE_BRANCH": "main",
        },
        ("circleci:wf-1", "88", "https://circleci.com/gh/acme/shop/88", "111222", "main"),
    ),
    "Buildkite": (
        {
            "BUILDKITE": "true",
            "BUILDKITE_BUILD_ID": "bk-uuid",
            "BUILDKITE_BUILD_NUMBER": "5",
            "BUILDKITE_BUILD_URL": "https://buildkite.com/acme/shop/builds/5",
            "BUILDKITE_COMMIT": "333444",
            "BUILDKITE_BRANCH": "main",
        },
        ("buildkite:bk-uuid", "5", "https://buildkite.com/acme/shop/builds/5", "333444", "main"),
    ),
}


@pytest.mark.parametrize("system", sorted(SYSTEMS))
def test_each_ci_system_is_told_by_its_own_variables(system: str) -> None:
    env, (key, build, url, commit, branch) = SYSTEMS[system]
    info = detect(env)
    assert info is not None and info.system == system
    assert (info.run_key, info.build, info.build_url, info.commit, info.branch) == (
        key,
        build,
        url,
        commit,
        branch,
    )


def test_every_shard_of_one_pipeline_run_gets_the_same_key_and_a_rerun_another() -> None:
    env = SYSTEMS["GitHub Actions"][0]
    shard_a = detect({**env, "GITHUB_JOB": "tests-1"})
    shard_b = detect({**env, "GITHUB_JOB": "tests-2"})
    rerun = detect({**env, "GITHUB_RUN_ATTEMPT": "3"})
    assert shard_a is not None and shard_b is not None and rerun is not None
    assert shard_a.run_key == shard_b.run_key != rerun.run_key


def test_outside_a_known_ci_nothing_is_detected() -> None:
    assert detect({"HOME": "/root", "CI": "true"}) is None


def test_flags_win_over_the_ci_and_the_ci_fills_what_they_leave() -> None:
    env = SYSTEMS["GitLab CI"][0]
    given = resolve({"build": "rc-7"}, {}, env={}, flag_style="cli")
    settings, record = with_build(given, env)
    assert settings.build == "rc-7"  # the flag's
    assert settings.run_key == "gitlab:5150"  # the CI's
    assert settings.build_url == "https://gitlab.example.com/acme/shop/-/pipelines/5150"
    assert record == {
        "ci": "GitLab CI",
        "build": "rc-7",
        "build_url": "https://gitlab.example.com/acme/shop/-/pipelines/5150",
        "commit": "def456",
        "branch": "feature/x",
    }
    plain, nothing = with_build(given, {})
    assert plain.run_key is None and nothing == {"build": "rc-7"}
