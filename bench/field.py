"""Field proofs: each Recipe's Spirit measured on real, human-written text (recipes/field/),
beside its heads proof. Builds what the store lacks (through the notes), then prints one row per
Recipe.

    python bench/field.py                            # intent, pii, sql, needle; dev halves
    python bench/field.py recipes/intent.yaml --test # also the test half: measure it once, at the end
    python bench/field.py --store /tmp/s             # reuse a store
    python bench/field.py recipes/pii.yaml --seeds 3 # three Stills of one Mash (still.seed): the spread

--seeds N trains N Stills from the same Mash and Cuts, the Recipe's own and N - 1 with
still.seed = seed + 1, + 2, ...: equally valid Stills, so the spread of their proofs is how far a
proof moves without any change that matters; a change smaller than it is not shown by one Still.
"""
import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repository, not bench/ (its concurrent.py would shadow the standard library)
DEFAULT = ["recipes/intent.yaml", "recipes/pii.yaml", "recipes/sql.yaml", "recipes/needle.yaml"]
# what each task type's done-when reads (the headline metric is always printed too)
EXTRA = {"classify": ["accuracy"], "sql": ["execution_accuracy"], "ner": [],
         "tool_call": ["argument_exact_match", "irrelevance_accuracy", "listed_values_right", "unlisted_values_right"]}


def with_still_seed(recipe, offset: int):
    """The Recipe with another Still seed (offset 0: the Recipe itself)."""
    if not offset:
        return recipe
    data = {**recipe.data, "still": {**recipe.data["still"], "seed": recipe.data["seed"] + offset}}
    return dataclasses.replace(recipe, data=data)


def measure(path: str, store_root: Path, test: bool, seed_offset: int = 0) -> dict:
    from distill import field
    from distill.build import Build
    from distill.recipe import load_recipe
    from distill.spirit import spirit_from_model
    from distill.store import Store
    from distill.tasks import task_type

    build = Build(with_still_seed(load_recipe(path), seed_offset), Store(store_root))
    started = time.perf_counter()
    for stage in ("mash", "cuts", "still", "notes"):
        build.run(stage)
    seconds = time.perf_counter() - started
    notes = build.load("notes")
    seed = build.recipe["still"].get("seed")
    name = build.recipe.name + (f" (still.seed {seed})" if seed is not None else "")
    row = {"recipe": name, "heads": notes["proof"], "field": notes.get("field_proof"), "build_s": seconds}
    if test and row["field"]:
        recipe = build.recipe
        module, task = task_type(recipe["task"]["type"]), recipe["task"]
        test_path = field.field_path(recipe.path, recipe["proof"]["field"].replace(".dev.", ".test."))
        examples = field.examples(field.read_rows(test_path, recipe.path, module, task), module, task)
        model, tokenizer, _ = build.load("still")
        spirit = spirit_from_model(model, tokenizer, recipe.data, recipe.hash)
        preds = [spirit.predict_example(ex) for ex in examples]
        row["test"] = module.proof([ex["target"] for ex in examples], preds, task)
    row["task"] = build.recipe["task"]["type"]
    return row


def cell(proof, extras) -> str:
    if not proof:
        return "—"
    text = f"{100 * proof['value']:.1f}° ({proof['n']})"
    for extra in extras:
        if proof.get(extra) is not None:
            text += f", {extra.replace('_', ' ')} {100 * proof[extra]:.1f}%"
    return text


def spread(rows: list[dict], extras) -> dict:
    """Per proof (field, test, heads): the mean and range of each number over the Stills."""
    out = {}
    for part in ("field", "test", "heads"):
        proofs = [r[part] for r in rows if r.get(part)]
        if len(proofs) == len(rows):
            out[part] = {key: (statistics.mean(p[key] for p in proofs), min(p[key] for p in proofs),
                               max(p[key] for p in proofs)) for key in ["value", *extras] if proofs[0].get(key) is not None}
    return out


def spread_cell(numbers: dict | None) -> str:
    if not numbers:
        return "—"
    return ", ".join(f"{'' if key == 'value' else key.replace('_', ' ') + ' '}{100 * mean:.1f} ({100 * low:.1f}–{100 * high:.1f})"
                     for key, (mean, low, high) in numbers.items())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipes", nargs="*", default=DEFAULT)
    parser.add_argument("--store", help="store root to reuse (default: a new temp folder)")
    parser.add_argument("--test", action="store_true", help="also measure the field set's test half")
    parser.add_argument("--seeds", type=int, default=1, help="Stills per Recipe, from the same Mash (still.seed)")
    args = parser.parse_args()
    os.environ.setdefault("DISTILL_PROGRESS", "off")
    root = Path(args.store or tempfile.mkdtemp(prefix="distill-field-"))
    groups = [[measure(path, root, args.test, k) for k in range(args.seeds)] for path in args.recipes]
    rows = [r for group in groups for r in group]
    print(f"| recipe | metric | field dev (n) | {'field test (n) | ' if args.test else ''}heads (n) | build |")
    print(f"|---|---|---|{'---|' if args.test else ''}---|---|")
    for r in rows:
        extra = EXTRA.get(r["task"], [])
        test = f"{cell(r.get('test'), extra)} | " if args.test else ""
        print(f"| {r['recipe']} | {r['heads']['metric']} | {cell(r['field'], extra)} | {test}"
              f"{cell(r['heads'], extra)} | {r['build_s'] / 60:.1f} min |")
    for group in groups if args.seeds > 1 else []:
        numbers = spread(group, EXTRA.get(group[0]["task"], []))
        test = f"{spread_cell(numbers.get('test'))} | " if args.test else ""
        print(f"| {group[0]['recipe']}: mean (range) of {len(group)} Stills | {group[0]['heads']['metric']} | "
              f"{spread_cell(numbers.get('field'))} | {test}{spread_cell(numbers.get('heads'))} | |")
    print(json.dumps({r["recipe"]: {k: r.get(k) for k in ("field", "test", "heads")} for r in rows}), file=sys.stderr)


if __name__ == "__main__":
    from distill.errors import exit_reporting

    exit_reporting(main, __file__)
