"""The check of llama.cpp's extra CPU buffer types: run once in a child, kept, overridable."""

from __future__ import annotations

import subprocess
import sys

import pytest

from glossdb.backends import llama_probe


class _Lib:
    __file__ = str(llama_probe.__file__)  # any module file: its folder has no libraries


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF")
    return path


def test_the_answer_is_probed_once_and_kept(tmp_path, model_file, monkeypatch):
    monkeypatch.setenv("GLOSSDB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(llama_probe.ENV, raising=False)
    calls = []
    monkeypatch.setattr(llama_probe, "_probe_in_child", lambda p: calls.append(p) or False)
    assert llama_probe.extra_buffers_safe(_Lib, model_file) is False
    assert llama_probe.extra_buffers_safe(_Lib, model_file) is False
    assert calls == [model_file]  # the second answer came from the record
    model_file.write_bytes(b"GGUF, another file")  # another model: asked again
    llama_probe.extra_buffers_safe(_Lib, model_file)
    assert len(calls) == 2


def test_the_environment_decides_without_a_probe(tmp_path, model_file, monkeypatch):
    monkeypatch.setenv("GLOSSDB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(llama_probe, "_probe_in_child", lambda p: pytest.fail("probed"))
    for value, expected in (("1", True), ("0", False)):
        monkeypatch.setenv(llama_probe.ENV, value)
        assert llama_probe.extra_buffers_safe(_Lib, model_file) is expected


def test_a_child_that_fails_means_unsafe(model_file):
    assert llama_probe._probe_in_child(model_file) is False  # not a model: the child fails


@pytest.mark.model
def test_the_child_decodes_the_real_judge_with_plain_buffers():
    from glossdb.models import resolve_model

    _, path = resolve_model("gemma3-270m")
    done = subprocess.run([sys.executable, "-m", llama_probe.__name__, str(path), "--plain"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok"


@pytest.mark.model
@pytest.mark.parametrize("value", ["0", "1"])
def test_the_local_server_loads_with_the_buffers_decided(value, monkeypatch):
    """The OpenAI-compatible test server (llama_cpp.Llama) follows the same decision."""
    import llama_cpp
    import llama_cpp.llama_cpp as low

    from glossdb.backends.local_server import use_safe_buffers
    from glossdb.models import resolve_model

    monkeypatch.setattr(low, "llama_model_default_params", low.llama_model_default_params)
    monkeypatch.setenv(llama_probe.ENV, value)
    _, path = resolve_model("gemma3-270m")
    assert use_safe_buffers(str(path)) is (value == "1")
    llm = llama_cpp.Llama(str(path), vocab_only=True, verbose=False)
    assert bool(llm.model_params.use_extra_bufts) is (value == "1")
    llm.close()
