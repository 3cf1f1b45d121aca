"""onnxruntime runner: a decoder graph with past_key_values inputs runs one cached step per
token; an older graph without them re-runs the whole sequence each token."""
import os

from ..errors import DistillError
from . import threads


def session(path, model_proto):
    import onnxruntime

    from ..formats import first_line

    try:
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        if "DISTILL_THREADS" in os.environ:
            options.intra_op_num_threads = threads()
        return onnxruntime.InferenceSession(model_proto.SerializeToString(), options,
                                            providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001
        raise DistillError(f"{path}: onnxruntime cannot run this Spirit ({first_line(err)})") from None


class OnnxRunner:
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
        return self.forward_many([ids])[0]

    def forward_many(self, batch: list[list[int]]):
        """Logits for several inputs of one length at once."""
        import numpy as np

        x = np.array(batch, dtype=np.int64)
        feeds = {"input_ids": x, "attention_mask": np.ones_like(x)}
        if self.cache_inputs:
            feeds.update({name: np.repeat(empty, len(batch), axis=0) for name, empty in self._empty_cache().items()})
        return self.session.run(["logits"], feeds)[0]
