"""Bottling: the trained student exported as one self-contained Spirit file per format.

Every bottle embeds weights, tokenizer, the normalised Recipe, its hash and the proof:
- .pt   a plain dict of tensors and strings, loadable with torch.load(weights_only=True)
- .onnx metadata_props carry the same strings; the graph maps (input_ids, attention_mask) -> logits
"""
import json
import os
import shutil
import tempfile
from pathlib import Path

from .cellar import cellar_root, update_index
from .hashing import digest, sha256_file
from .keys import bottle_section
from .notes import load_notes
from .progress import say
from .spirit import SPIRIT_FORMAT, SPIRIT_VERSION
from .still import load_still

FORMATS = ("pt", "onnx")


def cellar_path(recipe, fmt: str) -> Path:
    return cellar_root() / recipe.name / f"{recipe.name}.{fmt}"


def weights_digest(state_dict) -> str:
    """Digest of the weights alone, independent of container format."""
    parts = []
    for name in sorted(state_dict):
        tensor = state_dict[name].detach().contiguous().cpu()
        parts.append(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}:{digest(tensor.numpy().tobytes())}")
    return digest("\n".join(parts).encode())


def spirit_metadata(recipe, model, tokenizer, notes) -> dict:
    """The strings every bottle carries, whatever its format."""
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


class _LogitsOnly:
    """Wraps the model so the exported graph has two inputs and one output, no cache."""

    def __new__(cls, model):
        import torch

        class Wrapper(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask):
                return self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits

        return Wrapper().eval()


def write_onnx(path, model, meta, opset: int):
    import logging
    import warnings

    import onnx
    import torch

    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # "torchvision is not installed" noise

    example = torch.ones((1, 8), dtype=torch.long)
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq", max=model.config.max_position_embeddings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            _LogitsOnly(model), (example, torch.ones_like(example)), dynamo=True, opset_version=opset,
            input_names=["input_ids", "attention_mask"], output_names=["logits"],
            dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}},
            verbose=False)
    graph = program.model_proto
    digests = {**json.loads(meta["digests"]), "graph_weights": onnx_weights_digest(graph)}
    meta = {**meta, "digests": json.dumps(digests), "onnx_opset": str(opset)}
    for key, value in meta.items():
        graph.metadata_props.add(key=f"distill.{key}", value=value)
    onnx.checker.check_model(graph)
    onnx.save_model(graph, str(path))


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


def publish_notes(recipe, keys, store):
    folder = store.get("notes", keys.notes)
    dest = cellar_root() / recipe.name
    for path in sorted(folder.iterdir()):  # notes.md, notes.json, loss.png, task pictures
        if path.suffix in (".md", ".png") or path.name == "notes.json":
            publish(path, dest / path.name)
    recipe_json = json.dumps(recipe.data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    tmp = dest / ".recipe.json.tmp"
    tmp.write_text(recipe_json)
    os.replace(tmp, dest / "recipe.json")


def bottled_file(store, key) -> Path | None:
    manifest = store.manifest("bottle", key)
    if not manifest:
        return None
    return store.path("bottle", key) / manifest["spirit"]


def in_cellar(recipe, keys, store, fmt) -> bool:
    """The bottle exists in the store and the cellar copy is that exact file."""
    src = bottled_file(store, keys.bottles[fmt])
    dest = cellar_path(recipe, fmt)
    if src is None or not dest.exists() or not src.exists():
        return False
    manifest = store.manifest("bottle", keys.bottles[fmt])
    return dest.stat().st_size == src.stat().st_size and manifest.get("sha256") == sha256_file(dest)


def build_bottle(recipe, keys, store, fmt: str) -> Path:
    key = keys.bottles[fmt]
    if not store.has("bottle", key):
        model, tokenizer, _ = load_still(keys, store)
        notes = load_notes(keys, store)
        meta = spirit_metadata(recipe, model, tokenizer, notes)
        filename = f"{recipe.name}.{fmt}"
        with store.build("bottle", key, section=bottle_section(recipe, fmt),
                         upstream={"still": keys.still, "notes": keys.notes}) as out:
            if fmt == "pt":
                write_pt(out / filename, model, meta)
            else:
                write_onnx(out / filename, model, meta, recipe["bottle"]["onnx_opset"])
            out.extra.update({"spirit": filename, "format": fmt, "sha256": sha256_file(out / filename),
                              "bytes": (out / filename).stat().st_size})
    dest = cellar_path(recipe, fmt)
    publish(bottled_file(store, key), dest)
    publish_notes(recipe, keys, store)
    update_index(recipe, load_notes(keys, store), dest, fmt)
    say(f"bottle {recipe.name}-{fmt}: {dest} ({dest.stat().st_size / 1e6:.1f} MB)")
    return dest
