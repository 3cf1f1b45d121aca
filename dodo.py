"""Distillarium build graph: one doit task per stage per Recipe in recipes/.

    doit list --all            every task with its help line
    doit bottle:needle-onnx    build exactly what that bottle needs, nothing more

A task is up to date when the content-addressed store holds its key. Loading this file stays
fast: Recipes come from a cache keyed by their files' size and mtime, and no torch,
transformers or teacher SDK is imported until an action runs. A Recipe that does not load is
reported in one line and left out; the others are still listed and built.
"""
import os
import sys
from pathlib import Path

from distill.build import BY_NAME
from distill.recipe import load_recipes
from distill.recipe.cache import RecipeCache

RECIPES = Path(os.environ.get("DISTILL_RECIPES", Path(__file__).parent / "recipes"))
STORE = Path(os.environ.get("DISTILL_STORE", ".distill")).resolve()

DOIT_CONFIG = {
    "default_tasks": ["bottle:needle-onnx"],
    "verbosity": 2,  # show progress bars and stage summaries as they happen
    "backend": "json",
    "dep_file": str(STORE / "doit-state.json"),
}


def _check_settings():
    """A remote store URL or user config that cannot work is one line here, before any task runs
    (inside an up-to-date check it would be a traceback)."""
    from distill.errors import DistillError
    from distill.remote import open_remote
    from distill.settings import remote_url

    try:
        url = remote_url()
        if url:
            open_remote(url, "DISTILL_REMOTE")
    except DistillError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


_check_settings()
RECIPE_LIST, _problems = load_recipes(RECIPES, RecipeCache(STORE / "recipe-cache.json"))
for _problem in _problems:
    print(f"warning: skipped {_problem}", file=sys.stderr)

_builds = {}
_HASHES = {r.hash: r.name for r in RECIPE_LIST}


def _build(recipe):
    """One Build per Recipe per doit run: keys are computed once, not at every up-to-date check."""
    if recipe.name not in _builds:
        from distill.build import Build
        from distill.store import Store

        _builds[recipe.name] = Build(recipe, Store(STORE))
    return _builds[recipe.name]


def _action(recipe, stage, fmt=None):
    def run():
        from distill.errors import DistillError

        try:
            _build(recipe).run(stage, fmt)
        except DistillError as err:
            print(f"error: {err}", file=sys.stderr)
            return False
        return True
    return run


def _stage_task(recipe, stage, doc, fmt=None):
    upstream = [f"{name}:{recipe.name}" for name in BY_NAME[stage].upstream]
    age = recipe.data.get("age")
    if age and age.get("parent_hash") in _HASHES:  # aging: the parent Recipe is here, its stage first
        upstream += [f"{name}:{_HASHES[age['parent_hash']]}" for name in BY_NAME[stage].aged_upstream]
    return {
        "name": f"{recipe.name}-{fmt}" if fmt else recipe.name,
        "doc": doc,
        "actions": [_action(recipe, stage, fmt)],
        "uptodate": [lambda: _build(recipe).is_built(stage, fmt)],
        "task_dep": upstream,
        "verbosity": 2,
    }


def task_mash():
    """Have the teacher write the Mash (one shard per category; existing shards are reused)."""
    for r in RECIPE_LIST:
        yield _stage_task(r, "mash", f"Mash for {r.name}: {r['teacher']['provider']} teacher, "
                                     f"{r['mash']['examples_per_category']} examples per category")


def task_cuts():
    """Split the Mash into hearts (train), heads (held out) and tails (hard cases)."""
    for r in RECIPE_LIST:
        yield _stage_task(r, "cuts", f"Cuts for {r.name}")


def task_still():
    """Train the student on the hearts (resumes if interrupted)."""
    for r in RECIPE_LIST:
        aged = r.data.get("age")
        yield _stage_task(r, "still", f"Still for {r.name}: " + (f"aged from {aged['parent']}, {aged['epochs']} epochs"
                                                                 if aged else f"{r['still']['epochs']} epochs"))


def task_notes():
    """Measure proof on the heads and write Tasting Notes (notes.md, notes.json, loss.png)."""
    for r in RECIPE_LIST:
        yield _stage_task(r, "notes", f"Tasting Notes for {r.name}")


def task_bottle():
    """Export a Spirit into cellar/<name>/ (.pt, .onnx, .gguf per type), embedding weights, tokenizer and Recipe."""
    for r in RECIPE_LIST:
        for fmt in r["bottle"]["formats"]:
            yield _stage_task(r, "bottle", f"Bottle {r.name} as .{fmt} into the cellar", fmt=fmt)
