"""The encoder design for tool calling: one pretrained encoder pass reads a request and answers
both questions at once. Its first position ([CLS]) scores every tool of the catalog and "none";
every other position tags the words an argument is read from (BIO per parameter, and per value
for booleans: "B-urgent=false", whose words rarely name the value). The tagged words are then read
as typed values by normalise.py, exactly as the decoder design reads the words it copies: an enum's
words ("swiss francs") become its value (CHF) through the Recipe's synonyms, so one tag per enum
parameter learns where such words stand and the synonyms, not the data, say which value it is.

Nothing about the offered tools enters the model: it chooses over the whole catalog, and a tool
that is not offered is answered with no call. So a catalog of any size costs no context, and the
call is valid by construction: a known tool, its own parameters, each value checked by type.
Which tool is also weighed by the request's match with each tool's own words (catalog_match),
which name a tool in wordings the Mash never had.
"""
import datetime as dt

from .common import first_free, framed_tokens, token_ranges
from .normalise import value as normalised_value

TOOL_PREFIX = "tool:"
NONE_LABEL = "tool:none"
TYPED = {"boolean", "enum"}


def span_kinds(task: dict) -> list[str]:
    """Every tag kind of the catalog: "param" for words a value is read from, "param=true" and
    "param=false" for booleans (one parameter name serves every tool that has it)."""
    kinds = set()
    for tool in task["tools"]:
        kinds.update(_param_kinds(tool))
    return sorted(kinds)


def _param_kinds(tool: dict) -> list[str]:
    kinds = []
    for pname, param in tool["parameters"].items():
        if param["type"] == "boolean":
            kinds += [f"{pname}=true", f"{pname}=false"]
        else:
            kinds.append(pname)
    return kinds


def output_names(task: dict) -> list[str]:
    """The head's outputs: "O", then B-/I- per tag kind, then one per tool and "tool:none"."""
    tags = ["O"] + [f"{prefix}-{kind}" for kind in span_kinds(task) for prefix in ("B", "I")]
    return tags + [TOOL_PREFIX + tool["name"] for tool in task["tools"]] + [NONE_LABEL]


# ---------------------------------------------------------------- training examples


def _tool_label(example) -> str:
    """The catalog's answer: a request whose tool was withheld from the offer still names that
    tool here (the offer is applied at pour time, not learned)."""
    call = example.get("withheld_call") or example["target"]
    return TOOL_PREFIX + call["name"] if call["name"] else NONE_LABEL


def _char_spans(text: str, example, task) -> list[tuple[int, int, str]]:
    """(start, end, kind) for every argument's words in the request."""
    call = example.get("withheld_call") or example["target"]
    if not call["name"]:
        return []
    params = {tool["name"]: tool for tool in task["tools"]}[call["name"]]["parameters"]
    spans, taken = [], []
    for pname, words in sorted(call.get("surfaces", {}).items()):
        for item in (words if isinstance(words, list) else [words]):
            spans += _locate(text, str(item), pname, taken)
    for pname, words in sorted(call.get("cues", {}).items()):
        kind = pname
        if params[pname]["type"] == "boolean":
            kind = f"{pname}={'true' if call['arguments'].get(pname) else 'false'}"
        spans += _locate(text, str(words), kind, taken)
    return spans


def _locate(text: str, words: str, kind: str, taken: list) -> list:
    """The first place the words stand in the text that no other argument has claimed."""
    found = first_free(text, words, taken)
    if found is None:
        return []
    taken.append(found)
    return [(*found, kind)]


def encode(tokenizer, example, task, student: dict):
    """(ids, labels): the tool label at [CLS], a BIO tag on every token of the request."""
    names = output_names(task)
    text = example["input"]["text"]
    ids, ranges = framed_tokens(tokenizer, text, student["max_length"])
    spans = _char_spans(text, example, task)
    labels = [names.index(_tool_label(example))]
    for start, end in ranges:
        tag = "O"
        for a, b, kind in spans:
            if a <= start < b and end > start:
                tag = ("B-" if start <= a else "I-") + kind
        labels.append(names.index(tag) if end > start else -100)
    return ids, labels + [-100]


# ---------------------------------------------------------------- pouring


def predict(spirit, text: str, offered: list[str], today: dt.date) -> dict:
    """The call: no call when the head's best answer is "none"; else the catalog's best tool by
    the head's score and the request's match with the tool's own words (no call if not offered),
    and its arguments from the tagged words, each read as its type."""
    import numpy as np

    from ..student import special_ids

    task = spirit.recipe["task"]
    names = output_names(task)
    ids, ranges = token_ranges(spirit.tokenizer, text)
    ids, ranges = ids[:spirit.max_length - 2], ranges[:spirit.max_length - 2]
    special = special_ids(spirit.tokenizer)
    logits = np.asarray(spirit.forward([special["bos"]] + ids + [special["eos"]]), dtype=np.float32)
    head = logits[0][names.index(TOOL_PREFIX + task["tools"][0]["name"]):]  # each tool of the catalog, then "none"
    if int(np.argmax(head)) == len(head) - 1:
        return {"name": None}
    tool = task["tools"][int(np.argmax(head[:-1] + catalog_match(task, text)))]
    if tool["name"] not in offered:
        return {"name": None}
    arguments = read_arguments(text, ranges, logits[1:1 + len(ids)], names, tool, today)
    if arguments is None:
        return {"name": None}
    return {"name": tool["name"], "arguments": {k: arguments[k] for k in sorted(arguments)}}


# How much the request's match with a tool's own words (BM25 over its catalog card: name,
# description, parameters, values and their words; shortlist.py) adds to the head's score for that
# tool, once the head has said the request is for some tool. The head knows only the Mash's
# wordings; the card's words still name a tool in wordings it never saw ("mute the speaker", "pay
# PG&E"). Whether to call at all stays the head's: sharing words with a tool is not a call for it.
# Measured in the README (Tool calling).
CATALOG_WEIGHT = 0.7


def catalog_match(task: dict, text: str):
    """CATALOG_WEIGHT x BM25 of the request against each tool of the catalog, in catalog order."""
    import numpy as np

    from .shortlist import catalog_scores

    scores = catalog_scores(task, text)
    return CATALOG_WEIGHT * np.array([scores[tool["name"]] for tool in task["tools"]])


def read_arguments(text, ranges, logits, names, tool, today) -> dict | None:
    """Typed arguments from the token tags, restricted to this tool's parameters; a required one
    that no tagged words supply is read from its most likely words; None if that fails too."""
    import numpy as np

    from .common import bio_viterbi
    from .ner import decode_tags, merge_adjacent, trim_punctuation

    kinds = _param_kinds(tool)
    allowed = ["O"] + [f"{prefix}-{kind}" for kind in kinds for prefix in ("B", "I")]
    columns = [names.index(n) for n in allowed]
    own = logits[:, columns] if len(ranges) else np.zeros((0, len(columns)), dtype=np.float32)
    tags = bio_viterbi(text, ranges, own, allowed)
    spans = trim_punctuation(text, merge_adjacent(text, decode_tags(text, ranges, tags)))
    arguments = {}
    for span in spans:
        _take_readable(arguments, tool, span["type"], span["text"], today)
    for pname, param in tool["parameters"].items():
        if param.get("required") and pname not in arguments:
            for words, kind in _likeliest_words(text, ranges, own, allowed, pname, param["type"] in SELF_EVIDENT):
                if _take_readable(arguments, tool, kind, words, today) and pname in arguments:
                    break
            if pname not in arguments:
                return None
    return arguments


# types whose value may stand in part of the tagged words: "tmrw 6" (to 8 pm) holds the date "tmrw"
READ_IN_PART = {"date", "datetime", "enum", "email", "url"}
MAX_PART_WORDS = 6  # a value is a few words; a run of 60 tagged words costs 60 x 6 readings, not 60 x 60


def _take_readable(arguments: dict, tool: dict, kind: str, words: str, today) -> bool:
    """_take, and for a type above, when the whole span does not read: its longest run of whole
    words that does (the leftmost of equal length). Numbers and times are not cut: "15 minutes"
    would read as 15:00."""
    if _take(arguments, tool, kind, words, today):
        return True
    param = tool["parameters"].get(kind.partition("=")[0])
    said = words.split()
    if param is None or param["type"] not in READ_IN_PART:
        return False
    for width in range(min(len(said) - 1, MAX_PART_WORDS), 0, -1):
        for start in range(len(said) - width + 1):
            if _take(arguments, tool, kind, " ".join(said[start:start + width]), today):
                return True
    return False


def _take(arguments: dict, tool: dict, kind: str, words: str, today) -> bool:
    """Read one tagged span into the arguments; the first readable span of a parameter wins
    (arrays collect every span). False when the words are not a value of that type."""
    from .tool_call import value_fits

    pname, _, typed = kind.partition("=")
    param = tool["parameters"].get(pname)
    if param is None or (pname in arguments and param["type"] != "array"):
        return False
    if param["type"] == "boolean":
        value = typed == "true"
    elif param["type"] == "array":
        items = normalised_value(param, [w for w in _items(words)], today)
        if not items:
            return False
        arguments[pname] = arguments.get(pname, []) + items
        return True
    else:
        value = normalised_value(param, words, today)
    if value is None or not value_fits(param, value):
        return False
    arguments[pname] = value
    return True


def _items(words: str) -> list[str]:
    """A tagged run that holds several items ("eggs, milk and bread") is several values."""
    import re

    return [w.strip() for w in re.split(r",\s*|\s+and\s+", words) if w.strip()]


# types words read as only when they are such a value: a required one no tag supplied is looked
# for at every position, likeliest first ("add team standup tomorow at 9am": the date's scores
# point at "9am" and "15"), where any other type tries only the three likeliest
SELF_EVIDENT = {"date", "datetime", "email", "url"}


def _likeliest_words(text, ranges, logits, allowed, pname, everywhere=False):
    """Candidate (words, kind) for a parameter no tagged span supplied, most likely first: each
    token's best B- score for that parameter (the three best tokens, or all when everywhere), the
    span running on while I- outscores O."""
    import numpy as np

    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    begins = [i for i, n in enumerate(allowed) if n.startswith("B-") and n[2:].partition("=")[0] == pname]
    candidates = []
    for column in begins:
        kind = allowed[column][2:]
        inside = allowed.index(f"I-{kind}")
        for start in np.argsort(-probs[:, column], kind="stable")[:len(ranges) if everywhere else 3]:
            score, start, end = float(probs[start, column]), int(start), int(start) + 1
            while end < len(ranges) and probs[end, inside] > probs[end, 0]:
                end += 1
            start, end = _whole_words(text, ranges, start, end)
            candidates.append((score, text[ranges[start][0]:ranges[end - 1][1]], kind))
    return [(words, kind) for _, words, kind in sorted(candidates, key=lambda c: -c[0])]


def _whole_words(text, ranges, start, end):
    """Tokens start..end grown to whole words: a misspelt "tomorow" is three word pieces, and a
    value read from its first piece alone ("tom") is no date."""
    def joined(i):  # token i continues the word of token i - 1
        return ranges[i][0] == ranges[i - 1][1] and text[ranges[i][0]].isalnum() and text[ranges[i - 1][1] - 1].isalnum()

    while start > 0 and joined(start):
        start -= 1
    while end < len(ranges) and joined(end):
        end += 1
    return start, end
