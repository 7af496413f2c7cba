"""The KV state store is a byte-budgeted LRU: pure bookkeeping, no model needed."""

import pytest

from glossdb.backends.kvstates import KVStates


def test_evicts_least_recently_used_within_budget():
    states = KVStates(10)
    states.put((1,), b"aaaa")
    states.put((2,), b"bbbb")
    assert states.get((1,)) == b"aaaa"
    states.put((3,), b"cccc")
    assert (2,) not in states and (1,) in states and (3,) in states
    assert states.used_bytes == 8
    assert states.stats()["hits"] == 1


def test_refuses_a_state_larger_than_the_budget():
    states = KVStates(3)
    assert states.put((1,), b"abcd") is False
    assert len(states) == 0 and states.used_bytes == 0


def test_replacing_and_discarding_keep_the_byte_count_right():
    states = KVStates(100)
    states.put((1,), b"aaaa")
    states.put((1,), b"bb")
    assert states.used_bytes == 2
    states.discard((1,))
    states.discard((9,))
    assert states.used_bytes == 0 and states.get((1,)) is None
    assert states.stats()["misses"] == 1


def test_negative_budget_is_an_error():
    with pytest.raises(ValueError):
        KVStates(-1)
