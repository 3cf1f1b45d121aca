"""The Cellar: a folder of Spirits with an index (cellar/index.json) that lists each one."""
import json
import os
import time
from pathlib import Path

from .hashing import sha256_file


def cellar_root() -> Path:
    return Path(os.environ.get("DISTILL_CELLAR", "cellar")).resolve()


def index_path() -> Path:
    return cellar_root() / "index.json"


def read_index() -> dict:
    try:
        return json.loads(index_path().read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {"spirits": {}}


def update_index(recipe, notes: dict, bottle_path: Path, fmt: str):
    """Record (or refresh) one bottle of one Spirit; written atomically."""
    index = read_index()
    entry = index["spirits"].setdefault(recipe.name, {})
    entry.update({
        "name": recipe.name, "recipe_hash": recipe.hash, "parent": recipe.parent,
        "task_type": recipe["task"]["type"], "teacher": f"{recipe['teacher']['provider']}/{recipe['teacher']['model']}",
        "proof": notes["proof"], "parameters": notes["training"]["parameters"],
        "recipe": recipe.data, "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    })
    bottles = entry.setdefault("bottles", {})
    if bottles.get(fmt, {}).get("recipe_hash") not in (None, recipe.hash):
        bottles.clear()  # bottles of an older Recipe under this name are stale
    bottles[fmt] = {"file": bottle_path.name, "bytes": bottle_path.stat().st_size,
                    "sha256": sha256_file(bottle_path), "recipe_hash": recipe.hash}
    path = index_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(index, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def find_recipe_by_hash(recipe_hash: str) -> dict | None:
    """A published normalised Recipe, for `fork: <recipe-hash>` and reproduction."""
    for entry in read_index()["spirits"].values():
        if entry.get("recipe_hash") == recipe_hash:
            return entry["recipe"]
    return None


def human_count(n: int) -> str:
    """23136 -> 23.1k, 1843200 -> 1.8M: test Spirits are tiny, real ones are millions."""
    return f"{n / 1e6:.1f}M" if n >= 100_000 else f"{n / 1e3:.1f}k"


def listing() -> str:
    rows = sorted(read_index()["spirits"].values(), key=lambda e: e["name"])
    if not rows:
        return f"the cellar at {cellar_root()} is empty; build a Spirit with `doit bottle:<name>-onnx`"
    lines = [f"{'name':<16} {'task':<10} {'proof':>6}  {'params':>7}  {'recipe hash':<32}  bottles"]
    for e in rows:
        bottles = ", ".join(f"{fmt} {b['bytes'] / 1e6:.1f}MB" for fmt, b in sorted(e["bottles"].items()))
        lines.append(f"{e['name']:<16} {e['task_type']:<10} {e['proof']['degrees']:>6}  "
                     f"{human_count(e['parameters']):>7}  {e['recipe_hash']:<32}  {bottles}")
    return "\n".join(lines)
