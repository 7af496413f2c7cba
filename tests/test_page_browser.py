"""The page in a real browser (headless Chromium from Debian) against a real `glossdb serve`:
state in the URL, and document text that stays text (stored XSS payloads stay inert)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import httpx
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (apt-get install chromium)")

PAYLOADS = ('<script>document.title="pwned-script"</script> river delta sediment notes',
            '<img src=x onerror="document.title=\'pwned-img\'"> river delta sediment again')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(docs, index: str, *add_options: str, serve_options: tuple[str, ...] = ()):
    """`glossdb add DOCS` then a real `glossdb serve` on a free port (fake model); its URL."""
    env = {**os.environ, "GLOSSDB_BACKEND": "fake", "GLOSSDB_EMBEDDER": "hashing"}
    subprocess.run([sys.executable, "-m", "glossdb", "add", str(docs), "-i", index,
                    *add_options], env=env, check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "glossdb", "serve", "-i", index, "--port",
                             str(port), *serve_options], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(url + "/api/stats").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def server(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i, text in enumerate(PAYLOADS):
        (docs / f"evil{i}.md").write_text(f"# {text}\n\n{text}\n")  # title and text
    with serving(docs, str(tmp_path / "x.glossdb")) as url:
        yield url


def dom(url: str, tmp_path) -> str:
    out = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=8000",
         f"--user-data-dir={tmp_path / 'chrome'}", "--dump-dom", url],
        capture_output=True, text=True, timeout=120)
    return out.stdout


def test_url_state_runs_the_search_and_payloads_stay_text(server, tmp_path):
    html = dom(server + "/?q=river+delta+sediment&k=5", tmp_path)
    assert 'class="hit"' in html  # /?q=… ran the search in the browser
    assert "pwned" not in html.split("<title>")[1].split("</title>")[0]
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html  # shown as text
    assert "<img src=\"x\"" not in html and "<img src=x" not in html  # never an element


def test_served_page_builds_the_dom_without_html_injection(server):
    page = httpx.get(server + "/").text
    assert "innerHTML" not in page and "outerHTML" not in page and "insertAdjacentHTML" not in page
    assert "textContent" in page


def test_a_chunk_has_a_page_of_its_own(server, tmp_path):
    chunk = httpx.get(server + "/api/search", params={"q": "river delta", "k": 1}).json()
    cid = chunk["hits"][0]["chunk_id"]
    html = dom(f"{server}/chunks/{cid}", tmp_path)
    assert f"chunk {cid}" in html and "<h3>Text</h3>" in html and "<h3>Glosses</h3>" in html
    assert "river delta sediment" in html
    assert httpx.get(server + "/favicon.ico").status_code == 200


def test_verdicts_render_with_their_own_classes(server, tmp_path):
    html = dom(server + "/?q=river+delta+sediment&k=5", tmp_path)
    classes = set(re.findall(r'class="verdict (v-[a-z-]+)"', html))
    assert classes and classes <= {"v-strong-match", "v-match", "v-weak-match", "v-no-match"}


def test_the_api_docs_render_offline_in_a_browser(server, tmp_path):
    """/docs draws every route from FastAPI's OpenAPI 3.1 schema with its bundled assets (a
    Swagger UI that cannot read the schema shows "Unable to render this definition")."""
    html = dom(server + "/docs", tmp_path)
    assert "Unable to render this definition" not in html
    assert 'class="swagger-ui' in html and "opblock" in html
    for route in ("/api/search", "/api/why", "/api/stats", "/api/chunks/{chunk_id}"):
        assert route in html


def test_an_unglossed_hit_shows_the_lead_it_was_judged_on(tmp_path):
    """A hit without a gloss yet (judged on its text's lead) shows that text on the page."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "owls.md").write_text("# Owls\n\nBarn owls hunt voles at night over meadows.\n")
    with serving(docs, str(tmp_path / "u.glossdb"), "--gloss", "later",
                 serve_options=("--no-gloss-in-background",)) as url:
        html = dom(url + "/?q=owls+voles&k=1", tmp_path)
    assert "gloss: (none yet)" in html and "Barn owls hunt voles" in html


def test_each_hit_offers_feedback_marks(server, tmp_path):
    """The page's relevant / not relevant buttons (they POST /api/feedback)."""
    html = dom(server + "/?q=river+delta+sediment&k=2", tmp_path)
    assert html.count('class="marks"') == html.count('class="hit"') > 0
    assert ">relevant</button>" in html and ">not relevant</button>" in html


def test_the_where_field_filters_and_stays_in_the_url(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "p.jsonl").write_text(
        '{"id": "a", "title": "Old delta", "text": "River delta sediment, 1990.", "year": 1990}\n'
        '{"id": "b", "title": "New delta", "text": "River delta sediment, 2020.", "year": 2020}\n')
    with serving(docs, str(tmp_path / "w.glossdb")) as url:
        html = dom(url + "/?q=river+delta&k=5&where=year+%3E%3D+2000", tmp_path)
    assert html.count('class="hit"') == 1 and "New delta" in html and "Old delta" not in html
    assert 'class="meta fields"' in html and "year: 2020" in html
