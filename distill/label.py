"""A bottle's label: what a Spirit file holds, read without starting its runtime (`distill inspect`).

The file is checked exactly as `distill pour` checks it (seal or zip CRCs, format marker), then
only its metadata is read: format, architecture, parameters, tokenizer, Recipe, proof, digests.
"""
import json
from pathlib import Path

from .errors import DistillError


def _parameters(meta: dict) -> int:
    if meta.get("parameters", "").isdigit():
        return int(meta["parameters"])
    import torch  # older bottles: count on the meta device, no memory for weights

    from .student import model_from_config_json, parameter_count

    with torch.device("meta"):
        return parameter_count(model_from_config_json(meta["config"]))


def _architecture(config: dict) -> str:
    if config.get("model_type") == "llama":
        return (f"llama decoder: {config['num_hidden_layers']} layers, hidden {config['hidden_size']}, "
                f"{config['num_attention_heads']} heads ({config['num_key_value_heads']} kv), "
                f"ffn {config['intermediate_size']}, context {config['max_position_embeddings']}")
    head = (config.get("architectures") or ["bert"])[0]
    return (f"bert encoder ({head}): {config['num_hidden_layers']} layers, hidden {config['hidden_size']}, "
            f"{config['num_attention_heads']} heads, context {config['max_position_embeddings']}")


def _format_details(path: Path, fmt: str):
    """(metadata strings, format line, integrity line) for one file, validated on the way."""
    from .spirit import read_gguf, read_onnx, read_pt

    if fmt == "pt":
        meta, state = read_pt(path)
        return meta, f"pt (PyTorch, {len(state)} tensors, float32)", "zip CRC-32 of every member verified"
    if fmt == "onnx":
        meta, model = read_onnx(path)
        cache = meta.get("onnx_cache", "none")
        cache_text = "with KV cache (past_key_values)" if cache == "past_key_values" else "no KV cache"
        line = f"onnx (opset {meta.get('onnx_opset', '?')}, {len(model.graph.node)} nodes, {cache_text})"
        sealed = "distill.integrity" in {p.key for p in model.metadata_props}
        return meta, line, "sealed digest of the whole file verified" if sealed else "no seal (bottled before Spirit version 2)"
    from .gguf_bottle import DECODER_ARCH, ENCODER_ARCH, PRE_TOKENIZER, architecture, type_counts

    meta, reader = read_gguf(path)
    arch = architecture(reader)
    types = ", ".join(f"{n} {name.lower()}" for name, n in sorted(type_counts(reader).items()))
    runs = f"llama.cpp-ready, pre-tokenizer {PRE_TOKENIZER}" if arch in (DECODER_ARCH, ENCODER_ARCH) \
        else "distill pour only (bottled before encoders were llama.cpp BERT files)"
    line = f"gguf ({meta.get('gguf_type', '?')}; architecture {arch}; tensors: {types}; {runs})"
    return meta, line, "sealed digest of the whole file verified"


def read_label(path) -> dict:
    """Everything `distill inspect` shows, as a dict."""
    from .student import load_tokenizer

    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if not path.is_file():
        raise DistillError(f"{path}: no such Spirit file")
    if fmt not in ("pt", "onnx", "gguf"):
        raise DistillError(f"{path}: unknown Spirit format '.{fmt}'; valid: .pt, .onnx, .gguf")
    meta, format_line, integrity = _format_details(path, fmt)
    try:
        config, recipe = json.loads(meta["config"]), json.loads(meta["recipe"])
        proof, digests = json.loads(meta["proof"]), json.loads(meta.get("digests", "{}"))
        vocab = load_tokenizer(meta["tokenizer"]).get_vocab_size()
        architecture, parameters = _architecture(config), _parameters(meta)
    except Exception as err:  # noqa: BLE001 - a damaged string is one line
        raise DistillError(f"{path}: damaged Spirit metadata ({type(err).__name__}: {str(err)[:160]})") from None
    return {"file": str(path), "bytes": path.stat().st_size, "format": format_line, "architecture": architecture,
            "parameters": parameters, "tokenizer": f"{vocab:,} tokens (byte-level BPE, digits split)",
            "recipe": recipe.get("name", "?"), "recipe_hash": meta["recipe_hash"], "task": recipe.get("task", {}).get("type"),
            "proof": proof, "digests": digests, "integrity": integrity, "spirit_version": meta.get("version", "1")}


def render_label(label: dict) -> str:
    proof = label["proof"]
    proof_line = f"{proof.get('degrees', '?')} {proof.get('metric', '')} on {proof.get('n', '?')} heads"
    extras = [f"{k.replace('_', ' ')} {v:.1%}" for k, v in proof.items() if isinstance(v, float) and k != "value"]
    rows = [("file", f"{label['file']} ({label['bytes']:,} bytes)"), ("format", label["format"]),
            ("architecture", label["architecture"]), ("parameters", f"{label['parameters']:,}"),
            ("tokenizer", label["tokenizer"]), ("recipe", f"{label['recipe']} ({label['task']})"),
            ("recipe hash", label["recipe_hash"]), ("proof (as bottled)", proof_line + (f" ({', '.join(extras)})" if extras else ""))]
    rows += [(f"digest {name}", value) for name, value in sorted(label["digests"].items())]
    rows.append(("integrity", label["integrity"]))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)
