"""Bottle formats, registered by file suffix. Each format module (pt, onnx, gguf, wasm) has the same
functions, and bottling, pouring, verify and inspect reach a format only through this registry:

    write(path, model, tokenizer, meta, options)   one self-contained Spirit file
    read(path) -> (meta, payload)                  checked (seal or zip CRCs, marker) before parsing
    weights_digest(meta, payload) -> (actual, recorded)   the weights as this runtime reads them
    weight_type(meta) -> "f32" | "f16" | "q8_0" | "q4_0"
    describe(path, meta, payload) -> (format line, integrity line)   for `distill inspect`
    open_runner(path, meta, payload, runtime) -> (runner, runtime name)

Every bottle carries the same strings (`meta`): the format marker, the normalised Recipe and its
hash, the model config, the tokenizer, the proof, digests, and the training environment.
"""
import importlib
import json
from pathlib import Path

from ..errors import DistillError
from ..hashing import digest

SPIRIT_FORMAT = "distillarium-spirit"
SPIRIT_VERSION = 2  # 2: .onnx and .gguf bottles carry an integrity seal
FORMAT_MODULES = {"pt": "distill.formats.pt", "onnx": "distill.formats.onnx", "gguf": "distill.formats.gguf",
                  "wasm": "distill.formats.wasm"}
SUFFIXES = {".pt": "pt", ".onnx": "onnx", ".gguf": "gguf", ".wasm.html": "wasm"}  # the browser bottle is a page
REQUIRED_STRINGS = ("recipe", "recipe_hash", "config", "tokenizer", "proof")


def names() -> list[str]:
    return list(FORMAT_MODULES)


def module(fmt: str):
    if fmt not in FORMAT_MODULES:
        raise DistillError(f"unknown bottle format '{fmt}'; valid: {', '.join(FORMAT_MODULES)}")
    return importlib.import_module(FORMAT_MODULES[fmt])


def suffix_of(fmt: str) -> str:
    return next(suffix for suffix, name in SUFFIXES.items() if name == fmt)


def format_of(path) -> str:
    """The format a file's suffix names; one line if it names none."""
    name = Path(path).name.lower()
    for suffix, fmt in SUFFIXES.items():
        if name.endswith(suffix):
            return fmt
    raise DistillError(f"{path}: unknown Spirit format '{Path(path).suffix}'; valid: {', '.join(SUFFIXES)}")


def first_line(err: Exception) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0][:160]}" if text else type(err).__name__


def check_marker(path: Path, meta: dict, where: str):
    if meta.get("format") != SPIRIT_FORMAT:
        raise DistillError(f"{path}: not a Distillarium Spirit (no format marker in its {where})")
    for key in REQUIRED_STRINGS:
        if not isinstance(meta.get(key), str):
            raise DistillError(f"{path}: damaged Spirit: its {where} has no '{key}'")


def json_field(path: Path, meta: dict, key: str, default=None):
    """One embedded JSON string, parsed; a damaged one is one line."""
    if key not in meta and default is not None:
        return default
    try:
        return json.loads(meta[key])
    except Exception as err:  # noqa: BLE001 - a damaged string is one line
        raise DistillError(f"{path}: damaged Spirit metadata '{key}' ({first_line(err)})") from None


def weights_digest(state_dict) -> str:
    """Digest of the weights alone, independent of container format."""
    parts = []
    for name in sorted(state_dict):
        tensor = state_dict[name].detach().contiguous().cpu()
        parts.append(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}:{digest(tensor.numpy().tobytes())}")
    return digest("\n".join(parts).encode())


def spirit_metadata(recipe, model, tokenizer, notes: dict, environment: dict | None, field_examples=(),
                    lineage=None) -> dict:
    """The strings every bottle carries, whatever its format (a field set travels with its proof,
    so anyone can re-measure it; the cask history, aging.lineage(), oldest first)."""
    from ..student import parameter_count

    tokenizer_json = tokenizer.to_str()
    meta = {
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
    if environment:
        meta["environment"] = json.dumps(environment, sort_keys=True)
    if lineage:
        meta["lineage"] = json.dumps(lineage, sort_keys=True, ensure_ascii=False)
    if field_examples and notes.get("field_proof"):
        meta["field"] = json.dumps(list(field_examples), ensure_ascii=False)
        meta["field_proof"] = json.dumps(notes["field_proof"], sort_keys=True)
    return meta
