"""`glossdb serve --train-after N` (issue 23, adoption): a judge version trained in idle
time once N feedback marks came in since the last training; the server picks the adopted
version up from the settings file."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from glossdb import Index
from glossdb.server.trainer import TRAINED_AT, TrainWorker


def _until(check, seconds: float = 120.0, every: float = 0.05):
    """Poll ``check`` until it returns something true (or give up after ``seconds``)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(every)
    return check()


def _mark(ix: Index, n: int, start: int = 0) -> None:
    ids = ix.store.chunk_ids()
    for i in range(start, start + n):
        ix.feedback(f"query {i}", ids[i % len(ids)], bool(i % 2), source="api")


def _script(path, result: dict) -> list[str]:
    """A stand-in for `glossdb train --json`: logs each run, prints ``result``."""
    code = (f"import pathlib; p = pathlib.Path({str(path)!r}); "
            "p.write_text((p.read_text() if p.exists() else '') + 'x'); "
            f"print({json.dumps(result)!r})")
    return [sys.executable, "-c", code]


def test_training_runs_once_per_n_new_marks_and_only_when_idle(tmp_path, corpus, fake):
    ix = Index(tmp_path / "t.glossdb", models={"judge": fake, "writer": fake})
    ix.add([corpus])
    log = tmp_path / "runs.log"
    result = {"judge_version": "judge-abc", "adopted": True, "reason": "adopted",
              "pairs": {"feedback": 4}, "held_out": 1, "old_ndcg": 0.5, "new_ndcg": 0.6,
              "train_s": 1.0}
    worker = TrainWorker(ix, after=3, idle_s=0.02, command=_script(log, result))
    worker.enter()  # a request is in flight: nothing starts, however many marks wait
    worker.start()
    try:
        _mark(ix, 4)
        time.sleep(0.2)
        assert worker.runs == 0 and not log.exists()
        worker.leave()
        assert _until(lambda: worker.runs == 1)
        assert worker.last == {"ok": True, **result}
        assert ix.store.get_setting(TRAINED_AT) == "4"
        _mark(ix, 2, start=4)  # two more: fewer than three since the last run
        time.sleep(0.2)
        assert worker.runs == 1
        _mark(ix, 1, start=6)
        assert _until(lambda: worker.runs == 2)
        assert log.read_text() == "xx"
        assert worker.status()["runs"] == 2 and worker.status()["running"]
    finally:
        worker.stop()
    assert not worker.status()["running"]
    # a restarted server does not train again on the marks already used
    again = TrainWorker(ix, after=3, idle_s=0.02, command=_script(log, result))
    assert again.pending(ix) == (7, False)
    ix.close()


def test_a_failed_training_run_is_reported_and_waits_for_new_marks(tmp_path, corpus, fake):
    ix = Index(tmp_path / "t.glossdb", models={"judge": fake, "writer": fake})
    ix.add([corpus])
    failing = [sys.executable, "-c",
               "import sys; print('training a judge needs torch', file=sys.stderr); sys.exit(1)"]
    worker = TrainWorker(ix, after=2, idle_s=0.02, command=failing)
    _mark(ix, 2)
    worker.start()
    try:
        assert _until(lambda: worker.runs == 1)
        assert worker.last == {"ok": False, "error": "training a judge needs torch"}
        time.sleep(0.2)
        assert worker.runs == 1  # not retried in a loop: it waits for two more marks
    finally:
        worker.stop()
    garbled = TrainWorker(ix, after=1, command=[sys.executable, "-c", "print('half a line')"])
    assert garbled.train_once() == {"ok": False,
                                    "error": "glossdb train printed no JSON: 'half a line\\n'"}
    ix.close()


@pytest.mark.model
def test_serve_trains_a_judge_from_feedback_given_over_the_api(tmp_path, corpus):
    """The real thing: marks POSTed to a running `glossdb serve --train-after 6`, a real
    `glossdb train` in its child process, the outcome in /api/stats, and a search after it
    with the judge the settings now name."""
    pytest.importorskip("torch", reason="the train extra: pip install 'glossdb[train]'")
    import httpx

    from bench.load import free_port

    index = str(tmp_path / "t.glossdb")
    subprocess.run([sys.executable, "-m", "glossdb", "add", str(corpus), "-i", index,
                    "--gloss", "later"], check=True, capture_output=True)
    url = f"http://127.0.0.1:{free_port()}"
    proc = subprocess.Popen([sys.executable, "-m", "glossdb", "serve", "-i", index, "--port",
                             url.rsplit(":", 1)[1], "--no-gloss-in-background",
                             "--train-after", "6"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        assert _until(lambda: _get(url + "/api/stats"), 120)
        found = {}
        for q, word in [("how long do cats sleep", "sleep"), ("what do cats hunt", "mice"),
                        ("what powers a rocket", "propellant"), ("orbital speed", "orbital"),
                        ("why does dough rise", "yeast"), ("kneading bread", "knead")]:
            hits = httpx.get(url + "/api/search", params={"q": q, "k": 3}, timeout=300).json()
            found[q] = hits["hits"]
            for h in hits["hits"][:2]:
                relevant = word in h["text"].lower()
                r = httpx.post(url + "/api/feedback", json={"q": q, "chunk_id": h["chunk_id"],
                               "relevant": relevant}, timeout=30)
                assert r.status_code == 200, r.text
        # every request counts as activity, so poll seldom: the worker starts in the gaps
        done = _until(lambda: (_get(url + "/api/stats") or {}).get(
            "idle_training", {}).get("runs"), 1200, every=10.0)
        stats = _get(url + "/api/stats")
        assert done == 1, stats["idle_training"]
        last = stats["idle_training"]["last"]
        assert last["ok"], last
        assert last["judge_version"].startswith("judge-") and last["pairs"]["feedback"] > 0
        assert bool(stats["judge_adapter"]) == last["adopted"]
        hits = httpx.get(url + "/api/search", params={"q": "cats sleep", "k": 2},
                         timeout=300).json()["hits"]
        assert hits
    finally:
        proc.terminate()
        log, _ = proc.communicate(timeout=120)
    assert "Traceback" not in log, log


def _get(url: str):
    import httpx

    try:
        return httpx.get(url, timeout=30).json()
    except httpx.HTTPError:
        return None
