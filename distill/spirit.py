"""Spirits: load any bottle and pour predictions from it, the same way for every format.

A runner wraps one runtime (torch, onnxruntime) behind `generate(prompt_ids, ..., pick) -> new ids`;
`pick` is the same constrained greedy choice (distill/decoding.py) in every runtime, so
lossless formats give the same answers.
"""
import json
from pathlib import Path

from .decoding import TokenPieces, choose
from .errors import DistillError
from .student import encode_prompt, load_tokenizer, special_ids
from .tasks import task_type

SPIRIT_FORMAT = "distillarium-spirit"
SPIRIT_VERSION = 1


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
    """Greedy decoding in onnxruntime; the graph takes (input_ids, attention_mask) -> logits."""

    def __init__(self, session):
        self.session = session

    def generate(self, prompt_ids: list[int], max_new_tokens: int, eos_id: int, pick) -> list[int]:
        import numpy as np

        ids = list(prompt_ids)
        out_ids = []
        for _ in range(max_new_tokens):
            x = np.array([ids], dtype=np.int64)
            logits = self.session.run(["logits"], {"input_ids": x, "attention_mask": np.ones_like(x)})[0]
            next_id = pick(logits[0, -1], out_ids)
            if next_id == eos_id:
                break
            out_ids.append(next_id)
            ids.append(next_id)
        return out_ids

    def forward(self, ids: list[int]):
        import numpy as np

        x = np.array([ids], dtype=np.int64)
        return self.session.run(["logits"], {"input_ids": x, "attention_mask": np.ones_like(x)})[0][0]


class Spirit:
    """A loaded bottle: runner + tokenizer + the Recipe that made it."""

    def __init__(self, path, fmt, runner, tokenizer, recipe, recipe_hash, proof, config):
        self.path, self.format, self.runner, self.tokenizer = path, fmt, runner, tokenizer
        self.recipe, self.recipe_hash, self.proof, self.config = recipe, recipe_hash, proof, config
        self.meta = {}  # the raw strings embedded in the bottle
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


def torch_runner(model):
    return TorchRunner(model) if model.config.model_type == "llama" else TorchEncoderRunner(model)


def spirit_from_model(model, tokenizer, recipe: dict, recipe_hash="", proof=None) -> Spirit:
    return Spirit(None, "torch", torch_runner(model), tokenizer, recipe, recipe_hash, proof,
                  json.loads(model.config.to_json_string()))


def load_spirit(path) -> Spirit:
    path = Path(path)
    if not path.exists():
        raise DistillError(f"{path}: no such Spirit file")
    suffix = path.suffix.lower()
    if suffix == ".pt":
        return _load_pt(path)
    if suffix == ".onnx":
        return _load_onnx(path)
    raise DistillError(f"{path}: unknown Spirit format '{suffix}'; valid: .pt, .onnx")


def _load_pt(path: Path) -> Spirit:
    import torch

    from .student import model_from_config_json

    try:
        # weights_only: a Spirit is data, never code; a pickle that would run code is refused here
        blob = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as err:  # noqa: BLE001 - any unreadable file is one clear line
        raise DistillError(f"{path}: not a loadable .pt Spirit ({type(err).__name__}: {str(err).splitlines()[0][:160]})") from None
    if not isinstance(blob, dict) or blob.get("format") != SPIRIT_FORMAT:
        raise DistillError(f"{path}: not a Distillarium Spirit (missing format marker)")
    model = model_from_config_json(blob["config"])
    model.load_state_dict(blob["state_dict"])
    spirit = Spirit(path, "pt", torch_runner(model), load_tokenizer(blob["tokenizer"]), json.loads(blob["recipe"]),
                    blob["recipe_hash"], json.loads(blob["proof"]), json.loads(blob["config"]))
    spirit.meta = {k: v for k, v in blob.items() if isinstance(v, str)}
    return spirit


def _load_onnx(path: Path) -> Spirit:
    import onnx
    import onnxruntime

    try:
        model = onnx.load(str(path))
        meta = {p.key: p.value for p in model.metadata_props}
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001
        raise DistillError(f"{path}: not a loadable .onnx Spirit ({type(err).__name__}: {str(err).splitlines()[0][:160]})") from None
    if meta.get("distill.format") != SPIRIT_FORMAT:
        raise DistillError(f"{path}: not a Distillarium Spirit (no distill.format metadata)")
    spirit = Spirit(path, "onnx", OnnxRunner(session), load_tokenizer(meta["distill.tokenizer"]),
                    json.loads(meta["distill.recipe"]), meta["distill.recipe_hash"], json.loads(meta["distill.proof"]),
                    json.loads(meta["distill.config"]))
    spirit.meta = {k.removeprefix("distill."): v for k, v in meta.items()}
    spirit.onnx_model = model
    return spirit
