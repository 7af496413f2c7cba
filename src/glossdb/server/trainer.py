"""`glossdb serve --train-after N`: a judge version trained in idle time from the feedback
the page, the API and the integrations collect (issue 23, "adoption").

When N feedback marks have come in since the last training (the count is kept in the
index's settings table, so a restart does not train again) and no request is being served,
the worker runs ``glossdb train --json`` on the index in a child process at the lowest CPU
priority: torch never enters the server, and requests keep the CPU first. ``train`` adopts
the new version only when its check on held-out queries does not lose, by writing the
index's settings file; the server's handles re-read that file (``Index.config``) and load
the adopted judge at their next search. Each run's outcome is in ``/api/stats``
(``idle_training``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ..errors import GlossdbError
from ..index import Index
from ..store.feedback import count_feedback
from .worker import IdleWorker

TRAINED_AT = "serve.trained_at_feedback"  # settings key: the mark count of the last run


def train_command(index: Index) -> list[str]:
    return [sys.executable, "-m", "glossdb", "train", "--index", str(index.path), "--json"]


class TrainWorker(IdleWorker):
    def __init__(self, index: Index, after: int, idle_s: float = 5.0,
                 command: list[str] | None = None):
        super().__init__(index, "glossdb-train-worker", idle_s)
        self.after = max(1, after)
        self.command = command or train_command(index)
        self.runs = 0
        self.training = False
        self.last: dict | None = None
        self._child: subprocess.Popen | None = None

    def status(self) -> dict:
        return {"running": self.running(), "after_marks": self.after, "runs": self.runs,
                "training": self.training, "last": self.last, "error": self.error}

    def pending(self, handle: Index) -> tuple[int, bool]:
        """(standing marks now, whether enough came in since the last run)."""
        marks = count_feedback(handle.store)
        since = int(handle.store.get_setting(TRAINED_AT) or 0)
        return marks, marks - since >= self.after

    def run(self) -> None:
        handle = self.index.fork()
        try:
            while not self._halt.is_set():
                marks, due = self.pending(handle)
                if self.busy() or not due:
                    self._halt.wait(self.idle_s)
                    continue
                self.last = self.train_once()
                if self._halt.is_set():
                    break
                handle.store.set_setting(TRAINED_AT, str(marks))  # a failed run waits too
                self.runs += 1
        except GlossdbError as exc:
            self.error = str(exc)
        finally:
            handle.close()

    def train_once(self) -> dict:
        """One ``glossdb train`` run: its JSON result, or why it failed."""
        self.training = True
        try:
            self._child = subprocess.Popen(
                self.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                preexec_fn=(lambda: os.nice(19)) if hasattr(os, "nice") else None)
            out, err = self._child.communicate()
        finally:
            self.training = False
        if self._child.returncode:
            lines = [x for x in err.strip().splitlines() if x.strip()]
            return {"ok": False, "error": lines[-1] if lines else
                    f"glossdb train exited with status {self._child.returncode}"}
        try:
            result = json.loads(out)
        except ValueError:  # a run must not end the worker: say what came back instead
            return {"ok": False, "error": f"glossdb train printed no JSON: {out[-200:]!r}"}
        keep = ("judge_version", "adopted", "reason", "pairs", "held_out", "old_ndcg",
                "new_ndcg", "train_s")
        return {"ok": True, **{k: result.get(k) for k in keep}}

    def stop(self) -> None:
        self._halt.set()
        child = self._child
        if child is not None and child.poll() is None:
            child.terminate()  # a run cut short writes nothing: train adopts at its end
        self.join(timeout=600)
