"""A toy signal in one file, as a third-party plugin would write it: it prefers the chunk
whose text mentions "sleeps" (tests/test_pipeline.py registers it)."""

from glossdb.plugins import hookimpl
from glossdb.signals import Signal


class Sleepy(Signal):
    name = "sleepy"
    weight = 5.0

    def values(self, candidates, judged, chunks):
        return [1.0 if "sleeps" in chunks[c.chunk_id].text else 0.0 for c in candidates]


@hookimpl
def glossdb_signals(config):
    return [Sleepy()]
