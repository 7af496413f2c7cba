"""Settings are type- and range-checked where they are read (issue 21)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("key,value,message", [
    ("candidates", -5, "between 1 and 1000"),
    ("candidates", 0, "between 1 and 1000"),
    ("threads", 1.5, "whole number"),
    ("n_ctx", 10, "between 256"),
    ("timeout_s", 0, "at least"),
    ("concurrency", True, "whole number"),
])
def test_settings_out_of_range_are_refused_with_the_range(tmp_path, key, value, message):
    from glossdb.config import load_config
    from glossdb.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path / "x.glossdb", **{key: value})


def test_a_whole_float_is_a_whole_number(tmp_path):
    from glossdb.config import load_config

    assert load_config(tmp_path / "x.glossdb", threads=2.0).threads == 2
