"""A Spirit's tokenizer as a llama.cpp GGUF vocabulary, written the way llama.cpp's own converter
(convert_hf_to_gguf.py) writes the same tokenizer, so llama.cpp tokenizes text as we do.

- byte-level BPE (students trained from scratch): tokenizer model "gpt2" with merges; its
  pre-tokenizer "starcoder", whose llama.cpp regexes (every digit alone, then the GPT-2 pattern)
  are exactly our Sequence([Digits(individual_digits=True), ByteLevel]).
- WordPiece (students grown from a BERT base such as all-MiniLM-L6-v2): tokenizer model "bert".
  llama.cpp's WordPiece knows no "##": it puts a "phantom space" (U+2581) before each word and
  matches pieces against a vocabulary where word-initial pieces carry that space and
  continuations are bare, so every non-control token is rewritten: "##ing" -> "ing",
  "bank" -> "\u2581bank". It always starts a text with bos and ends it with sep, so bos is [CLS]
  and eos = sep is [SEP], as the converter writes them for a BERT.
"""
import json

from ..errors import DistillError
from ..student import normalizer_flags, special_ids

BPE_PRE_TOKENIZER = "starcoder"
# llama.cpp reads tokenizer.ggml.pre only for BPE; a WordPiece vocabulary always gets its BERT
# split (whitespace, punctuation, CJK characters), which llama.cpp names "default"
WORDPIECE_PRE_TOKENIZER = "default"
PHANTOM_SPACE = "\u2581"
# llama.cpp's BERT normalizer switches (both on when absent); gguf-py names them only in versions
# newer than the one this project pins, so the keys are spelled here
NORMALIZER_KEYS = {"lowercase": "tokenizer.ggml.normalizer.lowercase",
                   "strip_accents": "tokenizer.ggml.normalizer.strip_accents"}
MASK = "[MASK]"


def describe_vocabulary(tokenizer_model: str, pre: str) -> str:
    """One phrase for `distill inspect`, from the file's tokenizer.ggml.model and .pre keys."""
    if tokenizer_model == "bert":
        return "WordPiece vocabulary (llama.cpp bert)"
    return f"{tokenizer_model} BPE vocabulary, pre-tokenizer {pre}"


def add_vocabulary(writer, tokenizer):
    """The tokenizer as the GGUF vocabulary llama.cpp reads for its kind."""
    spec = json.loads(tokenizer.to_str())
    model_type = spec["model"]["type"]
    if model_type not in _WRITERS:  # a local base's own tokenizer may be anything
        raise DistillError(f"bottle.formats: a .gguf holds a BPE or WordPiece tokenizer, not this Spirit's {model_type}; "
                           "bottle it as pt or onnx")
    _WRITERS[model_type](writer, tokenizer, spec)


def _tokens_by_id(tokenizer) -> list[str]:
    vocab = tokenizer.get_vocab(with_added_tokens=True)
    tokens = sorted(vocab, key=vocab.get)
    if [vocab[t] for t in tokens] != list(range(len(tokens))):
        raise ValueError("tokenizer ids are not contiguous; cannot write a GGUF vocabulary")
    return tokens


def _add_bpe(writer, tokenizer, spec: dict):
    import gguf

    special = special_ids(tokenizer)
    tokens, control = _tokens_by_id(tokenizer), set(special.values())
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(BPE_PRE_TOKENIZER)
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType.CONTROL if i in control else gguf.TokenType.NORMAL
                            for i in range(len(tokens))])
    writer.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in spec["model"]["merges"]])
    writer.add_bos_token_id(special["bos"])
    writer.add_eos_token_id(special["eos"])
    writer.add_pad_token_id(special["pad"])
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)


def wordpiece_token_types(tokenizer, spec: dict) -> list[int]:
    """As the converter types them: added special tokens CONTROL, other added tokens
    USER_DEFINED, the WordPiece vocabulary NORMAL."""
    import gguf

    added = {t["id"]: t["special"] for t in spec.get("added_tokens", [])}
    types = {True: gguf.TokenType.CONTROL, False: gguf.TokenType.USER_DEFINED}
    return [types[added[i]] if i in added else gguf.TokenType.NORMAL for i in range(tokenizer.get_vocab_size())]


def phantom_space(token: str, token_type: int, prefix: str = "##") -> str:
    """One WordPiece token as llama.cpp's vocabulary spells it (control tokens stay as they are)."""
    import gguf

    if token_type == gguf.TokenType.CONTROL:
        return token
    return token[len(prefix):] if token.startswith(prefix) else PHANTOM_SPACE + token


def wordpiece_special_ids(tokenizer, spec: dict) -> dict:
    """The ids llama.cpp's BERT reads: bos is the [CLS] our encoder inputs start with, eos and
    sep the [SEP] they end with, unk the WordPiece model's own, pad, and mask when there is one."""
    special, unk = special_ids(tokenizer), spec["model"].get("unk_token", "[UNK]")
    ids = {"bos": special["bos"], "eos": special["eos"], "sep": special["eos"], "pad": special["pad"],
           "unk": tokenizer.token_to_id(unk)}
    names = {"bos": "[CLS]", "eos": "[SEP]", "sep": "[SEP]", "pad": "[PAD]", "unk": unk}
    missing = sorted({names[role] for role, token_id in ids.items() if token_id is None})
    if missing:
        raise DistillError(f"bottle.formats: llama.cpp's BERT needs {', '.join(missing)} in the tokenizer; "
                           "bottle this Spirit as pt or onnx")
    mask = tokenizer.token_to_id(MASK)
    return ids if mask is None else {**ids, "mask": mask}


def _add_wordpiece(writer, tokenizer, spec: dict):
    types = wordpiece_token_types(tokenizer, spec)
    prefix = spec["model"].get("continuing_subword_prefix") or "##"
    tokens = [phantom_space(token, token_type, prefix) for token, token_type in zip(_tokens_by_id(tokenizer), types)]
    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre(WORDPIECE_PRE_TOKENIZER)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    for role, token_id in wordpiece_special_ids(tokenizer, spec).items():
        getattr(writer, f"add_{role}_token_id")(token_id)
    # what the converter derives from the [CLS] $A [SEP] template; llama.cpp's BERT adds [CLS]
    # and [SEP] to every text it tokenizes with special tokens, whatever these say
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(True)
    writer.add_add_sep_token(False)
    # both always written: llama.cpp turns both on when absent, which would lowercase a cased vocabulary
    for name, value in normalizer_flags(spec.get("normalizer")).items():
        writer.add_bool(NORMALIZER_KEYS[name], value)


_WRITERS = {"BPE": _add_bpe, "WordPiece": _add_wordpiece}
