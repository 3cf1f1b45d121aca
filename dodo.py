"""Distillarium build graph: one doit task per stage per Recipe in recipes/.

    doit list --all            every task with its help line
    doit bottle:needle-onnx    build exactly what that bottle needs, nothing more

A task is up to date when the content-addressed store holds its key. Loading this file stays
fast: no torch, transformers or teacher SDK is imported until an action runs.
"""
import os
import sys
from pathlib import Path

from distill.errors import RecipeError
from distill.recipe import load_recipes

RECIPES = Path(os.environ.get("DISTILL_RECIPES", Path(__file__).parent / "recipes"))
STORE = Path(os.environ.get("DISTILL_STORE", ".distill")).resolve()

DOIT_CONFIG = {
    "default_tasks": ["bottle:needle-onnx"],
    "verbosity": 2,  # show progress bars and stage summaries as they happen
    "backend": "json",
    "dep_file": str(STORE / "doit-state.json"),
}

try:
    RECIPE_LIST = load_recipes(RECIPES)
except RecipeError as err:
    sys.exit(f"error: {err}")


def _build(recipe):
    from distill.stages import Build

    return Build(recipe.path, STORE)


def _up_to_date(recipe, stage, fmt=None):
    def check():
        return _build(recipe).is_built(stage, fmt)
    return check


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


def _stage_task(recipe, stage, doc, dep=None, fmt=None):
    name = f"{recipe.name}-{fmt}" if fmt else recipe.name
    return {
        "name": name,
        "doc": doc,
        "actions": [_action(recipe, stage, fmt)],
        "uptodate": [_up_to_date(recipe, stage, fmt)],
        "task_dep": [dep] if dep else [],
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
        yield _stage_task(r, "cuts", f"Cuts for {r.name}", dep=f"mash:{r.name}")


def task_still():
    """Train the student from scratch on the hearts (resumes if interrupted)."""
    for r in RECIPE_LIST:
        yield _stage_task(r, "still", f"Still for {r.name}: {r['still']['epochs']} epochs", dep=f"cuts:{r.name}")


def task_notes():
    """Measure proof on the heads and write Tasting Notes (notes.md, notes.json, loss.png)."""
    for r in RECIPE_LIST:
        yield _stage_task(r, "notes", f"Tasting Notes for {r.name}", dep=f"still:{r.name}")


def task_bottle():
    """Export a Spirit into cellar/<name>/ (.pt, .onnx, .gguf per type), embedding weights, tokenizer and Recipe."""
    for r in RECIPE_LIST:
        for fmt in r["bottle"]["formats"]:
            yield _stage_task(r, "bottle", f"Bottle {r.name} as .{fmt} into the cellar", dep=f"notes:{r.name}", fmt=fmt)
