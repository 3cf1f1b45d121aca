"""Pieces several task types share: phrasing templates, wording skeletons, F1 arithmetic."""
import re


def parse_phrasing(text: str):
    """Split a phrasing into pieces: ("text", s), ("slot", name) and ("optional", [pieces]).
    Square brackets mark an optional segment, used only when its slots are filled."""
    pieces, stack = [], []
    pos = 0
    for match in re.finditer(r"\[|\]|\{[A-Za-z_][A-Za-z0-9_]*\}", text):
        if match.start() > pos:
            pieces.append(("text", text[pos:match.start()]))
        token = match.group()
        if token == "[":
            stack.append(pieces)
            pieces = []
        elif token == "]":
            if not stack:
                raise ValueError("']' without '['")
            inner, pieces = pieces, stack.pop()
            pieces.append(("optional", inner))
        else:
            pieces.append(("slot", token[1:-1]))
        pos = match.end()
    if pos < len(text):
        pieces.append(("text", text[pos:]))
    if stack:
        raise ValueError("'[' without ']'")
    return pieces


def phrasings_parsed(phrasings: list[str], path: list):
    """For a Recipe check: (index, pieces, problem) per phrasing; problem is (field path, message)
    when the phrasing does not parse, and pieces is then None."""
    for p, phrasing in enumerate(phrasings):
        try:
            yield p, parse_phrasing(phrasing), None
        except ValueError as err:
            yield p, None, (path + [p], f"{err}; optional parts are written [like {{this}}]")


def slots(pieces, optional=False):
    """Yield (slot name, is inside an optional segment)."""
    for kind, value in pieces:
        if kind == "slot":
            yield value, optional
        elif kind == "optional":
            yield from slots(value, True)


def normalised_text(text: str) -> str:
    """Lowercase words only: what near-duplicate detection compares."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def degrees(value: float) -> str:
    """A proof in [0, 1] the way spirits people say it: 0.977 -> 97.7 -> "98°"."""
    return f"{round(100 * value)}°"


def prf(tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}


def text_items(answer: dict, field: str, keep_spacing: bool = False) -> list[dict]:
    """The inputs a teacher wrote: {"text"} items (with the phrasing id when it reports one).
    NER keeps spacing as written, since its offsets count characters."""
    items = []
    for entry in answer.get(field, []) if isinstance(answer, dict) else []:
        raw = str(entry.get("text", "")) if isinstance(entry, dict) else ""
        text = raw if keep_spacing else " ".join(raw.split())
        if text.strip():
            items.append({"text": text, **({"phrasing": str(entry["phrasing"])} if entry.get("phrasing") else {})})
    return items


def token_ranges(tokenizer, text):
    """Token ids with their character ranges, whitespace trimmed from the front of each."""
    enc = tokenizer.encode(text, add_special_tokens=False)
    ranges = []
    for start, end in enc.offsets:
        while start < end and text[start].isspace():
            start += 1
        ranges.append((start, end))
    return enc.ids, ranges


def framed_tokens(tokenizer, text, max_length):
    """Token ids with their character ranges, whitespace trimmed; <s> and </s> around them."""
    from ..student import special_ids

    ids, ranges = token_ranges(tokenizer, text)
    keep, special = max_length - 2, special_ids(tokenizer)
    return [special["bos"]] + ids[:keep] + [special["eos"]], ranges[:keep]
