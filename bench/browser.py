"""The browser bottle in a real browser: does the page answer every head exactly like `distill
pour`, how big is it, and how fast is it in headless Chromium?

    doit bottle:intent-wasm && python bench/browser.py recipes/intent.yaml [recipes/pii.yaml ...]
    python bench/browser.py --int8 recipes/intent.yaml   # also: the same page with int8 weights


For each Recipe: its `.wasm.html` from the cellar is opened once in headless Chromium (DevTools
protocol, distill/headless.py) and poured on every head (after one warm-up pour); `distill pour`'s
answers come from the same file through Python (load_spirit). Prints one row per Recipe with the
cellar's other bottles (size and median pour from their tasting in bottles.json) beside it.
With --int8, a copy of each page whose graph has int8 weights (onnxruntime's dynamic quantisation,
MatMulInteger) is measured too: its size, speed and how many heads it answers like the f32 page.
"""
import json
import statistics
import sys
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repository, not bench/


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def python_answers(spirit, heads) -> tuple[list, list[float]]:
    answers, ms = [], []
    for example in heads:
        started = time.perf_counter()
        answers.append(spirit.predict_example(example))
        ms.append(1000 * (time.perf_counter() - started))
    return answers, ms


def int8_page(path: Path, out: Path) -> Path:
    """The same page with its graph's weights quantised to int8 (a bench-only variant)."""
    import logging
    import tempfile

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # "consider pre-processing" advice on every call
    from distill.formats import wasm
    from distill.formats.seal import seal

    meta, graph = wasm.read(path)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "f32.onnx").write_bytes(graph.SerializeToString())
        quantize_dynamic(Path(tmp) / "f32.onnx", Path(tmp) / "int8.onnx", weight_type=QuantType.QInt8)
        quantised = (Path(tmp) / "int8.onnx").read_bytes()
    runtimes = wasm.runtime_files(json.loads(meta["recipe"])["task"]["type"])
    out.write_text(wasm.page(meta, quantised, runtimes), encoding="utf-8")
    seal(out, wasm.SEAL_PREFIX)
    return out


def measure_int8(row: dict, path: Path, items, browser) -> dict:
    import tempfile

    from distill.headless import pour_page

    with tempfile.TemporaryDirectory() as tmp:
        quantised = int8_page(path, Path(tmp) / path.name)
        answers = pour_page(browser, quantised, items)
        size = quantised.stat().st_size
    same = sum(json.dumps(a["answer"], sort_keys=True) == json.dumps(b, sort_keys=True, default=str)
               for a, b in zip(answers, row["poured"]))
    return {"bytes": size, "browser_ms": statistics.median(a["ms"] for a in answers), "same": same}


def measure(recipe_path: str, browser, limit: int | None, int8: bool = False) -> dict:
    from distill.build import Build
    from distill.headless import pour_page
    from distill.spirit import load_spirit
    from distill.stages.bottle import cellar_path

    build = Build.from_path(recipe_path)
    path = cellar_path(build.recipe, "wasm")
    if not path.exists():
        return {"recipe": build.recipe.name, "missing": f"{path} not bottled (doit bottle:{build.recipe.name}-wasm)"}
    spirit = load_spirit(path)
    heads = build.load("cuts", "heads")[:limit]
    poured, python_ms = python_answers(spirit, heads)
    items = [(spirit.task.input_text(ex), spirit.task.example_context(ex)) for ex in heads]
    items = json.loads(json.dumps(items, default=str))  # dates as YYYY-MM-DD, as the page reads them
    in_browser = pour_page(browser, path, items)
    same = sum(json.dumps(b["answer"], sort_keys=True) == json.dumps(p, sort_keys=True, default=str)
               for b, p in zip(in_browser, poured))
    others = json.loads((path.parent / "bottles.json").read_text())["bottles"] if (path.parent / "bottles.json").exists() else []
    row = {"recipe": build.recipe.name, "heads": len(heads), "same": same, "bytes": path.stat().st_size,
           "browser_ms": statistics.median(b["ms"] for b in in_browser), "python_ms": statistics.median(python_ms),
           "others": {row["file"]: (row["bytes"], row.get("pour_ms_median")) for row in others if row["format"] != "wasm"},
           "poured": poured}
    if int8:
        row["int8"] = measure_int8(row, path, items, browser)
    return row


def main():
    from distill.headless import Browser

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    int8 = "--int8" in sys.argv
    limit = next((int(a.split("=", 1)[1]) for a in sys.argv[1:] if a.startswith("--limit=")), None)
    print("| recipe | heads | browser = `distill pour` | `.wasm.html` | pour in Chromium (median) | "
          "same file in Python onnxruntime (median) | other bottles (size, median pour) |\n|---|---|---|---|---|---|---|")
    with Browser(timeout=600) as browser:
        for recipe in args or ["recipes/intent.yaml"]:
            row = measure(recipe, browser, limit, int8)
            if "missing" in row:
                print(f"| {row['recipe']} | — | {row['missing']} | | | | |")
                continue
            others = "; ".join(f"`{name}` {_mb(size)}, {ms:.1f} ms" if ms else f"`{name}` {_mb(size)}"
                               for name, (size, ms) in sorted(row["others"].items()))
            print(f"| {row['recipe']} | {row['heads']} | {row['same']}/{row['heads']} | {_mb(row['bytes'])} | "
                  f"{row['browser_ms']:.1f} ms | {row['python_ms']:.1f} ms | {others or '—'} |", flush=True)
            if "int8" in row:
                q = row["int8"]
                print(f"| {row['recipe']} int8 weights (bench only) | {row['heads']} | {q['same']}/{row['heads']} same as f32 "
                      f"| {_mb(q['bytes'])} | {q['browser_ms']:.1f} ms | | |", flush=True)
        if browser.errors:
            print(f"\nconsole errors in the page: {browser.errors[:5]}")


if __name__ == "__main__":
    from distill.errors import exit_reporting

    exit_reporting(main, __file__)
