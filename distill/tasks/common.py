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


# words a request does not end on (particles do: "check me in", "turn it on"): a phrasing that
# would, once its optional end is left out ("put {items} on the[ {list_name}]" -> "put milk on
# the"), teaches the student broken requests
DANGLING = {"the", "a", "an", "my", "your", "to", "of", "from", "with", "for", "and", "or"}


def phrasings_parsed(phrasings: list[str], path: list):
    """For a Recipe check: (index, pieces, problem) per phrasing; problem is (field path, message)
    when the phrasing does not parse or dangles without its optional end, and pieces is then None."""
    for p, phrasing in enumerate(phrasings):
        try:
            pieces = parse_phrasing(phrasing)
        except ValueError as err:
            yield p, None, (path + [p], f"{err}; optional parts are written [like {{this}}]")
            continue
        bare = "".join(value if kind == "text" else f"{{{value}}}" for kind, value in pieces if kind != "optional").strip()
        last = (bare.split() or [""])[-1].lower()
        if pieces and pieces[-1][0] == "optional" and last in DANGLING:
            yield p, None, (path + [p], f"without its optional end it reads \"{bare}\", ending in '{last}': write it "
                                        "twice, once with that end required and once ending in words of its own")
            continue
        yield p, pieces, None


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


def first_free(text: str, words: str, taken: list) -> tuple[int, int] | None:
    """(start, end) of the first place the words stand in the text (any case) that overlaps no
    span already taken; None if there is none."""
    lowered, needle, start = text.lower(), words.lower().strip(), 0
    while needle:
        at = lowered.find(needle, start)
        if at < 0:
            return None
        end = at + len(needle)
        if not any(a < end and at < b for a, b in taken):
            return at, end
        start = at + 1
    return None


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


def words_of(text, ranges) -> list[range]:
    """Token indices grouped into words: runs of tokens with no gap between them; a currency sign
    is a word of its own ("€200" is a currency and an amount)."""
    import unicodedata

    def sign(t):
        piece = text[ranges[t][0]:ranges[t][1]]
        return bool(piece) and all(unicodedata.category(c) == "Sc" for c in piece)

    groups, i = [], 0
    while i < len(ranges):
        j = i + 1
        while (j < len(ranges) and ranges[j][0] == ranges[j - 1][1] and ranges[j][1] > ranges[j][0]
               and not sign(j) and not sign(j - 1)):
            j += 1
        groups.append(range(i, j))
        i = j
    return groups


def bio_viterbi(text, ranges, logits, names) -> list[str]:
    """Per-token BIO tags that always form valid spans, chosen word by word as the best path:
    an I-x only continues a B-x or I-x, so "O I I I" (a span's first word read as outside)
    becomes "B I I I" when that scores better than dropping the word. A word is scored by its
    letters and digits ("thai?" by "thai"); its first such token carries the B-, punctuation
    inside it ("6:15", "to-do") joins the span and punctuation at its edges stays outside."""
    import numpy as np

    if not len(ranges):
        return []
    shifted = logits - logits.max(-1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    words = []
    for word in words_of(text, ranges):
        core = [t for t in word if any(c.isalnum() for c in text[ranges[t][0]:ranges[t][1]])]
        words.append(range(core[0], core[-1] + 1) if core else word)
    index = {n: i for i, n in enumerate(names)}
    inside_of = {n: index["I-" + n[2:]] for n in names if n.startswith("B-")}

    def emission(word, tag):
        rest = index[tag] if tag == "O" else inside_of.get(tag, index[tag])
        return (logp[word[0], index[tag]] + sum(logp[t, rest] for t in word[1:])) / len(word)

    def allowed(previous, tag):
        return not tag.startswith("I-") or previous in (f"B-{tag[2:]}", tag)

    best = {tag: (emission(words[0], tag), [tag]) for tag in names if not tag.startswith("I-")}
    for word in words[1:]:
        best = {tag: max(((score + emission(word, tag), path + [tag]) for prev, (score, path) in best.items()
                          if allowed(prev, tag)), default=(-np.inf, []), key=lambda c: c[0])
                for tag in names}
        best = {tag: candidate for tag, candidate in best.items() if candidate[1]}
    _, path = max(best.values(), key=lambda c: c[0])
    tags = ["O"] * len(ranges)
    for w, (word, tag) in enumerate(zip(words, path)):
        for position, t in enumerate(word):
            tags[t] = tag if position == 0 or tag == "O" else "I-" + tag[2:]
        if w + 1 < len(words) and path[w + 1].startswith("I-"):  # "kids' soccer", "Dr. Okafor": one span
            for t in range(word[-1] + 1, words[w + 1][0]):
                tags[t] = path[w + 1]
    return tags
