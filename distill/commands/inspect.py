"""`distill inspect`: what a Spirit file holds, read without starting its runtime.

The file is checked exactly as `distill pour` checks it (seal or zip CRCs, format marker), then
only its metadata is read: format, architecture, parameters, tokenizer, Recipe, proof, digests,
training environment.
"""
import json
from pathlib import Path

from ..errors import DistillError
from ..formats import first_line
from ..formats import module as format_module
from ..provenance import is_environment


def _parameters(meta: dict) -> int:
    if meta.get("parameters", "").isdigit():
        return int(meta["parameters"])
    import torch  # older bottles: count on the meta device, no memory for weights

    from ..student import model_from_config_json, parameter_count

    with torch.device("meta"):
        return parameter_count(model_from_config_json(meta["config"]))


def _architecture(config: dict) -> str:
    if config.get("model_type") == "llama":
        return (f"llama decoder: {config['num_hidden_layers']} layers, hidden {config['hidden_size']}, "
                f"{config['num_attention_heads']} attention heads ({config['num_key_value_heads']} kv), "
                f"ffn {config['intermediate_size']}, context {config['max_position_embeddings']}")
    head = (config.get("architectures") or ["bert"])[0]
    return (f"bert encoder ({head}): {config['num_hidden_layers']} layers, hidden {config['hidden_size']}, "
            f"{config['num_attention_heads']} attention heads, context {config['max_position_embeddings']}")


def read_label(path) -> dict:
    """Everything `distill inspect` shows, as a dict."""
    from ..spirit import read_bottle
    from ..student import describe_tokenizer, load_tokenizer

    path = Path(path)
    fmt, meta, payload = read_bottle(path)
    format_line, integrity = format_module(fmt).describe(path, meta, payload)
    try:
        config, recipe = json.loads(meta["config"]), json.loads(meta["recipe"])
        proof, digests = json.loads(meta["proof"]), json.loads(meta.get("digests", "{}"))
        environment = json.loads(meta.get("environment", "null"))
        lineage = json.loads(meta.get("lineage", "[]"))
        tokenizer = load_tokenizer(meta["tokenizer"])
        vocab, tokenizer_kind = tokenizer.get_vocab_size(), describe_tokenizer(tokenizer)
        architecture, parameters = _architecture(config), _parameters(meta)
    except Exception as err:  # noqa: BLE001 - a damaged string is one line
        raise DistillError(f"{path}: damaged Spirit metadata ({first_line(err)})") from None
    for name, value, shaped in (("recipe", recipe, isinstance(recipe, dict) and isinstance(recipe.get("task", {}), dict)),
                                ("proof", proof, isinstance(proof, dict)), ("digests", digests, isinstance(digests, dict)),
                                ("environment", environment, is_environment(environment)),
                                ("lineage", lineage, isinstance(lineage, list) and all(isinstance(e, dict) for e in lineage))):
        if not shaped:  # the label prints their fields: a wrong shape is one line here, not a traceback there
            raise DistillError(f"{path}: damaged Spirit metadata '{name}' (a {type(value).__name__} of the wrong shape); re-download the Spirit")
    return {"file": str(path), "bytes": path.stat().st_size, "format": format_line,
            "architecture": architecture, "parameters": parameters,
            "tokenizer": f"{vocab:,} tokens ({tokenizer_kind})", "recipe": recipe.get("name", "?"),
            "recipe_hash": meta["recipe_hash"], "task": recipe.get("task", {}).get("type"), "proof": proof,
            "digests": digests, "environment": environment, "integrity": integrity,
            "spirit_version": meta.get("version", "1"), "lineage": lineage}


def _environment_line(env: dict | None) -> str:
    if not env:
        return "not recorded (bottled before training environments were recorded)"
    libs = ", ".join(f"{k} {v}" for k, v in sorted(env.get("libraries", {}).items()))
    return f"{libs}; {env.get('threads')} thread(s) on {env.get('device')} ({env.get('cpu')})"


def render_label(label: dict) -> str:
    proof = label["proof"]
    proof_line = f"{proof.get('degrees', '?')} {proof.get('metric', '')} on {proof.get('n', '?')} heads"
    extras = [f"{k.replace('_', ' ')} {v:.1%}" for k, v in proof.items() if isinstance(v, float) and k != "value"]
    rows = [("file", f"{label['file']} ({label['bytes']:,} bytes)"), ("format", label["format"]),
            ("architecture", label["architecture"]), ("parameters", f"{label['parameters']:,}"),
            ("tokenizer", label["tokenizer"]), ("recipe", f"{label['recipe']} ({label['task']})"),
            ("recipe hash", label["recipe_hash"]), ("proof (as bottled)", proof_line + (f" ({', '.join(extras)})" if extras else "")),
            ("trained with", _environment_line(label["environment"]))]
    rows += [(f"digest {name}", value) for name, value in sorted(label["digests"].items())]
    chain = label.get("lineage") or []
    if chain:  # the cask history, oldest first (aging.py)
        rows.append(("lineage", f"{len(chain)} generation(s): " + " -> ".join(str(e.get("name", "?")) for e in chain)))
        rows += [(f"  cask {i}", f"{e.get('name', '?')} recipe {e.get('recipe_hash', '?')} weights "
                                f"{str(e.get('weights', '?'))[:16]} {e.get('date', '')} — {e.get('slice', '')}")
                 for i, e in enumerate(chain, 1)]
    rows.append(("integrity", label["integrity"]))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)
