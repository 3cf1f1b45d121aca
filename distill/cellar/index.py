"""The cellar index (cellar/index.json): one entry per Spirit, updated under a lock so that
concurrent bottlings never lose each other's entries."""
import contextlib
import fcntl
import json
import os
import re
import tempfile
import time
from pathlib import Path

from ..errors import DistillError
from ..hashing import sha256_file

HASH_RE = re.compile(r"^[0-9a-f]{32}$")
RESTORE = "restore it from a copy, or move it aside to start a new one (rebuilding a bottle lists it again)"


def cellar_root() -> Path:
    return Path(os.environ.get("DISTILL_CELLAR", "cellar")).resolve()


def index_path() -> Path:
    return cellar_root() / "index.json"


def read_index() -> dict:
    """The local index; a damaged one is an error, never read as empty: the next bottling would
    write it back holding only its own entry."""
    path = index_path()
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"spirits": {}}
    except (ValueError, OSError) as err:
        raise DistillError(f"{path}: not a readable cellar index ({err}); {RESTORE}") from None
    if not isinstance(index, dict) or not isinstance(index.get("spirits"), dict):
        raise DistillError(f"{path}: not a cellar index (a JSON object with 'spirits'); {RESTORE}")
    for name, entry in index["spirits"].items():
        problem = entry_problem(entry) or (None if entry["name"] == name else "listed under another name")
        if problem:
            raise DistillError(f"{path}: the entry {name!r} is damaged ({problem}); {RESTORE}")
    return index


def entry_problem(entry) -> str | None:
    """Why an index entry (this cellar's or a published one) cannot be listed, shown or published,
    or None. Its name becomes a folder and a page name, its fields go into listings and HTML."""
    from ..recipe.forks import NAME_RE
    from ..tasks import TASK_MODULES

    if not isinstance(entry, dict):
        return "not an object"
    name, rh, proof = entry.get("name"), entry.get("recipe_hash"), entry.get("proof")
    checks = [
        (isinstance(name, str) and NAME_RE.match(name) and isinstance(rh, str) and HASH_RE.match(rh),
         "no valid name and recipe hash"),
        (isinstance(entry.get("recipe"), dict), "no Recipe"),
        (entry.get("task_type") in TASK_MODULES, "unknown task type"),
        (isinstance(proof, dict) and isinstance(proof.get("value"), (int, float)) and isinstance(proof.get("degrees"), str)
         and isinstance(proof.get("metric"), str) and isinstance(proof.get("n"), int), "no proof"),
        (entry.get("field_proof") is None or (isinstance(entry["field_proof"], dict)
                                              and isinstance(entry["field_proof"].get("degrees"), str)), "no field proof"),
        (isinstance(entry.get("parameters"), int) and isinstance(entry.get("teacher"), str)
         and isinstance(entry.get("built"), str), "no parameters, teacher or build date"),
        (entry.get("parent") is None or (isinstance(entry["parent"], str) and HASH_RE.match(entry["parent"])),
         "its parent is not a recipe hash"),
        (files_ok(entry.get("bottles"), nested=True) and all(re.match(r"^[a-z0-9_-]+$", str(v)) for v in entry["bottles"]),
         "its bottle list is malformed"),
    ]
    return next((problem for ok, problem in checks if not ok), None)


def files_ok(files, nested=False) -> bool:
    """{name: {bytes, sha256}} (nested: {format: {file, bytes, sha256}}), every file name a plain one."""
    from ..remote_tier import safe_name

    if not isinstance(files, dict):
        return False
    for name, info in files.items():
        filename = info.get("file") if nested and isinstance(info, dict) else name
        if not safe_name(filename) or "/" in filename or not isinstance(info, dict) or not isinstance(info.get("bytes"), int) \
                or not (isinstance(info.get("sha256"), str) and re.match(r"^[0-9a-f]{64}$", info["sha256"])):
            return False
    return True


@contextlib.contextmanager
def locked(path: Path):
    """An exclusive lock beside `path` for a read-modify-write (released if the process dies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_json(path: Path, data: dict):
    """Atomically, with a temp name of its own, readable by everyone (a cellar is shared)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def update_index(recipe, notes: dict, bottle_path: Path, fmt: str, lineage: list | None = None):
    """Record (or refresh) one bottle of one Spirit (with its cask history, aging.py)."""
    with locked(index_path()):
        _update_index(recipe, notes, bottle_path, fmt, lineage)


def _update_index(recipe, notes: dict, bottle_path: Path, fmt: str, lineage: list | None = None):
    index = read_index()
    entry = index["spirits"].setdefault(recipe.name, {})
    entry.update({
        "name": recipe.name, "recipe_hash": recipe.hash, "parent": recipe.parent,
        "task_type": recipe["task"]["type"], "teacher": f"{recipe['teacher']['provider']}/{recipe['teacher']['model']}",
        "proof": notes["proof"], "field_proof": notes.get("field_proof"), "parameters": notes["training"]["parameters"],
        "environment": notes.get("environment"),
        "recipe": recipe.data, "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    })
    if lineage:
        entry["lineage"] = lineage
    if notes.get("aging"):
        entry["aging"] = {k: notes["aging"][k] for k in ("parent", "parent_hash", "rows")}
    bottles = entry.setdefault("bottles", {})
    if bottles.get(fmt, {}).get("recipe_hash") not in (None, recipe.hash):
        bottles.clear()  # bottles of an older Recipe under this name are stale
    bottles[fmt] = {"file": bottle_path.name, "bytes": bottle_path.stat().st_size,
                    "sha256": sha256_file(bottle_path), "recipe_hash": recipe.hash}
    write_json(index_path(), index)


def find_recipe_by_hash(recipe_hash: str) -> dict | None:
    """A published normalised Recipe, for `fork: <recipe-hash>` and reproduction."""
    for entry in read_index()["spirits"].values():
        if entry.get("recipe_hash") == recipe_hash:
            return entry["recipe"]
    return None


def human_count(n: int) -> str:
    """23136 -> 23.1k, 1843200 -> 1.8M: test Spirits are tiny, real ones are millions."""
    return f"{n / 1e6:.1f}M" if n >= 100_000 else f"{n / 1e3:.1f}k"


def listing(index: dict | None = None, where=None) -> str:
    rows = sorted((index or read_index())["spirits"].values(), key=lambda e: e["name"])
    if not rows:
        return f"the cellar at {where or cellar_root()} is empty; build a Spirit with `doit bottle:<name>-onnx`"
    lines = [f"{'name':<16} {'task':<10} {'proof':>6} {'field':>6}  {'params':>7}  {'recipe hash':<32}  bottles"]
    for e in rows:
        bottles = ", ".join(f"{fmt} {b['bytes'] / 1e6:.1f}MB" for fmt, b in sorted(e["bottles"].items()))
        field = (e.get("field_proof") or {}).get("degrees", "—")
        lines.append(f"{e['name']:<16} {e['task_type']:<10} {e['proof']['degrees']:>6} {field:>6}  "
                     f"{human_count(e['parameters']):>7}  {e['recipe_hash']:<32}  {bottles}")
    return "\n".join(lines)
