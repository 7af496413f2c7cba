"""`glossdb serve` glosses in the background, and a search is answered while it has work."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from bench.crash import corpus, env
from bench.load import free_port


def test_serve_glosses_in_the_background_and_yields_to_a_search(tmp_path):
    docs = corpus(tmp_path / "docs", files=48)
    index = str(tmp_path / "bg.glossdb")
    environment = env(0.3)  # each writer batch takes 0.3 s
    subprocess.run([sys.executable, "-m", "glossdb", "add", str(docs), "-i", index,
                    "--gloss", "later"], env=environment, check=True, capture_output=True)
    url = f"http://127.0.0.1:{free_port()}"
    proc = subprocess.Popen([sys.executable, "-m", "glossdb", "serve", "-i", index, "--port",
                             url.rsplit(":", 1)[1]], env=environment,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                stats = httpx.get(url + "/api/stats", timeout=30).json()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        rep = stats["representations"]
        assert stats["background_glossing"]["running"]
        search = httpx.get(url + "/api/search", params={"q": "glacier ice flow", "k": 3},
                           timeout=60)
        assert search.status_code == 200 and len(search.json()["hits"]) == 3
        after = httpx.get(url + "/api/stats", timeout=30).json()
        assert after["chunks"] - after["glosses"] > 0  # the worker still had work meanwhile
        for _ in range(300):
            now = httpx.get(url + "/api/stats", timeout=30).json()
            if now["glosses"] == now["chunks"]:
                break
            time.sleep(0.1)
        assert now["glosses"] == now["chunks"], now  # and it finished the job
        assert not rep or rep[0]["glosses"] <= now["glosses"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
