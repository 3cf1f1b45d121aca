"""Every bottle of a Recipe, measured on its heads: size, proof, agreement with the .pt, pour speed.

    doit bottle:needle-pt bottle:needle-onnx bottle:needle-gguf     # or any built Recipe
    DISTILL_THREADS=1 python bench/bottles.py recipes/needle.yaml   # store: $DISTILL_STORE or .distill
    python bench/bottles.py recipes/x.yaml --limit 50 --store .distill
    python bench/bottles.py recipes/needle.yaml --extra-gguf f32,f16   # also types the Recipe does not bottle

Uses the bottles already in the cellar ($DISTILL_CELLAR or cellar/) and the heads and the trained
model's predictions from the store; builds nothing. Extra rows: the .onnx decoder without its
KV cache (the whole sequence re-run per token, as bottles made before the cache did), and each
.gguf through both runtimes when llama-cpp-python is installed.

    python bench/bottles.py recipes/needle.yaml --synthetic

measures decoding speed only, on an untrained student of the Recipe's size (no store, no
training): torch eager vs onnxruntime with and without the KV cache (and llama.cpp at f32,
q8_0 and q4_0 when installed), 80 prompt + 40 new tokens.
"""
import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repository, not bench/ (its concurrent.py would shadow the standard library)


def measure(spirit, heads, trained, task) -> dict:
    from distill.bottle_table import pour_timed, speed

    preds, seconds, tokens = pour_timed(spirit, heads)
    proof = spirit.task.proof([ex["target"] for ex in heads], preds, task)["value"]
    timing = speed(seconds, tokens)
    return {"proof": proof, "same": sum(p == t for p, t in zip(preds, trained)),
            "ms": timing["pour_ms_median"], "tps": timing["tokens_per_second"]}


def runs(path: Path, fmt: str):
    """(label, loaded Spirit) for each way this bottle can be poured."""
    from distill.runtimes.onnxruntime import OnnxRunner
    from distill.spirit import load_spirit

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


def synthetic(recipe, prompt_len=80, new_tokens=40, repeats=5):
    """Tokens/s of each decoder runtime on random weights of the Recipe's student size."""

    import onnxruntime

    from distill.formats.onnx import export_decoder
    from distill.runtimes import threads
    from distill.runtimes.onnxruntime import OnnxRunner
    from distill.runtimes.torch import TorchRunner
    from distill.student import build_model, model_config, train_tokenizer

    student = {**recipe["student"], "arch": "llama"}
    tokenizer = train_tokenizer([f"text {i} for a tokenizer of the right size" for i in range(200)], student["vocab_size"])
    model = build_model(model_config(student, tokenizer), seed=0).eval()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.onnx"
        path.write_bytes(export_decoder(model, recipe["bottle"]["onnx_opset"]).SerializeToString())
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads()
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        onnx = OnnxRunner(session)
        runners = {"torch eager (HF, DynamicCache)": TorchRunner(model).generate, "onnxruntime, KV cache": onnx.generate,
                   "onnxruntime, no KV cache": onnx._generate_uncached}
        if importlib.util.find_spec("llama_cpp"):
            runners.update(_llama_cpp_runners(model, tokenizer, Path(folder)))
        _print_speeds(runners, model, recipe, prompt_len, new_tokens, repeats)


def _llama_cpp_runners(model, tokenizer, folder: Path) -> dict:
    from distill.formats import gguf
    from distill.runtimes.llamacpp import LlamaCppRunner

    meta = {"name": "synthetic", "task_type": "tool_call", "recipe_hash": "0" * 32, "digests": "{}"}
    runners = {}
    for gguf_type in ("f32", "q8_0", "q4_0"):
        gguf.write(folder / f"s.{gguf_type}.gguf", model, tokenizer, meta, {"type": gguf_type})
        runner = LlamaCppRunner(folder / f"s.{gguf_type}.gguf", model.config.max_position_embeddings,
                                f32_cache=gguf_type == "f32")
        runners[f"llama.cpp, {gguf_type}"] = runner.generate
    return runners


def _print_speeds(runners, model, recipe, prompt_len, new_tokens, repeats):
    import time

    from distill.runtimes import threads
    from distill.student import parameter_count

    prompt = [1] + [5 + i % 50 for i in range(prompt_len - 1)]
    never_eos = lambda logits, out: int(logits.argmax()) if int(logits.argmax()) != 2 else 3  # noqa: E731
    print(f"untrained {parameter_count(model):,}-parameter student of {recipe.name}, {threads()} thread(s): "
          f"{prompt_len}-token prompt, {new_tokens} new tokens, best of {repeats}\n")
    print("| runtime | ms per pour | tokens/s |\n|---|---|---|")
    for label, generate in runners.items():
        best = min(_timed(generate, prompt, new_tokens, never_eos, time) for _ in range(repeats))
        print(f"| {label} | {1000 * best:.1f} | {new_tokens / best:.0f} |")


def _timed(generate, prompt, new_tokens, pick, time):
    started = time.perf_counter()
    generate(prompt, new_tokens, 2, pick)
    return time.perf_counter() - started


def extra_gguf(build, types, folder: Path):
    """(type, path) of GGUF files the Recipe does not ask for, written from the trained student into
    a scratch folder exactly as bottling would write them (nothing enters the store or cellar)."""
    from distill.formats import gguf, spirit_metadata

    if not types:  # the common case: no student to load
        return
    model, tokenizer, history = build.load("still")
    meta = spirit_metadata(build.recipe, model, tokenizer, build.load("notes"), history.get("environment"))
    for gguf_type in types:
        path = folder / f"{build.recipe.name}.{gguf_type}.gguf"
        gguf.write(path, model, tokenizer, meta, {"type": gguf_type})
        yield gguf_type, path


def table(recipe_path, store_root, limit, extra_types=()):
    """The measured table of every bottle of one built Recipe."""
    from distill.build import Build
    from distill.keys import bottle_variants
    from distill.runtimes import threads
    from distill.stages.bottle import cellar_path

    build = Build.from_path(recipe_path, store_root)
    recipe = build.recipe
    heads = build.load("cuts", "heads")[:limit]
    trained = build.load("notes", "predictions")[:limit]
    pt_path = cellar_path(recipe, "pt")
    pt_bytes = pt_path.stat().st_size if pt_path.exists() else None
    print(f"{recipe.name}: {len(heads)} heads, {threads()} thread(s); 'same' = identical prediction to the "
          f"trained model (= the .pt); pour and tokens/s are medians per example\n")
    print("| bottle | weights | size | vs .pt size | runtime | proof | same as .pt | pour / example | tokens/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    bottled = [(cellar_path(recipe, variant), fmt, gguf_type)
               for variant, (fmt, gguf_type) in bottle_variants(recipe).items()]
    with tempfile.TemporaryDirectory() as scratch:
        extra = [(path, "gguf", t) for t, path in extra_gguf(build, extra_types, Path(scratch))]
        for path, fmt, gguf_type in bottled + extra:
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe", nargs="?", default="recipes/needle.yaml")
    parser.add_argument("--store", help="store root (default: $DISTILL_STORE or .distill)")
    parser.add_argument("--limit", type=int, help="only the first N heads")
    parser.add_argument("--synthetic", action="store_true", help="decoding speed of an untrained student only")
    parser.add_argument("--extra-gguf", default="", help="GGUF types to measure beyond the Recipe's, e.g. f32,f16")
    args = parser.parse_args()
    import torch

    from distill.recipe import load_recipe
    from distill.runtimes import threads

    torch.set_num_threads(threads())  # every runtime on DISTILL_THREADS threads (default: all cores)
    if args.synthetic:
        synthetic(load_recipe(args.recipe))
    else:
        table(args.recipe, args.store, args.limit, [t for t in args.extra_gguf.split(",") if t])


if __name__ == "__main__":
    from distill.errors import exit_reporting

    exit_reporting(main, __file__)
