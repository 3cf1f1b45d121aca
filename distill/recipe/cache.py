"""Parsed Recipes cached by the stat signatures of every file that shaped them.

Loading the build graph (`doit list`, an up-to-date `doit bottle:...`) would otherwise parse and
validate every Recipe on every run. Like doit's own file checker, a file whose size and mtime
are unchanged is not read again. The signature covers the Recipe, its fork parents (or the
cellar index a hash fork came from), the schema, and the code that normalises Recipes.
"""
import json
import os
from pathlib import Path

from .schema import schema_path

CACHE_VERSION = 1


def _signature(path: Path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _code_files() -> list[Path]:
    here = Path(__file__).resolve().parent
    package = here.parent
    return sorted([*here.glob("*.py"), *(package / "tasks").glob("*.py"), package / "hashing.py", schema_path()])


class RecipeCache:
    def __init__(self, path):
        self.path = Path(path)
        self.changed = False
        try:
            self.entries = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.entries = {}
        code = {str(p): _signature(p) for p in _code_files()}
        if self.entries.get("version") != CACHE_VERSION or self.entries.get("code") != code:
            self.entries, self.changed = {"version": CACHE_VERSION, "code": code, "recipes": {}}, True

    def load(self, path: Path, loader):
        from . import Recipe

        key = str(Path(path).resolve())
        entry = self.entries["recipes"].get(key)
        if entry and all(_signature(Path(p)) == sig for p, sig in entry["files"]):
            return Recipe(name=entry["data"]["name"], path=Path(path), data=entry["data"], parent=entry["parent"],
                          sources=[Path(p) for p in entry["sources"]], foreign=entry.get("foreign"))
        recipe = loader(path)
        files = [Path(path), *recipe.sources]
        self.entries["recipes"][key] = {"data": recipe.data, "parent": recipe.parent, "foreign": recipe.foreign,
                                        "sources": [str(p) for p in recipe.sources],
                                        "files": [[str(p), _signature(p)] for p in files]}
        self.changed = True
        return recipe

    def save(self):
        """Written atomically; a cache that cannot be written only costs speed."""
        if not self.changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            tmp.write_text(json.dumps(self.entries, ensure_ascii=False))
            os.replace(tmp, self.path)
            self.changed = False
        except OSError:
            pass
