"""The student: its tokenizer and its transformer. From scratch (student.init: scratch), the
tokenizer is a byte-level BPE trained on the hearts only and the model is sized by the Recipe;
from a pretrained base (bases.py), both are the base's (a BERT base's tokenizer is WordPiece),
with a new head for the task."""
import json

PAD, BOS, EOS = "<pad>", "<s>", "</s>"
SPECIAL_TOKENS = [PAD, BOS, EOS]
# A BERT base's WordPiece tokenizer names the same roles [PAD], [CLS], [SEP]
SPECIAL_ROLES = {"pad": (PAD, "[PAD]"), "bos": (BOS, "[CLS]"), "eos": (EOS, "[SEP]")}


def train_tokenizer(texts, vocab_size: int):
    """Byte-level BPE with every digit its own token: copying "2061" from the input is then a
    digit-by-digit copy, not a guess among merged number chunks."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


def load_tokenizer(tokenizer_json: str):
    from tokenizers import Tokenizer

    return Tokenizer.from_str(tokenizer_json)


def special_ids(tokenizer) -> dict:
    """pad, bos and eos ids, whichever naming the tokenizer uses (<s> ... or [CLS] ...)."""
    found = {}
    for role, names in SPECIAL_ROLES.items():
        ids = [tokenizer.token_to_id(name) for name in names]
        found[role] = next((i for i in ids if i is not None), None)
    return found


def normalizer_flags(normalizer: dict | None) -> dict:
    """Whether a tokenizer's normalizer (its tokenizer.json entry) lowercases and strips accents."""
    flags = {"lowercase": False, "strip_accents": False}

    def visit(node):
        node_type = (node or {}).get("type")
        if node_type == "Sequence":
            for child in node["normalizers"]:
                visit(child)
        elif node_type in ("Lowercase", "StripAccents"):
            flags["lowercase" if node_type == "Lowercase" else "strip_accents"] = True
        elif node_type == "BertNormalizer":
            flags["lowercase"] = bool(node.get("lowercase", True))
            strip = node.get("strip_accents")  # None: strip when lowercasing, as BertNormalizer does
            flags["strip_accents"] = flags["lowercase"] if strip is None else bool(strip)

    visit(normalizer)
    return flags


def describe_tokenizer(tokenizer) -> str:
    """What kind of tokenizer a Spirit carries, for `distill inspect`: "byte-level BPE, digits
    split" (trained from scratch), "WordPiece, uncased" (a BERT base's), ..."""
    spec = json.loads(tokenizer.to_str())
    model = spec["model"]["type"]
    if model == "WordPiece":
        return "WordPiece, " + ("uncased" if normalizer_flags(spec.get("normalizer"))["lowercase"] else "cased")
    pre = spec.get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers", [pre]) if pre.get("type") == "Sequence" else [pre]
    byte_level = any(step.get("type") == "ByteLevel" for step in steps)
    digits = any(step.get("type") == "Digits" and step.get("individual_digits") for step in steps)
    return ("byte-level " if byte_level else "") + model + (", digits split" if digits else "")


def encode_prompt(tokenizer, prompt: str) -> list[int]:
    return [special_ids(tokenizer)["bos"]] + tokenizer.encode(prompt, add_special_tokens=False).ids


def encode_example(tokenizer, prompt: str, target: str, max_length: int):
    """Token ids and labels; the loss is on the target (and its end token) only."""
    prompt_ids = encode_prompt(tokenizer, prompt)
    target_ids = tokenizer.encode(target, add_special_tokens=False).ids + [tokenizer.token_to_id(EOS)]
    ids = (prompt_ids + target_ids)[:max_length]
    labels = ([-100] * len(prompt_ids) + target_ids)[:max_length]
    return ids, labels


def encode_text(tokenizer, text: str, max_length: int) -> list[int]:
    """Encoder input: <s> text </s> (or [CLS] text [SEP]), truncated."""
    ids = tokenizer.encode(text, add_special_tokens=False).ids[: max_length - 2]
    special = special_ids(tokenizer)
    return [special["bos"]] + ids + [special["eos"]]


ENCODER_HEADS = {"sequence": "BertForSequenceClassification", "token": "BertForTokenClassification"}


def model_config(student: dict, tokenizer, head: str = "causal_lm", num_labels: int = 0):
    """A transformers config sized by the Recipe's student section: a Llama-style decoder for
    generation, a BERT-style encoder with a classification or token-tagging head otherwise."""
    ids = special_ids(tokenizer)
    if student["arch"] == "llama":
        from transformers import LlamaConfig

        return LlamaConfig(
            vocab_size=tokenizer.get_vocab_size(), hidden_size=student["hidden_size"],
            intermediate_size=student["intermediate_size"], num_hidden_layers=student["layers"],
            num_attention_heads=student["heads"], num_key_value_heads=student["kv_heads"],
            max_position_embeddings=student["max_length"], rms_norm_eps=1e-5, tie_word_embeddings=True,
            pad_token_id=ids["pad"], bos_token_id=ids["bos"], eos_token_id=ids["eos"], attention_dropout=0.0)
    from transformers import BertConfig

    if head not in ENCODER_HEADS:
        raise ValueError(f"a bert student needs a classification or tagging task, not '{head}'")
    return BertConfig(
        vocab_size=tokenizer.get_vocab_size(), hidden_size=student["hidden_size"],
        num_hidden_layers=student["layers"], num_attention_heads=student["heads"],
        intermediate_size=student["intermediate_size"], max_position_embeddings=student["max_length"],
        type_vocab_size=1, pad_token_id=ids["pad"], num_labels=num_labels, architectures=[ENCODER_HEADS[head]],
        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)


def _model_class(config):
    import transformers

    if config.model_type == "llama":
        return transformers.LlamaForCausalLM
    return getattr(transformers, (config.architectures or ["BertForSequenceClassification"])[0])


def make_student(student: dict, head: str, num_labels: int, seed: int, texts, recipe_dir):
    """(model, tokenizer) for the Still: from scratch, or grown from the Recipe's base."""
    from .bases import is_scratch, resolve
    from .errors import DistillError

    if is_scratch(student.get("init", "scratch")):
        tokenizer = train_tokenizer(texts, student["vocab_size"])
        return build_model(model_config(student, tokenizer, head, num_labels), seed), tokenizer
    base = resolve(student["init"], recipe_dir)
    if base.digest != student.get("init_digest"):
        raise DistillError(f"student.init: the weights of '{student['init']}' are not the ones this Recipe was read "
                           f"with ({base.digest} now, {student.get('init_digest')} then); reinstall that base or "
                           "re-read the Recipe")
    return student_from_base(base, head, num_labels, seed), base.tokenizer()


def student_from_base(base, head: str, num_labels: int, seed: int):
    """A task model grown from a pretrained base: the base's encoder weights, a new head (seeded)."""
    from transformers import BertConfig

    if head not in ENCODER_HEADS:
        raise ValueError(f"a pretrained {base.arch} base serves classification or tagging, not '{head}'")
    settings = {k: v for k, v in base.config.items() if not k.startswith("_") and k not in ("architectures",)}
    config = BertConfig(**{**settings, "num_labels": num_labels, "architectures": [ENCODER_HEADS[head]]})
    model = build_model(config, seed)
    state = {k: v for k, v in base.state_dict().items() if not k.endswith("position_ids")}
    if model.bert.pooler is None:  # a token head has no pooler: the base's (all-MiniLM-L6-v2 ships one) has no place
        state = {k: v for k, v in state.items() if not k.startswith("pooler.")}
    missing, unexpected = model.bert.load_state_dict(state, strict=False)
    # a base without a pooler keeps the seeded one build_model made
    if unexpected or any(not k.startswith("pooler.") for k in missing):
        raise ValueError(f"the base's weights do not fit a BERT encoder (missing {missing[:3]}, unexpected {unexpected[:3]})")
    return model


def build_model(config, seed: int):
    import torch

    torch.manual_seed(seed)
    model = _model_class(config)(config)
    if config.model_type == "llama":
        model.config.use_cache = True
    return model


def model_from_config_json(config_json: str):
    from transformers import BertConfig, LlamaConfig

    data = json.loads(config_json)
    config = (LlamaConfig if data.get("model_type") == "llama" else BertConfig)(**data)
    return _model_class(config)(config)


def parameter_count(model) -> int:
    seen, total = set(), 0
    for p in model.parameters():  # tied embeddings counted once
        if id(p) not in seen:
            seen.add(id(p))
            total += p.numel()
    return total
