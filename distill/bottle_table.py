"""The Bottles table: each bottle poured on the heads right after bottling, and what its format cost.

The trained model's own predictions (notes' predictions.jsonl) are what the .pt gives, so every
bottle is compared with them: proof on the heads, the change in proof points, how many heads
got a different answer, and how fast it pours. The rows live in each bottle's store manifest
(immutable, like the bottle) and are gathered into the cellar's bottles.json and notes.md.
"""
import statistics
import time

from .tasks import task_type
from .tasks.common import degrees


def pour_timed(spirit, examples) -> tuple[list, list[float], list[int]]:
    """(predictions, seconds per example, tokens generated per example) for one Spirit."""
    runner, counted = spirit.runner, [0]
    generate = getattr(runner, "generate", None)
    if generate is not None:
        def counting(*args, **kwargs):
            out = generate(*args, **kwargs)
            counted[0] += len(out)
            return out
        runner.generate = counting  # instance attribute: shadows the method until deleted below
    try:
        preds, seconds, tokens = [], [], []
        for example in examples:
            started, before = time.perf_counter(), counted[0]
            preds.append(spirit.predict_example(example))
            seconds.append(time.perf_counter() - started)
            tokens.append(counted[0] - before)
    finally:
        if generate is not None:
            del runner.generate
    return preds, seconds, tokens


def speed(seconds: list[float], tokens: list[int]) -> dict:
    """Medians, not means: on a shared machine one stalled example must not set the number."""
    rates = [n / s for n, s in zip(tokens, seconds) if n and s]
    return {"pour_ms_median": round(1000 * statistics.median(seconds), 2) if seconds else None,
            "tokens_per_second": round(statistics.median(rates), 1) if rates else None}


def taste(path, build) -> dict:
    """Load one bottle from its file and measure it on every head."""
    import torch

    from .runtimes import threads
    from .spirit import load_spirit

    torch.set_num_threads(threads())  # torch, like onnxruntime and llama.cpp, on DISTILL_THREADS threads
    recipe = build.recipe
    spirit = load_spirit(path)
    heads, trained = build.load("cuts", "heads"), build.load("notes", "predictions")
    preds, seconds, tokens = pour_timed(spirit, heads)
    proof = task_type(recipe["task"]["type"]).proof([ex["target"] for ex in heads], preds, recipe["task"])
    return {"runtime": spirit.runtime, "heads": len(heads), "proof": proof["value"],
            "metrics": {k: v for k, v in proof.items() if isinstance(v, float) and k != "value"},
            "same_as_trained": sum(p == t for p, t in zip(preds, trained)), **speed(seconds, tokens),
            "threads": threads()}


def bottle_rows(build, notes: dict) -> list[dict]:
    """One row per bottle of this Recipe present in the store, in the Recipe's order."""
    rows = []
    for variant, key in build.keys.bottles.items():
        manifest = build.store.manifest("bottle", key)
        if not manifest or "tasting" not in manifest:
            continue
        tasting = manifest["tasting"]
        rows.append({"bottle": variant, "file": manifest["spirit"], "format": manifest["format"],
                     "type": manifest.get("type") or "f32", "bytes": manifest["bytes"], **tasting,
                     "delta_points": round(100 * (tasting["proof"] - notes["proof"]["value"]), 2),
                     "metric_deltas": {k: round(100 * (v - notes["proof"][k]), 2)
                                       for k, v in tasting.get("metrics", {}).items() if k in notes["proof"]}})
    return rows


def _size(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def render_bottles(rows: list[dict]) -> str:
    """The "## Bottles" section of the cellar's notes.md."""
    if not rows:
        return ""
    lines = ["", "## Bottles", "",
             "Each bottle poured on every head right after bottling, compared with the trained model (= the .pt).", "",
             "| bottle | weights | size | proof on heads | vs .pt | same answer as .pt | pour / example | tokens/s | runtime |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        tps = f"{r['tokens_per_second']:.0f}" if r.get("tokens_per_second") else "—"
        lines.append(f"| `{r['file']}` | {r['type']} | {_size(r['bytes'])} | {degrees(r['proof'])} | "
                     f"{r['delta_points']:+.1f} pts | {r['same_as_trained']}/{r['heads']} | "
                     f"{r['pour_ms_median']:.1f} ms | {tps} | {r['runtime']} ({r['threads']} thr) |")
    lines += ["", *_costs(rows)]
    return "\n".join(lines) + "\n"


def _costs(rows: list[dict]) -> list[str]:
    """One plain sentence per bottle: what it saves and what it costs."""
    pt = next((r for r in rows if r["format"] == "pt"), None)
    out = []
    for r in rows:
        size = f"{r['bytes'] / pt['bytes']:.2f}× the size of the .pt" if pt else _size(r["bytes"])
        changed = r["heads"] - r["same_as_trained"]
        others = "".join(f", {name.replace('_', ' ')} {delta:+.1f}" for name, delta in r.get("metric_deltas", {}).items())
        cost = "no change in any answer" if not changed else \
            f"{changed} of {r['heads']} heads answered differently: proof {r['delta_points']:+.1f} points{others}"
        out.append(f"- `{r['file']}` ({r['type']}): {size}; {cost}.")
    return out
