"""Do the bottled Spirits answer exactly like the trained model did when the notes were made?

    doit bottle:needle-pt bottle:needle-onnx && python bench/agreement.py recipes/needle.yaml

Compares every head's prediction from each bottle in the cellar with notes' predictions.jsonl
(store from $DISTILL_STORE or .distill) and prints agreement and pour time per format.
"""
import statistics
import sys
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repository, not bench/ (its concurrent.py would shadow the standard library)


def main():
    from distill.build import Build
    from distill.spirit import load_spirit
    from distill.stages.bottle import cellar_path

    build = Build.from_path(sys.argv[1] if len(sys.argv) > 1 else "recipes/needle.yaml")
    heads, trained = build.load("cuts", "heads"), build.load("notes", "predictions")
    print("| bottle | heads | identical to the trained model | pour per example (median) |\n|---|---|---|---|")
    for fmt in build.recipe["bottle"]["formats"]:
        path = cellar_path(build.recipe, fmt)
        if not path.exists():
            print(f"| .{fmt} | — | not bottled | — |")
            continue
        spirit = load_spirit(path)
        same, times = 0, []
        for ex, expected in zip(heads, trained):
            started = time.perf_counter()
            same += spirit.predict_example(ex) == expected
            times.append(time.perf_counter() - started)
        print(f"| .{fmt} | {len(heads)} | {same}/{len(heads)} | {1000 * statistics.median(times):.0f} ms |")


if __name__ == "__main__":
    from distill.errors import exit_reporting

    exit_reporting(main, __file__)
