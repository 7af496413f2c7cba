from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from glossdb import Index
from glossdb.backends.fake import FakeModel

from . import pgcluster


def make_pdf(path: Path, lines: list[str]) -> Path:
    """Write a real one-page PDF (with a correct xref table) showing ``lines``."""
    ops = ["BT /F1 12 Tf 72 720 Td 14 TL"] + [f"({line}) Tj T*" for line in lines] + ["ET"]
    stream = "\n".join(ops)
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        " /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = "%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n"
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    path.write_bytes(out.encode("latin-1"))
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "cats.md").write_text(
        "# Cats\n\nCats are small carnivorous mammals kept as pets. They purr and hunt mice.\n\n"
        "## Sleep\n\nA cat sleeps between twelve and sixteen hours a day.\n"
    )
    (root / "rockets.txt").write_text(
        "Rockets burn propellant to produce thrust. Liquid oxygen and kerosene power many "
        "first stages.\n\nOrbital velocity near Earth is about 7.8 kilometres per second.\n"
    )
    (root / "bread.html").write_text(
        "<html><head><title>Baking bread</title><script>var x = 1;</script></head><body>"
        "<h1>Baking bread</h1><p>Yeast ferments sugar and releases carbon dioxide, which makes "
        "dough rise.</p><ul><li>Knead for ten minutes.</li></ul></body></html>"
    )
    return root


@pytest.fixture
def fake() -> FakeModel:
    return FakeModel()


@pytest.fixture
def index(tmp_path: Path, fake: FakeModel) -> Index:
    ix = Index(tmp_path / "t.glossdb", models={"judge": fake, "writer": fake})
    yield ix
    ix.close()


@pytest.fixture(scope="session")
def postgres():
    """A throw-away PostgreSQL cluster for the session (tests/pgcluster.py). Without the
    Debian packages its tests skip, unless GLOSSDB_REQUIRE_POSTGRES=1 (CI) makes that fail."""
    if not pgcluster.available():
        if os.environ.get("GLOSSDB_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is required here: apt-get install postgresql")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with pgcluster.Cluster() as cluster:
        yield cluster


@pytest.fixture
def pg_url(request, postgres) -> str:
    """A fresh empty database for this test, dropped after it."""
    name = "t_" + re.sub(r"\W", "_", request.node.name.lower())[:50]
    url = postgres.database(name)
    yield url
    postgres.drop(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path: Path) -> str:
    """Where a store lives, once per backend: an SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "t.glossdb")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def any_index(location: str, fake: FakeModel) -> Index:
    """``index``, on each store backend in turn."""
    ix = Index(location, models={"judge": fake, "writer": fake})
    yield ix
    ix.close()


def interrupting_model(on_call: int) -> FakeModel:
    """A fake model (one chunk per batch) whose ``on_call``-th generation is a Ctrl-C."""

    class Interrupting(FakeModel):
        max_batch = 1
        calls = 0

        def _generate_batch(self, requests):
            self.calls += 1
            if self.calls == on_call:
                raise KeyboardInterrupt
            return super()._generate_batch(requests)

    return Interrupting()
