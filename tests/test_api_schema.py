"""The HTTP API fuzzed from its own OpenAPI schema (schemathesis): every answer is
documented, none is a server error, and every body matches its response model."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from glossdb import Index
from glossdb.backends.fake import FakeModel
from glossdb.server import create_app


def make_app(tmp_dir):
    docs = tmp_dir / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Cats\n\nCats purr and sleep.\n\n## Dogs\n\nDogs bark.\n")
    (docs / "b.txt").write_text("Rockets burn kerosene and liquid oxygen.\n")
    fake = FakeModel()
    ix = Index(tmp_dir / "api.glossdb", models={"judge": fake, "writer": fake},
               embedder="hashing")
    ix.add([docs])
    ix.search("cats purr")
    return create_app(ix, allowed_hosts=["testserver", "127.0.0.1", "localhost"])


# Built at import: schemathesis' fixture loader does not run under this pytest version.
APP = make_app(Path(tempfile.mkdtemp(prefix="glossdb-api-")))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=int(os.environ.get("GLOSSDB_API_EXAMPLES", "40")), deadline=None,
          suppress_health_check=list(HealthCheck))
def test_api_answers_as_documented(case):
    # A schema-valid query can still be empty once control characters are folded out, which
    # is a documented 400; every other check (no 5xx, documented status, body schema) runs.
    case.call_and_validate(excluded_checks=[schemathesis.checks.positive_data_acceptance])
