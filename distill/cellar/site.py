"""The Cellar as a static site: an index page (sortable by proof, filterable by task type) and
one page per Spirit with its Tasting Notes, loss curve, Recipe, lineage and bottle table, and,
when the Spirit has a browser bottle, a box to taste it (the bottle answers inside the page).
Every link is relative, so the folder can be served or opened from disk as it is."""
import html
import json
import sys
from pathlib import Path

from .index import cellar_root, human_count, read_index

STYLE = """body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border-bottom:1px solid #ddd;padding:.4rem .6rem;text-align:left}
th.sort{cursor:pointer;text-decoration:underline dotted}code,pre{background:#f4f4f4;padding:.1rem .3rem}
pre{padding:1rem;overflow:auto;max-height:30rem}.proof{font-weight:bold;font-size:1.4rem}img{max-width:100%}"""

INDEX_SCRIPT = """
const rows = () => Array.from(document.querySelectorAll('#spirits tbody tr'));
document.getElementById('task').addEventListener('change', e => {
  rows().forEach(r => { r.hidden = e.target.value !== '' && r.dataset.task !== e.target.value; });
});
let descending = true;
document.getElementById('by-proof').addEventListener('click', () => {
  const body = document.querySelector('#spirits tbody');
  rows().sort((a, b) => (descending ? -1 : 1) * (parseFloat(a.dataset.proof) - parseFloat(b.dataset.proof)))
        .forEach(r => body.appendChild(r));
  descending = !descending;
});
"""

IMAGES_SCRIPT = """
window.addEventListener('load', () => {
  const images = Array.from(document.images);
  document.body.dataset.imagesOk = String(images.every(i => i.complete && i.naturalWidth > 0));
});
"""


TASTING_SCRIPT = """
(() => {  // the tasting box: the Spirit's browser bottle runs in the iframe and answers by postMessage
  const frame = document.getElementById('taste-bottle'), button = document.getElementById('taste-pour');
  const input = document.getElementById('taste-input'), status = document.getElementById('taste-status');
  const answer = document.getElementById('taste-answer');
  let asked = 0, started = 0;
  window.addEventListener('message', (event) => {
    if (event.source !== frame.contentWindow || !event.data) return;
    if (event.data.distill === 'ready') {
      button.disabled = false;
      status.textContent = 'ready: computed in this page, nothing is sent anywhere';
      document.body.dataset.tasting = 'ready';
    } else if (event.data.distill === 'answer' && event.data.id === asked) {
      answer.textContent = event.data.error ? `error: ${event.data.error}` : event.data.shown;
      status.textContent = `${(performance.now() - started).toFixed(1)} ms`;
      document.body.dataset.tasted = String(asked);
    }
  });
  frame.addEventListener('load', () => frame.contentWindow.postMessage({distill: 'ping'}, '*'));
  button.addEventListener('click', () => {
    asked += 1;
    started = performance.now();
    status.textContent = 'pouring…';
    frame.contentWindow.postMessage({distill: 'pour', id: asked, text: input.value}, '*');
  });
})();
"""

EXAMPLE_INPUTS = {"tool_call": "what's the weather in Lisbon tomorrow?", "classify": "I lost my card yesterday",
                  "ner": "Call Maya Okafor at maya@example.com", "sql": "how many customers are in Lisbon?"}


def _tasting_box(spirit, bottle_link) -> str:
    """Type an input, see the answer: the Spirit's .wasm.html bottle computes it inside the page."""
    bottle = spirit["bottles"].get("wasm")
    if not bottle:
        return ""
    example = EXAMPLE_INPUTS.get(spirit["task_type"], "")
    return ("<h2>Taste it</h2><p>Answers are computed in this page by the Spirit's browser bottle "
            f"(<code>{html.escape(bottle['file'])}</code>: onnxruntime-web, WebAssembly).</p>"
            f"<textarea id=taste-input rows=3 style='width:100%'>{html.escape(example)}</textarea>"
            "<p><button id=taste-pour disabled>Pour</button> <small id=taste-status>loading the Spirit…</small></p>"
            "<pre id=taste-answer></pre>"
            f"<iframe id=taste-bottle src='{html.escape(bottle_link(spirit, bottle['file']))}' title='browser bottle' hidden></iframe>")


def _json(value) -> str:
    return html.escape(json.dumps(value, ensure_ascii=False))


def _page(title, body, script=""):
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}<script>{IMAGES_SCRIPT}{script}</script></body></html>\n")


def _field_cell(spirit) -> str:
    f = spirit.get("field_proof")
    if not f:
        return "<small>no field set</small>"
    return f"{html.escape(str(f['degrees']))} <small>on {html.escape(str(f['n']))} real examples</small>"


def _proofs_line(spirit) -> str:
    """Both proofs, labelled: real text first when the Spirit was measured on a field set."""
    p, f = spirit["proof"], spirit.get("field_proof")
    heads = (f"heads {html.escape(str(p['degrees']))} <small>{html.escape(p['metric'])} on {html.escape(str(p['n']))} "
             "synthetic held-out examples</small>")
    return f"field {_field_cell(spirit)} · {heads}" if f else heads


def _family(spirit, names_by_hash=None) -> str:
    """The cask history as a family line: names oldest first, linked where the ancestor is in this Cellar."""
    chain = spirit.get("lineage") or []
    if len(chain) < 2:
        return "<small>first cask</small>"
    names_by_hash = names_by_hash or {}
    parts = []
    for entry in chain:
        label = html.escape(str(entry.get("name", "?")))
        known = names_by_hash.get(entry.get("recipe_hash"))
        parts.append(f"<a href='{html.escape(known)}.html'>{label}</a>" if known and entry is not chain[-1] else label)
    return " → ".join(parts)


def _index_page(spirits) -> str:
    tasks = sorted({s["task_type"] for s in spirits})
    options = "".join(f"<option value='{html.escape(t)}'>{html.escape(t)}</option>" for t in tasks)
    names_by_hash = {s["recipe_hash"]: s["name"] for s in spirits}
    rows = "".join(
        f"<tr data-task='{html.escape(s['task_type'])}' data-proof='{s['proof']['value']:.6f}'>"
        f"<td><a href='{s['name']}.html'>{html.escape(s['name'])}</a></td><td>{html.escape(s['task_type'])}</td>"
        f"<td>{html.escape(s['proof']['degrees'])} <small>{html.escape(s['proof']['metric'])}</small></td><td>{_field_cell(s)}</td>"
        f"<td>{human_count(s['parameters'])}</td><td>{html.escape(s['teacher'])}</td>"
        f"<td><code>{s['recipe_hash'][:12]}</code></td><td>{_family(s, names_by_hash)}</td>"
        f"<td>{html.escape(s['built'][:10])}</td></tr>" for s in spirits)
    body = (f"<h1>The Cellar</h1><p>{len(spirits)} Spirit(s). Click <em>proof</em> to sort.</p>"
            f"<label>Task type <select id=task><option value=''>all</option>{options}</select></label>"
            "<table id=spirits><thead><tr><th>Spirit</th><th>task</th><th id=by-proof class=sort>proof (heads)</th>"
            "<th>field proof (real text)</th>"
            f"<th>parameters</th><th>teacher</th><th>recipe</th><th>lineage</th><th>built</th></tr></thead><tbody>{rows}</tbody></table>")
    return _page("The Cellar", body, INDEX_SCRIPT)


def _local_link(spirit, filename) -> str:
    return f"../{spirit['name']}/{filename}"


def _spirit_page(spirit, notes, pictures, names_by_hash, bottle_link=_local_link) -> str:
    name = spirit["name"]
    label = {"wasm": ".wasm.html"}  # a variant's name, but the browser bottle by its whole suffix
    bottles = "".join(f"<tr><td>{label.get(fmt, '.' + fmt)}</td><td>"
                      f"<a href='{html.escape(bottle_link(spirit, b['file']))}' download>{html.escape(b['file'])}</a>"
                      f"</td><td>{b['bytes'] / 1e6:.1f} MB</td><td><code>{b['sha256'][:16]}…</code></td></tr>"
                      for fmt, b in sorted(spirit["bottles"].items()))
    parent = spirit.get("parent")
    lineage = f"forked from <code>{parent}</code>" if parent else "an original Recipe"
    if parent in names_by_hash:  # the parent is in this Cellar: link its page
        lineage += f" (<a href='{names_by_hash[parent]}.html'>{html.escape(names_by_hash[parent])}</a>)"
    if len(spirit.get("lineage") or []) > 1:  # aged: the family line and the deltas against the parent
        lineage = f"aged in casks: {_family(spirit, names_by_hash)}"
        rows = "".join(f"<tr><td>{html.escape(r['set'])}</td><td>{r['n']}</td><td>{html.escape(r['before'])}</td>"
                       f"<td>{html.escape(r['after'])}</td><td>{r['delta']:+d}</td></tr>"
                       for r in (spirit.get("aging") or {}).get("rows", []))
        if rows:
            lineage += ("</p><h2>Against its parent</h2><table><tr><th>set</th><th>n</th><th>parent</th><th>aged</th>"
                        f"<th>delta</th></tr>{rows}</table><p>")
    sections = []
    for key, title in (("strengths", "Strengths"), ("weaknesses", "Weaknesses")):
        items = "".join(f"<li><b>{html.escape(s['category'])}</b> — {s['exact']:.0%} fully correct<ul>"
                        + "".join(f"<li><code>{html.escape(e['input'])}</code> → <code>{_json(e['predicted'])}</code></li>"
                                  for e in s["examples"]) + "</ul></li>" for s in notes.get(key, []))
        sections.append(f"<h2>{title}</h2><ul>{items or '<li>none</li>'}</ul>")
    samples = "".join(f"<tr><td>{html.escape(s['input'])}</td><td><code>{html.escape(json.dumps(s['gold'], ensure_ascii=False))}</code></td>"
                      f"<td><code>{html.escape(json.dumps(s['predicted'], ensure_ascii=False))}</code></td><td>{html.escape(s['verdict'])}</td></tr>"
                      for s in notes.get("samples", []))
    images = "".join(f"<p><img src='../{name}/{html.escape(p)}' alt='{html.escape(p)}'></p>" for p in pictures)
    body = (f"<p><a href='index.html'>← the Cellar</a></p><h1>{html.escape(name)}</h1>"
            f"<p class=proof>{_proofs_line(spirit)}</p><p>Recipe <code>{spirit['recipe_hash']}</code>, {lineage}; "
            f"teacher {html.escape(spirit['teacher'])}; {spirit['parameters']:,} parameters.</p>"
            f"{_tasting_box(spirit, bottle_link)}"
            f"<h2>Bottles</h2><table><tr><th>format</th><th>download</th><th>size</th><th>sha256</th></tr>{bottles}</table>"
            f"<h2>Loss curve</h2>{images}" + "".join(sections)
            + f"<h2>Sample predictions</h2><table><tr><th>input</th><th>gold</th><th>predicted</th><th>verdict</th></tr>{samples}</table>"
            f"<h2>Tasting Notes</h2><p><a href='../{name}/notes.md'>notes.md</a> · <a href='../{name}/notes.json'>notes.json</a></p>"
            f"<h2>Recipe</h2><pre>{html.escape(json.dumps(spirit['recipe'], indent=2, ensure_ascii=False))}</pre>")
    return _page(f"{name} — Distillarium Spirit", body, TASTING_SCRIPT if "wasm" in spirit["bottles"] else "")


def build_site(root: Path | None = None, index: dict | None = None, bottle_link=_local_link) -> Path:
    """Write <root>/site/: index.html and <name>.html per Spirit in the index (by default the
    local cellar's); each page reads <root>/<name>/notes.json and its pictures."""
    root = root or cellar_root()
    spirits = sorted((index or read_index())["spirits"].values(), key=lambda s: -s["proof"]["value"])
    site = root / "site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "index.html").write_text(_index_page(spirits), encoding="utf-8")
    names_by_hash = {s["recipe_hash"]: s["name"] for s in spirits}
    for spirit in spirits:
        folder = root / spirit["name"]
        notes = json.loads((folder / "notes.json").read_text()) if (folder / "notes.json").exists() else {}
        pictures = sorted(p.name for p in folder.glob("*.png"))
        try:
            page = _spirit_page(spirit, notes, pictures, names_by_hash, bottle_link)
        except (KeyError, TypeError, ValueError, AttributeError):  # notes.json of another shape (or from elsewhere)
            print(f"warning: {folder / 'notes.json'} is not Tasting Notes this version can show; the page leaves them out",
                  file=sys.stderr)
            page = _spirit_page(spirit, {}, pictures, names_by_hash, bottle_link)
        (site / f"{spirit['name']}.html").write_text(page, encoding="utf-8")
    return site


def build_remote_site(url: str, out: Path) -> Path:
    """The site of a published Cellar: its index, notes and pictures copied into `out` (each
    checked against its sha256), download links pointing at the bottles where they are published."""
    from ..remote import open_remote
    from .remote import download
    from .remote import read_index as read_remote_index

    remote = open_remote(url, "--from")
    index = read_remote_index(remote)
    for spirit in index["spirits"].values():
        for filename in spirit.get("files", {}):
            if filename.endswith(".png") or filename in ("notes.json", "notes.md"):
                download(remote, spirit, filename, out / spirit["name"])
    return build_site(out, index, lambda spirit, filename: remote.where(f"{spirit['folder']}/{filename}"))
