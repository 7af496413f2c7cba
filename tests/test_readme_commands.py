"""Every command of the README's "Using it" block, run as written (the fake model stands in
for the embedded ones, 42 becomes a real chunk id): each exits 0 with output of its shape,
or, where the index cannot do it yet, with one `Error:` line."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

from click.testing import CliRunner

from glossdb.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("## Using it", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines()
            if line.startswith("glossdb ")]


def test_readme_commands_run_as_documented(tmp_path, monkeypatch):
    monkeypatch.setenv("GLOSSDB_BACKEND", "fake")
    monkeypatch.setenv("GLOSSDB_EMBEDDER", "hashing")
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "examples" / "docs", tmp_path / "docs")
    shutil.copytree(ROOT / "examples" / "docs", tmp_path / "big")
    (tmp_path / "notes.md").write_text("# Notes\n\nGlosses are versioned by model and prompt.\n")
    (tmp_path / "papers.jsonl").write_text(json.dumps({"id": "p1", "title": "Versions",
                                                       "text": "A new prompt is a new version.",
                                                       "year": 2016, "lab": "north"}))
    runner = CliRunner()
    commands = readme_commands()
    assert len(commands) >= 14
    ran = 0
    for line in commands:
        args = shlex.split(line)[1:]
        if args[0] in ("serve", "mcp"):
            continue  # servers run until stopped: test_load.py and test_integrations.py
            # start them for real
        if args[0] in ("why", "show"):
            args = [a if a != "42" else "1" for a in args]
        out = runner.invoke(cli, args, catch_exceptions=False)
        if out.exit_code == 0:
            assert out.output.strip() or args[0] in ("gloss",), line
        else:
            assert out.output.startswith("Error: ") and "Traceback" not in out.output, line
            assert len(out.output.strip().splitlines()) == 1, (line, out.output)
        ran += 1
        if args[0] == "search":
            assert re.search(r"^1\. \[\d+\]", out.output, re.M), out.output
        if args[0] == "stats":
            assert "counts:" in out.output and "{" not in out.output
    assert ran == len(commands) - 2


def readme_python_snippets(section: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    part = text.split(section, 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    return [block.split("```", 1)[0] for block in part.split("```python\n")[1:]]


def test_readme_integration_snippets_run(tmp_path, monkeypatch):
    """Each Python snippet of "Where RAG users already are" runs as written against an
    index of the examples (fake model, so the plumbing is what is checked here)."""
    from glossdb import Index

    monkeypatch.setenv("GLOSSDB_BACKEND", "fake")
    monkeypatch.chdir(tmp_path)
    Index(tmp_path / "docs.glossdb").add([ROOT / "examples" / "docs"])
    snippets = readme_python_snippets("### Where RAG users already are")
    assert len(snippets) == 2
    for code in snippets:
        exec(compile(code, "README.md", "exec"), {})


def test_running_at_scale_block_runs_on_postgresql(tmp_path, monkeypatch, pg_url):
    """The "Running at scale" block as written, on a throw-away cluster: its glossdb.toml
    (with this test's database URL), `add --gloss later`, then a `gloss` worker."""
    text = (ROOT / "README.md").read_text()
    block = text.split("### Running at scale", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    toml = block.split("<<'EOF'\n", 1)[1].split("EOF", 1)[0]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GLOSSDB_BACKEND", "fake")  # the variables override the file
    monkeypatch.setenv("GLOSSDB_EMBEDDER", "hashing")
    (tmp_path / "glossdb.toml").write_text(re.sub(r'index = "[^"]+"', f'index = "{pg_url}"', toml))
    shutil.copytree(ROOT / "examples" / "docs", tmp_path / "docs")
    runner = CliRunner()
    commands = [line.split("  #", 1)[0].strip().rstrip("&").strip()
                for line in block.splitlines() if line.startswith("glossdb ")]
    assert [c.split()[1] for c in commands] == ["add", "gloss", "serve"]
    for line in commands[:2]:
        out = runner.invoke(cli, shlex.split(line)[1:], catch_exceptions=False)
        assert out.exit_code == 0, (line, out.output)
    stats = json.loads(runner.invoke(cli, ["stats", "--json"]).output)
    assert stats["path"] == pg_url and stats["chunks"] == stats["glosses"] > 0
    assert stats["representations"][0]["pending"] == 0
