"""How a tool-calling Spirit answers requests it must refuse: bench/probes/<recipe>.jsonl holds 60
requests no tool of the catalog serves and 60 that one tool serves, written from the catalog card
alone. Builds what the store lacks (through the Still), then prints per Still the share of the 60
answered "no call" and the share of the 60 given the right tool.

    python bench/no_call_probe.py recipes/needle.yaml --store /tmp/s            # the Recipe's Still
    python bench/no_call_probe.py recipes/concierge.yaml --store /tmp/s --seeds 3
    python bench/no_call_probe.py recipes/needle.yaml --store /tmp/s --misses   # and what it got wrong
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repository, not bench/ (its concurrent.py would shadow the standard library)
sys.path.append(str(Path(__file__).resolve().parent))
from field import with_still_seed  # noqa: E402

PROBES = Path(__file__).resolve().parent / "probes"
TODAY = "2026-11-30"  # the field sets' "today"; no probe line depends on it


def read_probe(recipe_name: str) -> list[dict]:
    path = PROBES / f"{recipe_name}.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip() and not line.startswith("#")]


def answers(recipe_path: str, store_root: Path, offset: int, rows: list[dict]) -> list:
    """The tool name (or None) the Still of this seed offset gives each probe line."""
    from distill.build import Build
    from distill.recipe import load_recipe
    from distill.spirit import spirit_from_model
    from distill.store import Store

    build = Build(with_still_seed(load_recipe(recipe_path), offset), Store(store_root))
    for stage in ("mash", "cuts", "still"):
        build.run(stage)
    model, tokenizer, _ = build.load("still")
    spirit = spirit_from_model(model, tokenizer, build.recipe.data, build.recipe.hash)
    return [spirit.predict_example({"input": {"text": row["text"]}, "today": TODAY})["name"] for row in rows]


def score(rows: list[dict], names: list) -> dict:
    refusals = [name is None for row, name in zip(rows, names) if row["name"] is None]
    calls = [name == row["name"] for row, name in zip(rows, names) if row["name"] is not None]
    return {"no_call": sum(refusals) / len(refusals), "n_no_call": len(refusals),
            "tool": sum(calls) / len(calls), "n_calls": len(calls)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe")
    parser.add_argument("--store", help="store root to reuse (default: a new temp folder)")
    parser.add_argument("--seeds", type=int, default=1, help="Stills from the same Mash (still.seed)")
    parser.add_argument("--misses", action="store_true", help="print the lines each Still got wrong")
    args = parser.parse_args()
    root = Path(args.store or tempfile.mkdtemp(prefix="distill-probe-"))
    rows = read_probe(Path(args.recipe).stem)
    print("| Still | no call (n) | right tool (n) |\n|---|---|---|")
    for offset in range(args.seeds):
        names = answers(args.recipe, root, offset, rows)
        s = score(rows, names)
        print(f"| {Path(args.recipe).stem} +{offset} | {s['no_call']:.1%} ({s['n_no_call']}) | {s['tool']:.1%} ({s['n_calls']}) |",
              flush=True)
        if args.misses:
            for row, name in zip(rows, names):
                if name != row["name"]:
                    print(f"    {row['text']!r}: {row['name']} -> {name}")


if __name__ == "__main__":
    main()
