"""GGUF bottles: a decoder Spirit as a llama.cpp model file, readable back with gguf-py.

Decoders are written the way llama.cpp's own converter (convert_hf_to_gguf.py) writes a Llama:
architecture "llama", llama.cpp tensor names, hyper-parameters under the standard `llama.*`
keys, and the rows of Q and K permuted. That permutation matters: HF rotates the two halves
of each head (rotate_half) while llama.cpp rotates adjacent pairs; permuting the rows turns
one into the other, and without it llama.cpp decodes silently wrong.

Encoders (classification, tagging) are written as llama.cpp's "bert": its tensor names, the
standard `bert.*` keys (non-causal attention, layer-norm epsilon), position embeddings and
token types kept f32 as its converter and quantiser keep them. A sequence head is BERT's pooler
(`cls`, dense + tanh on the first token) and classifier (`cls.output`) with pooling "rank":
llama.cpp computes the label logits itself. A token head is `cls.output` alone with pooling
"none" (see encoder_tensors). No Q/K permutation: BERT has no rotary embedding.

The tokenizer goes in as llama.cpp's vocabulary for its kind (gguf_vocab.py): a byte-level BPE as
"gpt2" with merges, a WordPiece (a student grown from a BERT base) as "bert".

Every file also carries the Spirit's strings as `distill.*` keys and an integrity seal.
"""
import importlib.util
import json
import re
from pathlib import Path

import numpy as np

from ..errors import DistillError
from . import check_marker, first_line, json_field
from .gguf_vocab import add_vocabulary, describe_vocabulary
from .seal import SEAL_KEY, UNSEALED, check_sealed, gguf_entry_prefix, seal

SUFFIX = ".gguf"
RUNTIMES = ("auto", "torch", "llama.cpp")

DECODER_ARCH = "llama"
ENCODER_ARCH = "bert"
LEGACY_ENCODER_ARCH = "distill-bert"  # bottle layout 1: Hugging Face tensor names, torch only
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


# HF BERT module -> llama.cpp name, for its .weight and (all but the embeddings) its .bias
BERT_MODULES = {
    "bert.embeddings.word_embeddings": "token_embd",
    "bert.embeddings.position_embeddings": "position_embd",
    "bert.embeddings.token_type_embeddings": "token_types",
    "bert.embeddings.LayerNorm": "token_embd_norm",
    "bert.encoder.layer.{i}.attention.self.query": "blk.{i}.attn_q",
    "bert.encoder.layer.{i}.attention.self.key": "blk.{i}.attn_k",
    "bert.encoder.layer.{i}.attention.self.value": "blk.{i}.attn_v",
    "bert.encoder.layer.{i}.attention.output.dense": "blk.{i}.attn_output",
    "bert.encoder.layer.{i}.attention.output.LayerNorm": "blk.{i}.attn_output_norm",
    "bert.encoder.layer.{i}.intermediate.dense": "blk.{i}.ffn_up",
    "bert.encoder.layer.{i}.output.dense": "blk.{i}.ffn_down",
    "bert.encoder.layer.{i}.output.LayerNorm": "blk.{i}.layer_output_norm",
    "bert.pooler.dense": "cls",
    "classifier": "cls.output",
}
BERT_NAMES = {f"{hf}.{part}": f"{gg}.{part}" for hf, gg in BERT_MODULES.items() for part in ("weight", "bias")}
# llama.cpp keeps these f32 in every file type (convert_hf_to_gguf, llama-quantize)
BERT_F32 = ("position_embd.weight", "token_types.weight")


def _tables(names: dict):
    return [(_pattern(hf), gg) for hf, gg in names.items()], [(_pattern(gg), hf) for hf, gg in names.items()]


_TO_GGUF, _TO_HF = _tables(LLAMA_NAMES)
_BERT_TO_GGUF, _BERT_TO_HF = _tables(BERT_NAMES)


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
    """(llama.cpp name, float32 array) for every weight of a BERT student.

    A token head (BertForTokenClassification) has no pooler, so its classifier goes in as
    `cls.output` without `cls`: llama.cpp's loader refuses any tensor it does not know
    ("done_getting_tensors: wrong number of tensors"), but loads an optional `cls.output`
    alone. With pooling "none" llama.cpp returns each token's hidden state and never applies
    it; the runner applies it to them."""
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point():  # integer buffers (position ids) are rebuilt from the config
            yield _rename(name, _BERT_TO_GGUF), tensor.detach().float().cpu().numpy()


def storage_type(name: str, array: np.ndarray, gguf_type: str) -> str:
    """Norms and biases stay f32 (as in llama.cpp), and so do BERT's position and token-type
    embeddings (llama.cpp adds a plain-float row view of token_types); a row that cannot be cut
    into blocks of 32 falls back to f16 (as convert_hf_to_gguf does); in q4_0 the token
    embedding, which a tied model also uses as its output layer, is kept at q8_0: that layer is
    the most sensitive."""
    base = TYPES[gguf_type][0]
    if array.ndim < 2 or base == "F32" or name in BERT_F32:
        return "F32"
    if base in ("Q8_0", "Q4_0") and array.shape[-1] % BLOCK:
        return "F16"
    if base == "Q4_0" and name in ("token_embd.weight", "output.weight"):
        return "Q8_0"
    return base


def _add_tensor(writer, name, array, ggml_name) -> str:
    """Quantise and add one tensor; returns its line for the stored-tensors digest."""
    import gguf

    from ..hashing import digest

    qtype = gguf.GGMLQuantizationType[ggml_name]
    data = gguf.quants.quantize(np.ascontiguousarray(array, dtype=np.float32), qtype)
    writer.add_tensor(name, data, raw_dtype=qtype)
    return f"{name}:{ggml_name}:{tuple(array.shape)}:{digest(data.tobytes())}"


def _add_shape(writer, config):
    """The size keys every llama.cpp architecture reads, under its own prefix (llama.*, bert.*)."""
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_vocab_size(config.vocab_size)


def _add_llama_header(writer, config, gguf_type: str):
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    rope = getattr(config, "rope_parameters", None) or {}
    _add_shape(writer, config)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(float(rope.get("rope_theta", getattr(config, "rope_theta", 10000.0))))
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_file_type(TYPES[gguf_type][1])


def is_sequence_head(architectures) -> bool:
    """A BERT config's `architectures`: sequence classification (the default) or token tagging."""
    return (architectures or ["BertForSequenceClassification"])[0] == "BertForSequenceClassification"


def _add_bert_header(writer, config, gguf_type: str, labels: list[str]):
    """The hyper-parameters llama.cpp's bert loader reads; pooling "rank" runs the sequence head
    in llama.cpp, "none" hands back per-token states for the token head."""
    import gguf

    _add_shape(writer, config)
    writer.add_layer_norm_eps(config.layer_norm_eps)
    writer.add_causal_attention(False)
    writer.add_pooling_type(gguf.PoolingType.RANK if is_sequence_head(config.architectures) else gguf.PoolingType.NONE)
    writer.add_classifier_output_labels(labels)  # their count sizes cls.output in llama.cpp
    writer.add_token_type_count(config.type_vocab_size)
    writer.add_file_type(TYPES[gguf_type][1])


def output_labels(config, meta: dict) -> list[str]:
    """The head's output names from the embedded Recipe (labels or BIO tags), else LABEL_i."""
    from ..tasks import task_type

    names = task_type(meta["task_type"]).output_names(json.loads(meta["recipe"])["task"])
    return names if len(names) == config.num_labels else [config.id2label[i] for i in range(config.num_labels)]


def write(path, model, tokenizer, meta: dict, options: dict):
    """Write, then seal, one GGUF Spirit of the given type (f32, f16, q8_0, q4_0)."""
    import gguf

    from ..hashing import digest

    gguf_type = options["type"]
    decoder = model.config.model_type == "llama"
    writer = gguf.GGUFWriter(str(path), DECODER_ARCH if decoder else ENCODER_ARCH)
    writer.add_name(meta["name"])
    writer.add_description(f"Distillarium Spirit '{meta['name']}' ({meta['task_type']}), recipe {meta['recipe_hash']}")
    lines = [_add_tensor(writer, name, array, storage_type(name, array, gguf_type))
             for name, array in (decoder_tensors(model) if decoder else encoder_tensors(model))]
    if decoder:
        _add_llama_header(writer, model.config, gguf_type)
    else:
        _add_bert_header(writer, model.config, gguf_type, output_labels(model.config, meta))
    add_vocabulary(writer, tokenizer)
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
    """The digest of the tensors as stored, recomputed the way write() recorded it."""
    from ..hashing import digest

    lines = [f"{t.name}:{t.tensor_type.name}:{tuple(reversed([int(d) for d in t.shape]))}:{digest(t.data.tobytes())}"
             for t in reader.tensors]
    return digest("\n".join(lines).encode())


def _dequantise(tensor) -> np.ndarray:
    """One stored tensor as float32 in row-major shape."""
    import gguf

    shape = tuple(reversed([int(d) for d in tensor.shape]))
    return gguf.quants.dequantize(tensor.data, tensor.tensor_type).reshape(shape).astype(np.float32, copy=False)


def dequantised(reader):
    """(name, float32 array in row-major shape) for every tensor."""
    for t in reader.tensors:
        yield t.name, _dequantise(t)


def _string(reader, key: str) -> str:
    field = reader.fields.get(key)
    return field.contents() if field else ""


def architecture(reader) -> str:
    return _string(reader, "general.architecture")


def classifier_weights(reader):
    """(weight [labels, hidden], bias) of an encoder's `cls.output`, dequantised."""
    arrays = {t.name: _dequantise(t) for t in reader.tensors if t.name.startswith("cls.output.")}
    return arrays["cls.output.weight"], arrays["cls.output.bias"]


def state_dict_from_gguf(reader, config) -> dict:
    """The Hugging Face state dict back from a GGUF Spirit: dequantised, renamed, and (decoders
    only) Q/K rows un-permuted."""
    import torch

    state = {}
    legacy = architecture(reader) == LEGACY_ENCODER_ARCH
    for name, array in dequantised(reader):
        if config.model_type != "llama":
            state[name if legacy else _rename(name, _BERT_TO_HF)] = torch.from_numpy(array.copy())
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


# ---------------------------------------------------------------- the format's registry functions


def read(path: Path):
    """(strings, GGUFReader) of a .gguf Spirit, checked byte for byte before gguf-py parses it."""
    from gguf import GGUFReader

    check_sealed(path, gguf_entry_prefix(), ".gguf")
    try:
        reader = GGUFReader(str(path))
        meta = read_strings(reader)
    except Exception as err:  # noqa: BLE001
        raise DistillError(f"{path}: not a loadable .gguf Spirit ({first_line(err)})") from None
    check_marker(path, meta, "distill.* keys")
    return meta, reader


def weights_digest(meta: dict, reader) -> tuple[str, str | None]:
    """The tensors as stored, quantised blocks included."""
    return stored_tensors_digest(reader), json.loads(meta.get("digests", "{}")).get("gguf_tensors")


def weight_type(meta: dict) -> str:
    return meta.get("gguf_type", "f32")


def describe(path, meta: dict, reader) -> tuple[str, str]:
    arch = architecture(reader)
    types = ", ".join(f"{n} {name.lower()}" for name, n in sorted(type_counts(reader).items()))
    vocabulary = describe_vocabulary(_string(reader, "tokenizer.ggml.model"), _string(reader, "tokenizer.ggml.pre"))
    runs = f"llama.cpp-ready, {vocabulary}" if arch in (DECODER_ARCH, ENCODER_ARCH) \
        else "distill pour only (bottled before encoders were llama.cpp BERT files)"
    return (f"gguf ({meta.get('gguf_type', '?')}; architecture {arch}; tensors: {types}; {runs})",
            "sealed digest of the whole file verified")


def choose_runtime(path: Path, runtime: str, arch: str) -> str:
    """"auto" is llama.cpp when llama-cpp-python is installed (and can run the file), else torch."""
    if runtime not in RUNTIMES:
        raise DistillError(f"unknown GGUF runtime '{runtime}'; valid: {', '.join(RUNTIMES)}")
    runnable = arch in (DECODER_ARCH, ENCODER_ARCH)  # not a layout-1 encoder ("distill-bert")
    installed = importlib.util.find_spec("llama_cpp") is not None
    if runtime == "auto":
        return "llama.cpp" if runnable and installed else "torch"
    if runtime == "llama.cpp" and not runnable:
        raise DistillError(f"{path}: llama.cpp cannot run architecture '{arch}' (an encoder bottled before "
                           "encoders became llama.cpp BERT files); use the torch runtime or bottle it again")
    if runtime == "llama.cpp" and not installed:
        raise DistillError("the llama.cpp runtime needs llama-cpp-python: pip install llama-cpp-python")
    return runtime


def open_runner(path, meta: dict, reader, runtime: str):
    """llama.cpp itself, or torch over the dequantised weights (Q/K rows un-permuted)."""
    config = json_field(path, meta, "config")
    runtime = choose_runtime(path, runtime, architecture(reader))
    if runtime == "llama.cpp":
        from ..runtimes.llamacpp import runner_for

        try:
            return runner_for(path, meta, config, reader), runtime
        except Exception as err:  # noqa: BLE001
            raise DistillError(f"{path}: llama.cpp cannot load this Spirit ({first_line(err)})") from None
    from ..runtimes.torch import model_from_state, runner_for
    from ..student import model_from_config_json

    try:
        state = state_dict_from_gguf(reader, model_from_config_json(meta["config"]).config)
    except Exception as err:  # noqa: BLE001
        raise DistillError(f"{path}: damaged .gguf Spirit: cannot rebuild its weights ({first_line(err)})") from None
    return runner_for(model_from_state(path, meta["config"], state)), "torch"
