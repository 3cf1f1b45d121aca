"""`distill publish`: put one Spirit of the local Cellar (its bottles, Tasting Notes, loss curve,
bottle table and Recipe) on a shared URL and list it in that Cellar's index.json.

Order, so that a reader never meets half of it: the files first (each object whole), then
entries/<recipe hash>.json, then index.json. The index is rebuilt from the entries rather than
edited in place, so concurrent publishers cannot lose each other's Spirits: each one, after
writing the index, lists the entries again and rewrites until the index holds all of them
(whoever writes last has seen every entry written before its final check). Layout: cellar/remote.py.
"""
import json
import re
import time
from pathlib import Path

from ..errors import DistillError
from ..hashing import sha256_file
from ..remote import open_remote
from .index import cellar_root, read_index
from .remote import MAX_INDEX_BYTES, read_entry
from .remote import read_index as read_remote_index

NOTE_FILES = ("notes.json", "notes.md", "bottles.json", "recipe.json")
ENTRY_RE = re.compile(r"^([0-9a-f]{32})\.json$")
MAX_ROUNDS = 50


def local_entry(name: str, recipe_hash: str) -> tuple[Path, dict]:
    """The local Cellar's folder and index entry of one Spirit, its bottles checked against the index."""
    entry = read_index()["spirits"].get(name)
    if entry is None or entry.get("recipe_hash") != recipe_hash:
        raise DistillError(f"{name} (recipe {recipe_hash}) has no bottles in the cellar at {cellar_root()}; "
                           f"build them first: doit bottle:{name}-pt")
    folder = cellar_root() / name
    for bottle in entry["bottles"].values():
        path = folder / bottle["file"]
        if not path.is_file() or sha256_file(path) != bottle["sha256"]:
            raise DistillError(f"{path}: missing or not the file the cellar index lists; rebuild it with "
                               f"doit bottle:{name}-<format> before publishing")
    return folder, entry


def files_of(folder: Path, entry: dict) -> list[Path]:
    """What a published Spirit carries: every bottle, the notes, the bottle table, the Recipe, the pictures."""
    bottles = [folder / b["file"] for _, b in sorted(entry["bottles"].items())]
    notes = [folder / n for n in NOTE_FILES if (folder / n).is_file()]
    return bottles + notes + sorted(folder.glob("*.png"))


def publish(name: str, recipe_hash: str, url: str, report=print) -> dict:
    remote = open_remote(url, "--to")
    folder, entry = local_entry(name, recipe_hash)
    version = f"{name}/{recipe_hash}"
    files, started = {}, time.perf_counter()
    for path in files_of(folder, entry):
        remote.upload(path, f"{version}/{path.name}")
        files[path.name] = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
    published = {**entry, "folder": version, "files": files,
                 "published": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    remote.write(f"entries/{recipe_hash}.json", json.dumps(published, indent=2, sort_keys=True, ensure_ascii=False).encode())
    index = merge_index(remote)
    sent = sum(f["bytes"] for f in files.values())
    report(f"published {name} (recipe {recipe_hash}) to {remote.where(version)}: {len(files)} files, "
           f"{sent / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s; the index lists {len(index['spirits'])} Spirit(s)")
    return published


def merge_index(remote) -> dict:
    """Rewrite index.json until it lists every entry (see the module docstring for why this converges)."""
    unusable = set()
    for _ in range(MAX_ROUNDS):
        index = read_remote_index(remote, missing_ok=True)
        listed = {m.group(1) for m in map(ENTRY_RE.match, remote.list("entries")) if m}
        missing = sorted(listed - set(index["recipes"]) - unusable)
        if not missing:
            return index
        for recipe_hash in missing:
            try:
                entry = read_entry(remote, recipe_hash)
            except DistillError:
                entry = None
            if entry is None:
                unusable.add(recipe_hash)  # a damaged entry is left out, not retried forever
                continue
            index["recipes"][recipe_hash] = entry["name"]
            current = index["spirits"].get(entry["name"])
            if current is None or str(current.get("published", "")) <= str(entry.get("published", "")):
                index["spirits"][entry["name"]] = entry  # a name shows its latest version; older ones stay in entries/
        data = json.dumps(index, indent=2, sort_keys=True, ensure_ascii=False).encode()
        if len(data) > MAX_INDEX_BYTES:
            raise DistillError(f"{remote.where('index.json')}: the index would exceed {MAX_INDEX_BYTES:,} bytes")
        remote.write("index.json", data)
    raise DistillError(f"{remote.where('index.json')}: other publishers kept changing the index for {MAX_ROUNDS} rounds; "
                       "run the publish again")
