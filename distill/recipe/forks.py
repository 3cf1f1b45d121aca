"""Forks: a Recipe that names a parent (a Recipe in the same folder, or a published recipe hash)
and overrides some of its fields. The result is a full, standalone Recipe.

A parent named by hash comes from a cellar index: it is data written by someone else, so it is
validated like any Recipe and never trusted with a credential (see teachers/).
"""
import copy
import json
import os
import re
from pathlib import Path

from ..errors import RecipeError
from .schema import line_for

RECIPE_HASH_RE = re.compile(r"^[0-9a-f]{32}$")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
INHERITED_EXCEPT = ("name", "description", "parent")


def deep_merge(parent: dict, child: dict) -> dict:
    """Child overrides parent; mappings merge recursively, lists and scalars replace."""
    merged = copy.deepcopy(parent)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _fork_error(path, lines, problem, field=("fork",)):
    return RecipeError(path, line_for(lines, list(field)), ".".join(field), problem)


def resolve_parent(path: Path, lines: dict, ref, load, seen, field=("fork",)) -> tuple[dict, str, list[Path]]:
    """(parent's normalised data, parent's recipe hash, files it was read from).

    `load(parent_path, seen)` loads a sibling Recipe (passed in to avoid an import cycle);
    `field` is where the parent is named (fork, or age.parent), for error lines."""
    def fail(problem):
        return _fork_error(path, lines, problem, field)

    if not isinstance(ref, str) or not ref:
        raise fail('must be a recipe name or a recipe hash; quote a hash that YAML reads '
                   'as a number: fork: "0123..."')
    if RECIPE_HASH_RE.match(ref):
        from ..cellar.index import find_recipe_by_hash, index_path

        data = find_recipe_by_hash(ref)
        if data is not None:
            return data, ref, [index_path()]
        copy_path = _from_published_cellars(ref, path, lines, field)
        if copy_path is None:
            raise fail(f"no published Recipe with hash {ref} in the cellar index nor in the "
                       "Cellars of DISTILL_CELLARS; build it, or name the Cellar that has it: "
                       "DISTILL_CELLARS=<url>")
        return json.loads(copy_path.read_text()), ref, [copy_path]
    if not NAME_RE.match(ref):
        raise fail(f"{ref!r} is neither a recipe name (lowercase letters, digits, dashes: "
                   "a file in the same folder) nor a 32-hex recipe hash")
    parent_path = path.with_name(f"{ref}.yaml")
    if not parent_path.exists():
        siblings = sorted(p.stem for p in path.parent.glob("*.yaml") if p != path)
        raise fail(f"parent recipe '{ref}' not found (no {parent_path}); "
                   f"valid: {', '.join(siblings) or 'none'}")
    if parent_path.resolve() in seen:
        raise fail(f"{'.'.join(field)} cycle through '{ref}'")
    parent = load(parent_path, seen)
    return parent.data, parent.hash, [parent_path, *parent.sources]


def _from_published_cellars(ref: str, path, lines, field=("fork",)) -> Path | None:
    """A parent Recipe from a Cellar someone published (settings.cellar_urls), kept as
    <store>/cellar-recipes/<hash>.json. It is checked to hash to `ref` before it is kept, so the
    copy can stand for it from then on (and the Recipe cache can watch that file)."""
    from ..cellar.remote import find_recipe
    from ..errors import DistillError
    from ..settings import cellar_urls
    from ..store import default_root
    from . import recipe_hash

    kept = default_root() / "cellar-recipes" / f"{ref}.json"
    try:
        if recipe_hash(json.loads(kept.read_text())) == ref:
            return kept
    except (OSError, ValueError, TypeError, AttributeError):
        pass
    try:
        found = find_recipe(ref, cellar_urls())
    except DistillError as err:
        raise _fork_error(path, lines, str(err), field) from None
    if found is None:
        return None
    kept.parent.mkdir(parents=True, exist_ok=True)
    tmp = kept.with_name(f".{kept.name}.{os.getpid()}")
    tmp.write_text(json.dumps(found[0], sort_keys=True, ensure_ascii=False))
    os.replace(tmp, kept)
    return kept
