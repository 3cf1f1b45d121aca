"""Age a Recipe with one new tool and compare with training the same child from scratch.

    python bench/aging.py                          # recipes/needle.yaml + set_alarm, fresh temp store
    python bench/aging.py --store .distill/store   # reuse a store that has needle built (its Still is not retrained)
    python bench/aging.py recipes/x.yaml --epochs 2 --replay 0.25
    python bench/aging.py --store S --against-parent   # no from-scratch child: compare with the parent's Still

Writes, in a temp folder, a copy of the Recipe (and its field/ folder) and two children: an aged
one (`age: {parent: <recipe>}` plus the set_alarm tool) and the same child as a standalone Recipe
(the aged Recipe's normalised data without `age`). Prints: the teacher requests and shards the
aged Mash cost, the aged Still's wall time against the full Still's (ratio) — or, with
--against-parent, against the parent's recorded Still (wall time, and trained positions, which
do not depend on how busy the machine was) — the new tool's proof,
and the parent's categories before and after aging (forgetting), heads and field set.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repository, not bench/

NEW_TOOL = {
    "name": "set_alarm",
    "description": "Set an alarm for a time of day.",
    "parameters": {
        "time": {"type": "time", "required": True, "description": "when the alarm rings"},
        "label": {"type": "string", "description": "what the alarm is for",
                  "examples": ["gym", "work", "flight", "medication", "school run", "meeting"]},
    },
    "phrasings": [
        "set an alarm for {time}[ called {label}]",
        "wake me up at {time}[ for {label}]",
        "alarm at {time}[ for the {label}]",
        "I need an alarm at {time}",
        "set my alarm to {time}[, it's for {label}]",
        "[{label}: ]alarm {time}",
        "can you put an alarm on for {time}",
        "make sure I'm up by {time}",
    ],
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("recipe", nargs="?", default="recipes/needle.yaml")
    parser.add_argument("--store", help="store root (default: a fresh temp folder; a store with the parent built saves its Still)")
    parser.add_argument("--epochs", type=int, default=2, help="age.epochs (default 2)")
    parser.add_argument("--replay", type=float, default=0.25, help="age.replay (default 0.25)")
    parser.add_argument("--against-parent", action="store_true",
                        help="skip training the child from scratch; compare with the parent's recorded Still")
    args = parser.parse_args()
    import yaml

    scratch = Path(tempfile.mkdtemp(prefix="distill-aging-"))
    source = Path(args.recipe)
    folder = scratch / "recipes"
    folder.mkdir()
    shutil.copy(source, folder / source.name)
    if (source.parent / "field").is_dir():
        shutil.copytree(source.parent / "field", folder / "field")
    parent_name = yaml.safe_load(source.read_text()).get("name", source.stem)
    child = f"{parent_name}-alarm"
    (folder / f"{child}.yaml").write_text(yaml.safe_dump(
        {"description": f"{parent_name} aged with set_alarm",
         "age": {"parent": parent_name, "epochs": args.epochs, "replay": args.replay},
         "task": {"tools": [NEW_TOOL]}}, sort_keys=False))
    os.environ.setdefault("DISTILL_CELLAR", str(scratch / "cellar"))
    from distill.build import Build
    from distill.recipe import load_recipe
    from distill.store import Store

    store = Store(args.store or scratch / "store")
    parent = Build(load_recipe(folder / source.name), store)
    aged = Build(load_recipe(folder / f"{child}.yaml"), store)
    full_data = {k: v for k, v in aged.recipe.data.items() if k != "age"}
    full_data["name"] = f"{child}-full"
    (folder / f"{child}-full.yaml").write_text(yaml.safe_dump(full_data, sort_keys=False, allow_unicode=True))
    full = Build(load_recipe(folder / f"{child}-full.yaml"), store)

    timings = {}

    def run(build, stage):
        started = time.perf_counter()
        result = build.run(stage)
        timings[(build.recipe.name, stage)] = time.perf_counter() - started
        return result

    for stage in ("mash", "cuts", "still", "notes"):
        run(parent, stage)
    mash = run(aged, "mash")
    reused = [name for name, key in aged.keys.shards.items() if parent.keys.shards.get(name) == key]
    built = [name for name in aged.keys.shards if name not in reused]
    for stage in ("cuts", "still", "notes"):
        run(aged, stage)
    reference = parent if args.against_parent else full
    if not args.against_parent:
        for stage in ("mash", "cuts", "still", "notes"):
            run(full, stage)

    aged_notes, full_notes = aged.load("notes"), reference.load("notes")
    history, reference_history = aged.load("still")[2], reference.load("still")[2]
    aged_still = history["train_seconds"]
    full_still = reference_history["train_seconds"]
    deltas = {r["set"]: r for r in aged_notes["aging"]["rows"]}
    name = NEW_TOOL["name"]

    def category(notes):
        row = notes["per_category"].get(name)
        return f"{round(100 * row['exact'])}° fully correct on {row['n']} heads" if row else "no heads"

    rows = [("parent", f"{parent.recipe.name} ({parent.recipe.hash})"),
            ("aged Mash", f"{mash['requests']} teacher request(s); shards built: {', '.join(built) or 'none'}; "
                          f"reused: {len(reused)} of {len(aged.keys.shards)}"),
            ("aged slice", f"{history['slice']['new']} new hearts, {history['slice']['replay']} replayed, "
                           f"{args.epochs} epoch(s), {history['train_examples']} examples per epoch"),
            ("Still training time", f"aged {aged_still:.1f} s vs {'parent' if args.against_parent else 'full'} "
                                    f"{full_still:.1f} s (ratio {aged_still / max(full_still, 1e-9):.2f})"),
            ("Still trained positions", f"aged {history['train_positions']:,} vs {reference_history['train_positions']:,} "
                                        f"(ratio {history['train_positions'] / max(reference_history['train_positions'], 1):.2f})"),
            (f"new tool {name} (heads)", f"aged {category(aged_notes)}; full {category(full_notes)}; "
                                          f"tool-name proof aged {deltas.get('new category ' + name, {}).get('after', '?')}")]
    for label in ("parent's categories (forgetting)", "new categories", "field set (real text)"):
        if label in deltas:
            r = deltas[label]
            rows.append((label, f"parent {r['before']} -> aged {r['after']} ({r['delta']:+d}) on {r['n']}"))
    other = "parent" if args.against_parent else "full"
    rows.append(("headline proof", f"parent {parent.load('notes')['proof']['degrees']}, aged "
                                   f"{aged_notes['proof']['degrees']}, {other} {full_notes['proof']['degrees']}"))
    if full_notes.get("field_proof") and aged_notes.get("field_proof"):
        rows.append(("field proof", f"aged {aged_notes['field_proof']['degrees']}, {other} {full_notes['field_proof']['degrees']}"))
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k.ljust(width)}  {v}" for k, v in rows))
    print(json.dumps({"timings": {f"{r}:{s}": round(t, 2) for (r, s), t in timings.items()}}))


if __name__ == "__main__":
    from distill.errors import exit_reporting

    exit_reporting(main, __file__)
