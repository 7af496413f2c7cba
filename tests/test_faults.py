"""The fault harness's short version (bench/faults.py; the long one is in
bench/results/reliability.json): a serve with background glossing beside CLI readers and
writers, sqlite3 checkpoints and SIGKILL/SIGTERM of every party; a disk that fills up; a file
system that goes read-only under a writer. Only outcomes are asserted, never timing."""

from __future__ import annotations

import pytest

from bench import faults


@pytest.mark.parametrize("seed", [101, 102])
def test_every_reported_write_survives_many_processes_and_kills(tmp_path, seed):
    run = faults.Run(tmp_path, seed).go(seconds=4)
    assert run["integrity"] == "ok"
    assert run["reported_writes"] > 0 and run["actions"] > 0
    assert run["lost"] == [] and run["duplicated"] == 0
    assert run["stale_reads"] == 0 and run["conflicts"] == 0, run["detail"]
    assert run["failures"] == [] and run["tracebacks"] == 0


@pytest.mark.parametrize("fault", ["full", "readonly"])
def test_a_failing_disk_is_one_clear_error_and_loses_nothing(tmp_path, fault):
    run = faults.fault_run(tmp_path, 0, fault)
    if "skipped" in run:
        pytest.skip(run["skipped"])
    assert run["setup_ok"]
    assert run["failed_exit"] == 6 and not run["traceback"], run["message"]
    wanted = (("disk holding the index is full",) if fault == "full"
              else ("disk failed a read or write", "cannot be written"))
    assert any(w in run["message"] for w in wanted), run["message"]
    assert run["integrity"] == "ok" and run["reported_kept"]
    assert run["finished_after"]
