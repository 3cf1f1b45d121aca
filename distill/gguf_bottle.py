"""GGUF bottles: a decoder Spirit as a llama.cpp model file, readable back with gguf-py.

Decoders are written the way llama.cpp's own converter (convert_hf_to_gguf.py) writes a Llama:
architecture "llama", llama.cpp tensor names, hyper-parameters under the standard `llama.*`
keys, and the rows of Q and K permuted. That permutation matters: HF rotates the two halves
of each head (rotate_half) while llama.cpp rotates adjacent pairs; permuting the rows turns
one into the other, and without it llama.cpp decodes silently wrong. The tokenizer goes in
as a "gpt2" BPE vocabulary with merges and special tokens; its pre-tokenizer is "starcoder",
whose llama.cpp regexes (every digit alone, then the GPT-2 pattern) are exactly our
Sequence([Digits(individual_digits=True), ByteLevel]).

Encoders (classification, tagging) have no matching llama.cpp runtime, so they go in under
the private architecture "distill-bert" with Hugging Face tensor names: `distill pour` runs
them, llama.cpp refuses them by name.

Every file also carries the Spirit's strings as `distill.*` keys and an integrity seal.
"""
import json
import re

import numpy as np

DECODER_ARCH = "llama"
ENCODER_ARCH = "distill-bert"
PRE_TOKENIZER = "starcoder"
BLOCK = 32  # q8_0 and q4_0 quantise rows in blocks of 32 values
# per bottle type: (ggml type of 2-D weights, llama.cpp file type number)
TYPES = {"f32": ("F32", 0), "f16": ("F16", 1), "q8_0": ("Q8_0", 7), "q4_0": ("Q4_0", 2)}

# HF Llama name -> llama.cpp name ({i} is the layer)
LLAMA_NAMES = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
    "model.layers.{i}.input_layernorm.weight": "blk.{i}.attn_norm.weight",
    "model.layers.{i}.self_attn.q_proj.weight": "blk.{i}.attn_q.weight",
    "model.layers.{i}.self_attn.k_proj.weight": "blk.{i}.attn_k.weight",
    "model.layers.{i}.self_attn.v_proj.weight": "blk.{i}.attn_v.weight",
    "model.layers.{i}.self_attn.o_proj.weight": "blk.{i}.attn_output.weight",
    "model.layers.{i}.post_attention_layernorm.weight": "blk.{i}.ffn_norm.weight",
    "model.layers.{i}.mlp.gate_proj.weight": "blk.{i}.ffn_gate.weight",
    "model.layers.{i}.mlp.up_proj.weight": "blk.{i}.ffn_up.weight",
    "model.layers.{i}.mlp.down_proj.weight": "blk.{i}.ffn_down.weight",
}


def _pattern(template: str):
    return re.compile("^" + re.escape(template).replace(r"\{i\}", r"(\d+)") + "$")


_TO_GGUF = [(_pattern(hf), gg) for hf, gg in LLAMA_NAMES.items()]
_TO_HF = [(_pattern(gg), hf) for hf, gg in LLAMA_NAMES.items()]


def _rename(name: str, table) -> str:
    for pattern, template in table:
        match = pattern.match(name)
        if match:
            return template.format(i=match.group(1)) if match.groups() else template
    raise KeyError(name)


# ---------------------------------------------------------------- the rotary permutation


def permute_rows(weight: np.ndarray, heads: int) -> np.ndarray:
    """HF (halves) -> llama.cpp (pairs) order of each head's rows, as convert_hf_to_gguf does."""
    rows = weight.shape[0]
    return weight.reshape(heads, 2, rows // heads // 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def unpermute_rows(weight: np.ndarray, heads: int) -> np.ndarray:
    rows = weight.shape[0]
    return weight.reshape(heads, rows // heads // 2, 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def _heads_for(gguf_name: str, config) -> int | None:
    if gguf_name.endswith("attn_q.weight"):
        return config.num_attention_heads
    if gguf_name.endswith("attn_k.weight"):
        return config.num_key_value_heads
    return None


# ---------------------------------------------------------------- writing


def decoder_tensors(model):
    """(llama.cpp name, float32 array) for every weight; a tied output matrix is not repeated."""
    config = model.config
    for name, tensor in model.state_dict().items():
        if name == "lm_head.weight" and config.tie_word_embeddings:
            continue  # llama.cpp falls back to token_embd when output.weight is absent
        gguf_name = _rename(name, _TO_GGUF)
        array = tensor.detach().float().cpu().numpy()
        heads = _heads_for(gguf_name, config)
        yield gguf_name, permute_rows(array, heads) if heads else array


def encoder_tensors(model):
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point():  # integer buffers (position ids) are rebuilt from the config
            yield name, tensor.detach().float().cpu().numpy()


def storage_type(name: str, array: np.ndarray, gguf_type: str) -> str:
    """Norms and biases stay f32 (as in llama.cpp); a row that cannot be cut into blocks of 32
    falls back to f16 (as convert_hf_to_gguf does); in q4_0 the token embedding, which a tied
    model also uses as its output layer, is kept at q8_0: that layer is the most sensitive."""
    base = TYPES[gguf_type][0]
    if array.ndim < 2 or base == "F32":
        return "F32"
    if base in ("Q8_0", "Q4_0") and array.shape[-1] % BLOCK:
        return "F16"
    if base == "Q4_0" and name in ("token_embd.weight", "output.weight"):
        return "Q8_0"
    return base


def _add_tensor(writer, name, array, ggml_name) -> str:
    """Quantise and add one tensor; returns its line for the stored-tensors digest."""
    import gguf

    from .hashing import digest

    qtype = gguf.GGMLQuantizationType[ggml_name]
    data = gguf.quants.quantize(np.ascontiguousarray(array, dtype=np.float32), qtype)
    writer.add_tensor(name, data, raw_dtype=qtype)
    return f"{name}:{ggml_name}:{tuple(array.shape)}:{digest(data.tobytes())}"


def _add_llama_header(writer, config, gguf_type: str):
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    rope = getattr(config, "rope_parameters", None) or {}
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(float(rope.get("rope_theta", getattr(config, "rope_theta", 10000.0))))
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_vocab_size(config.vocab_size)
    writer.add_file_type(TYPES[gguf_type][1])


def _add_tokenizer(writer, tokenizer, special: dict):
    """The BPE vocabulary as llama.cpp's "gpt2" tokenizer model reads it."""
    import gguf

    vocab = tokenizer.get_vocab(with_added_tokens=True)
    tokens = sorted(vocab, key=vocab.get)
    if [vocab[t] for t in tokens] != list(range(len(tokens))):
        raise ValueError("tokenizer ids are not contiguous; cannot write a GGUF vocabulary")
    merges = json.loads(tokenizer.to_str())["model"]["merges"]
    control = set(special.values())
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(PRE_TOKENIZER)
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType.CONTROL if i in control else gguf.TokenType.NORMAL
                            for i in range(len(tokens))])
    writer.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in merges])
    writer.add_bos_token_id(special["bos"])
    writer.add_eos_token_id(special["eos"])
    writer.add_pad_token_id(special["pad"])
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)


def write_gguf(path, model, tokenizer, meta: dict, gguf_type: str):
    """Write, then seal, one GGUF Spirit of the given type (f32, f16, q8_0, q4_0)."""
    import gguf

    from .hashing import digest
    from .integrity import SEAL_KEY, UNSEALED, gguf_entry_prefix, seal
    from .student import special_ids

    decoder = model.config.model_type == "llama"
    writer = gguf.GGUFWriter(str(path), DECODER_ARCH if decoder else ENCODER_ARCH)
    writer.add_name(meta["name"])
    writer.add_description(f"Distillarium Spirit '{meta['name']}' ({meta['task_type']}), recipe {meta['recipe_hash']}")
    lines = [_add_tensor(writer, name, array, storage_type(name, array, gguf_type))
             for name, array in (decoder_tensors(model) if decoder else encoder_tensors(model))]
    if decoder:
        _add_llama_header(writer, model.config, gguf_type)
    else:
        writer.add_file_type(TYPES[gguf_type][1])
    _add_tokenizer(writer, tokenizer, special_ids(tokenizer))
    digests = {**json.loads(meta["digests"]), "gguf_tensors": digest("\n".join(lines).encode())}
    for key, value in {**meta, "digests": json.dumps(digests), "gguf_type": gguf_type}.items():
        writer.add_string(f"distill.{key}", value)
    writer.add_string(SEAL_KEY, UNSEALED)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    seal(path, gguf_entry_prefix())


# ---------------------------------------------------------------- reading


def read_strings(reader) -> dict:
    """The distill.* strings of a GGUF Spirit, prefix dropped."""
    return {name.removeprefix("distill."): field.contents() for name, field in reader.fields.items()
            if name.startswith("distill.")}


def stored_tensors_digest(reader) -> str:
    """The digest of the tensors as stored, recomputed the way write_gguf recorded it."""
    from .hashing import digest

    lines = [f"{t.name}:{t.tensor_type.name}:{tuple(reversed([int(d) for d in t.shape]))}:{digest(t.data.tobytes())}"
             for t in reader.tensors]
    return digest("\n".join(lines).encode())


def dequantised(reader):
    """(name, float32 array in row-major shape) for every tensor."""
    import gguf

    for t in reader.tensors:
        shape = tuple(reversed([int(d) for d in t.shape]))
        yield t.name, gguf.quants.dequantize(t.data, t.tensor_type).reshape(shape).astype(np.float32, copy=False)


def state_dict_from_gguf(reader, config) -> dict:
    """The Hugging Face state dict back from a GGUF Spirit: dequantised, Q/K rows un-permuted."""
    import torch

    state = {}
    for name, array in dequantised(reader):
        if config.model_type != "llama":
            state[name] = torch.from_numpy(array.copy())
            continue
        heads = _heads_for(name, config)
        state[_rename(name, _TO_HF)] = torch.from_numpy(unpermute_rows(array, heads) if heads else array.copy())
    if config.model_type == "llama" and config.tie_word_embeddings:
        state["lm_head.weight"] = state["model.embed_tokens.weight"]
    return state


def type_counts(reader) -> dict:
    """How many tensors are stored in each ggml type, e.g. {"Q8_0": 7, "F32": 3}."""
    counts = {}
    for t in reader.tensors:
        counts[t.tensor_type.name] = counts.get(t.tensor_type.name, 0) + 1
    return counts
