"""Runtimes: one runner per engine (torch, onnxruntime, llama.cpp). A runner only computes:
`generate(prompt_ids, max_new_tokens, eos_id, pick) -> new ids` for decoders, where `pick` is
the shared constrained choice of distill/decoding.py, or `forward(ids) -> logits` for encoders.
So every runtime decodes alike and lossless bottles give the same answers."""
import os


def threads() -> int:
    """Threads for every runtime: DISTILL_THREADS, else every core."""
    return int(os.environ.get("DISTILL_THREADS", os.cpu_count() or 1))
