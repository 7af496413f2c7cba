"""Start llama-cpp-python's OpenAI-compatible server on 127.0.0.1 (tests and benchmarks).

The server runs in a child process through this module's ``__main__``, which loads the model
with the CPU buffer types that :mod:`.llama_probe` found safe on this machine (the server's
own settings cannot turn llama.cpp's extra buffer types off, and where they crash, the
server dies in its first decode while still answering ``/models``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from ..errors import BackendError
from ..models import resolve_model


def start_llama_cpp_server(model: str, port: int, n_ctx: int = 512,
                           wait_s: float = 120) -> tuple[subprocess.Popen, str]:
    """Serve ``model`` with prompt log-probabilities on; return (process, base URL)."""
    _, path = resolve_model(model)
    proc = subprocess.Popen(
        [sys.executable, "-m", __name__, "--model", str(path), "--model_alias", model,
         "--host", "127.0.0.1", "--port", str(port), "--logits_all", "true",
         "--n_ctx", str(n_ctx), "--verbose", "false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BackendError(f"llama_cpp.server exited with code {proc.returncode} on port "
                               f"{port}: run `python -m {__name__} --model {path}` to see why")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.5)
    proc.kill()
    raise BackendError(f"llama_cpp.server did not start within {wait_s:.0f} s on port {port}")


def use_safe_buffers(model: str) -> bool:
    """Make ``llama_cpp.Llama`` load models with the CPU buffer types that
    :mod:`.llama_probe` found safe for ``model``; returns whether the extra ones are used."""
    import llama_cpp
    import llama_cpp.llama_cpp as low

    from .llama_probe import extra_buffers_safe

    safe = extra_buffers_safe(llama_cpp, model)
    defaults = low.llama_model_default_params

    def params():
        p = defaults()
        p.use_extra_bufts = safe
        return p

    low.llama_model_default_params = params  # read by llama_cpp.Llama at each load
    return safe


def _serve(argv: list[str]) -> None:
    """llama_cpp.server's own ``main``, its model loaded with the safe buffer types."""
    from llama_cpp.server.__main__ import main

    if "--model" in argv[:-1]:
        model = argv[argv.index("--model") + 1]
        if not os.path.isfile(model):
            raise SystemExit(f"no model file at {model}: give --model the path of a GGUF file")
        use_safe_buffers(model)
    sys.argv = [sys.argv[0]] + argv
    main()


if __name__ == "__main__":
    _serve(sys.argv[1:])
