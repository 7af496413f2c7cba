"""The HTTP API and inspection page, over the fake model: routes, JSON shapes, error mapping."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from glossdb.errors import BackendError, GlossdbError, InvalidQuery, UnknownChunk
from glossdb.server import create_app, status_of


@pytest.fixture
def client(index, corpus):
    index.add([corpus])
    with TestClient(create_app(index), base_url="http://127.0.0.1:8700") as c:
        yield c


def test_page_has_a_search_form(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'id="q"' in page.text and "/api/search" in page.text


def test_search_returns_hits_with_gloss_and_explanation(client):
    body = client.get("/api/search", params={"q": "yeast dough", "k": 2,
                                             "explain": "true"}).json()
    assert body["query"] == "yeast dough" and len(body["hits"]) == 2
    top = body["hits"][0]
    assert {"chunk_id", "score", "verdict", "gloss", "explanation", "prefilter_rank"} <= set(top)
    assert top["explanation"]


def test_chunk_why_and_stats_routes(client):
    hit = client.get("/api/search", params={"q": "rocket thrust", "k": 1}).json()["hits"][0]
    shown = client.get(f"/api/chunks/{hit['chunk_id']}").json()
    assert shown["chunk"]["id"] == hit["chunk_id"] and shown["judgments"]
    why = client.get("/api/why", params={"q": "rocket thrust", "chunk_id": hit["chunk_id"]})
    assert why.status_code == 200 and why.json()["explanation"]
    assert client.get("/api/stats").json()["chunks"] >= 3


def test_errors_become_statuses_with_a_one_line_message(client):
    missing = client.get("/api/chunks/99999")
    assert missing.status_code == 404 and "99999" in missing.json()["error"]
    empty = client.get("/api/search", params={"q": "   "})
    assert empty.status_code == 400 and empty.json()["error"]
    assert client.get("/api/search", params={"q": "x", "k": 0}).status_code == 400
    one_version = client.get("/api/diff")
    assert one_version.status_code == 404 and "glossdb add" in one_version.json()["error"]


def test_status_follows_the_error_class():
    assert status_of(InvalidQuery("x")) == 400
    assert status_of(UnknownChunk("x")) == 404
    assert status_of(BackendError("x")) == 502
    assert status_of(GlossdbError("x")) == 500


def test_bad_parameters_answer_400_with_an_error_line(client):
    for path, params in (("/api/search", {"q": "x", "k": 0}), ("/api/search", {"q": "x", "k": 1000}),
                         ("/api/why", {"q": "x", "chunk_id": "abc"}), ("/api/chunks/abc", {})):
        r = client.get(path, params=params)
        assert r.status_code == 400 and set(r.json()) == {"error"}, (path, r.text)


def test_an_unexpected_host_header_is_refused(client):
    r = client.get("/api/stats", headers={"Host": "evil.example.com"})
    assert r.status_code == 400 and "unexpected Host header" in r.json()["error"]
    assert client.get("/api/stats", headers={"Host": "localhost:8700"}).status_code == 200


def test_api_key_is_required_on_every_api_route(index, corpus):
    index.add([corpus])
    with TestClient(create_app(index, api_key="s3cret"), base_url="http://127.0.0.1") as c:
        for path in ("/api/stats", "/api/search?q=cats", "/api/chunks/1", "/openapi.json",
                     "/docs"):
            assert c.get(path).status_code == 401, path
            assert c.get(path, headers={"Authorization": "Bearer nope"}).status_code == 401
        ok = c.get("/api/stats", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and ok.json()["chunks"] > 0
        assert c.get("/").status_code == 200  # the page shell, which asks for the key


def test_docs_work_offline(client):
    page = client.get("/docs")
    assert page.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    js = client.get("/docs-assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000


def test_unknown_routes_methods_and_chunks_answer_in_the_error_shape(client):
    missing = client.get("/api/nope")
    assert missing.status_code == 404 and set(missing.json()) == {"error"}
    wrong = client.post("/api/stats")
    assert wrong.status_code == 405 and set(wrong.json()) == {"error"}
    for cid in ("99999999", str(10**30)):
        page = client.get(f"/chunks/{cid}")
        assert page.status_code == 404 and "error" in page.json(), cid


def test_the_bearer_scheme_is_case_insensitive(index, corpus):
    index.add([corpus])
    with TestClient(create_app(index, api_key="s3cret"), base_url="http://127.0.0.1") as c:
        for scheme in ("Bearer", "bearer", "BEARER"):
            assert c.get("/api/stats", headers={"Authorization": f"{scheme} s3cret"}
                         ).status_code == 200, scheme
        assert c.get("/api/stats", headers={"Authorization": "Basic s3cret"}).status_code == 401


def test_a_long_query_can_be_posted(client):
    passage = " ".join(["Yeast ferments sugar and the dough rises in the warm kitchen."] * 200)
    assert len(passage) > 10_000  # beyond what a URL comfortably carries
    r = client.post("/api/search", json={"q": passage, "k": 2})
    assert r.status_code == 200 and r.json()["hits"] and r.json()["query"] == passage
    bad = client.post("/api/search", json={"q": "x", "k": 0, "nope": 1})
    assert bad.status_code == 400 and set(bad.json()) == {"error"}
    too_long = client.post("/api/search", json={"q": "x" * 16_001})
    assert too_long.status_code == 400


def test_feedback_given_over_the_api_reaches_the_training_set(client, index):
    from glossdb.training import gather, training_pairs

    hit = client.get("/api/search", params={"q": "rocket thrust", "k": 1}).json()["hits"][0]
    r = client.post("/api/feedback", json={"q": "rocket thrust", "chunk_id": hit["chunk_id"],
                                           "relevant": True})
    assert r.status_code == 200
    assert r.json() == {"query": "rocket thrust", "chunk_id": hit["chunk_id"], "relevant": True,
                        "source": "api"}
    shown = client.get(f"/api/chunks/{hit['chunk_id']}").json()
    assert shown["feedback"][0]["query"] == "rocket thrust"
    labels, from_feedback = gather(index, None, use_feedback=True)
    assert labels == {"rocket thrust": {hit["chunk_id"]: 1}}
    pairs = training_pairs(index, labels, feedback=from_feedback)
    assert any(p.label == 1 and p.query == "rocket thrust" and p.source == "feedback"
               for p in pairs)
    assert client.post("/api/feedback", json={"q": "x", "chunk_id": 99999}).status_code == 404
    assert client.post("/api/feedback", json={"q": "x", "chunk_id": "1"}).status_code == 400


def test_search_where_over_get_and_post(index, tmp_path):
    from .test_where import papers

    path, meta = papers(tmp_path)
    index.add([path])
    with TestClient(create_app(index), base_url="http://127.0.0.1:8700") as c:
        got = c.get("/api/search", params={"q": "vitamin D", "k": 3, "where": "year >= 2016"})
        assert got.status_code == 200, got.text
        hits = got.json()["hits"]
        assert len(hits) == 3 and all(h["metadata"]["year"] >= 2016 for h in hits)
        posted = c.post("/api/search", json={"q": "vitamin D", "k": 3,
                                             "where": {"lab": {"$in": ["east"]}}}).json()
        assert posted["hits"] and all(h["metadata"]["lab"] == "east" for h in posted["hits"])
        bad = c.get("/api/search", params={"q": "vitamin D", "where": "year >"})
        assert bad.status_code == 400 and "filter" in bad.json()["error"]
