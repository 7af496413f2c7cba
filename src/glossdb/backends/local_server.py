"""Start llama-cpp-python's OpenAI-compatible server on 127.0.0.1 (tests and benchmarks)."""

from __future__ import annotations

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
        [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", model,
         "--host", "127.0.0.1", "--port", str(port), "--logits_all", "true",
         "--n_ctx", str(n_ctx), "--verbose", "false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.5)
    proc.kill()
    raise BackendError(f"llama_cpp.server did not start within {wait_s:.0f} s on port {port}")
