"""One row per Recipe: build each from scratch in a fresh store and measure it.

    python bench/recipes.py                          # needle, intent, pii, sql
    python bench/recipes.py recipes/intent.yaml      # just one

Columns: examples in the Mash, student parameters, build time (all stages, both bottles),
headline proof, the .onnx bottle's size and pour latency per example (median over heads).
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repository, not bench/ (its concurrent.py would shadow the standard library)
DEFAULT = ["recipes/needle.yaml", "recipes/intent.yaml", "recipes/pii.yaml", "recipes/sql.yaml"]


def measure(recipe_path, root: Path) -> dict:
    from distill.build import Build
    from distill.spirit import load_spirit

    build = Build.from_path(recipe_path, root / "store")
    started = time.perf_counter()
    for stage in ("mash", "cuts", "still", "notes"):
        build.run(stage)
    paths = {fmt: build.run("bottle", fmt) for fmt in build.recipe["bottle"]["formats"]}
    seconds = time.perf_counter() - started
    store, keys = build.store, build.keys
    notes = json.loads((store.get("notes", keys.notes) / "notes.json").read_text())
    heads = [json.loads(line) for line in (store.get("cuts", keys.cuts) / "heads.jsonl").read_text().splitlines()][:60]
    spirit = load_spirit(paths["onnx"])
    latencies = []
    for ex in heads:
        t = time.perf_counter()
        spirit.predict_example(ex)
        latencies.append(time.perf_counter() - t)
    extra = {k: v for k, v in notes["proof"].items() if isinstance(v, float) and k != "value"}
    return {"recipe": build.recipe.name, "task": build.recipe["task"]["type"],
            "examples": sum(store.manifest("mash", k)["stats"]["accepted"] for k in keys.shards.values()),
            "parameters": notes["training"]["parameters"], "build_s": seconds,
            "proof": f"{notes['proof']['degrees']} {notes['proof']['metric']}",
            "also": ", ".join(f"{k.replace('_', ' ')} {v:.1%}" for k, v in extra.items()),
            "onnx_mb": paths["onnx"].stat().st_size / 1e6, "pour_ms": 1000 * statistics.median(latencies)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("recipes", nargs="*", default=DEFAULT)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="distill-bench-"))
    os.environ["DISTILL_CELLAR"] = str(root / "cellar")
    rows = [measure(path, root) for path in args.recipes]
    print("| recipe | task | examples | parameters | build | proof | also | .onnx | pour (median) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['recipe']} | {r['task']} | {r['examples']} | {r['parameters'] / 1e6:.1f}M | {r['build_s'] / 60:.1f} min "
              f"| {r['proof']} | {r['also']} | {r['onnx_mb']:.1f} MB | {r['pour_ms']:.0f} ms |")


if __name__ == "__main__":
    from distill.errors import exit_reporting

    exit_reporting(main, __file__)
