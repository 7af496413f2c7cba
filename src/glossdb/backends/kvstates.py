"""Saved KV states of hot score contexts, reused across queries within a byte budget.

Query likelihood puts the candidate first ("Passage: <gloss>\\nFinding:" then the query), so
the expensive part of a judged pair, the gloss, does not depend on the query. A backend that
can save and restore a sequence's KV cache keeps the states of recently judged contexts here
and, when the same gloss is judged for another query, evaluates only the query's tokens.
"""

from __future__ import annotations

from collections import OrderedDict


class KVStates:
    """An LRU map from context tokens to a saved sequence state (opaque bytes)."""

    def __init__(self, budget_bytes: int):
        if budget_bytes < 0:
            raise ValueError("the KV state budget cannot be negative")
        self.budget_bytes = budget_bytes
        self.used_bytes = 0
        self.hits = 0
        self.misses = 0
        self._states: OrderedDict[tuple[int, ...], bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._states)

    def __contains__(self, key: tuple[int, ...]) -> bool:
        return key in self._states

    def get(self, key: tuple[int, ...]) -> bytes | None:
        data = self._states.get(key)
        if data is None:
            self.misses += 1
            return None
        self._states.move_to_end(key)
        self.hits += 1
        return data

    def put(self, key: tuple[int, ...], data: bytes) -> bool:
        """Keep ``data``, evicting the least recently used states; False if it cannot fit."""
        if len(data) > self.budget_bytes:
            return False
        old = self._states.pop(key, None)
        if old is not None:
            self.used_bytes -= len(old)
        while self.used_bytes + len(data) > self.budget_bytes:
            _, evicted = self._states.popitem(last=False)
            self.used_bytes -= len(evicted)
        self._states[key] = data
        self.used_bytes += len(data)
        return True

    def discard(self, key: tuple[int, ...]) -> None:
        data = self._states.pop(key, None)
        if data is not None:
            self.used_bytes -= len(data)

    def stats(self) -> dict[str, int]:
        return {"states": len(self._states), "bytes": self.used_bytes,
                "budget_bytes": self.budget_bytes, "hits": self.hits, "misses": self.misses}
