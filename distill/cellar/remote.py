"""Reading a Cellar someone published (`distill publish`) at a URL: s3://, https://, file://.

Layout under the URL:

    index.json                       {"spirits": {name: entry}, "recipes": {recipe hash: name}}
    entries/<recipe hash>.json       one published Spirit version: its index entry, its folder and files
    <name>/<recipe hash>/<file>      bottles, notes.json, notes.md, loss.png, bottles.json, recipe.json

Everything read here is someone else's data: sizes are bounded before reading, every file is
checked against the sha256 its entry lists, and a Recipe is used only if it hashes to the recipe
hash it is published under. A published Recipe may name a teacher endpoint; it never receives a
credential (Recipe.foreign, Build.teacher_replay_reason).
"""
import hashlib
import json
from pathlib import Path

from ..errors import DistillError
from ..remote import open_remote
from ..remote_tier import max_artifact_bytes, safe_name, warn
from .index import HASH_RE, entry_problem, files_ok

MAX_INDEX_BYTES = 64 << 20
MAX_ENTRY_BYTES = 16 << 20


def check_entry(entry) -> str | None:
    """Why a published entry cannot be shown or used, or None: held to an index entry's shape, and
    its Recipe may be rebuilt, so it must hash to the recipe hash it is published under."""
    from ..recipe import recipe_hash as hash_of

    problem = entry_problem(entry)
    if problem:
        return problem
    name, rh = entry["name"], entry["recipe_hash"]
    checks = [
        (hash_of(entry["recipe"]) == rh, f"its Recipe does not hash to {rh}"),
        (entry.get("folder") == f"{name}/{rh}", "its folder is not <name>/<recipe hash>"),
        (files_ok(entry.get("files")), "its file list is malformed"),
    ]
    return next((problem for ok, problem in checks if not ok), None)


def read_index(remote, missing_ok=False) -> dict:
    """The published index; a missing or unreadable one is an error naming the URL (or, with
    missing_ok, an empty index: a publisher rebuilds it from the entries)."""
    raw = remote.read("index.json", MAX_INDEX_BYTES)
    empty = {"spirits": {}, "recipes": {}}
    if raw is None:
        if missing_ok:
            return empty
        raise DistillError(f"{remote.where('index.json')}: no Cellar index there; publish one with "
                           f"`distill publish <recipe> --to {remote.url}`")
    try:
        index = json.loads(raw)
    except ValueError:
        index = None
    if not isinstance(index, dict) or not isinstance(index.get("spirits"), dict):
        if missing_ok:
            return empty
        raise DistillError(f"{remote.where('index.json')}: not a Cellar index (expected JSON with 'spirits')")
    for name, entry in list(index["spirits"].items()):
        problem = check_entry(entry) or (None if entry["name"] == name else "listed under another name")
        if problem:
            warn(f"{remote.where('index.json')}: leaving out the entry {name!r}: {problem}")
            del index["spirits"][name]
    if not isinstance(index.get("recipes"), dict):
        index["recipes"] = {e["recipe_hash"]: n for n, e in index["spirits"].items()}
    return index


def read_entry(remote, recipe_hash: str) -> dict | None:
    """entries/<hash>.json, checked: its Recipe must hash to the hash it is filed under."""
    if not HASH_RE.match(recipe_hash):
        return None
    raw = remote.read(f"entries/{recipe_hash}.json", MAX_ENTRY_BYTES)
    if raw is None:
        return None
    try:
        entry = json.loads(raw)
    except ValueError:
        entry = None
    problem = check_entry(entry) or (None if entry["recipe_hash"] == recipe_hash else f"it is not {recipe_hash}")
    if problem:
        raise DistillError(f"{remote.where(f'entries/{recipe_hash}.json')}: not a usable published Spirit ({problem}); "
                           "the Cellar was damaged or tampered with")
    return entry


def find(url: str, recipe_hash: str) -> dict | None:
    """The published entry of a recipe hash in the Cellar at `url`, or None."""
    return read_entry(open_remote(url, "cellar"), recipe_hash)


def find_recipe(recipe_hash: str, urls) -> tuple[dict, str] | None:
    """(normalised Recipe, the Cellar URL it came from) from the first Cellar that has the hash."""
    for url in urls:
        entry = find(url, recipe_hash)
        if entry is not None:
            return entry["recipe"], url
    return None


def download(remote, entry: dict, filename: str, dest: Path) -> Path:
    """One published file of an entry into `dest` (a folder), checked against its listed sha256."""
    info = (entry.get("files") or {}).get(filename)
    folder = entry.get("folder", "")
    if not isinstance(info, dict) or not safe_name(filename) or not all(safe_name(p) for p in folder.split("/")):
        raise DistillError(f"{remote.url}: {entry.get('name')} lists no file {filename!r}")
    rel = f"{folder}/{filename}"
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / filename
    hasher = hashlib.sha256()
    got = remote.download(rel, path, int(info.get("bytes", 0)), hasher)
    if got is None:
        raise DistillError(f"{remote.where(rel)}: listed in the Cellar's index but missing")
    if got != info.get("bytes") or hasher.hexdigest() != info.get("sha256"):
        path.unlink(missing_ok=True)
        raise DistillError(f"{remote.where(rel)}: does not match the sha256 the Cellar lists for it; "
                           "the file was damaged or replaced")
    return path


def bottle_files(entry: dict) -> list[str]:
    return [b["file"] for _, b in sorted((entry.get("bottles") or {}).items()) if isinstance(b, dict) and "file" in b]


def fetch_bottle_url(url: str, dest: Path) -> Path:
    """A bottle given by its URL. Inside a published Cellar (<cellar>/<name>/<hash>/<file>) it is
    checked against the sha256 its entry lists; elsewhere only the bottle's own seal and digests
    (which verify checks next) vouch for it."""
    head, _, filename = url.rstrip("/").rpartition("/")
    if not safe_name(filename) or "://" not in head:
        raise DistillError(f"{url}: expected the URL of a bottle file (.pt, .onnx or .gguf)")
    parts = head.split("/")
    if len(parts) >= 5 and HASH_RE.match(parts[-1]):
        cellar = open_remote("/".join(parts[:-2]), "cellar")
        entry = read_entry(cellar, parts[-1])
        if entry is not None and filename in (entry.get("files") or {}):
            return download(cellar, entry, filename, dest)
    remote = open_remote(head, "bottle URL")
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / filename
    got = remote.download(filename, path, max_artifact_bytes(), hashlib.sha256())
    if got is None:
        raise DistillError(f"{url}: no such file")
    if got > max_artifact_bytes():
        raise DistillError(f"{url}: larger than DISTILL_REMOTE_MAX_BYTES={max_artifact_bytes():,}")
    return path
