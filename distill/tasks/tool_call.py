"""Tool calling: (request, offered tools) -> {"name": tool, "arguments": {...}} or {"name": null}.

Arguments are typed as an API takes them (tasks/normalise.py): dates, times, numbers with units,
enums with synonyms, booleans, arrays, URLs, strings. The student does not compute them: it names
the tool and, per argument, copies the words the request used for it ("next Friday", "an hour
and a half") — or writes an enum's value or true/false — and normalise.py turns the words into
the value. Decoding is held to a grammar (call_grammar.py): offered tools (or "none") only, the
tool's own argument names, each once, required ones present, copied words that the type can
read. So no input produces an unparseable call.

Proof: tool-name accuracy on heads ("no call" counts as a name). Also reported: full-call exact
match, irrelevance accuracy (no-call requests answered no call), values the Recipe listed vs
values it never listed, and unparseable outputs (always 0 by construction).
"""
import datetime as dt
import json
import re

from . import Rejected
from .base import no_extra_notes, unique_names
from .common import normalised_text, phrasings_parsed, slots, text_items
from .normalise import enum_values
from .normalise import value as normalised_value

PROOF_METRIC = "tool-name accuracy"
HEADS = {"llama": "causal_lm", "bert": "token"}  # a decoder writes the call; an encoder tags it (tool_tagger.py)
DEFAULT_ARCH = "llama"
ENCODING_VERSION = 2  # in the Still key: bump it when encode() changes what the student learns
# in the notes key: bump it when predict() answers differently, so proofs are re-measured (2: misspelt
# "tomorrow"; 3: inflected enum words, values read from part of a tagged run; 4: the catalog card's
# words weigh in the tool choice, numbers said as a parameter's words; 5: days named as holidays,
# "an hour" + "a half" one value, a required date looked for at every position)
DECODING_VERSION = 5
DEFAULT_INIT = "scratch"  # student.init: auto
NONE = "none"  # the shard of requests no tool serves, and the student's word for "no call"
SLOT_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
TYPED = {"boolean", "enum"}  # written by the student as values; every other type is copied words
extra_notes = no_extra_notes


def output_names(task: dict) -> list[str]:
    """An encoder student's outputs (a decoder has none)."""
    from .tool_tagger import output_names as tagger_outputs

    return tagger_outputs(task)


def num_labels(task: dict) -> int:
    return len(output_names(task))


# ---------------------------------------------------------------- the catalog


def check(task: dict):
    """Catalog checks the schema cannot express; yields (field path, problem)."""
    yield from unique_names(task["tools"], ["tools"], "tool")
    if any(tool["name"] == NONE for tool in task["tools"]):
        yield ["tools"], f"'{NONE}' is the student's word for no call; rename that tool"
    for t, tool in enumerate(task["tools"]):
        params = tool["parameters"]
        for pname, param in params.items():
            yield from _check_parameter(["tools", t, "parameters", pname], param)
        for p, pieces, problem in phrasings_parsed(tool["phrasings"], ["tools", t, "phrasings"]):
            if problem:
                yield problem
                continue
            used = dict(slots(pieces))
            for name in used:
                if name not in params:
                    yield ["tools", t, "phrasings", p], f"slot {{{name}}} is not a parameter; valid: {', '.join(params) or 'none'}"
            for pname, param in params.items():
                if param.get("required") and used.get(pname, True):
                    yield ["tools", t, "phrasings", p], f"required parameter {{{pname}}} must appear outside [optional] parts"


def _check_parameter(path, param):
    kind = param["type"]
    if kind == "enum" and not param.get("values"):
        yield path, "an enum parameter needs 'values' (a list, or a mapping to synonyms)"
    if kind != "enum" and param.get("values"):
        yield path, f"'values' belongs to enum parameters; this one is {kind}"
    for key in ("unit", "words"):
        if param.get(key) and kind not in ("integer", "number"):
            yield path, f"'{key}' belongs to integer and number parameters"
    if kind in ("integer", "number"):
        for word, number in param.get("words", {}).items():
            if not value_fits(param, number):
                yield path + ["words", word], f"{number!r} does not fit the parameter's type {kind} and range; change one of them"
    if param.get("items") and kind != "array":
        yield path, "'items' belongs to array parameters"
    if kind in ("integer", "number") and param.get("minimum", 0) > param.get("maximum", float("inf")):
        yield path, "minimum is greater than maximum"
    if "default" in param and not value_fits(param, param["default"]):
        yield path + ["default"], f"{param['default']!r} does not fit the parameter's type {kind}; change one of them"


def categories(task: dict):
    """One Mash shard per tool (adding a tool generates one new shard and reuses the rest), and a
    "none" shard of requests no tool serves (task.no_call of the Mash)."""
    shards = [(tool["name"], tool) for tool in task["tools"]]
    if task.get("no_call"):  # the catalog's names are in: what counts as "no tool" depends on them
        shards.append((NONE, {"name": NONE, "share": task["no_call"], "tools": [t["name"] for t in task["tools"]],
                              "descriptions": [t["description"] for t in task["tools"]],
                              "phrasings": sorted({p for t in task["tools"] for p in t.get("phrasings", [])})}))
    return shards


def shard_size(spec: dict, per_category: int, n_categories: int) -> int:
    if spec.get("name") != NONE or "share" not in spec:
        return per_category
    return max(1, round(per_category * (n_categories - 1) * spec["share"] / (1 - spec["share"])))


def tool_signature(tool: dict) -> dict:
    """What a teacher is told about a tool: types, values, descriptions; no phrasings, no examples."""
    params = {}
    for name, param in sorted(tool["parameters"].items()):
        entry = {"type": param["type"], "required": param.get("required", False)}
        for key in ("description", "unit", "words", "items", "default"):
            if key in param:
                entry[key] = param[key]
        if param["type"] == "enum":
            entry["values"] = list(enum_values(param))
        params[name] = entry
    return {"name": tool["name"], "description": tool["description"], "parameters": params}


def value_fits(param: dict, value) -> bool:
    """Whether a value is of the parameter's type as the API takes it (the normalised form)."""
    kind = param["type"]
    if kind == "enum":
        return isinstance(value, str) and value in enum_values(param)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool) and _in_range(param, value)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and _in_range(param, value)
    if kind == "array":
        return isinstance(value, list) and bool(value) and all(isinstance(v, (str, int, float)) for v in value)
    if not isinstance(value, str) or not value.strip():
        return False
    patterns = {"date": r"\d{4}-\d{2}-\d{2}", "time": r"\d{2}:\d{2}", "datetime": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}",
                "email": r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", "url": r"https?://\S+"}
    return kind not in patterns or re.fullmatch(patterns[kind], value) is not None


def _in_range(param, value) -> bool:
    return param.get("minimum", float("-inf")) <= value <= param.get("maximum", float("inf"))


# ---------------------------------------------------------------- teacher requests


INPUTS_SCHEMA = {"type": "object", "required": ["utterances"], "properties": {"utterances": {"type": "array", "items": {
    "type": "object", "required": ["text"], "properties": {"text": {"type": "string", "minLength": 1}}}}}}


def target_schema(task: dict) -> dict:
    return {"type": "object", "required": ["name"], "properties": {
        "name": {"enum": [tool["name"] for tool in task["tools"]] + [None]}, "arguments": {"type": "object"},
        "surfaces": {"type": "object", "description": "per argument, the exact words of the request it was read from"}}}


def inputs_request(task: dict, category: str, spec: dict, count: int) -> dict:
    """Ask for `count` requests that need this tool (or, for "none", that no tool serves)."""
    if category == NONE:
        names = "; ".join(f"{name} ({what.rstrip('.')})" for name, what in zip(spec["tools"], spec["descriptions"]))
        prompt = (f"Write {count} different, realistic things people say to a voice or chat assistant that NONE of "
                  f"these tools can serve: {names}. Mix chit-chat, thanks, questions the tools cannot answer and "
                  f"requests for other capabilities. Vary persona, length, register and casing.\n\n"
                  'Answer with JSON: {"utterances": [{"text": "..."}]}')
    else:
        prompt = (f"Write {count} different, realistic requests people type or say to an assistant that must be "
                  f"answered by calling the tool below. Write as many different people would: terse, chatty, polite, "
                  f"sloppy, with typos; vary word order and length. Choose concrete, varied values (not only obvious "
                  f"ones) and write them the way people do: dates as 'tomorrow', 'next Friday', 'Dec 3'; times as "
                  f"'3pm', 'noon'; durations as 'an hour and a half'; amounts as '50 bucks'. Sometimes include "
                  f"optional arguments. Do not write the call itself.\n\nTool: {json.dumps(tool_signature(spec))}\n\n"
                  'Answer with JSON: {"utterances": [{"text": "..."}]}')
    return {"step": "inputs", "category": category, "prompt": prompt, "schema": INPUTS_SCHEMA,
            "spec": {"tool": spec, "count": count}}


def target_request(task: dict, category: str, item: dict, origin: dict) -> dict:
    """Ask for the call that answers one request; the request never names the intended tool."""
    catalog = [tool_signature(tool) for tool in task["tools"]]
    prompt = ("You route user requests to tools. Given the tool catalog and the request, answer with the single "
              "tool call that serves it, or name null when no tool fits. Arguments are typed: dates YYYY-MM-DD and "
              "times HH:MM relative to today, numbers as numbers in the parameter's unit, enums as one of their "
              "values, booleans true/false; strings are the user's words without a leading article. Give only the "
              "arguments the request states, and in 'surfaces' the exact words of the request each was read from."
              f"\n\nToday: {TEACHING_TODAY.isoformat()}\n\nTools: {json.dumps(catalog, ensure_ascii=False)}\n\n"
              f"Request: {item['text']}\n\n"
              'Answer with JSON: {"name": "<tool or null>", "arguments": {...}, "surfaces": {"<argument>": "<words>"}}')
    return {"step": "targets", "category": category, "prompt": prompt, "schema": target_schema(task),
            "spec": {"text": item["text"], "origin": origin}}


# A fixed "today" for the Mash: a target's dates are read against it, and the student copies the
# words ("tomorrow"), so what it learns does not depend on the day it was trained.
TEACHING_TODAY = dt.date(2026, 1, 5)


def parse_inputs(answer: dict) -> list[dict]:
    return text_items(answer, "utterances")


def parse_target(answer: dict, item: dict, task: dict, category: str) -> dict:
    """Validate one call against the catalog; raises Rejected with a countable reason."""
    tools = {tool["name"]: tool for tool in task["tools"]}
    name = answer.get("name")
    if name is None:
        if category != NONE:
            raise Rejected("off-category", f"asked for {category}, teacher found no tool")
        return {"name": None}
    if name not in tools:
        raise Rejected("unknown tool", str(name))
    if name != category:
        raise Rejected("off-category", f"asked for {category}, teacher chose {name}")
    arguments = answer.get("arguments") or {}
    surfaces = answer.get("surfaces") or {}
    if not isinstance(arguments, dict) or not isinstance(surfaces, dict):
        raise Rejected("schema violation", "arguments and surfaces must be objects")
    params = tools[name]["parameters"]
    for pname, value in arguments.items():
        if pname not in params:
            raise Rejected("schema violation", f"unknown argument {pname}")
        if not value_fits(params[pname], value):
            raise Rejected("schema violation", f"{pname}={value!r} does not fit {params[pname]['type']}")
    for pname, param in params.items():
        if param.get("required") and pname not in arguments:
            raise Rejected("schema violation", f"missing required {pname}")
    found = surfaces_for(item["text"], params, arguments, surfaces)
    if found is None:
        raise Rejected("ungrounded", "an argument's words are not in the request")
    target = {"name": name, "arguments": {k: arguments[k] for k in sorted(arguments)}, "surfaces": found,
              "cues": cues_for(item["text"], params, arguments, surfaces)}
    if json.dumps(target["arguments"], ensure_ascii=False) in item["text"] and arguments:
        raise Rejected("leakage", "the request contains the call verbatim")
    return target


def surfaces_for(text: str, params: dict, arguments: dict, given: dict) -> dict | None:
    """Per copied argument, the words of the request it comes from (the teacher's, checked; or
    found by trying the request's phrases). None when some argument has no words in the request."""
    lowered, found = text.lower(), {}
    for pname, value in sorted(arguments.items()):
        param = params[pname]
        if param["type"] in TYPED:
            continue
        words = given.get(pname)
        if param["type"] == "array":
            words = words if isinstance(words, list) else [str(v) for v in value]
            if not all(str(w).lower() in lowered for w in words):
                return None
            found[pname] = [str(w) for w in words]
            continue
        if isinstance(words, str) and words.lower() in lowered and _reads_as(param, words, value):
            found[pname] = words
            continue
        words = _find_words(text, param, value)
        if words is None:
            return None
        found[pname] = words
    return found


def cues_for(text: str, params: dict, arguments: dict, given: dict) -> dict:
    """Per enum or boolean argument, the words of the request that say its value ("sci-fi",
    "no rush"), where the teacher gave words the request contains: what an encoder student tags."""
    lowered = text.lower()
    return {pname: given[pname] for pname in sorted(arguments) if params[pname]["type"] in TYPED
            and isinstance(given.get(pname), str) and given[pname].strip() and given[pname].lower() in lowered}


def _reads_as(param, words: str, value) -> bool:
    return normalised_value(param, words, TEACHING_TODAY) == value


def _find_words(text: str, param: dict, value):
    """The shortest run of the request's words that normalises to the value (strings: the value
    itself, as written in the request)."""
    if param["type"] == "string":
        at = text.lower().find(str(value).lower())
        return text[at:at + len(str(value))] if at >= 0 else None
    tokens = text.split()
    for length in range(1, min(8, len(tokens)) + 1):
        for start in range(0, len(tokens) - length + 1):
            words = " ".join(tokens[start:start + length]).strip(",.!?;:")
            if _reads_as(param, words, value):
                return words
    return None


def field_target(row: dict, task: dict) -> dict:
    """A field example's call ({"name": null} for no call), checked against the catalog."""
    call = row.get("call")
    if not isinstance(call, dict) or "name" not in call:
        raise ValueError('"call" must be {"name": <tool or null>, "arguments": {...}}')
    tools = {tool["name"]: tool for tool in task["tools"]}
    name, arguments = call["name"], call.get("arguments", {})
    offered = row.get("tools")
    if offered is not None and (not isinstance(offered, list) or not all(isinstance(t, str) and t in tools for t in offered)):
        raise ValueError('"tools" must list tools of the Recipe\'s catalog')
    if name is not None and not isinstance(name, str):
        raise ValueError('"call" must name a tool (a string), or null for no call')
    if name is None:
        return {"name": None}
    if name not in tools:
        raise ValueError(f"tool {name!r} is not in the Recipe's catalog: {', '.join(tools)}")
    if offered is not None and name not in offered:
        raise ValueError(f"the call names {name}, which the row's \"tools\" does not offer")
    if not isinstance(arguments, dict):
        raise ValueError('"arguments" must be an object')
    params = tools[name]["parameters"]
    for pname, value in arguments.items():
        if pname not in params or not value_fits(params[pname], value):
            raise ValueError(f"argument {pname}={value!r} does not fit the tool {name}")
    return {"name": name, "arguments": {k: arguments[k] for k in sorted(arguments)}}


# ---------------------------------------------------------------- cuts


def input_text(example) -> str:
    return example["input"]["text"]


def skeleton(example) -> str:
    """The wording without its argument words: near-duplicates share a skeleton."""
    text = input_text(example).lower()
    surfaces = example["target"].get("surfaces", {})
    words = [w for v in surfaces.values() for w in (v if isinstance(v, list) else [v])]
    for word in sorted(words, key=lambda w: -len(str(w))):
        text = text.replace(str(word).lower(), "<v>")
    text = re.sub(r"[^\w<>\s]", " ", text)
    return " ".join(text.split())


def near_duplicate_text(example) -> str:
    return normalised_text(input_text(example))


def tail_reason(example) -> str | None:
    """Suspicious cases kept out of training: an argument whose words the request does not hold."""
    text = input_text(example).lower()
    for pname, words in example["target"].get("surfaces", {}).items():
        for word in (words if isinstance(words, list) else [words]):
            if str(word).lower() not in text:
                return f"ungrounded argument {pname}={word!r} (not in the utterance)"
    return None


def category_of(target: dict) -> str:
    return target["name"] or NONE


def present(example, task, rng, distractors: int):
    """What the student is shown beside the request: the target tool among others, at most
    task.shortlist of them — sometimes without the target tool, which makes the answer "no call"
    (the call the teacher gave is kept as withheld_call)."""
    names = [tool["name"] for tool in task["tools"]]
    target = example["target"]["name"]
    limit = min(task.get("shortlist", 8), distractors + 1, len(names))
    others = [n for n in names if n != target]
    if len(names) > limit:  # as at pour time: the shortlist's near misses are the distractors
        from .shortlist import shortlist

        others = [n for n in shortlist(task, input_text(example), names, limit + 1) if n != target]
    if target is not None and rng.random() < WITHHELD_SHARE:
        shown = rng.sample(others, rng.randint(min(2, len(others)), min(limit, len(others))))
        return {**example, "shown": shown, "target": {"name": None}, "withheld_call": example["target"]}
    count = rng.randint(min(2, len(others)), max(min(2, len(others)), min(len(others), limit - (target is not None))))
    shown = rng.sample(others, count) + ([target] if target else [])
    rng.shuffle(shown)
    return {**example, "shown": shown}


WITHHELD_SHARE = 0.05  # requests whose tool is not among those offered: the answer is no call


# ---------------------------------------------------------------- student text


def student_prompt(tools: list[str], text: str) -> str:
    return f"tools: {' '.join(tools)}\nuser: {text}\ncall:"


def student_target(target: dict, params: dict | None = None) -> str:
    """" name {json}" with copied words for copied types, values for enums and booleans; " none"."""
    if target["name"] is None:
        return f" {NONE}"
    surfaces = target.get("surfaces", {})
    shown = {k: (v if k not in surfaces else surfaces[k]) for k, v in target["arguments"].items()}
    return f" {target['name']} {json.dumps(shown, ensure_ascii=False)}"


def example_context(example):
    """The offered tools, and the day the request was made: a field row says it ("today"); every
    Mash example was written on TEACHING_TODAY (the teachers are told so), and its heads must be
    read against that day, not the day the notes happen to be made."""
    return {"tools": example.get("shown"), "today": example.get("today") or TEACHING_TODAY}


def _context(context) -> tuple[list | None, dt.date | None]:
    """pour's context: a list of tool names, or {"tools": [...], "today": "YYYY-MM-DD"}."""
    if isinstance(context, dict):
        today = context.get("today")
        return context.get("tools"), dt.date.fromisoformat(today) if isinstance(today, str) else today
    return context, None


def tokenizer_text(example, task) -> str:
    return student_prompt(example.get("shown") or [], input_text(example)) + student_target(example["target"])


def encode(tokenizer, example, task, student: dict):
    from ..student import encode_example

    if student["arch"] == "bert":
        from . import tool_tagger

        return tool_tagger.encode(tokenizer, example, task, student)
    prompt = student_prompt(example.get("shown") or [], input_text(example))
    return encode_example(tokenizer, prompt, student_target(example["target"]), student["max_length"])


OUTPUT_RESERVE = 64  # tokens kept free for the call


def text_budget(spirit, context=None) -> int:
    """What is left of the window for the request once the offered tools are written out."""
    from ..student import encode_prompt

    if spirit.recipe["student"]["arch"] == "bert":
        return spirit.max_length - 2  # the tools are labels of the head, not words of the window
    shown = offered(spirit.recipe["task"], _context(context)[0], "")[:spirit.recipe["task"].get("shortlist", 8)]
    return spirit.max_length - OUTPUT_RESERVE - len(encode_prompt(spirit.tokenizer, student_prompt(shown, "")))


def offered(task: dict, context, text: str) -> list[str]:
    """The tools a request is shown: the given ones (or the whole catalog), narrowed to the
    task.shortlist best keyword matches when there are more (shortlist.py)."""
    from .shortlist import shortlist

    names = list(context) if context else [tool["name"] for tool in task["tools"]]
    limit = task.get("shortlist", 8)
    return names if len(names) <= limit else shortlist(task, text, names, limit)


def predict(spirit, text: str, context=None) -> dict:
    """A call (or no call), decoded within the grammar, its copied words read as typed values."""
    from ..student import encode_prompt
    from .call_grammar import CallGrammar

    task = spirit.recipe["task"]
    tools, today = _context(context)
    if spirit.recipe["student"]["arch"] == "bert":
        from . import tool_tagger

        names = list(tools) if tools else [tool["name"] for tool in task["tools"]]
        return tool_tagger.predict(spirit, text, names, today or dt.date.today())
    shown = offered(task, tools, text)
    grammar = CallGrammar(task["tools"], shown, text)
    ids = encode_prompt(spirit.tokenizer, student_prompt(shown, text))
    output = spirit.generate(ids, grammar.valid, grammar.complete)
    return grammar.call(output, today or dt.date.today())


# ---------------------------------------------------------------- proof


def _gold(gold: dict) -> dict:
    return {"name": gold["name"], **({"arguments": gold["arguments"]} if gold["name"] else {})}


def verdict(gold: dict, pred: dict) -> str:
    if pred.get("unparseable"):
        return "unparseable"
    if pred.get("name") != gold["name"]:
        return "no call" if pred.get("name") is None else ("called a tool" if gold["name"] is None else "wrong tool")
    if gold["name"] is None:
        return "correct"
    if pred.get("arguments") != gold["arguments"]:
        return "wrong arguments"
    return "correct"


def proof(golds: list[dict], preds: list[dict], task=None) -> dict:
    """Tool-name accuracy (no call is a name), full-call exact match, irrelevance accuracy, and
    how often an argument's value is right when the Recipe listed it vs when it did not."""
    n = len(golds)
    if n == 0:
        return {"metric": PROOF_METRIC, "value": 0.0, "n": 0, "argument_exact_match": 0.0}
    verdicts = [verdict(g, p) for g, p in zip(golds, preds)]
    name_ok = sum(p.get("name") == g["name"] for g, p in zip(golds, preds))
    result = {"metric": PROOF_METRIC, "value": name_ok / n, "n": n,
              "argument_exact_match": sum(v == "correct" for v in verdicts) / n,
              "unparseable": sum(v == "unparseable" for v in verdicts)}
    irrelevant = [p.get("name") is None for g, p in zip(golds, preds) if g["name"] is None]
    if irrelevant:
        result["irrelevance_accuracy"] = sum(irrelevant) / len(irrelevant)
    if task is not None:
        result.update(value_rates(golds, preds, task))
    return result


def value_rates(golds, preds, task) -> dict:
    """Share of gold argument values predicted exactly, split by whether the Recipe listed them
    among its examples (a student that memorised the lists shows a gap here)."""
    tools = {tool["name"]: tool for tool in task["tools"]}
    counts = {"listed": [0, 0], "unlisted": [0, 0]}
    for gold, pred in zip(golds, preds):
        if not gold["name"] or pred.get("name") != gold["name"]:
            continue
        for pname, value in gold["arguments"].items():
            param = tools[gold["name"]]["parameters"].get(pname, {})
            if param.get("type") not in ("string", "array"):
                continue
            listed = {str(v).lower() for v in param.get("examples", [])}
            values = value if isinstance(value, list) else [value]
            kind = "listed" if all(str(v).lower() in listed for v in values) else "unlisted"
            counts[kind][0] += (pred.get("arguments") or {}).get(pname) == value
            counts[kind][1] += 1
    return {f"{kind}_values_right": right / total for kind, (right, total) in counts.items() if total} | \
        {f"{kind}_values": total for kind, (_, total) in counts.items()}
