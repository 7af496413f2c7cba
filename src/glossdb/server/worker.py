"""Work `glossdb serve` does while no request is being served: background glossing (a
thread writes missing glosses in usage order, one batch at a time) and, behind a flag,
training a judge version from the feedback its page collects (glossdb.server.trainer)."""

from __future__ import annotations

import threading

from ..errors import GlossdbError
from ..index import Index


class IdleWorker(threading.Thread):
    """A daemon thread told of every request: ``enter``/``leave`` bracket each one, and
    the worker starts a unit of work only when none is in flight."""

    def __init__(self, index: Index, name: str, idle_s: float):
        super().__init__(name=name, daemon=True)
        self.index, self.idle_s = index, idle_s
        self._active = 0
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self.error: str | None = None

    def enter(self) -> None:
        with self._lock:
            self._active += 1

    def leave(self) -> None:
        with self._lock:
            self._active -= 1

    def busy(self) -> bool:
        with self._lock:
            return self._active > 0

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=600)

    def running(self) -> bool:
        return self.is_alive() and not self._halt.is_set()


class GlossWorker(IdleWorker):
    """Glosses ``index`` on its own handle (:meth:`Index.fork`); a search waits at most for
    the batch under way (and only when judge and writer are one model)."""

    def __init__(self, index: Index, batch: int = 4, idle_s: float = 2.0):
        super().__init__(index, "glossdb-gloss-worker", idle_s)
        self.batch = batch
        self.written = 0

    def status(self) -> dict:
        return {"running": self.running(), "written": self.written, "error": self.error}

    def run(self) -> None:
        handle = self.index.fork()
        try:
            while not self._halt.is_set():
                if self.busy():
                    self._halt.wait(0.05)
                    continue
                done = handle.gloss(limit=self.batch)
                self.written += done
                if not done:  # nothing waits now; another process may add chunks later
                    self._halt.wait(self.idle_s)
        except GlossdbError as exc:
            self.error = str(exc)
        finally:
            handle.close()
