"""Narrowing a large tool catalog to the few tools a request could mean, before the student
decodes a call: a small window holds a few tool names, not sixty.

Each tool is a document of its words — name (split at _ . : / -), description, parameter names
and descriptions, enum values and synonyms, example values and its phrasings — scored against the
request with BM25 (term frequency saturated, rarer words weigh more). The index is built from the
Recipe a Spirit embeds, so every bottle shortlists alike; ties keep catalog order.
"""
import math
import re
from collections import Counter
from functools import lru_cache

K1, B = 1.2, 0.75
STOP = {"a", "an", "the", "to", "of", "for", "in", "on", "at", "my", "me", "i", "is", "it", "and", "or", "be", "with",
        "by", "from", "please", "can", "you", "what", "how", "do", "this", "that", "up"}


def words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", str(text)).lower()) if w not in STOP]


def stem(word: str) -> str:
    """Enough stemming for a keyword match: plurals and -ing/-ed endings."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)]
    return word


# words that a value of these types stands for, wherever it appears (a bare "docs.python.org" means a url)
TYPE_WORDS = {"url": ["url", "website", "link"], "email": ["email", "address"]}
TYPE_PATTERNS = {"url": re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|org|net|io|co|uk|de|gov|edu)\b"),
                 "email": re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")}


def request_terms(text: str) -> list[str]:
    terms = [stem(w) for w in words(text)]
    for kind, pattern in TYPE_PATTERNS.items():
        if pattern.search(text):
            terms += TYPE_WORDS[kind]
    return terms


def tool_document(tool: dict) -> list[str]:
    parts = [tool["name"], tool["name"], tool.get("description", "")]
    for pname, param in tool.get("parameters", {}).items():
        parts += [pname, param.get("description", ""), *map(str, param.get("examples", []))]
        parts += TYPE_WORDS.get(param.get("type"), [])
        values = param.get("values", [])
        parts += list(values) + ([s for syn in values.values() for s in syn] if isinstance(values, dict) else [])
        parts += list(param.get("words", {}))
    parts += [re.sub(r"\{[^}]*\}|\[|\]", " ", p) for p in tool.get("phrasings", [])]
    return [stem(w) for part in parts for w in words(part)]


class Index:
    def __init__(self, tools: list[dict]):
        self.names = [tool["name"] for tool in tools]
        self.docs = [Counter(tool_document(tool)) for tool in tools]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.average = sum(self.lengths) / max(1, len(self.lengths))
        frequency = Counter(term for doc in self.docs for term in doc)
        n = len(self.docs)
        self.idf = {term: math.log(1 + (n - f + 0.5) / (f + 0.5)) for term, f in frequency.items()}

    def scores(self, text: str) -> dict:
        terms = request_terms(text)
        out = {}
        for name, doc, length in zip(self.names, self.docs, self.lengths):
            score = 0.0
            for term in terms:
                tf = doc.get(term, 0)
                if tf:
                    score += self.idf[term] * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / self.average))
            out[name] = score
        return out


@lru_cache(maxsize=16)
def _index(catalog_json: str) -> Index:
    import json

    return Index(json.loads(catalog_json))


def _scores(tools: list[dict], text: str) -> dict:
    import json

    return _index(json.dumps(tools, sort_keys=True)).scores(text)


def catalog_scores(task: dict, text: str) -> dict:
    """{tool name: BM25 of the request against the words of that tool's catalog card}: everything
    but its phrasings, whose wordings the student learnt from the Mash already (and a heads proof
    read against them would be read against the phrasings Cuts held out)."""
    return _scores([{key: value for key, value in tool.items() if key != "phrasings"} for tool in task["tools"]], text)


def shortlist(task: dict, text: str, names: list[str], limit: int) -> list[str]:
    """The `limit` of `names` that best match the request, in catalog order among equals."""
    scores = _scores(task["tools"], text)
    ranked = sorted(names, key=lambda name: (-scores.get(name, 0.0), names.index(name)))
    return ranked[:limit]
