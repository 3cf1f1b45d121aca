"""ONNX bottles: graphs exported with torch's dynamo exporter, metadata in metadata_props.

A decoder is exported as one step with its KV cache as plain tensors, the convention of
Hugging Face Optimum and onnxruntime-genai:

    (input_ids[b, s], attention_mask[b, past + s], past_key_values.{i}.key/value[b, kv, past, d])
        -> (logits[b, s, vocab], present.{i}.key/value[b, kv, past + s, d])

so each new token costs one short step instead of re-running the whole sequence. An
encoder maps (input_ids, attention_mask) -> logits. Both reuse the trained model's own modules,
so the graph holds exactly its weights. The file is sealed (seal.py) after it is written.
"""
import json
from pathlib import Path

from ..errors import DistillError
from ..hashing import digest
from . import check_marker, first_line
from .seal import SEAL_KEY, UNSEALED, check_sealed, has_seal, onnx_entry_prefix, seal

SUFFIX = ".onnx"

CACHE_INPUT = "past_key_values.{layer}.{kind}"
CACHE_OUTPUT = "present.{layer}.{kind}"


def cache_names(layers: int, template: str) -> list[str]:
    return [template.format(layer=i, kind=kind) for i in range(layers) for kind in ("key", "value")]


def _decoder_step(model):
    """A torch module computing one cached decoding step with the HF Llama's own layers."""
    import torch

    class DecoderStep(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, past):
            inner = self.model.model
            x = inner.embed_tokens(input_ids)
            seq, total = input_ids.shape[1], attention_mask.shape[1]
            # positions count only real tokens, so a left-padded batch rotates like an unpadded one
            positions = (attention_mask.cumsum(-1) - 1).clamp(min=0)[:, total - seq:]
            cos, sin = (t.unsqueeze(1) for t in inner.rotary_emb(x, positions))
            query_at = torch.arange(seq).unsqueeze(1) + (total - seq)
            allowed = (torch.arange(total).unsqueeze(0) <= query_at).unsqueeze(0) & attention_mask.bool()[:, None, :]
            bias = torch.zeros(allowed.shape, dtype=x.dtype).masked_fill(~allowed, torch.finfo(x.dtype).min)
            presents = []
            for i, layer in enumerate(inner.layers):
                attn_out, k, v = _attention(layer.self_attn, layer.input_layernorm(x), cos, sin,
                                            past[2 * i], past[2 * i + 1], bias.unsqueeze(1))
                presents += [k, v]
                x = x + attn_out
                x = x + layer.mlp(layer.post_attention_layernorm(x))
            return (self.model.lm_head(inner.norm(x)), *presents)

    return DecoderStep().eval()


def _rotate(x, cos, sin):
    """Rotary embedding as HF Llama applies it (rotate_half: the two halves of each head pair up)."""
    import torch

    half = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin


def _attention(attn, h, cos, sin, past_k, past_v, bias):
    """Llama attention with the cache passed in and returned as tensors (GQA by repeating kv heads)."""
    import torch

    batch, seq, _ = h.shape
    head_dim = attn.head_dim
    q = attn.q_proj(h).view(batch, seq, -1, head_dim).transpose(1, 2)
    k = attn.k_proj(h).view(batch, seq, -1, head_dim).transpose(1, 2)
    v = attn.v_proj(h).view(batch, seq, -1, head_dim).transpose(1, 2)
    q, k = _rotate(q, cos, sin), _rotate(k, cos, sin)
    k, v = torch.cat([past_k, k], dim=2), torch.cat([past_v, v], dim=2)
    groups = attn.num_key_value_groups
    out = torch.nn.functional.scaled_dot_product_attention(
        q, k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1), attn_mask=bias, scale=attn.scaling)
    return attn.o_proj(out.transpose(1, 2).reshape(batch, seq, -1)), k, v


def _encoder(model):
    import torch

    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask).logits

    return Encoder().eval()


def _export(module, args, opset, input_names, output_names, dynamic_shapes):
    import logging
    import warnings

    import torch

    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # "torchvision is not installed" noise
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(module, args, dynamo=True, opset_version=opset, input_names=input_names,
                                    output_names=output_names, dynamic_shapes=dynamic_shapes, verbose=False)
    return program.model_proto


def export_decoder(model, opset: int):
    import torch

    config = model.config
    layers, kv_heads = config.num_hidden_layers, config.num_key_value_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    longest = config.max_position_embeddings
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq", max=longest)
    past, total = torch.export.Dim("past", max=longest), torch.export.Dim("total", max=2 * longest)
    example_past = tuple(torch.zeros(1, kv_heads, 3, head_dim) for _ in range(2 * layers))
    args = (torch.ones((1, 4), dtype=torch.long), torch.ones((1, 7), dtype=torch.long), example_past)
    shapes = ({0: batch, 1: seq}, {0: batch, 1: total}, tuple({0: batch, 2: past} for _ in example_past))
    return _export(_decoder_step(model), args, opset, ["input_ids", "attention_mask", *cache_names(layers, CACHE_INPUT)],
                   ["logits", *cache_names(layers, CACHE_OUTPUT)], shapes)


def export_encoder(model, opset: int):
    import torch

    example = torch.ones((1, 8), dtype=torch.long)
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq", max=model.config.max_position_embeddings)
    dims = {0: batch, 1: seq}
    return _export(_encoder(model), (example, torch.ones_like(example)), opset, ["input_ids", "attention_mask"],
                   ["logits"], ({**dims}, {**dims}))


def graph_weights_digest(model_proto) -> str:
    """Digest of an ONNX graph's initializers: the weights as that runtime will read them."""
    from onnx import numpy_helper

    parts = [f"{init.name}:{digest(numpy_helper.to_array(init).tobytes())}"
             for init in sorted(model_proto.graph.initializer, key=lambda i: i.name)]
    return digest("\n".join(parts).encode())


def write(path, model, tokenizer, meta: dict, options: dict):
    """Export, attach the Spirit's strings as distill.* metadata, check, save and seal."""
    import onnx

    opset = options["onnx_opset"]
    decoder = model.config.model_type == "llama"
    graph = export_decoder(model, opset) if decoder else export_encoder(model, opset)
    digests = {**json.loads(meta["digests"]), "graph_weights": graph_weights_digest(graph)}
    meta = {**meta, "digests": json.dumps(digests), "onnx_opset": str(opset),
            "onnx_cache": "past_key_values" if decoder else "none"}
    for key, value in meta.items():
        graph.metadata_props.add(key=f"distill.{key}", value=value)
    graph.metadata_props.add(key=SEAL_KEY, value=UNSEALED)
    onnx.checker.check_model(graph, full_check=True)
    onnx.save_model(graph, str(path))
    seal(path, onnx_entry_prefix())


# ---------------------------------------------------------------- reading


def read(path: Path):
    """(strings, ModelProto) of an .onnx Spirit; a sealed file is checked byte for byte first."""
    import onnx

    sealed = has_seal(path, onnx_entry_prefix())
    if sealed:
        check_sealed(path, onnx_entry_prefix(), ".onnx")
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except Exception as err:  # noqa: BLE001
        raise DistillError(f"{path}: not a loadable .onnx Spirit ({first_line(err)})") from None
    meta = {p.key.removeprefix("distill."): p.value for p in model.metadata_props if p.key.startswith("distill.")}
    check_marker(path, meta, "metadata")
    if not sealed and meta.get("version", "1") != "1":  # sealed since version 2: a lost seal means a cut-off file
        raise DistillError(f"{path}: corrupted .onnx Spirit: its integrity seal is missing (truncated?)")
    return meta, model


def weights_digest(meta: dict, model_proto) -> tuple[str, str | None]:
    return graph_weights_digest(model_proto), json.loads(meta.get("digests", "{}")).get("graph_weights")


def weight_type(meta: dict) -> str:
    return "f32"


def describe(path, meta: dict, model_proto) -> tuple[str, str]:
    cache = meta.get("onnx_cache", "none")
    cache_text = "with KV cache (past_key_values)" if cache == "past_key_values" else "no KV cache"
    line = f"onnx (opset {meta.get('onnx_opset', '?')}, {len(model_proto.graph.node)} nodes, {cache_text})"
    sealed = SEAL_KEY in {p.key for p in model_proto.metadata_props}
    return line, "sealed digest of the whole file verified" if sealed else "no seal (bottled before Spirit version 2)"


def open_runner(path, meta: dict, model_proto, runtime: str):
    from ..runtimes.onnxruntime import OnnxRunner, session

    return OnnxRunner(session(path, model_proto)), "onnxruntime"
