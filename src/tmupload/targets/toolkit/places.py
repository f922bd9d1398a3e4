"""Where a case sits, read from its node id the same way for every server that files tests
by path (qTest's module names, Zephyr's repository folders)."""

from __future__ import annotations

from functools import lru_cache

from tmupload.models import CaseResult, shown_name

__all__ = ["node_parts", "suite_folders"]


@lru_cache(maxsize=4096)
def suite_folders(suite: str) -> tuple[str, ...]:
    """The folders a suite names (its path, or its `` / `` nesting)."""
    suite = suite.replace("\\", "/").replace(" / ", "/")
    return tuple(part.strip() for part in suite.split("/") if part.strip())


def _split_outside_brackets(text: str) -> list[str]:
    """``Class::test[a::b]`` -> ``["Class", "test[a::b]"]``: parameter ids may hold ``::``."""
    head, bracket, tail = text.partition("[")
    parts = head.split("::")
    parts[-1] += bracket + tail
    return parts


def node_parts(case: CaseResult) -> tuple[list[str], str]:
    """(the folders and classes the case sits in, its name below its file).

    A pytest node id ``tests/api/test_auth.py::TestLogin::test_ok[x]`` gives
    ``["tests", "api", "test_auth.py", "TestLogin"]`` and ``TestLogin::test_ok[x]``; an
    imported case ``suite::classname::name`` gives the suite's folders, the classname, then
    ``classname::name``. The name carries the classes and shows parameter ids as written
    (``models.shown_name``); not cut to any server's length."""
    folders = suite_folders(case.suite)
    if case.case_id.startswith(case.suite + "::"):
        rest = case.case_id[len(case.suite) + 2 :]
    else:
        rest = case.name
    parts = [part for part in _split_outside_brackets(rest) if part.strip()] or [case.name]
    modules = [*folders, *(part.strip() for part in parts[:-1])]
    if not modules:
        modules = [case.classname.strip() or "tests"]
    return modules, shown_name(case, "::".join(part.strip() for part in parts))
