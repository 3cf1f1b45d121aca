"""Bottling: the trained student exported as one self-contained Spirit file per format.

Every bottle embeds weights, tokenizer, the normalised Recipe, its hash and the proof:
- .pt   a plain dict of tensors and strings, loadable with torch.load(weights_only=True)
- .onnx metadata_props carry the same strings; a decoder graph carries its KV cache (onnx_bottle.py)
- .gguf distill.* keys carry them; a decoder is a llama.cpp Llama, one file per type (gguf_bottle.py)

Each bottle is poured on the heads right after it is written; the measurements (proof, agreement
with the trained model, latency) go into its manifest and from there into the cellar's
bottles.json and the "## Bottles" section of the cellar copy of notes.md (tasting.py).
"""
import json
import os
import shutil
import tempfile
from pathlib import Path

from .cellar import cellar_root, update_index
from .hashing import digest, sha256_file
from .keys import bottle_section, bottle_variants, variants_of
from .notes import load_notes
from .progress import say
from .spirit import SPIRIT_FORMAT, SPIRIT_VERSION
from .still import load_still

FORMATS = ("pt", "onnx", "gguf")


def bottle_filename(recipe, variant: str) -> str:
    """<name>.pt, <name>.onnx, <name>.gguf for the first GGUF type, <name>.<type>.gguf for the others."""
    fmt, gguf_type = bottle_variants(recipe).get(variant, (variant, None))
    if fmt == "gguf" and variant != "gguf":
        return f"{recipe.name}.{gguf_type}.gguf"
    return f"{recipe.name}.{fmt}"


def cellar_path(recipe, variant: str) -> Path:
    return cellar_root() / recipe.name / bottle_filename(recipe, variant)


def weights_digest(state_dict) -> str:
    """Digest of the weights alone, independent of container format."""
    parts = []
    for name in sorted(state_dict):
        tensor = state_dict[name].detach().contiguous().cpu()
        parts.append(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}:{digest(tensor.numpy().tobytes())}")
    return digest("\n".join(parts).encode())


def spirit_metadata(recipe, model, tokenizer, notes) -> dict:
    """The strings every bottle carries, whatever its format."""
    from .student import parameter_count

    tokenizer_json = tokenizer.to_str()
    return {
        "format": SPIRIT_FORMAT,
        "version": str(SPIRIT_VERSION),
        "name": recipe.name,
        "task_type": recipe["task"]["type"],
        "recipe": json.dumps(recipe.data, sort_keys=True, ensure_ascii=False),
        "recipe_hash": recipe.hash,
        "config": model.config.to_json_string(),
        "tokenizer": tokenizer_json,
        "proof": json.dumps(notes["proof"], sort_keys=True),
        "digests": json.dumps({"weights": weights_digest(model.state_dict()), "tokenizer": digest(tokenizer_json.encode())}),
        "parameters": str(parameter_count(model)),
    }


def onnx_weights_digest(model_proto) -> str:
    """Digest of an ONNX graph's initializers: the weights as that runtime will read them."""
    from onnx import numpy_helper

    parts = [f"{init.name}:{digest(numpy_helper.to_array(init).tobytes())}"
             for init in sorted(model_proto.graph.initializer, key=lambda i: i.name)]
    return digest("\n".join(parts).encode())


def write_pt(path, model, meta):
    import torch

    torch.save({**meta, "state_dict": model.state_dict()}, path)


def write_bottle(path: Path, fmt: str, gguf_type, recipe, model, tokenizer, meta: dict):
    if fmt == "pt":
        write_pt(path, model, meta)
    elif fmt == "onnx":
        from .onnx_bottle import write_onnx

        write_onnx(path, model, meta, recipe["bottle"]["onnx_opset"], onnx_weights_digest)
    else:
        from .gguf_bottle import write_gguf

        write_gguf(path, model, tokenizer, meta, gguf_type)


def publish(src: Path, dest: Path):
    """Copy into the cellar atomically: readers never see half a Spirit."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_atomically(dest: Path, text: str):
    """Readers see the old file or the new one, never half; two writers never share a temp file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, dest)


def publish_notes(recipe, keys, store):
    """The Tasting Notes into the cellar, the cellar's notes.md with the bottle table appended
    (the store's notes artifact stays as the notes stage wrote it)."""
    from .tasting import bottle_rows, render_bottles

    folder = store.get("notes", keys.notes)
    dest = cellar_root() / recipe.name
    for path in sorted(folder.iterdir()):  # notes.json, loss.png, task pictures
        if path.suffix == ".png" or path.name == "notes.json":
            publish(path, dest / path.name)
    rows = bottle_rows(recipe, keys, store, load_notes(keys, store))
    _write_atomically(dest / "notes.md", (folder / "notes.md").read_text() + render_bottles(rows))
    _write_atomically(dest / "bottles.json", json.dumps({"recipe_hash": recipe.hash, "bottles": rows}, indent=2) + "\n")
    _write_atomically(dest / "recipe.json", json.dumps(recipe.data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def bottled_file(store, key) -> Path | None:
    manifest = store.manifest("bottle", key)
    if not manifest:
        return None
    return store.path("bottle", key) / manifest["spirit"]


def _variant_in_cellar(recipe, keys, store, variant) -> bool:
    src = bottled_file(store, keys.bottles[variant])
    dest = cellar_path(recipe, variant)
    if src is None or not dest.exists() or not src.exists():
        return False
    manifest = store.manifest("bottle", keys.bottles[variant])
    return dest.stat().st_size == src.stat().st_size and manifest.get("sha256") == sha256_file(dest)


def in_cellar(recipe, keys, store, fmt) -> bool:
    """Every bottle of this format exists in the store and its cellar copy is that exact file."""
    variants = variants_of(recipe, fmt)
    return bool(variants) and all(_variant_in_cellar(recipe, keys, store, v) for v in variants)


def _bottle_variant(recipe, keys, store, variant: str) -> Path:
    """Write one bottle into the store (if it is not there), taste it on the heads, publish it."""
    from .tasting import taste

    key = keys.bottles[variant]
    fmt, gguf_type = bottle_variants(recipe)[variant]
    if not store.has("bottle", key):
        model, tokenizer, _ = load_still(keys, store)
        meta = spirit_metadata(recipe, model, tokenizer, load_notes(keys, store))
        filename = bottle_filename(recipe, variant)
        with store.build("bottle", key, section=bottle_section(recipe, variant),
                         upstream={"still": keys.still, "notes": keys.notes}) as out:
            write_bottle(out / filename, fmt, gguf_type, recipe, model, tokenizer, meta)
            out.extra.update({"spirit": filename, "format": fmt, "type": gguf_type, "variant": variant,
                              "sha256": sha256_file(out / filename), "bytes": (out / filename).stat().st_size,
                              "tasting": taste(out / filename, recipe, keys, store)})
    dest = cellar_path(recipe, variant)
    publish(bottled_file(store, key), dest)
    update_index(recipe, load_notes(keys, store), dest, variant)
    say(f"bottle {recipe.name}-{variant}: {dest} ({dest.stat().st_size / 1e6:.2f} MB)")
    return dest


def build_bottle(recipe, keys, store, fmt: str) -> Path:
    """Every bottle of one format (each GGUF type for "gguf"); returns the first one's cellar path."""
    paths = [_bottle_variant(recipe, keys, store, variant) for variant in variants_of(recipe, fmt)]
    publish_notes(recipe, keys, store)
    return paths[0]
