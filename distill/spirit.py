"""Spirits: load any bottle and pour predictions from it, the same way for every format.

A runner wraps one runtime (torch, onnxruntime, llama.cpp) behind `generate(prompt_ids, ..., pick) -> new ids`
for decoders or `forward(ids) -> logits` for encoders; `pick` is the same constrained greedy
choice (distill/decoding.py) in every runtime, so lossless formats give the same answers.
"""
import contextlib
import importlib.util
import json
import os
from pathlib import Path

from .decoding import TokenPieces, choose
from .errors import DistillError
from .gguf_bottle import DECODER_ARCH, ENCODER_ARCH, read_strings
from .integrity import check_sealed, check_zip, gguf_entry_prefix, onnx_entry_prefix
from .student import load_tokenizer, special_ids
from .tasks import task_type

SPIRIT_FORMAT = "distillarium-spirit"
SPIRIT_VERSION = 2  # 2: .onnx and .gguf bottles carry an integrity seal


class TorchRunner:
    """Greedy decoding with a KV cache in eager PyTorch."""

    def __init__(self, model):
        import inspect

        self.model = model.eval()
        # transformers renamed past_key_values -> cache (5.x); the cache object is updated in place
        self.cache_arg = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"

    def generate(self, prompt_ids: list[int], max_new_tokens: int, eos_id: int, pick) -> list[int]:
        import torch
        from transformers import DynamicCache

        cache = DynamicCache(config=self.model.config)
        out_ids = []
        with torch.no_grad():
            logits = self.model(input_ids=torch.tensor([prompt_ids]), use_cache=True, **{self.cache_arg: cache}).logits
            for _ in range(max_new_tokens):
                next_id = pick(logits[0, -1].numpy(), out_ids)
                if next_id == eos_id:
                    break
                out_ids.append(next_id)
                logits = self.model(input_ids=torch.tensor([[next_id]]), use_cache=True,
                                    **{self.cache_arg: cache}).logits
        return out_ids


class TorchEncoderRunner:
    """One forward pass of an encoder (classification or token tagging) in eager PyTorch."""

    def __init__(self, model):
        self.model = model.eval()

    def forward(self, ids: list[int]):
        import torch

        with torch.no_grad():
            x = torch.tensor([ids])
            return self.model(input_ids=x, attention_mask=torch.ones_like(x)).logits[0].numpy()


class OnnxRunner:
    """Greedy decoding in onnxruntime. A decoder graph with past_key_values inputs is run one
    cached step per token; an older graph without them re-runs the whole sequence each token."""

    def __init__(self, session):
        self.session = session
        self.cache_inputs = [i for i in session.get_inputs() if i.name.startswith("past_key_values.")]
        self.output_names = [o.name for o in session.get_outputs()]

    def _empty_cache(self) -> dict:
        import numpy as np

        # [batch, kv_heads, past, head_dim]: kv_heads and head_dim are fixed numbers in the graph
        return {i.name: np.zeros((1, i.shape[1], 0, i.shape[3]), dtype=np.float32) for i in self.cache_inputs}

    def generate(self, prompt_ids: list[int], max_new_tokens: int, eos_id: int, pick) -> list[int]:
        if not self.cache_inputs:
            return self._generate_uncached(prompt_ids, max_new_tokens, eos_id, pick)
        import numpy as np

        feeds = {"input_ids": np.array([prompt_ids], dtype=np.int64), **self._empty_cache()}
        length, out_ids = len(prompt_ids), []
        for _ in range(max_new_tokens):
            feeds["attention_mask"] = np.ones((1, length), dtype=np.int64)
            outputs = dict(zip(self.output_names, self.session.run(None, feeds)))
            next_id = pick(outputs["logits"][0, -1], out_ids)
            if next_id == eos_id:
                break
            out_ids.append(next_id)
            feeds = {"input_ids": np.array([[next_id]], dtype=np.int64),
                     **{i.name: outputs[i.name.replace("past_key_values.", "present.", 1)] for i in self.cache_inputs}}
            length += 1
        return out_ids

    def _generate_uncached(self, prompt_ids, max_new_tokens, eos_id, pick) -> list[int]:
        ids, out_ids = list(prompt_ids), []
        for _ in range(max_new_tokens):
            next_id = pick(self.forward(ids)[-1], out_ids)
            if next_id == eos_id:
                break
            out_ids.append(next_id)
            ids.append(next_id)
        return out_ids

    def forward(self, ids: list[int]):
        """Logits for every position of one input (a decoder graph gets an empty cache)."""
        import numpy as np

        x = np.array([ids], dtype=np.int64)
        feeds = {"input_ids": x, "attention_mask": np.ones_like(x), **self._empty_cache()}
        return self.session.run(["logits"], feeds)[0][0]


class LlamaCppRunner:
    """Greedy decoding in llama.cpp (llama-cpp-python) from a .gguf bottle; logits come back to
    Python so the same constrained choice (distill/decoding.py) picks every token."""

    def __init__(self, path, n_ctx: int, f32_cache: bool):
        # llama.cpp's default f16 KV cache would round what an f32 or f16 file computes
        f32_kv = {"type_k": 0, "type_v": 0} if f32_cache else {}  # GGML_TYPE_F32
        self.llm = _open_llama(path, n_ctx, **f32_kv)

    def _last_logits(self):
        """The last evaluated token's logits (llama-cpp-python keeps them only with logits_all)."""
        import llama_cpp
        import numpy as np

        pointer = llama_cpp.llama_get_logits_ith(self.llm.ctx, -1)
        return np.ctypeslib.as_array(pointer, shape=(self.llm.n_vocab(),)).copy()

    def generate(self, prompt_ids: list[int], max_new_tokens: int, eos_id: int, pick) -> list[int]:
        self.llm.reset()
        self.llm.eval(list(prompt_ids))
        out_ids = []
        for _ in range(max_new_tokens):
            next_id = pick(self._last_logits(), out_ids)
            if next_id == eos_id:
                break
            out_ids.append(next_id)
            self.llm.eval([next_id])
        return out_ids


class LlamaCppEncoderRunner:
    """One forward pass of a BERT Spirit in llama.cpp (embedding mode), same logits as
    TorchEncoderRunner. A sequence head runs whole in llama.cpp: pooling "rank" takes the first
    token through the pooler (`cls`) and classifier (`cls.output`) and hands back the label
    logits. A token head gets each token's final hidden state (pooling "none"); its classifier,
    read from the same file, is applied here: llama.cpp has no per-token classifier pooling."""

    def __init__(self, path, n_ctx: int, n_labels: int, classifier=None):
        self.llm = _open_llama(path, n_ctx, embedding=True)  # no KV cache type: BERT attends without one
        self.n_labels, self.classifier = n_labels, classifier

    def forward(self, ids: list[int]):
        import llama_cpp
        import numpy as np

        # Llama.embed would re-tokenize text; a Spirit's ids come from its own tokenizer
        llm = self.llm
        llm._batch.reset()
        llm._batch.add_sequence(list(ids), 0, True)  # every token an output: llama.cpp wants all in embedding mode
        llm._ctx.kv_cache_clear()
        llm._ctx.decode(llm._batch)
        if self.classifier is None:
            pooled = llama_cpp.llama_get_embeddings_seq(llm.ctx, 0)
            return np.ctypeslib.as_array(pooled, shape=(self.n_labels,)).copy()
        states = np.ctypeslib.as_array(llama_cpp.llama_get_embeddings(llm.ctx), shape=(len(ids), llm.n_embd()))
        weight, bias = self.classifier
        return states @ weight.T + bias


def _open_llama(path, n_ctx: int, **options):
    """A llama-cpp-python model over one .gguf; a refusal is llama.cpp's own last log line."""
    import io

    from llama_cpp import Llama

    options = {"model_path": str(path), "n_ctx": n_ctx, "n_batch": n_ctx, "n_ubatch": n_ctx,
               "n_threads": threads(), "n_threads_batch": threads(), "verbose": False, **options}
    # llama.cpp warns on stderr that it pads a small context to 256; a pour prints answers only
    with _without_weight_repacking(), contextlib.redirect_stderr(io.StringIO()) as log:
        try:
            return Llama(**options)
        except Exception as err:  # noqa: BLE001 - llama.cpp's own last log line says why
            lines = log.getvalue().strip().splitlines()
            raise RuntimeError(lines[-1] if lines else str(err)) from None


@contextlib.contextmanager
def _without_weight_repacking():
    """Load a llama.cpp model without "extra buffer types" (weights repacked for AMX and similar
    kernels): on this AMX CPU the repacked q8_0/q4_0 matmul segfaults on small matrices
    (ggml_backend_amx_mul_mat; llama.cpp issue #20824). Repacking gains nothing at our sizes."""
    import llama_cpp.llama_cpp as low

    default = low.llama_model_default_params

    def without_repacking():
        params = default()
        params.use_extra_bufts = False
        return params

    low.llama_model_default_params = without_repacking
    try:
        yield
    finally:
        low.llama_model_default_params = default


class Spirit:
    """A loaded bottle: runner + tokenizer + the Recipe that made it."""

    def __init__(self, path, fmt, runner, tokenizer, recipe, recipe_hash, proof, config):
        self.path, self.format, self.runner, self.tokenizer = path, fmt, runner, tokenizer
        self.recipe, self.recipe_hash, self.proof, self.config = recipe, recipe_hash, proof, config
        self.meta = {}  # the raw strings embedded in the bottle
        self.runtime = "torch"
        self.task = task_type(recipe["task"]["type"])
        self.eos_id = special_ids(tokenizer)["eos"]
        self.pieces = TokenPieces(tokenizer)

    @property
    def max_length(self) -> int:
        return self.config.get("max_position_embeddings", 512)

    def generate(self, prompt_ids: list[int], valid=None) -> str:
        """Decoder Spirits: constrained greedy continuation of the prompt, as text."""

        def pick(logits, out_ids):
            return choose(logits, self.tokenizer.decode(out_ids), self.pieces, valid, self.eos_id)

        budget = max(1, self.max_length - len(prompt_ids))
        return self.tokenizer.decode(self.runner.generate(prompt_ids, budget, self.eos_id, pick))

    def forward(self, ids: list[int]):
        """Encoder Spirits: logits for one input (labels, or tokens x tags), as numpy."""
        return self.runner.forward(ids)

    def predict(self, text: str, context=None) -> dict:
        """One prediction; context is task-specific (the tools offered, for tool calling)."""
        return self.task.predict(self, text, context)

    def predict_example(self, example) -> dict:
        return self.predict(self.task.input_text(example), self.task.example_context(example))


def threads() -> int:
    return int(os.environ.get("DISTILL_THREADS", os.cpu_count() or 1))


def torch_runner(model):
    return TorchRunner(model) if model.config.model_type == "llama" else TorchEncoderRunner(model)


def spirit_from_model(model, tokenizer, recipe: dict, recipe_hash="", proof=None) -> Spirit:
    return Spirit(None, "torch", torch_runner(model), tokenizer, recipe, recipe_hash, proof,
                  json.loads(model.config.to_json_string()))


SUFFIXES = (".pt", ".onnx", ".gguf")
RUNTIMES = ("auto", "torch", "llama.cpp")


def load_spirit(path, runtime: str | None = None) -> Spirit:
    """Load any bottle; every failure is one DistillError line. `runtime` (or $DISTILL_GGUF_RUNTIME)
    picks how a .gguf runs: llama.cpp when llama-cpp-python is installed, else torch ("auto")."""
    path = Path(path)
    if not path.is_file():
        raise DistillError(f"{path}: no such Spirit file")
    suffix = path.suffix.lower()
    if suffix == ".pt":
        return _load_pt(path)
    if suffix == ".onnx":
        return _load_onnx(path)
    if suffix == ".gguf":
        return _load_gguf(path, runtime or os.environ.get("DISTILL_GGUF_RUNTIME", "auto"))
    raise DistillError(f"{path}: unknown Spirit format '{suffix}'; valid: {', '.join(SUFFIXES)}")


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0][:160]}" if text else type(err).__name__


def _check_marker(path: Path, meta: dict, where: str):
    if meta.get("format") != SPIRIT_FORMAT:
        raise DistillError(f"{path}: not a Distillarium Spirit (no format marker in its {where})")
    for key in ("recipe", "recipe_hash", "config", "tokenizer", "proof"):
        if not isinstance(meta.get(key), str):
            raise DistillError(f"{path}: damaged Spirit: its {where} has no '{key}'")


def _model(path: Path, config_json: str, state_dict):
    """The student rebuilt from its config and weights; a mismatch is one line, not a traceback."""
    from .student import model_from_config_json

    try:
        model = model_from_config_json(config_json)
        model.load_state_dict(state_dict)
    except Exception as err:  # noqa: BLE001
        raise DistillError(f"{path}: damaged Spirit: its weights do not fit its config ({_first_line(err)})") from None
    return model.eval()


def _spirit(path: Path, fmt: str, runner, meta: dict) -> Spirit:
    try:
        spirit = Spirit(path, fmt, runner, load_tokenizer(meta["tokenizer"]), json.loads(meta["recipe"]),
                        meta["recipe_hash"], json.loads(meta["proof"]), json.loads(meta["config"]))
    except Exception as err:  # noqa: BLE001 - a damaged string is one line
        raise DistillError(f"{path}: damaged Spirit metadata ({_first_line(err)})") from None
    spirit.meta = meta
    return spirit


def read_pt(path: Path) -> tuple[dict, dict]:
    """(strings, state dict) of a .pt Spirit: its zip CRCs checked, then loaded as plain data."""
    import torch

    check_zip(path)
    try:
        # weights_only: a Spirit is data, never code; a pickle that would run code is refused here
        blob = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as err:  # noqa: BLE001 - any unreadable file is one clear line
        raise DistillError(f"{path}: not a loadable .pt Spirit ({_first_line(err)})") from None
    if not isinstance(blob, dict) or blob.get("format") != SPIRIT_FORMAT:
        raise DistillError(f"{path}: not a Distillarium Spirit (missing format marker)")
    meta = {k: v for k, v in blob.items() if isinstance(v, str)}
    _check_marker(path, meta, "dict")
    if not isinstance(blob.get("state_dict"), dict):
        raise DistillError(f"{path}: damaged Spirit: no state_dict")
    return meta, blob["state_dict"]


def _load_pt(path: Path) -> Spirit:
    meta, state_dict = read_pt(path)
    return _spirit(path, "pt", torch_runner(_model(path, meta["config"], state_dict)), meta)


def read_onnx(path: Path):
    """(strings, ModelProto) of an .onnx Spirit; a sealed file is checked byte for byte first."""
    import onnx

    sealed = _has_seal(path, onnx_entry_prefix())
    if sealed:
        check_sealed(path, onnx_entry_prefix(), ".onnx")
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except Exception as err:  # noqa: BLE001
        raise DistillError(f"{path}: not a loadable .onnx Spirit ({_first_line(err)})") from None
    meta = {p.key.removeprefix("distill."): p.value for p in model.metadata_props if p.key.startswith("distill.")}
    _check_marker(path, meta, "metadata")
    if not sealed and meta.get("version", "1") != "1":  # sealed since version 2: a lost seal means a cut-off file
        raise DistillError(f"{path}: corrupted .onnx Spirit: its integrity seal is missing (truncated?)")
    return meta, model


def _has_seal(path: Path, prefix: bytes) -> bool:
    with open(path, "rb") as f:
        return prefix in f.read()


def _load_onnx(path: Path) -> Spirit:
    import onnxruntime

    meta, model = read_onnx(path)
    try:
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        if "DISTILL_THREADS" in os.environ:
            options.intra_op_num_threads = threads()
        session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001
        raise DistillError(f"{path}: onnxruntime cannot run this Spirit ({_first_line(err)})") from None
    spirit = _spirit(path, "onnx", OnnxRunner(session), meta)
    spirit.onnx_model = model
    spirit.runtime = "onnxruntime"
    return spirit


def read_gguf(path: Path):
    """(strings, GGUFReader) of a .gguf Spirit, checked byte for byte before gguf-py parses it."""
    from gguf import GGUFReader

    check_sealed(path, gguf_entry_prefix(), ".gguf")
    try:
        reader = GGUFReader(str(path))
        meta = read_strings(reader)
    except Exception as err:  # noqa: BLE001
        raise DistillError(f"{path}: not a loadable .gguf Spirit ({_first_line(err)})") from None
    _check_marker(path, meta, "distill.* keys")
    return meta, reader


def _gguf_runtime(path: Path, runtime: str, arch: str) -> str:
    if runtime not in RUNTIMES:
        raise DistillError(f"unknown GGUF runtime '{runtime}'; valid: {', '.join(RUNTIMES)}")
    runnable = arch in (DECODER_ARCH, ENCODER_ARCH)  # not a layout-1 encoder ("distill-bert")
    if runtime == "auto":
        return "llama.cpp" if runnable and importlib.util.find_spec("llama_cpp") else "torch"
    if runtime == "llama.cpp" and not runnable:
        raise DistillError(f"{path}: llama.cpp cannot run architecture '{arch}' (an encoder bottled before "
                           "encoders became llama.cpp BERT files); use the torch runtime or bottle it again")
    if runtime == "llama.cpp" and not importlib.util.find_spec("llama_cpp"):
        raise DistillError("the llama.cpp runtime needs llama-cpp-python: pip install llama-cpp-python")
    return runtime


def _llama_cpp_runner(path: Path, meta: dict, config: dict, reader):
    from .gguf_bottle import classifier_weights, is_sequence_head

    n_ctx = config.get("max_position_embeddings", 512)
    if config.get("model_type") == "llama":
        return LlamaCppRunner(path, n_ctx, f32_cache=meta.get("gguf_type") in ("f32", "f16"))
    classifier = None if is_sequence_head(config.get("architectures")) else classifier_weights(reader)
    return LlamaCppEncoderRunner(path, n_ctx, len(config["id2label"]), classifier)


def _load_gguf(path: Path, runtime: str) -> Spirit:
    from .gguf_bottle import architecture, state_dict_from_gguf

    meta, reader = read_gguf(path)
    config = _json_field(path, meta, "config")
    runtime = _gguf_runtime(path, runtime, architecture(reader))
    if runtime == "llama.cpp":
        try:
            runner = _llama_cpp_runner(path, meta, config, reader)
        except Exception as err:  # noqa: BLE001
            raise DistillError(f"{path}: llama.cpp cannot load this Spirit ({_first_line(err)})") from None
    else:
        from .student import model_from_config_json

        try:
            state = state_dict_from_gguf(reader, model_from_config_json(meta["config"]).config)
        except Exception as err:  # noqa: BLE001
            raise DistillError(f"{path}: damaged .gguf Spirit: cannot rebuild its weights ({_first_line(err)})") from None
        runner = torch_runner(_model(path, meta["config"], state))
    spirit = _spirit(path, "gguf", runner, meta)
    spirit.gguf_reader = reader
    spirit.runtime = runtime
    return spirit


def _json_field(path: Path, meta: dict, key: str):
    try:
        return json.loads(meta[key])
    except Exception as err:  # noqa: BLE001
        raise DistillError(f"{path}: damaged Spirit metadata '{key}' ({_first_line(err)})") from None
