"""Whether llama.cpp's extra CPU buffer types decode safely on this machine.

llama.cpp moves a model's weights into "extra" CPU buffer types when it loads them
(repacked, interleaved blocks for faster matrix products; AMX tiles where the CPU has
them). On some machines that path crashes: llama-cpp-python 0.3.36 built natively on an
AVX512/AMX Xeon virtual machine dies with a segmentation fault in the first decode of
every model, and loads and decodes normally without them. A crash takes the whole process,
so the check runs once in a child process, and its answer is kept per library build, CPU
and model file in the glossdb cache. Where the child fails, models load with plain CPU
buffers (slower matrix products; by how much could not be measured where it crashed).

``GLOSSDB_LLAMA_EXTRA_BUFFERS=0`` (or ``1``) skips the check and decides it.

    python -m glossdb.backends.llama_probe MODEL.gguf [--plain]  # "ok" where it works
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from ..errors import ModelNotFound
from ..models import cache_dir

ENV = "GLOSSDB_LLAMA_EXTRA_BUFFERS"
PROBE_TIMEOUT_S = 300


def extra_buffers_safe(lc, model_path: str | Path) -> bool:
    """True where a model at ``model_path`` decodes with the extra buffer types."""
    forced = os.environ.get(ENV, "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    key = _key(lc, Path(model_path))
    record = cache_dir() / "llama-extra-buffers.json"
    known = _read(record)
    if key not in known:
        known[key] = _probe_in_child(model_path)
        _write(record, known)
    return bool(known[key])


def load_model(lc, path: str | Path):
    """``llama_model_load_from_file`` with the buffer types this machine decodes safely."""
    mparams = lc.llama_model_default_params()
    mparams.use_extra_bufts = extra_buffers_safe(lc, path)
    model = lc.llama_model_load_from_file(str(path).encode(), mparams)
    if not model:
        raise ModelNotFound(f"llama.cpp could not load {path}: is it a valid GGUF file?")
    return model


def _key(lc, model: Path) -> str:
    lib = Path(lc.__file__).parent / "lib"
    parts = [str(model.resolve()), str(model.stat().st_size)]
    for f in sorted(lib.glob("libggml-cpu*")) + sorted(lib.glob("libllama*")):
        st = f.stat()
        parts += [f.name, str(st.st_size), str(int(st.st_mtime))]
    return hashlib.sha256("\n".join(parts + [_cpu_flags()]).encode()).hexdigest()[:16]


def _cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            return next((line for line in fh if line.startswith("flags")), "")
    except OSError:
        return ""


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write(path: Path, known: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known, indent=1) + "\n")
        tmp.replace(path)
    except OSError:
        pass  # a read-only cache: the check runs again next time


def _probe_in_child(model_path) -> bool:
    try:
        done = subprocess.run([sys.executable, "-m", __name__, str(model_path)],
                              capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip().endswith("ok")


def _decode_once(model_path: str, extra: bool = True) -> None:
    """Load the model with the default (extra) buffer types, or without them, and decode a
    few tokens."""
    import llama_cpp as lc

    quiet = lc.llama_log_callback(lambda *_: None)  # kept alive while llama.cpp logs
    lc.llama_log_set(quiet, None)
    lc.llama_backend_init()
    mparams = lc.llama_model_default_params()
    mparams.use_extra_bufts = extra
    model = lc.llama_model_load_from_file(model_path.encode(), mparams)
    if not model:
        raise SystemExit(f"could not load {model_path}")
    cparams = lc.llama_context_default_params()
    cparams.n_ctx = cparams.n_batch = cparams.n_ubatch = 64
    ctx = lc.llama_init_from_model(model, cparams)
    vocab = lc.llama_model_get_vocab(model)
    text = b"The capital of France is Paris."
    buf = (lc.llama_token * 64)()
    n = lc.llama_tokenize(vocab, text, len(text), buf, 64, True, False)
    batch = lc.llama_batch_get_one(buf, n)
    if lc.llama_decode(ctx, batch) != 0:
        raise SystemExit("llama_decode failed")
    lc.llama_free(ctx)
    lc.llama_model_free(model)


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        raise SystemExit(f"usage: python -m {__spec__.name} MODEL.gguf [--plain]")
    _decode_once(sys.argv[1], extra="--plain" not in sys.argv[2:])
    print("ok")
