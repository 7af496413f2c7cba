"""The inspection page: search, then read each hit's gloss, verdict, explanation and chunk."""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>glossdb</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
form{display:flex;gap:.5em;flex-wrap:wrap;align-items:center}
input[type=search]{flex:1;min-width:18em;font-size:1em;padding:.4em}
.hit{border-top:1px solid #ddd;padding:.7em 0}.meta{color:#666;font-size:.9em}
.gloss{margin:.3em 0}.why{background:#f6f6f0;padding:.3em .5em;margin:.3em 0}
.verdict{font-weight:600;padding:0 .3em;border-radius:3px}
.v-strong-match{color:#fff;background:#175}.v-match{color:#165}
.v-weak-match{color:#8a5a00}.v-no-match{color:#a22}
pre{white-space:pre-wrap;background:#f4f4f4;padding:.6em}#error{color:#a22}
button.link{background:none;border:none;color:#15c;cursor:pointer;padding:0;font:inherit}
</style></head><body>
<h1>glossdb</h1>
<form id="f"><input type="search" id="q" placeholder="Ask a question or state a claim" required>
<label>k <input type="number" id="k" value="10" min="1" max="100" style="width:4em"></label>
<label><input type="checkbox" id="explain"> explain</label><button>Search</button>
<br><label class="meta">where <input type="text" id="where" placeholder="year >= 2015 and lab == &quot;x&quot;" style="width:22em"></label></form>
<p id="glossing" class="meta"></p><p id="error"></p><p id="status" class="meta"></p><div id="hits"></div><div id="detail"></div>
<script>
const $ = (id) => document.getElementById(id);
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}
async function api(path, retry = true, payload = null) {
  const key = sessionStorage.getItem("glossdb-key");
  const headers = key ? {Authorization: "Bearer " + key} : {};
  const init = payload ? {method: "POST", body: JSON.stringify(payload),
                       headers: {...headers, "Content-Type": "application/json"}} : {headers};
  const r = await fetch(path, init);
  if (r.status === 401 && retry) {
    const given = prompt("This glossdb server needs its API key:");
    if (given) { sessionStorage.setItem("glossdb-key", given); return api(path, false, payload); }
  }
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || body.detail || r.statusText);
  return body;
}
async function search(ev) {
  if (ev) ev.preventDefault();
  $("error").textContent = ""; $("hits").replaceChildren(); $("detail").replaceChildren();
  const q = $("q").value, started = performance.now();
  const state = new URLSearchParams({q, k: $("k").value});
  if ($("explain").checked) state.set("explain", "true");
  const where = $("where").value.trim();
  if (where) state.set("where", where);
  if (ev) history.pushState(null, "", "/?" + state);
  const button = $("f").querySelector("button");
  button.disabled = true;
  $("status").textContent = "judging candidates…";
  try {
    const p = new URLSearchParams({q, k: $("k").value, explain: $("explain").checked});
    if (where) p.set("where", where);
    const data = await api("/api/search?" + p);
    $("status").textContent = data.hits.length + " hits in " +
      ((performance.now() - started) / 1000).toFixed(1) + " s";
    data.hits.forEach((h) => $("hits").append(hitView(q, h)));
  } catch (e) { $("status").textContent = ""; $("error").textContent = e.message; }
  button.disabled = false;
}
function origin(h) {
  const parts = [];
  if (h.lexical_rank) parts.push("lexical #" + h.lexical_rank);
  if (h.vector_rank) parts.push("vector #" + h.vector_rank);
  return parts.length ? " (" + parts.join(", ") + ")" : "";
}
function hitView(q, h) {
  const d = el("div", "hit");
  const head = el("div", "");
  const link = el("a", "", (h.title || h.uri) +
    (h.heading && h.heading !== h.title ? " — " + h.heading : ""));
  link.href = "/chunks/" + h.chunk_id;
  head.append(h.rank + ". ", link);
  d.append(head);
  const m = el("div", "meta");
  m.append(el("span", "verdict v-" + h.verdict.replace(/ /g, "-"), h.verdict),
    " · score " + h.score.toFixed(3) + " (judge " + h.judge_score.toFixed(3) + ", lift " +
    h.lift.toFixed(2) + ") · prefilter #" + h.prefilter_rank + origin(h) +
    (h.cached ? " · cached" : "") + " · chunk " + h.chunk_id + " · " + h.uri);
  d.append(m, el("div", "gloss", "gloss: " + (h.gloss || "(none yet)")));
  if (!h.gloss) {  // judged on its text's lead: show that lead
    const lead = h.text.length > 300 ? h.text.slice(0, 300) + "…" : h.text;
    d.append(el("div", "meta", "text: " + lead));
  }
  const fields = Object.entries(h.metadata || {});
  if (fields.length) d.append(el("div", "meta fields", fields.map(([n, v]) =>
    n + ": " + JSON.stringify(v)).join(" · ")));
  if (h.explanation) d.append(el("div", "why", "why: " + h.explanation));
  const parts = Object.entries(h.signals || {});
  if (parts.length > 1) d.append(el("div", "meta", "fused: " + parts.map(([n, v]) =>
    n + " " + (v >= 0 ? "+" : "") + v.toFixed(2)).join(", ")));
  const show = el("a", "link", "chunk, glosses, judgments");
  show.href = "/chunks/" + h.chunk_id;
  const why = el("button", "link", "why?");
  why.onclick = async () => {
    why.textContent = "explaining…";
    try { const w = await api("/api/why?" + new URLSearchParams({q, chunk_id: h.chunk_id}));
          why.replaceWith(el("div", "why", "why: " + w.explanation)); }
    catch (e) { why.textContent = e.message; }
  };
  d.append(show, " · ", why, " · ", markButtons(q, h.chunk_id));
  return d;
}
function markButtons(q, chunkId) {  // feedback: what `glossdb train` learns from
  const box = el("span", "marks");
  for (const [label, relevant] of [["relevant", true], ["not relevant", false]]) {
    const b = el("button", "link", label);
    b.onclick = async () => {
      try { await api("/api/feedback", true, {q, chunk_id: chunkId, relevant, source: "page"});
            box.replaceChildren(el("span", "meta", "marked " + label)); }
      catch (e) { box.replaceChildren(el("span", "meta", e.message)); }
    };
    box.append(b, " ");
  }
  return box;
}
async function detail(id) {
  const box = $("detail");
  box.replaceChildren(el("h2", "", "chunk " + id));
  try {
    const data = await api("/api/chunks/" + id);
    const c = data.chunk;
    box.append(el("div", "meta", (c.title || "") + (c.heading && c.heading !== c.title ?
      " — " + c.heading : "") + " · " + c.uri));
    box.append(el("h3", "", "Text"), el("pre", "", c.text), el("h3", "", "Glosses"));
    if (!data.glosses.length) box.append(el("p", "meta", "none yet"));
    data.glosses.forEach((g) => {
      const d = el("div", "gloss", g.text);
      d.append(el("span", "meta", "  (version " + g.representation + ")"));
      box.append(d);
      if (g.unsupported.length) box.append(el("div", "meta",
        "not in the passage: " + g.unsupported.join(", ")));
    });
    box.append(el("h3", "", "Judgments"));
    if (!data.judgments.length) box.append(el("p", "meta", "none yet"));
    data.judgments.forEach((j) => {
      const d = el("div", "judgment");
      d.append(el("span", "", "“" + j.query + "”"), " judge " + j.score.toFixed(3));
      if (j.explanation) d.append(el("div", "why", j.explanation));
      box.append(d);
    });
    if ((data.feedback || []).length) box.append(el("h3", "", "Feedback"));
    (data.feedback || []).forEach((f) => box.append(el("div", "judgment",
      "“" + f.query + "” marked " + (f.relevant ? "relevant" : "not relevant") +
      " (" + f.source + ")")));
    box.scrollIntoView({block: "start"});
  } catch (e) { box.append(el("p", "", e.message)); }
}
$("f").addEventListener("submit", search);
function fromUrl() {
  const chunk = location.pathname.match(/^[/]chunks[/]([0-9]+)$/);
  if (chunk) { detail(chunk[1]); return; }
  const p = new URLSearchParams(location.search);
  if (!p.get("q")) return;
  $("q").value = p.get("q");
  if (p.get("k")) $("k").value = p.get("k");
  $("explain").checked = p.get("explain") === "true";
  $("where").value = p.get("where") || "";
  search(null);
}
window.addEventListener("popstate", fromUrl);
fromUrl();
async function glossing() {
  try {
    const s = await api("/api/stats", false);
    const r = s.representations[s.representations.length - 1];
    if (!r) return;
    let text = r.glosses + " of " + r.chunks + " chunks glossed";
    if (r.pending && r.eta_seconds !== null) text += ", about " + Math.ceil(r.eta_seconds / 60) + " min to go";
    if (s.background_glossing && s.background_glossing.running && r.pending) text += " (glossing in the background)";
    $("glossing").textContent = text;
  } catch (e) { /* the page works without it */ }
}
glossing();
setInterval(glossing, 15000);
</script></body></html>
"""
