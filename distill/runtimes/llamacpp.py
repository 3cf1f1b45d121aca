"""llama.cpp runners (llama-cpp-python) over a .gguf bottle: logits come back to Python so the
same constrained choice (distill/decoding.py) picks every token."""
import contextlib

from . import threads


class LlamaCppRunner:
    """Greedy decoding in llama.cpp (llama-cpp-python) from a .gguf bottle; logits come back to
    Python so the same constrained choice (distill/decoding.py) picks every token."""

    def __init__(self, path, n_ctx: int, f32_cache: bool):
        # llama.cpp's default f16 KV cache would round what an f32 or f16 file computes
        f32_kv = {"type_k": 0, "type_v": 0} if f32_cache else {}  # GGML_TYPE_F32
        self.llm = open_llama(path, n_ctx, **f32_kv)

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
        self.llm = open_llama(path, n_ctx, embedding=True)  # no KV cache type: BERT attends without one
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

    def forward_many(self, batch: list[list[int]]):
        import numpy as np

        return np.stack([self.forward(ids) for ids in batch])


def open_llama(path, n_ctx: int, **options):
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


def runner_for(path, meta: dict, config: dict, reader):
    """A decoder or encoder runner for one .gguf file, as its config says."""
    from ..formats.gguf import classifier_weights, is_sequence_head

    n_ctx = config.get("max_position_embeddings", 512)
    if config.get("model_type") == "llama":
        return LlamaCppRunner(path, n_ctx, f32_cache=meta.get("gguf_type") in ("f32", "f16"))
    classifier = None if is_sequence_head(config.get("architectures")) else classifier_weights(reader)
    return LlamaCppEncoderRunner(path, n_ctx, len(config["id2label"]), classifier)
