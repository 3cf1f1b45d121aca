"""Eager PyTorch runners: greedy decoding with a KV cache, and one encoder forward pass."""
from pathlib import Path

from ..errors import DistillError


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
        return self.forward_many([ids])[0]

    def forward_many(self, batch: list[list[int]]):
        """Logits for several inputs of one length at once."""
        import torch

        with torch.no_grad():
            x = torch.tensor(batch)
            return self.model(input_ids=x, attention_mask=torch.ones_like(x)).logits.numpy()


def runner_for(model):
    return TorchRunner(model) if model.config.model_type == "llama" else TorchEncoderRunner(model)


def model_from_state(path: Path, config_json: str, state_dict):
    """The student rebuilt from its config and weights; a mismatch is one line, not a traceback."""
    from ..formats import first_line
    from ..student import model_from_config_json

    try:
        model = model_from_config_json(config_json)
        model.load_state_dict(state_dict)
    except Exception as err:  # noqa: BLE001
        raise DistillError(f"{path}: damaged Spirit: its weights do not fit its config ({first_line(err)})") from None
    return model.eval()
