"""The test logs of a run, built one at a time when asked for: the same logs as a list."""

from __future__ import annotations

import json

from qtest_target_helpers import sample_run

from tmupload.targets.qtest.payload import RunLogs, build_logs, parse_status_map


def test_run_logs_are_the_logs_of_the_list_one_at_a_time() -> None:
    run = sample_run()
    status_map = parse_status_map(None)
    expected = build_logs(run, status_map)
    logs = RunLogs(run, status_map)
    assert len(logs) == len(expected) == len(run.cases)
    assert list(logs) == expected
    assert [logs[n] for n in range(len(logs))] == expected
    assert logs[-1] == expected[-1]
    assert logs[1:3] == expected[1:3]
    assert logs[0] is not logs[0]  # built anew each time, never held


def test_run_logs_give_each_log_encoded_and_its_content_by_position() -> None:
    run = sample_run()
    logs = RunLogs(run, parse_status_map(None))
    for position, case in enumerate(run.cases):
        assert logs.log(position) == logs[position]
        assert json.loads(logs.encoded(position)) == logs[position]
        assert logs.content(position) == case.case_id == logs[position]["automation_content"]
