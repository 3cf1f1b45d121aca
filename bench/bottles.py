"""Every bottle of a Recipe, measured on its heads: size, proof, agreement with the .pt, pour speed.

    doit bottle:needle-pt bottle:needle-onnx bottle:needle-gguf     # or any built Recipe
    DISTILL_THREADS=1 python bench/bottles.py recipes/needle.yaml   # store: $DISTILL_STORE or .distill
    python bench/bottles.py recipes/x.yaml --limit 50 --store .distill

Uses the bottles already in the cellar ($DISTILL_CELLAR or cellar/) and the heads and the trained
model's predictions from the store; builds nothing. Extra rows: the .onnx decoder without its
KV cache (the whole sequence re-run per token, as bottles made before the cache did), and each
.gguf through both runtimes when llama-cpp-python is installed.
"""
import argparse
import importlib.util
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def measure(spirit, heads, trained, task) -> dict:
    from distill.tasting import pour_timed, speed

    preds, seconds, tokens = pour_timed(spirit, heads)
    proof = spirit.task.proof([ex["target"] for ex in heads], preds, task)["value"]
    timing = speed(seconds, tokens)
    return {"proof": proof, "same": sum(p == t for p, t in zip(preds, trained)),
            "ms": timing["pour_ms_median"], "tps": timing["tokens_per_second"]}


def runs(path: Path, fmt: str):
    """(label, loaded Spirit) for each way this bottle can be poured."""
    from distill.spirit import OnnxRunner, load_spirit

    if fmt == "gguf":
        runtimes = ["torch"] + (["llama.cpp"] if importlib.util.find_spec("llama_cpp") else [])
        for runtime in runtimes:
            spirit = load_spirit(path, runtime=runtime)
            yield spirit.runtime, spirit
        return
    spirit = load_spirit(path)
    yield spirit.runtime, spirit
    if fmt == "onnx" and getattr(spirit.runner, "cache_inputs", None):
        uncached = load_spirit(path)
        uncached.runner.generate = lambda *a: OnnxRunner._generate_uncached(uncached.runner, *a)
        yield "onnxruntime, no KV cache", uncached


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe", nargs="?", default="recipes/needle.yaml")
    parser.add_argument("--store", help="store root (default: $DISTILL_STORE or .distill)")
    parser.add_argument("--limit", type=int, help="only the first N heads")
    args = parser.parse_args()
    from distill.bottle import cellar_path
    from distill.keys import bottle_variants
    from distill.spirit import threads
    from distill.stages import Build
    from distill.still import set_threads

    set_threads()  # every runtime on DISTILL_THREADS threads (default: all cores)

    build = Build(args.recipe, args.store)
    store, keys, recipe = build.store, build.keys, build.recipe
    read = lambda p: [json.loads(line) for line in p.read_text().splitlines() if line]  # noqa: E731
    heads = read(store.get("cuts", keys.cuts) / "heads.jsonl")[: args.limit]
    trained = read(store.get("notes", keys.notes) / "predictions.jsonl")[: args.limit]
    pt_path = cellar_path(recipe, "pt")
    pt_bytes = pt_path.stat().st_size if pt_path.exists() else None
    print(f"{recipe.name}: {len(heads)} heads, {threads()} thread(s); 'same' = identical prediction to the "
          f"trained model (= the .pt); pour and tokens/s are medians per example\n")
    print("| bottle | weights | size | vs .pt size | runtime | proof | same as .pt | pour / example | tokens/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for variant, (fmt, gguf_type) in bottle_variants(recipe).items():
        path = cellar_path(recipe, variant)
        if not path.exists():
            print(f"| `{path.name}` | {gguf_type or 'f32'} | — | — | — | not bottled | — | — | — |")
            continue
        size = path.stat().st_size
        ratio = f"{size / pt_bytes:.2f}×" if pt_bytes else "—"
        for label, spirit in runs(path, fmt):
            m = measure(spirit, heads, trained, recipe["task"])
            tps = f"{m['tps']:.0f}" if m["tps"] else "—"
            print(f"| `{path.name}` | {gguf_type or 'f32'} | {size / 1e6:.2f} MB | {ratio} | {label} | "
                  f"{100 * m['proof']:.1f}° | {m['same']}/{len(heads)} | {m['ms']:.1f} ms | {tps} |")


if __name__ == "__main__":
    main()
