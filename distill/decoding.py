"""Greedy decoding, optionally constrained: the highest-scoring token whose text keeps the output
valid for the task (e.g. a tool name offered in the prompt, argument values copied from the
input). Runners only produce logits; this choice is shared, so every runtime decodes alike."""
import numpy as np

CANDIDATES = 64  # look at the best tokens first; a full scan only when none of them is valid


class TokenPieces:
    """The text each token id decodes to, computed once per tokenizer."""

    def __init__(self, tokenizer):
        self.pieces = [tokenizer.decode([i], skip_special_tokens=False) for i in range(tokenizer.get_vocab_size())]


def choose(logits, text_so_far: str, pieces: TokenPieces, valid, eos_id: int, complete=None) -> int:
    """argmax over tokens t with valid(text_so_far + piece(t)). End-of-sequence is allowed where
    complete(text_so_far) says the output may stop (always, without `complete`), and is the
    answer when no token is valid, so decoding always ends."""
    logits = np.asarray(logits, dtype=np.float32)
    may_stop = complete is None or complete(text_so_far)
    best = int(logits.argmax())
    if valid is None and (may_stop or best != eos_id):
        return best
    order = np.argsort(-logits, kind="stable")
    for token in list(order[:CANDIDATES]) + list(order[CANDIDATES:]):
        token = int(token)
        if token == eos_id:
            if may_stop:
                return token
        elif valid is None or valid(text_so_far + pieces.pieces[token]):
            return token
    return eos_id
