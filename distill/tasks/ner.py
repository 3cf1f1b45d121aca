"""NER / PII: text -> {"spans": [{"start", "end", "type", "text"}]} with character offsets.

Proof: span-F1 (micro), a span counts only with exact start, end and type. The student is an
encoder with a token-classification head over BIO tags."""
import json
import re

from . import Rejected, span_shapes
from .base import present_as_is, unique_names
from .common import framed_tokens, normalised_text, phrasings_parsed, prf, slots, text_items, token_ranges

PROOF_METRIC = "span-F1"
HEADS = {"bert": "token"}  # the student's head for each architecture it can have
DEFAULT_ARCH = "bert"
ENCODING_VERSION = 2  # in the Still key: bump it when encode() changes what the student learns
DECODING_VERSION = 3  # in the notes key: bump it when predict() answers differently, so proofs are re-measured
DEFAULT_INIT = "minilm-l6"  # student.init: auto
present = present_as_is

# Text that looks like PII whatever the teacher said: flags unlabelled entities as tails.
PII_PATTERNS = {
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "card number": re.compile(r"\b\d(?:[ -]?\d){12,18}\b"),
}


def types(task: dict) -> list[str]:
    return [t["name"] for t in task["entity_types"]]


def tags(task: dict) -> list[str]:
    return ["O"] + [f"{prefix}-{name}" for name in types(task) for prefix in ("B", "I")]


def output_names(task: dict) -> list[str]:
    """The head's outputs in logit order (what a .gguf lists as its classifier labels)."""
    return tags(task)


def num_labels(task: dict) -> int:
    return len(output_names(task))


def check(task: dict):
    yield from unique_names(task["entity_types"], ["entity_types"], "entity type")
    names = types(task)
    for i, entity in enumerate(task["entity_types"]):
        for p, pieces, problem in phrasings_parsed(entity["phrasings"], ["entity_types", i, "phrasings"]):
            if problem:
                yield problem
                continue
            used = [name for name, _ in slots(pieces)]
            for name in used:
                if name not in names:
                    yield ["entity_types", i, "phrasings", p], f"slot {{{name}}} is not an entity type; valid: {', '.join(names)}"
            if entity["name"] not in used:
                yield ["entity_types", i, "phrasings", p], f"a phrasing of {entity['name']} must contain {{{entity['name']}}}"


NONE = "none"  # the shard of texts with no entity at all


def categories(task: dict, per_category: int | None = None):
    """One Mash shard per entity type (its examples all contain at least one such entity), and a
    "none" shard of texts without any (task.negatives of the Mash, counted against all shards)."""
    shards = [(entity["name"], entity) for entity in task["entity_types"]]
    share = task.get("negatives", 0)
    if share:
        shards.append((NONE, {"name": NONE, "description": "text with no personal data at all", "phrasings": [],
                              "share": share}))
    return shards


def shard_size(spec: dict, per_category: int, n_categories: int) -> int:
    """How many examples a shard holds: per_category, or the negatives' share of the whole Mash."""
    if spec.get("name") != NONE:
        return per_category
    positives = per_category * (n_categories - 1)
    return max(1, round(positives * spec["share"] / (1 - spec["share"])))


# ---------------------------------------------------------------- teacher requests

INPUTS_SCHEMA = {"type": "object", "required": ["texts"],
                 "properties": {"texts": {"type": "array", "items": {"type": "object", "required": ["text"]}}}}


def target_schema(task):
    return {"type": "object", "required": ["spans"], "properties": {"spans": {"type": "array", "items": {
        "type": "object", "required": ["start", "end", "type"],
        "properties": {"start": {"type": "integer"}, "end": {"type": "integer"}, "type": {"enum": types(task)}}}}}}


def inputs_request(task, category, spec, count):
    if category == NONE:
        prompt = (f"Write {count} realistic snippets (support tickets, emails, chat messages) that contain NO personal "
                  f"data at all, but do contain things that look like it: product names, company names, order and "
                  f"tracking numbers, cities or countries on their own, weekdays, amounts, shouted words. Vary the "
                  f"writer, register and length.\n\n" 'Answer with JSON: {"texts": [{"text": "..."}]}')
    else:
        prompt = (f"Write {count} realistic snippets (support tickets, emails, chat messages, forms) that contain at "
                  f"least one {spec['name']} ({spec['description']}) and possibly other personal data. Write as many "
                  f"different people would: terse, rambling, angry, polite, misspelt, all caps, multi-line emails "
                  f"with a signature. Invent varied, realistic values in the many formats people use (names from "
                  f"many cultures, with or without titles; international phone, date and address formats).\n\n"
                  'Answer with JSON: {"texts": [{"text": "..."}]}')
    return {"step": "inputs", "category": category, "prompt": prompt, "schema": INPUTS_SCHEMA,
            "spec": {"entity": spec, "entity_types": task["entity_types"], "count": count}}


CONVENTIONS = ("A span holds the value only: no surrounding spaces, quotes or sentence punctuation. Titles (Mr, Dr, "
               "Prof) are outside a name. A city or country on its own is not an address. Order, ticket, invoice "
               "and tracking numbers, products, companies, weekdays or months alone, relative dates (yesterday) and "
               "partial card numbers (ending 4421) are not personal data. A weekday before a date is outside it.")


def target_request(task, category, item, origin):
    catalog = [{"type": e["name"], "description": e["description"]} for e in task["entity_types"]]
    prompt = (f"Mark every span of personal data in the text with its type and character offsets "
              f"(start inclusive, end exclusive). {CONVENTIONS}\n\nTypes: {json.dumps(catalog)}\n\n"
              f"Text: {item['text']}\n\n" 'Answer with JSON: {"spans": [{"start": 0, "end": 4, "type": "<type>"}]}')
    return {"step": "targets", "category": category, "prompt": prompt, "schema": target_schema(task),
            "spec": {"text": item["text"], "origin": origin}}


def parse_inputs(answer: dict) -> list[dict]:
    return text_items(answer, "texts", keep_spacing=True)


def parse_target(answer, item, task, category):
    text, valid_types = item["text"], set(types(task))
    spans = []
    for span in answer.get("spans", []):
        start, end, kind = span.get("start"), span.get("end"), span.get("type")
        if kind not in valid_types:
            raise Rejected("schema violation", f"unknown entity type {kind!r}")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            raise Rejected("schema violation", f"offsets {start}..{end} outside the text")
        if "text" in span and span["text"] != text[start:end]:
            raise Rejected("schema violation", "span text does not match its offsets")
        spans.append({"start": start, "end": end, "type": kind, "text": text[start:end]})
    spans.sort(key=lambda s: s["start"])
    if any(a["end"] > b["start"] for a, b in zip(spans, spans[1:])):
        raise Rejected("schema violation", "overlapping spans")
    if category == NONE and spans:
        raise Rejected("off-category", "a text meant to hold no personal data has spans")
    if category != NONE and not any(s["type"] == category for s in spans):
        raise Rejected("off-category", f"no {category} span")
    return {"spans": spans}


def field_target(row: dict, task: dict) -> dict:
    """A field example's spans: offsets inside the text, known types, the text at the offsets, no overlap."""
    text, spans, valid = row["text"], row.get("spans"), set(types(task))
    if not isinstance(spans, list):
        raise ValueError('"spans" must be a list of {"start", "end", "type"} (character offsets, end exclusive)')
    out = []
    for span in spans:
        start, end, kind = (span.get(k) for k in ("start", "end", "type")) if isinstance(span, dict) else (None,) * 3
        if not isinstance(kind, str) or kind not in valid:
            raise ValueError(f"span type {kind!r} is not one of the Recipe's entity types: {', '.join(sorted(valid))}")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            raise ValueError(f"span offsets {start}..{end} are outside the text (0..{len(text)})")
        if "text" in span and span["text"] != text[start:end]:
            raise ValueError(f"span text {span['text']!r} is not the text at {start}..{end} ({text[start:end]!r})")
        out.append({"start": start, "end": end, "type": kind, "text": text[start:end]})
    out.sort(key=lambda s: s["start"])
    if any(a["end"] > b["start"] for a, b in zip(out, out[1:])):
        raise ValueError("spans overlap; each character belongs to at most one span")
    return {"spans": out}


# ---------------------------------------------------------------- cuts


def input_text(example) -> str:
    return example["input"]["text"]


def skeleton(example) -> str:
    text = input_text(example)
    for span in sorted(example["target"]["spans"], key=lambda s: -s["start"]):
        text = text[:span["start"]] + f"<{span['type']}>" + text[span["end"]:]
    return normalised_text(text)


def near_duplicate_text(example) -> str:
    return normalised_text(input_text(example))


def tail_reason(example):
    text = input_text(example)
    covered = [(s["start"], s["end"]) for s in example["target"]["spans"]]
    for label, pattern in PII_PATTERNS.items():
        for match in pattern.finditer(text):
            if not any(a <= match.start() and match.end() <= b for a, b in covered):
                return f"unlabelled {label} {match.group()!r}"
    return None


def category_of(target):
    return target["spans"][0]["type"] if target["spans"] else NONE


# ---------------------------------------------------------------- student


def tokenizer_text(example, task) -> str:
    return input_text(example)


def encode(tokenizer, example, task, student: dict):
    max_length = student["max_length"]
    text, names = input_text(example), tags(task)
    ids, ranges = framed_tokens(tokenizer, text, max_length)
    labels = [-100]
    for start, end in ranges:
        tag = "O"
        for span in example["target"]["spans"]:
            if span["start"] <= start < span["end"] and end > start:
                tag = ("B-" if start == span["start"] else "I-") + span["type"]
        labels.append(names.index(tag) if end > start else -100)
    return ids, labels + [-100]


def decode_tags(text, ranges, tag_names):
    """BIO tags per token -> spans; an I- after O (or another type) starts a span too."""
    spans, current = [], None
    for (start, end), tag in zip(ranges, tag_names):
        if end <= start:
            continue  # a bare space token: neither starts nor ends a span
        if tag == "O":
            current = None
            continue
        prefix, kind = tag.split("-", 1)
        if prefix == "I" and current and current["type"] == kind:
            current["end"] = end
        else:
            current = {"start": start, "end": end, "type": kind}
            spans.append(current)
    return [{**s, "text": text[s["start"]:s["end"]]} for s in spans]


ABBREVIATIONS = {"jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "jr", "sr", "st",
                 "rd", "ave", "no", "dr", "mt", "ft"}


def trim_punctuation(text: str, spans: list[dict]) -> list[dict]:
    """Sentence punctuation after a value is not part of it ("Reading RG2 7HP." -> "Reading RG2 7HP"),
    except an abbreviation's or an initial's own full stop ("Sept.", "A.")."""
    out = []
    for span in spans:
        end = span["end"]
        while end > span["start"] + 1 and text[end - 1] in ",;:!?)\"'":
            end -= 1
        if text[end - 1] == "." and end > span["start"] + 1:
            last = text[span["start"]:end - 1].split()[-1:] or [""]
            if not (len(last[0]) == 1 or last[0].lower() in ABBREVIATIONS):
                end -= 1
        out.append({**span, "end": end, "text": text[span["start"]:end]})
    return out


def merge_adjacent(text: str, spans: list[dict]) -> list[dict]:
    """Two spans of one type with only spaces between them are one value ("Harold" + "Jenkins"):
    no convention ever labels two names, dates or numbers side by side; an address also runs on
    across ", " (its parts are written with commas), and any value across "and" into "a half"
    ("an hour" + "a half")."""
    merged = []
    for span in spans:
        if merged and merged[-1]["type"] == span["type"]:
            gap = text[merged[-1]["end"]:span["start"]]
            if not gap.strip() or (span["type"] == "ADDRESS" and gap.strip() in (",", "-")) or (
                    gap.strip().lower() == "and" and span["text"].strip().lower() in ("a half", "half")):
                merged[-1] = {**merged[-1], "end": span["end"], "text": text[merged[-1]["start"]:span["end"]]}
                continue
        merged.append(dict(span))
    return merged


def word_consistent_tags(text, ranges, logits, names):
    """One entity type per word (a run of tokens with no gap between them): the type whose
    tags score highest summed over the word's tokens; only the word's first token may be B-.
    Without this, a 16-digit card number (16 tokens) comes back as several short spans."""
    import numpy as np

    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    kinds = sorted({n.split("-", 1)[1] for n in names if n != "O"})
    texts = [text[a:b] for a, b in ranges]
    out, i = ["O"] * len(ranges), 0
    while i < len(ranges):
        j = i + 1
        while j < len(ranges) and ranges[j][0] == ranges[j - 1][1] and ranges[j][1] > ranges[j][0]:
            j += 1
        core = [t for t in range(i, j) if any(c.isalnum() for c in texts[t])] or list(range(i, j))
        word = probs[core].sum(0)  # a word's letters and digits vote; the punctuation stuck to it does not
        scores = {"O": word[names.index("O")]}
        scores.update({k: word[names.index(f"B-{k}")] + word[names.index(f"I-{k}")] for k in kinds})
        kind = max(scores, key=scores.get)
        # punctuation at a word's edges ("Lyon." but "Dr." "+44") joins the entity only when its
        # own best tag says so
        inside = [t for t in range(i, j) if any(c.isalnum() for c in texts[t]) or names[int(probs[t].argmax())] != "O"]
        if kind != "O" and inside:
            a, b = inside[0], inside[-1] + 1
            first = "B" if probs[a][names.index(f"B-{kind}")] >= probs[a][names.index(f"I-{kind}")] else "I"
            out[a:b] = [f"{first}-{kind}"] + [f"I-{kind}"] * (b - a - 1)
        i = j
    return out


CHUNK_CHARS = 20_000  # a long text is tagged a piece at a time: memory stays flat for any length
WINDOWS_PER_BATCH = 16


def _chunks(text: str):
    """(offset, piece) of at most about CHUNK_CHARS, cut at a line break or space where possible."""
    start = 0
    while start < len(text):
        end = min(len(text), start + CHUNK_CHARS)
        if end < len(text):
            cut = max(text.rfind("\n", start, end), text.rfind(" ", start, end))
            end = cut + 1 if cut > start else end
        yield start, text[start:end]
        start = end


def _window_logits(spirit, ids):
    """Logits for every token of a text longer than the window: overlapping windows, each token
    taken from the window where it sits farthest from an edge (a text that fits is one window)."""
    import numpy as np

    from ..student import special_ids

    width = spirit.max_length - 2
    special = special_ids(spirit.tokenizer)
    bos, eos = special["bos"], special["eos"]
    if len(ids) <= width:
        return spirit.forward([bos] + ids + [eos])[1:1 + len(ids)]
    step = max(1, width * 3 // 4)
    starts = list(range(0, len(ids) - width, step)) + [len(ids) - width]
    margin = np.minimum(np.arange(width), np.arange(width)[::-1])  # distance from the window's edge
    out, best = None, np.full(len(ids), -1)
    for first in range(0, len(starts), WINDOWS_PER_BATCH):
        group = starts[first:first + WINDOWS_PER_BATCH]
        batch = spirit.forward_many([[bos] + ids[s:s + width] + [eos] for s in group])[:, 1:1 + width]
        if out is None:
            out = np.zeros((len(ids), batch.shape[-1]), dtype=np.float32)
        for start, logits in zip(group, batch):
            better = margin > best[start:start + width]
            out[start:start + width][better] = logits[better]
            best[start:start + width][better] = margin[better]
    return out


def spans_of(text, ranges, token_tags, names) -> list[dict]:
    """Per-token tags -> the values they mark: adjacent pieces joined, edge punctuation trimmed,
    each cut to the shape of its type (span_shapes)."""
    spans = merge_adjacent(text, decode_tags(text, ranges, token_tags))
    types = {name.split("-", 1)[1] for name in names if name != "O"}
    return span_shapes.fit(text, trim_punctuation(text, spans), types)


def predict(spirit, text, context=None):
    """Spans over the whole text, however long: piece by piece, window by window."""
    names, spans = tags(spirit.recipe["task"]), []
    for offset, piece in _chunks(text):
        ids, ranges = token_ranges(spirit.tokenizer, piece)
        if not ids:
            continue
        logits = _window_logits(spirit, ids)
        tags_ = word_consistent_tags(piece, ranges, logits, names)
        for span in spans_of(piece, ranges, tags_, names):
            spans.append({**span, "start": span["start"] + offset, "end": span["end"] + offset})
    return {"spans": spans}


def text_budget(spirit, context=None):
    return None  # reads all of any text (windows)


def example_context(example):
    return None


def redact(text, spans):
    for span in sorted(spans, key=lambda s: -s["start"]):
        text = text[:span["start"]] + f"[{span['type']}]" + text[span["end"]:]
    return text


# ---------------------------------------------------------------- proof


def _keys(target):
    return {(s["start"], s["end"], s["type"]) for s in target.get("spans", [])}


def verdict(gold, pred):
    g, p = _keys(gold), _keys(pred)
    if g == p:
        return "correct"
    parts = []
    if g - p:
        parts.append(f"missed {len(g - p)}")
    if p - g:
        parts.append(f"spurious {len(p - g)}")
    return ", ".join(parts)


def per_type(golds, preds, names=None):
    counts = {}
    for gold, pred in zip(golds, preds):
        g, p = _keys(gold), _keys(pred)
        for kind in {k for *_, k in g | p}:
            c = counts.setdefault(kind, [0, 0, 0])
            gk, pk = {x for x in g if x[2] == kind}, {x for x in p if x[2] == kind}
            c[0] += len(gk & pk)
            c[1] += len(pk - gk)
            c[2] += len(gk - pk)
    return {kind: prf(*counts.get(kind, [0, 0, 0])) for kind in (names or sorted(counts))}


def proof(golds, preds, task=None):
    tp = fp = fn = 0
    for gold, pred in zip(golds, preds):
        g, p = _keys(gold), _keys(pred)
        tp, fp, fn = tp + len(g & p), fp + len(p - g), fn + len(g - p)
    scores = prf(tp, fp, fn)
    return {"metric": PROOF_METRIC, "value": scores["f1"], "n": len(golds), "precision": scores["precision"],
            "recall": scores["recall"]}


def extra_notes(texts, golds, preds, task, folder):
    missed, spurious = [], []
    for text, gold, pred in zip(texts, golds, preds):
        g, p = _keys(gold), _keys(pred)
        missed += [{"text": text, "span": text[s:e], "type": k} for s, e, k in sorted(g - p)]
        spurious += [{"text": text, "span": text[s:e], "type": k} for s, e, k in sorted(p - g)]
    return {"per_type": per_type(golds, preds, types(task)), "missed_examples": missed[:8],
            "spurious_examples": spurious[:8], "pictures": []}
