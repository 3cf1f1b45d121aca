"""What a span's text must look like to be a value of its type, applied to every tagged span after
decoding. The tagger reads context well but now and then stretches a span over a neighbouring word
("a.farouk@farouklaw.ae. Emirates"), across a line break ("Grüße\\nKlaus Wendt") or tags a word
that cannot be a value at all ("Finch Ltd" as an EMAIL, "January" as a DATE).

A span never crosses a line break: each line's part is a span of its own; likewise two names
joined by "&" ("Laura & Dev") and a date range ("12/03 - 14/03") are two values. The well-known
personal-data types, by their conventional names, have a shape; a Recipe's other types have none:

    EMAIL         tightened to the address inside it; no address, no span
    PHONE         at least 6 digits            CARD_NUMBER   13 to 19 digits
    DATE, ID      at least one digit           ADDRESS       at least one letter
    PERSON        letters and no digits
A PHONE or ID written as a whole numeric date ("2023-11-28", "28/11/2023") is a DATE, and one
grouped the way payment cards print their numbers (4-4-4-4 digits, or American Express's 4-6-5
starting 34 or 37) is a CARD_NUMBER, when the Recipe has that type.
"""
import re

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
NUMERIC_DATE = re.compile(r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.]\d{1,2}[/.]\d{4})")
CARD_GROUPS = re.compile(r"\d{4}([ -]?)\d{4}\1\d{4}\1\d{4}|3[47]\d{2}([ -]?)\d{6}\2\d{5}")
# a PHONE or ID whose whole text has one of these shapes is a value of that type (if the Recipe has it)
RETYPED = ((NUMERIC_DATE, "DATE"), (CARD_GROUPS, "CARD_NUMBER"))
OPENING_MARKS = "\"'“‘«"
# where one span holds two values of its type: a line break always, "&" between names, a spaced dash between dates
SEPARATORS = {"PERSON": re.compile(r"\n| & "), "DATE": re.compile(r"\n| [-–] ")}
ANY_TYPE = re.compile(r"\n")


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def _letters(text: str) -> int:
    return sum(c.isalpha() for c in text)


SHAPES = {
    "PHONE": lambda t: _digits(t) >= 6,
    "CARD_NUMBER": lambda t: 13 <= _digits(t) <= 19,
    "DATE": lambda t: _digits(t) >= 1,
    "ID": lambda t: _digits(t) >= 1,
    "ADDRESS": lambda t: _letters(t) >= 1,
    "PERSON": lambda t: _letters(t) >= 1 and _digits(t) == 0,
}


def _span(text: str, start: int, end: int, kind: str) -> dict:
    return {"start": start, "end": end, "type": kind, "text": text[start:end]}


def _values(text: str, span: dict) -> list[dict]:
    """The span cut where it holds two values, each non-blank part kept (edge spaces and dashes trimmed)."""
    separator = SEPARATORS.get(span["type"], ANY_TYPE)
    bounds = [span["start"]] + [span["start"] + i for m in separator.finditer(span["text"]) for i in m.span()] + [span["end"]]
    parts = []
    for a, b in zip(bounds[::2], bounds[1::2]):
        while a < b and text[a].isspace():
            a += 1
        while b > a and (text[b - 1].isspace() or text[b - 1] in "-–"):
            b -= 1
        if a < b:
            parts.append(_span(text, a, b, span["type"]))
    return parts


def _unquoted(text: str, span: dict) -> dict:
    """An opening quote (or an unmatched opening bracket) before a value is not part of it."""
    start, value = span["start"], span["text"]
    while len(value) > 1 and (value[0] in OPENING_MARKS or (value[0] == "(" and ")" not in value)):
        start, value = start + 1, value[1:]
    return _span(text, start, span["end"], span["type"])


def _fitted(text: str, span: dict, types) -> dict | None:
    if span["type"] in ("PHONE", "ID"):
        for shape, kind in RETYPED:
            if kind in types and shape.fullmatch(span["text"]):
                return {**span, "type": kind}
    if span["type"] == "EMAIL":
        match = EMAIL.search(span["text"])
        if not match:
            return None
        address = match.group(0).rstrip(".")
        return _span(text, span["start"] + match.start(), span["start"] + match.start() + len(address), "EMAIL")
    shape = SHAPES.get(span["type"])
    return span if shape is None or shape(span["text"]) else None


def fit(text: str, spans: list[dict], types=()) -> list[dict]:
    """The spans that can be values of their types, each cut to the value it holds; `types`: the
    Recipe's entity types (a numeric date is retyped only when DATE is one of them)."""
    out = []
    for span in spans:
        for part in _values(text, span):
            fitted = _fitted(text, _unquoted(text, part), types)
            if fitted:
                out.append(fitted)
    return out
