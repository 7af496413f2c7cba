"""The multi-process fault harness: every write any party reported is on disk, exactly once.

    python -m bench.faults --runs 50 --seconds 8      # the long version (reliability.json)

One run puts a long-running writer (`glossdb serve` with background glossing) on an index
and, for a few seconds, lets other parties at it from three threads: HTTP searches, stats
and chunk views; `glossdb search`, `stats`, `show`, `add`, `remove` and `gloss` processes;
`sqlite3` connections that read, checkpoint (TRUNCATE) and close. Any process may be sent
SIGKILL or SIGTERM at a random point, the server included (it is then started again).
The fake model (a per-batch delay standing in for model time) and hashing embedder keep a
run about the processes, not the model; the corpus has more chunks than one gloss batch.

What a party *reported* is written down as it is reported: a gloss the server or `show`
displayed, a search's query and hits (query log and judgments), a document `add` or
`remove` said it added or removed. After the run the index must pass `PRAGMA
integrity_check` and hold every reported write exactly once; a read that did not see what
another process had committed before it began counts as stale; the server's log must hold
no traceback. :func:`disk_full_run` and :func:`readonly_run` do the same for a disk that
fills up and a file system remounted read-only in the middle of `add`.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .crash import corpus, env
from .load import free_port

DELAY_S = 0.05  # fake model seconds per batch
ROOT = Path(__file__).resolve().parents[1]


def glossdb(*args: str) -> list[str]:
    return [sys.executable, "-m", "glossdb", *args]


@dataclass
class Ledger:
    """What the parties reported, and what went wrong while they did."""

    glosses: dict[tuple[int, str], str] = field(default_factory=dict)
    searches: dict[str, list[int]] = field(default_factory=dict)
    documents: dict[str, bool | None] = field(default_factory=dict)  # None: unknown (killed)
    stale_reads: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    kills: int = 0
    actions: int = 0
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def gloss(self, chunk: dict, glosses: list[dict]) -> None:
        """A chunk view showed these glosses (kept only for documents no party removes)."""
        chunk_id = chunk["id"]
        if "/docs/" not in chunk["uri"]:
            return
        with self.lock:
            for g in glosses:
                key = (chunk_id, g["representation"])
                if self.glosses.setdefault(key, g["text"]) != g["text"]:
                    self.conflicts.append(f"chunk {chunk_id}: two texts for one version")


class Server:
    """`glossdb serve` with background glossing, restartable after a kill."""

    def __init__(self, index: Path, log: Path):
        self.index, self.log = index, log
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.lock = threading.Lock()

    def start(self) -> None:
        port = free_port()
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                glossdb("serve", "-i", str(self.index), "--port", str(port)),
                env=env(DELAY_S), stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if httpx.get(url + "/api/stats", timeout=5).status_code == 200:
                    self.url = url
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"glossdb serve did not start; see {self.log}")

    def kill(self, sig: int) -> None:
        with self.lock:
            self.url = ""
            self.proc.send_signal(sig)
            self.proc.wait(timeout=60)
            self.start()

    def stop(self) -> int:
        self.url = ""
        self.proc.terminate()
        return self.proc.wait(timeout=60)


def judged(hits: list[dict]) -> list[int]:
    """The hits whose judgment a search stores and that must stay: those judged on a gloss
    (an unglossed chunk is judged on its text's lead, and that judgment is not kept), of
    the documents no party removes (a removed chunk's id may be reused by the next add)."""
    return [h["chunk_id"] for h in hits if h["gloss"] is not None and "/docs/" in h["uri"]]


def run_cli(ledger: Ledger, rng: random.Random, args: list[str], kill_p: float = 0.15
            ) -> subprocess.CompletedProcess | None:
    """Run a glossdb process; with probability ``kill_p`` SIGKILL or SIGTERM it at a random
    point (None: it was killed before it finished, so it reported nothing)."""
    proc = subprocess.Popen(glossdb(*args), env=env(DELAY_S), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    if rng.random() < kill_p:
        try:
            out, err = proc.communicate(timeout=rng.uniform(0.2, 2.5))
        except subprocess.TimeoutExpired:
            proc.send_signal(rng.choice([signal.SIGKILL, signal.SIGTERM]))
            proc.communicate()
            with ledger.lock:
                ledger.kills += 1
            return None
    else:
        out, err = proc.communicate(timeout=300)
    if proc.returncode == 3:  # no such chunk or document: an answer, and a read
        return subprocess.CompletedProcess(args, 3, out, err)
    if proc.returncode != 0:
        if "busy" not in err:  # a writer may wait out its busy timeout: that is an answer
            ledger.failures.append(f"glossdb {' '.join(args[:2])}: {err.strip()[-300:]}")
        return None
    return subprocess.CompletedProcess(args, 0, out, err)


@dataclass
class Run:
    """One run's index, corpus and parties."""

    work: Path
    seed: int
    ledger: Ledger = field(default_factory=Ledger)
    counter: int = 0

    def __post_init__(self) -> None:
        self.index = self.work / "faults.glossdb"
        self.docs = corpus(self.work / "docs", files=12)
        self.extra = self.work / "extra"
        self.extra.mkdir(exist_ok=True)
        self.extras = [self._extra_file(i) for i in range(6)]
        self.busy: set[Path] = set()
        self.server = Server(self.index, self.work / "serve.log")
        self.lock = threading.Lock()

    def _extra_file(self, i: int) -> Path:
        path = self.extra / f"extra{i}.md"
        word = self.token(i)
        path.write_text(f"# Extra {i}\n\n" + "\n\n".join(
            f"Paragraph {p} of extra note {i} is about {word} and glacier item {p}."
            for p in range(5)) + "\n")
        return path

    def token(self, i: int) -> str:
        return f"zq{self.seed}x{i}unique"

    def unique_query(self, stem: str) -> str:
        with self.lock:
            self.counter += 1
            return f"{stem} {self.seed} {self.counter}"

    # parties -----------------------------------------------------------------------------
    def http(self, path: str, params: dict | None = None) -> dict | None:
        url = self.server.url
        if not url:
            return None
        try:
            r = httpx.get(url + path, params=params, timeout=120)
        except httpx.HTTPError:
            return None  # the server was killed under the request: nothing was reported
        if r.status_code != 200:
            if r.status_code not in (404, 503):  # a removed chunk; a busy index
                self.ledger.failures.append(f"GET {path}: {r.status_code} {r.text[:200]}")
            return None
        return r.json()

    def http_search(self, rng: random.Random) -> None:
        q = self.unique_query(rng.choice(["river delta", "yeast dough", "orbital rocket"]))
        data = self.http("/api/search", {"q": q, "k": 3})
        if data is not None:
            with self.ledger.lock:
                self.ledger.searches[q] = judged(data["hits"])

    def http_chunk(self, rng: random.Random) -> None:
        data = self.http(f"/api/chunks/{rng.randint(1, 30)}")
        if data is not None:
            self.ledger.gloss(data["chunk"], data["glosses"])

    def http_stats(self, rng: random.Random) -> None:
        self.http("/api/stats")

    def cli_search(self, rng: random.Random) -> None:
        q = self.unique_query(rng.choice(["glacier ice", "copper wire", "owl night"]))
        done = run_cli(self.ledger, rng, ["search", q, "-i", str(self.index), "-k", "3",
                                          "--json"])
        if done is not None:
            with self.ledger.lock:
                self.ledger.searches[q] = judged(json.loads(done.stdout))

    def cli_show(self, rng: random.Random) -> None:
        done = run_cli(self.ledger, rng, ["show", str(rng.randint(1, 30)), "-i",
                                          str(self.index), "--json"], kill_p=0.05)
        if done is not None and done.returncode == 0:
            data = json.loads(done.stdout)
            self.ledger.gloss(data["chunk"], data["glosses"])

    def cli_stats(self, rng: random.Random) -> None:
        run_cli(self.ledger, rng, ["stats", "-i", str(self.index), "--json"])

    def cli_gloss(self, rng: random.Random) -> None:
        run_cli(self.ledger, rng, ["gloss", "-i", str(self.index), "--limit", "6", "--json"])

    def sqlite_reader(self, rng: random.Random) -> None:
        """What `sqlite3 FILE` does: open, read, maybe checkpoint, close (the last one out
        of the file checkpoints and deletes the WAL)."""
        db = sqlite3.connect(self.index, timeout=30)
        try:
            db.execute("SELECT count(*) FROM glosses").fetchone()
            if rng.random() < 0.5:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                self.ledger.failures.append(f"sqlite3: {exc}")
        finally:
            db.close()

    def add_or_remove(self, rng: random.Random) -> None:
        with self.lock:
            free = [p for p in self.extras if p not in self.busy]
            if not free:
                return
            path = rng.choice(free)
            self.busy.add(path)
        try:
            self._add_or_remove(rng, path)
        finally:
            with self.lock:
                self.busy.discard(path)

    def _add_or_remove(self, rng: random.Random, path: Path) -> None:
        uri, adding = str(path), rng.random() < 0.6
        args = (["add", uri, "--gloss", "later"] if adding else ["remove", uri]) + [
            "-i", str(self.index), "--json"]
        with self.ledger.lock:
            self.ledger.documents[uri] = None  # unknown until the command says
        done = run_cli(self.ledger, rng, args)
        if done is None:
            return
        with self.ledger.lock:
            self.ledger.documents[uri] = adding  # remove's exit 3: it was not there
        if adding:  # a read after the add reported: the server must see the new document
            word = self.token(self.extras.index(path))
            data = self.http("/api/search", {"q": word, "k": 3, "candidates": 10})
            if data is not None and not any(h["uri"] == uri for h in data["hits"]):
                self.ledger.stale_reads.append(f"the server did not find {uri} after add")

    def kill_server(self, rng: random.Random) -> None:
        self.server.kill(rng.choice([signal.SIGKILL, signal.SIGTERM]))
        with self.ledger.lock:
            self.ledger.kills += 1

    # the run -----------------------------------------------------------------------------
    ACTIONS = (("http_search", 3), ("http_chunk", 3), ("http_stats", 2), ("cli_search", 1),
               ("cli_show", 2), ("cli_stats", 1), ("cli_gloss", 1), ("sqlite_reader", 3),
               ("add_or_remove", 2))

    def party(self, rng: random.Random, until: float) -> None:
        names, weights = zip(*self.ACTIONS)
        while time.monotonic() < until:
            name = rng.choices(names, weights)[0]
            try:
                getattr(self, name)(rng)
            except Exception as exc:  # noqa: BLE001 - a harness records, it does not stop
                self.ledger.failures.append(f"{name}: {type(exc).__name__}: {exc}")
            with self.ledger.lock:
                self.ledger.actions += 1

    def chaos(self, rng: random.Random, until: float, kills: int) -> None:
        """Kill the server ``kills`` times at random points of the run."""
        for at in sorted(rng.uniform(0.15, 0.85) for _ in range(kills)):
            wait = until - (1 - at) * self.seconds - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.kill_server(rng)

    def go(self, seconds: float, parties: int = 3, server_kills: int = 1) -> dict:
        self.seconds = seconds
        subprocess.run(glossdb("add", str(self.docs), "-i", str(self.index), "--gloss",
                               "later"), env=env(0), check=True, capture_output=True)
        self.server.start()
        until = time.monotonic() + seconds
        threads = [threading.Thread(target=self.party, args=(random.Random(
            self.seed * 100 + n), until)) for n in range(parties)]
        threads.append(threading.Thread(target=self.chaos, args=(
            random.Random(self.seed), until, server_kills)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.server.stop()
        return self.check()

    def check(self) -> dict:
        """Compare the index on disk with everything reported."""
        db = sqlite3.connect(self.index)
        try:
            lost, dup = verify(db, self.ledger)
            integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            db.close()
        log = self.server.log.read_text(errors="replace")
        led = self.ledger
        writes = len(led.glosses) + 2 * len(led.searches) + sum(
            v is not None for v in led.documents.values())
        return {"seed": self.seed, "integrity": integrity, "actions": led.actions,
                "kills": led.kills, "reported_writes": writes, "lost": lost,
                "duplicated": dup, "stale_reads": len(led.stale_reads),
                "conflicts": len(led.conflicts), "tracebacks": log.count("Traceback"),
                "failures": led.failures[:5], "detail": led.stale_reads[:3] + led.conflicts[:3],
                "ok": integrity == "ok" and not lost and not dup and not led.stale_reads
                and not led.conflicts and not led.failures and "Traceback" not in log}


def verify(db: sqlite3.Connection, led: Ledger) -> tuple[list[str], int]:
    """Every reported write on disk exactly once: (what was lost, how many doubled)."""
    lost, dup = [], 0
    chunks = {r[0] for r in db.execute("SELECT id FROM chunks")}
    reps = dict(db.execute("SELECT name, id FROM representations"))
    for (chunk, rep), text in led.glosses.items():
        if chunk not in chunks:
            continue  # its document was removed afterwards
        rows = db.execute("SELECT text FROM glosses WHERE chunk_id = ? AND representation_id"
                          " = ?", (chunk, reps.get(rep))).fetchall()
        if [r[0] for r in rows] != [text]:
            lost.append(f"gloss of chunk {chunk} [{rep}]")
    for query, hits in led.searches.items():
        logged = db.execute("SELECT count(*) FROM query_log WHERE query = ?",
                            (query,)).fetchone()[0]
        dup += logged > 1
        if logged == 0:
            lost.append(f"query log of {query!r}")
        for chunk in hits:
            judged = db.execute("SELECT count(*) FROM judgments WHERE query = ? AND "
                                "chunk_id = ?", (query, chunk)).fetchone()[0]
            if chunk in chunks and judged == 0:
                lost.append(f"judgment of {query!r} x {chunk}")
    for uri, present in led.documents.items():
        n = db.execute("SELECT count(*) FROM documents WHERE uri = ?", (uri,)).fetchone()[0]
        dup += n > 1
        if present is not None and (n == 1) != present:
            lost.append(f"document {uri} {'added' if present else 'removed'}")
    return lost, dup


# disk full, read-only remount ----------------------------------------------------------------
def mount_tmpfs(folder: Path, size_kb: int) -> bool:
    """A small tmpfs at ``folder`` (root only); False where mounting is not allowed."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs",
                           str(folder)], capture_output=True)
    return done.returncode == 0


def remount(folder: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(folder)], check=True,
                   capture_output=True)


def unmount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def snapshot(path: Path) -> dict:
    db = sqlite3.connect(path)
    try:
        return {"integrity": db.execute("PRAGMA integrity_check").fetchone()[0],
                "documents": sorted(r[0] for r in db.execute("SELECT uri FROM documents")),
                "glosses": sorted(db.execute(
                    "SELECT c.content_hash, g.text FROM glosses g JOIN chunks c"
                    " ON c.id = g.chunk_id").fetchall()),
                "queries": sorted(r[0] for r in db.execute("SELECT query FROM query_log"))}
    finally:
        db.close()


def _cli(args: list[str], delay: float = 0.0) -> subprocess.CompletedProcess:
    return subprocess.run(glossdb(*args), env=env(delay), capture_output=True, text=True,
                          timeout=600)


class Ext4Image:
    """A loop-mounted ext4 file system that can fail as a real one does: an error makes the
    kernel remount it read-only under every open file (``errors=remount-ro``)."""

    def __init__(self, work: Path, size_mb: int = 64):
        self.image, self.mnt = work / "fs.img", work / "mnt"
        self.size_mb = size_mb

    def mount(self) -> bool:
        self.mnt.mkdir(parents=True, exist_ok=True)
        if not self.image.exists():
            subprocess.run(["truncate", "-s", f"{self.size_mb}M", str(self.image)], check=True)
            if subprocess.run(["mkfs.ext4", "-q", str(self.image)],
                              capture_output=True).returncode:
                return False
        return subprocess.run(["mount", "-o", "loop,errors=remount-ro", str(self.image),
                               str(self.mnt)], capture_output=True).returncode == 0

    def fail(self) -> None:
        """The kernel finds an error: the file system goes read-only at once."""
        device = Path([line.split()[0] for line in Path("/proc/mounts").read_text().splitlines()
                       if line.split()[1] == str(self.mnt)][0]).name
        Path(f"/sys/fs/ext4/{device}/trigger_fs_error").write_text("bench.faults\n")

    def repair(self) -> None:
        """Unmount, fsck, mount read-write again (what an operator does)."""
        subprocess.run(["umount", str(self.mnt)], check=True, capture_output=True)
        subprocess.run(["e2fsck", "-fy", str(self.image)], capture_output=True)
        if not self.mount():
            raise RuntimeError("the repaired file system did not mount")

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.mnt)], capture_output=True)


def _fault(fault: str, index: Path, big: Path, rng: random.Random, fs: Ext4Image | None
           ) -> subprocess.CompletedProcess:
    """Run `add` of the big corpus into the fault: a full disk, or (``fs``) a file system
    that goes read-only while it writes."""
    if fs is None:
        return _cli(["add", str(big), "-i", str(index)])
    proc = subprocess.Popen(glossdb("add", str(big), "-i", str(index)), env=env(0.5),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(rng.uniform(1.5, 4.5))  # its glossing takes about 5 s
    fs.fail()
    out, err = proc.communicate(timeout=600)
    return subprocess.CompletedProcess([], proc.returncode, out, err)


def fault_run(work: Path, seed: int, fault: str) -> dict:
    """``fault`` = "full": the index's disk (a small tmpfs) fills up during `add`;
    "readonly": its file system (ext4 on a loop device) goes read-only in the middle of
    `add`, as the kernel does on an error. Before the fault a first `add` and a search are
    reported; after it the command must have failed with one clear line (exit 6, no
    traceback), the index must be intact with every reported write, and once space (or
    write access) is back, `add` again must finish what the first began."""
    rng = random.Random(seed)
    small, big = corpus(work / "small", files=3), corpus(work / "big", files=40)
    fs = Ext4Image(work) if fault == "readonly" else None
    mnt = work / "mnt"
    if not (fs.mount() if fs else mount_tmpfs(mnt, 640)):
        return {"seed": seed, "fault": fault, "skipped": "cannot mount a file system here"}
    try:
        index = mnt / "f.glossdb"
        first = [_cli(["add", str(small), "-i", str(index)]),
                 _cli(["search", "river delta", "-i", str(index), "-k", "2"])]
        before = snapshot(index)
        failed = _fault(fault, index, big, rng, fs)
        fs.repair() if fs else remount(mnt, "rw,size=65536k")
        during = snapshot(index)
        again = _cli(["add", str(big), "-i", str(index)])
        after = snapshot(index)
    finally:
        fs.unmount() if fs else unmount(mnt)
    kept = all(set(before[k]) <= set(during[k]) for k in ("documents", "glosses", "queries"))
    message = failed.stderr.strip().splitlines()[-1] if failed.stderr.strip() else ""
    return {"seed": seed, "fault": fault, "setup_ok": all(r.returncode == 0 for r in first),
            "failed_exit": failed.returncode, "message": message[:300],
            "traceback": "Traceback" in failed.stderr, "integrity": during["integrity"],
            "reported_kept": kept, "finished_after": again.returncode == 0
            and after["integrity"] == "ok" and len(after["documents"]) == 43,
            "ok": failed.returncode == 6 and "Traceback" not in failed.stderr and kept
            and during["integrity"] == "ok" and again.returncode == 0}


def disk_runs(work: Path, runs: int) -> list[dict]:
    rows = []
    for seed in range(runs):
        for fault in ("full", "readonly"):
            rows.append(fault_run(work / f"{fault}{seed}", seed, fault))
            print(rows[-1], flush=True)
    return rows


def summarise(multi: list[dict], disk: list[dict]) -> dict:
    full = [r for r in disk if r.get("fault") == "full" and "skipped" not in r]
    ro = [r for r in disk if r.get("fault") == "readonly" and "skipped" not in r]
    return {"multiprocess_runs": len(multi),
            "multiprocess_actions": sum(r["actions"] for r in multi),
            "multiprocess_kills": sum(r["kills"] for r in multi),
            "reported_writes": sum(r["reported_writes"] for r in multi),
            "reported_writes_lost": sum(len(r["lost"]) for r in multi),
            "duplicated": sum(r["duplicated"] for r in multi),
            "stale_reads": sum(r["stale_reads"] for r in multi),
            "multiprocess_integrity_ok": sum(r["integrity"] == "ok" for r in multi),
            "multiprocess_ok": sum(r["ok"] for r in multi),
            "server_tracebacks": sum(r["tracebacks"] for r in multi),
            "disk_full_runs": len(full), "disk_full_lost": sum(not r["reported_kept"]
                                                                for r in full),
            "disk_full_ok": sum(r["ok"] for r in full), "readonly_runs": len(ro),
            "readonly_ok": sum(r["ok"] for r in ro),
            "multiprocess_detail": multi, "disk_detail": disk}


def multiprocess_runs(work: Path, runs: int, seconds: float, first_seed: int = 0) -> list[dict]:
    rows = []
    for seed in range(first_seed, first_seed + runs):
        rows.append(Run(work / f"run{seed}", seed).go(seconds))
        print({k: v for k, v in rows[-1].items() if k != "failures" or v}, flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--disk-runs", type=int, default=5)
    ap.add_argument("--out", default=None, help="write the summary to this JSON file")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="glossdb-faults-"))
    summary = summarise(multiprocess_runs(work, args.runs, args.seconds),
                        disk_runs(work, args.disk_runs))
    print(json.dumps({k: v for k, v in summary.items() if not k.endswith("_detail")}, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
