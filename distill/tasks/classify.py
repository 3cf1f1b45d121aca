"""Classification: text -> {"label": ...}. Proof: macro-F1 on heads.

The student is an encoder with a classification head over the first (<s>) position."""
import json

from . import Rejected
from .base import every_shard_alike, present_as_is, unique_names
from .common import normalised_text, phrasings_parsed, prf, slots, text_items

PROOF_METRIC = "macro-F1"
HEADS = {"bert": "sequence"}  # the student's head for each architecture it can have
DEFAULT_ARCH = "bert"
ENCODING_VERSION = 2  # in the Still key: bump it when encode() changes what the student learns
DECODING_VERSION = 1  # in the notes key: bump it when predict() answers differently, so proofs are re-measured
shard_size = every_shard_alike
DEFAULT_INIT = "minilm-l6"  # student.init: auto
present = present_as_is


def labels(task: dict) -> list[str]:
    return [label["name"] for label in task["labels"]]


def output_names(task: dict) -> list[str]:
    """The head's outputs in logit order (what a .gguf lists as its classifier labels)."""
    return labels(task)


def num_labels(task: dict) -> int:
    return len(output_names(task))


def check(task: dict):
    yield from unique_names(task["labels"], ["labels"], "label")
    for i, label in enumerate(task["labels"]):
        for p, pieces, problem in phrasings_parsed(label["phrasings"], ["labels", i, "phrasings"]):
            if problem:
                yield problem
                continue
            for name, _ in slots(pieces):
                if name not in task.get("slots", {}):
                    valid = ", ".join(task.get("slots", {})) or "none"
                    yield ["labels", i, "phrasings", p], f"slot {{{name}}} has no values in task.slots; valid: {valid}"


def categories(task: dict):
    """One Mash shard per label."""
    return [(label["name"], label) for label in task["labels"]]


# ---------------------------------------------------------------- teacher requests

INPUTS_SCHEMA = {"type": "object", "required": ["texts"],
                 "properties": {"texts": {"type": "array", "items": {"type": "object", "required": ["text"],
                                                                       "properties": {"text": {"type": "string"}}}}}}


def target_schema(task: dict) -> dict:
    return {"type": "object", "required": ["label"], "properties": {"label": {"enum": labels(task)}}}


def _catalog(task):
    return [{"label": label["name"], "description": label["description"]} for label in task["labels"]]


def inputs_request(task, category, spec, count):
    prompt = (f"Write {count} different, realistic messages a customer might send that belong to the intent "
              f"below. Vary wording, length, tone and casing; include occasional typos. Do not name the intent.\n\n"
              f"Intent: {json.dumps({'label': spec['name'], 'description': spec['description']})}\n\n"
              'Answer with JSON: {"texts": [{"text": "..."}]}')
    return {"step": "inputs", "category": category, "prompt": prompt, "schema": INPUTS_SCHEMA,
            "spec": {"label": spec, "slots": task.get("slots", {}), "count": count}}


def target_request(task, category, item, origin):
    prompt = (f"Classify the message into exactly one of these intents.\n\nIntents: {json.dumps(_catalog(task))}\n\n"
              f"Message: {item['text']}\n\n" 'Answer with JSON: {"label": "<intent>"}')
    return {"step": "targets", "category": category, "prompt": prompt, "schema": target_schema(task),
            "spec": {"text": item["text"], "origin": origin}}


def parse_inputs(answer: dict) -> list[dict]:
    return text_items(answer, "texts")


def parse_target(answer: dict, item: dict, task: dict, category: str) -> dict:
    label = answer.get("label")
    if label not in labels(task):
        raise Rejected("schema violation", f"unknown label {label!r}")
    if label != category:
        raise Rejected("off-category", f"asked for {category}, teacher chose {label}")
    if label in item["text"]:
        raise Rejected("leakage", "the text names its label")
    return {"label": label}


def field_target(row: dict, task: dict) -> dict:
    """A field example's target: its label must be one of the Recipe's."""
    if row.get("label") not in labels(task):
        raise ValueError(f'"label" {row.get("label")!r} is not one of the Recipe\'s labels: {", ".join(labels(task))}')
    return {"label": row["label"]}


# ---------------------------------------------------------------- cuts


def input_text(example) -> str:
    return example["input"]["text"]


def skeleton(example) -> str:
    return normalised_text(input_text(example))


near_duplicate_text = skeleton


def tail_reason(example):
    return None  # label conflicts between identical wordings are caught in cuts


def category_of(target: dict) -> str:
    return target["label"]


# ---------------------------------------------------------------- student


def tokenizer_text(example, task) -> str:
    return input_text(example)


def encode(tokenizer, example, task, student: dict):
    max_length = student["max_length"]
    from ..student import encode_text

    return encode_text(tokenizer, input_text(example), max_length), labels(task).index(example["target"]["label"])


def predict(spirit, text, context=None) -> dict:
    from ..student import encode_text

    logits = spirit.forward(encode_text(spirit.tokenizer, text, spirit.max_length))
    return {"label": labels(spirit.recipe["task"])[int(logits.argmax())]}


def text_budget(spirit, context=None) -> int:
    return spirit.max_length - 2  # <s> text </s>


def example_context(example):
    return None


# ---------------------------------------------------------------- proof


def verdict(gold: dict, pred: dict) -> str:
    return "correct" if gold["label"] == pred.get("label") else f"confused with {pred.get('label')}"


def per_label(golds, preds, names=None) -> dict:
    names = names or sorted({g["label"] for g in golds} | {p.get("label") for p in preds if p.get("label")})
    out = {}
    for name in names:
        tp = sum(g["label"] == name and p.get("label") == name for g, p in zip(golds, preds))
        fp = sum(g["label"] != name and p.get("label") == name for g, p in zip(golds, preds))
        fn = sum(g["label"] == name and p.get("label") != name for g, p in zip(golds, preds))
        out[name] = prf(tp, fp, fn)
    return out


def proof(golds, preds, task=None) -> dict:
    if not golds:
        return {"metric": PROOF_METRIC, "value": 0.0, "n": 0, "accuracy": 0.0}
    table = per_label(golds, preds, sorted({g["label"] for g in golds}))
    macro = sum(row["f1"] for row in table.values()) / len(table)
    accuracy = sum(g["label"] == p.get("label") for g, p in zip(golds, preds)) / len(golds)
    return {"metric": PROOF_METRIC, "value": macro, "n": len(golds), "accuracy": accuracy}


def extra_notes(texts, golds, preds, task, folder) -> dict:
    """Per-label precision/recall/F1 and a confusion-matrix picture."""
    names = labels(task)
    matrix = [[sum(g["label"] == a and p.get("label") == b for g, p in zip(golds, preds)) for b in names] for a in names]
    _plot_confusion(matrix, names, folder / "confusion.png")
    return {"per_label": per_label(golds, preds, names), "confusion": {"labels": names, "matrix": matrix},
            "pictures": ["confusion.png"]}


def _plot_confusion(matrix, names, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1 + 0.5 * len(names), 1 + 0.45 * len(names)), dpi=100)
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            if value:
                ax.text(j, i, value, ha="center", va="center", fontsize=6)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
