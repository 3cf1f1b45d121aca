"""Tool calling: (utterance, available tools) -> {"name": ..., "arguments": {...}}.

Proof: tool-name accuracy on heads. Also reported: argument exact-match (right tool and
exactly the gold arguments).
"""
import json
import re

from . import Rejected
from .base import no_extra_notes, no_head, unique_names
from .common import normalised_text, phrasings_parsed, slots, text_items

PROOF_METRIC = "tool-name accuracy"
HEAD = "causal_lm"
DEFAULT_ARCH = "llama"
DEFAULT_INIT = "scratch"  # student.init: auto
SLOT_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
output_names = no_head
extra_notes = no_extra_notes


def num_labels(task: dict) -> int:
    return 0


# ---------------------------------------------------------------- phrasings


def check(task: dict):
    """Catalog checks the schema cannot express; yields (field path, problem)."""
    yield from unique_names(task["tools"], ["tools"], "tool")
    for t, tool in enumerate(task["tools"]):
        params = tool["parameters"]
        for pname, param in params.items():
            kind = param["type"]
            if kind == "string" and "examples" not in param:
                yield ["tools", t, "parameters", pname], "a string parameter needs 'examples' (values the teacher may use)"
            if kind == "enum" and "values" not in param:
                yield ["tools", t, "parameters", pname], "an enum parameter needs 'values'"
            if kind in ("integer", "number") and param.get("minimum", 0) > param.get("maximum", 100):
                yield ["tools", t, "parameters", pname], "minimum is greater than maximum"
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


def categories(task: dict):
    """One Mash shard per tool: adding a tool generates one new shard and reuses the rest."""
    return [(tool["name"], tool) for tool in task["tools"]]


def tool_signature(tool: dict) -> dict:
    """What a teacher is told about a tool: no phrasings, no example values (they are hints, not answers)."""
    params = {}
    for name, param in sorted(tool["parameters"].items()):
        entry = {"type": param["type"], "required": param.get("required", False)}
        if param["type"] == "enum":
            entry["values"] = param["values"]
        if "description" in param:
            entry["description"] = param["description"]
        params[name] = entry
    return {"name": tool["name"], "description": tool["description"], "parameters": params}


# ---------------------------------------------------------------- teacher requests


INPUTS_SCHEMA = {
    "type": "object",
    "required": ["utterances"],
    "properties": {
        "utterances": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["text"],
                "properties": {"text": {"type": "string", "minLength": 1}, "phrasing": {"type": "string"}},
            },
        }
    },
}


def target_schema(task: dict) -> dict:
    return {
        "type": "object",
        "required": ["name", "arguments"],
        "properties": {
            "name": {"enum": [tool["name"] for tool in task["tools"]]},
            "arguments": {"type": "object"},
        },
    }


def inputs_request(task: dict, category: str, spec: dict, count: int) -> dict:
    """Ask for `count` user utterances that need this tool; the teacher picks the argument values."""
    sig = tool_signature(spec)
    prompt = (
        f"Write {count} different, realistic requests a user might type or say to an assistant "
        f"that must be answered by calling the tool below. Vary wording, length, politeness, word "
        f"order and casing; include occasional typos; choose concrete, varied argument values and "
        f"sometimes include optional arguments. Do not write the call itself.\n\n"
        f"Tool: {json.dumps(sig, ensure_ascii=False)}\n\n"
        'Answer with JSON: {"utterances": [{"text": "..."}]}'
    )
    return {"step": "inputs", "category": category, "prompt": prompt, "schema": INPUTS_SCHEMA,
            "spec": {"tool": spec, "count": count}}


def target_request(task: dict, category: str, item: dict, origin: dict) -> dict:
    """Ask for the call that answers one utterance. The request never names the intended tool."""
    catalog = [tool_signature(tool) for tool in task["tools"]]
    prompt = (
        "You route user requests to tools. Given the tool catalog and the user's request, answer "
        "with the single tool call that serves it, copying argument values from the request.\n\n"
        f"Tools: {json.dumps(catalog, ensure_ascii=False)}\n\nRequest: {item['text']}\n\n"
        'Answer with JSON: {"name": "<tool name>", "arguments": {"<parameter>": <value>}}'
    )
    return {"step": "targets", "category": category, "prompt": prompt, "schema": target_schema(task),
            "spec": {"text": item["text"], "origin": origin}}


def parse_inputs(answer: dict) -> list[dict]:
    return text_items(answer, "utterances")


def parse_target(answer: dict, item: dict, task: dict, category: str) -> dict:
    """Validate one call against the catalog; raises Rejected with a countable reason."""
    tools = {tool["name"]: tool for tool in task["tools"]}
    name, arguments = answer.get("name"), answer.get("arguments")
    if name not in tools:
        raise Rejected("unknown tool", str(name))
    if not isinstance(arguments, dict):
        raise Rejected("schema violation", "arguments is not an object")
    params = tools[name]["parameters"]
    for pname, value in arguments.items():
        if pname not in params:
            raise Rejected("schema violation", f"unknown argument {pname}")
        if not _value_fits(params[pname], value):
            raise Rejected("schema violation", f"{pname}={value!r} does not fit {params[pname]['type']}")
    for pname, param in params.items():
        if param.get("required") and pname not in arguments:
            raise Rejected("schema violation", f"missing required {pname}")
    if name != category:
        raise Rejected("off-category", f"asked for {category}, teacher chose {name}")
    # name order, not declaration order: a Recipe's mappings are hashed with sorted keys, so
    # nothing built may depend on how they were ordered in the YAML
    target = {"name": name, "arguments": {k: arguments[k] for k in sorted(arguments)}}
    if json.dumps(target, ensure_ascii=False) in item["text"]:
        raise Rejected("leakage", "the utterance contains the call verbatim")
    return target


def _value_fits(param, value) -> bool:
    kind = param["type"]
    if kind == "enum":
        return value in param["values"]
    if kind == "string":
        return isinstance(value, str) and bool(value)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ---------------------------------------------------------------- cuts


def input_text(example) -> str:
    return example["input"]["text"]


def skeleton(example) -> str:
    """The wording without its argument values: near-duplicates share a skeleton."""
    text = input_text(example).lower()
    for pname, value in sorted(example["target"]["arguments"].items(), key=lambda kv: -len(str(kv[1]))):
        text = text.replace(str(value).lower(), f"<{pname}>")
    text = re.sub(r"[^\w<>\s]", " ", text)
    return " ".join(text.split())


def near_duplicate_text(example) -> str:
    """What near-duplicate detection compares: the wording with values, minus case and punctuation."""
    return normalised_text(input_text(example))


def tail_reason(example) -> str | None:
    """Hard or suspicious cases kept out of training: arguments the utterance never mentions."""
    text = input_text(example).lower()
    for pname, value in example["target"]["arguments"].items():
        if str(value).lower() not in text:
            return f"ungrounded argument {pname}={value!r} (not in the utterance)"
    return None


def presented_categories(example, task, rng, distractors: int) -> list[str]:
    """The tools shown to the student: the target tool plus a random number (up to `distractors`)
    of others from the whole catalog, in random order, so any tool list at pour time is familiar."""
    others = [tool["name"] for tool in task["tools"] if tool["name"] != example["target"]["name"]]
    most = min(distractors, len(others))
    shown = rng.sample(others, rng.randint(min(2, most), most)) + [example["target"]["name"]]
    rng.shuffle(shown)
    return shown


# ---------------------------------------------------------------- student text


def student_prompt(tools: list[str], text: str) -> str:
    return f"tools: {' '.join(tools)}\nuser: {text}\ncall:"


def student_target(target: dict) -> str:
    args = json.dumps(target["arguments"], ensure_ascii=False)  # ": " keeps values tokenised as in the utterance
    return f" {target['name']} {args}"


def example_context(example):
    return example.get("shown")


def tokenizer_text(example, task) -> str:
    return student_prompt(example.get("shown"), input_text(example)) + student_target(example["target"])


def encode(tokenizer, example, task, max_length):
    from ..student import encode_example

    prompt = student_prompt(example.get("shown"), input_text(example))
    return encode_example(tokenizer, prompt, student_target(example["target"]), max_length)


OUTPUT_RESERVE = 48  # tokens kept free for the call


def text_budget(spirit, context=None) -> int:
    """What is left of the window for the request once the offered tools are written out."""
    from ..student import encode_prompt

    shown = context or [tool["name"] for tool in spirit.recipe["task"]["tools"]]
    return spirit.max_length - OUTPUT_RESERVE - len(encode_prompt(spirit.tokenizer, student_prompt(shown, "")))


def predict(spirit, text: str, context=None) -> dict:
    """Greedy, constrained to offered tools, their argument names and values found in the text."""
    from ..student import encode_prompt

    catalog = spirit.recipe["task"]["tools"]
    shown = context or [tool["name"] for tool in catalog]
    ids = encode_prompt(spirit.tokenizer, student_prompt(shown, text))
    output = spirit.generate(ids, output_validator(shown, catalog, text), output_complete(shown))
    return parse_prediction(output, shown)


def output_complete(shown: list[str]):
    """Where decoding may stop: after an offered tool's whole name, its arguments closed."""

    def complete(output: str) -> bool:
        name, _, args = output.strip().partition(" ")
        if name not in shown:
            return False
        if not args.strip():
            return True
        try:
            return isinstance(json.loads(args), dict)
        except ValueError:
            return False

    return complete


def parse_prediction(text: str, shown=None) -> dict:
    """Student output ' name {json args}' -> call dict; unparseable arguments keep the name. A
    name that is not one of the offered tools (decoding ran out of room) is never returned."""
    name, _, args = text.strip().partition(" ")
    if shown is not None and name not in shown:
        return {"name": None, "arguments": None, "raw": text.strip()}
    try:
        arguments = json.loads(args) if args.strip() else {}
        if not isinstance(arguments, dict):
            raise ValueError
        return {"name": name, "arguments": arguments}
    except ValueError:
        return {"name": name, "arguments": None, "raw": text.strip()}


def output_validator(shown: list[str], catalog: list[dict], text: str):
    """A check on partial student output: the tool is one offered, argument names belong to it,
    and every argument value is copied from the user's text (case aside)."""
    params = {tool["name"]: set(tool["parameters"]) for tool in catalog}
    source = text.lower()

    def valid(output: str) -> bool:
        body = output[1:] if output.startswith(" ") else output
        name, sep, rest = body.partition(" ")
        if not sep:
            return any(n.startswith(name) for n in shown)
        if name not in shown:
            return False
        return _arguments_valid(rest, params.get(name, set()), source)

    return valid


def _arguments_valid(rest: str, names: set, source: str) -> bool:
    """Scan a partial JSON object; False as soon as a key or value breaks the rules."""
    in_string, escaped, expecting_key, buffer, kind = False, False, True, "", None
    for ch in rest:
        if in_string:
            if escaped:
                buffer, escaped = buffer + ch, False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                if kind == "key" and buffer not in names:
                    return False
                if kind == "value" and (not buffer or buffer.lower() not in source):
                    return False
                in_string, kind = False, None
            else:
                buffer += ch
                if kind == "key" and not any(n.startswith(buffer) for n in names):
                    return False
                if kind == "value" and buffer.lower() not in source:
                    return False
        elif ch == '"':
            in_string, buffer, kind = True, "", ("key" if expecting_key else "value")
        elif ch in "{,":
            expecting_key, kind = True, None
        elif ch == ":":
            expecting_key, buffer, kind = False, "", None
        elif ch in "-.0123456789" and not expecting_key:
            buffer = (buffer if kind == "number" else "") + ch
            kind = "number"
            if buffer not in source:
                return False
        else:
            kind = None if ch in " }" else kind
    return True


# ---------------------------------------------------------------- proof


def verdict(gold: dict, pred: dict) -> str:
    if pred.get("name") != gold["name"]:
        return "wrong tool"
    if pred.get("arguments") is None:
        return "unparseable arguments"
    if pred["arguments"] != gold["arguments"]:
        return "wrong arguments"
    return "correct"


def proof(golds: list[dict], preds: list[dict], task=None) -> dict:
    """Headline metric plus argument exact-match, as fractions in [0, 1]."""
    n = len(golds)
    if n == 0:
        return {"metric": PROOF_METRIC, "value": 0.0, "n": 0, "argument_exact_match": 0.0}
    verdicts = [verdict(g, p) for g, p in zip(golds, preds)]
    name_ok = sum(v != "wrong tool" for v in verdicts)
    exact = sum(v == "correct" for v in verdicts)
    return {"metric": PROOF_METRIC, "value": name_ok / n, "n": n, "argument_exact_match": exact / n}


def category_of(gold: dict) -> str:
    return gold["name"]
