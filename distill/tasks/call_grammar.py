"""The grammar of a tool-calling Spirit's output, checked on every prefix while it decodes:

    output  := " " tool " " "{" [member ("," " " member)*] "}"  |  " none"
    member  := '"' argument '"' ": " value
    value   := "true" | "false"                      (boolean)
             | '"' one of the enum's values '"'       (enum)
             | "[" copied ("," " " copied)* "]"        (array)
             | copied                                 (every other type)
    copied  := '"' words found in the request (case aside) that the argument's type can read '"'

The tool is one of those offered; each argument is one of its parameters, once; the object closes
only when every required parameter is there. `call()` reads a finished output into the API call,
normalising copied words by type (normalise.py); an output that could not finish is no call.
"""
import datetime as dt

from .normalise import enum_values
from .normalise import value as normalised_value
from .tool_call import NONE


class Invalid(Exception):
    pass


class _State:
    def __init__(self):
        self.name, self.used, self.members = "", [], {}
        self.phase = "name"  # name, object, key, colon, value, string, array, literal, after, done
        self.key, self.buffer, self.items, self.escaped = "", "", [], False

    def copy(self) -> "_State":
        twin = _State()
        twin.__dict__.update(self.__dict__)
        twin.used, twin.members, twin.items = list(self.used), dict(self.members), list(self.items)
        return twin


class CallGrammar:
    def __init__(self, tools: list[dict], shown: list[str], text: str, today: dt.date | None = None):
        self.tools = {tool["name"]: tool for tool in tools}
        self.shown = [name for name in shown if name in self.tools]
        self.text = text.lower()
        self.today = today or dt.date.today()
        # the state after the output decoded so far: each step checks many candidate tokens after the
        # same prefix, so only their own characters are scanned (decoding stays linear in its length)
        self._prefix, self._prefix_state = "", _State()

    # ------------------------------------------------------------ decoding's two questions

    def valid(self, output: str) -> bool:
        try:
            self._scan(output)
            return True
        except Invalid:
            return False

    def complete(self, output: str) -> bool:
        """May the output stop here? (Asked once per decoding step, before its candidates.)"""
        try:
            state = self._scan(output)
        except Invalid:
            return False
        self._prefix, self._prefix_state = _unspaced(output), state.copy()
        if state.phase == "name":
            return state.name == NONE or (state.name in self.shown and not self._required(state.name))
        return state.phase == "done"

    # ------------------------------------------------------------ reading a finished output

    def call(self, output: str, today: dt.date) -> dict:
        """The API call an output stands for; anything unfinished or unreadable is no call."""
        try:
            state = self._scan(output)
        except Invalid:
            return {"name": None}
        if state.name == NONE or state.name not in self.shown:
            return {"name": None}
        if state.phase not in ("done", "name"):
            return {"name": None}
        params = self.tools[state.name]["parameters"]
        arguments = {}
        for key, raw in state.members.items():
            value = normalised_value(params[key], raw, today)
            if value is None:
                return {"name": None}
            arguments[key] = value
        if any(p.get("required") and k not in arguments for k, p in params.items()):
            return {"name": None}
        return {"name": state.name, "arguments": {k: arguments[k] for k in sorted(arguments)}}

    # ------------------------------------------------------------ the scanner

    def _required(self, name: str) -> list[str]:
        return [k for k, p in self.tools[name]["parameters"].items() if p.get("required")]

    def _scan(self, output: str) -> _State:
        text = _unspaced(output)
        resumed = text.startswith(self._prefix)
        state = self._prefix_state.copy() if resumed else _State()
        for ch in text[len(self._prefix):] if resumed else text:
            getattr(self, f"_on_{state.phase}")(state, ch)
        self._check_partial(state)
        return state

    def _on_name(self, state, ch):
        if ch == " ":
            if state.name == NONE or state.name not in self.shown:
                raise Invalid("a tool name is one of those offered, or none")
            state.phase = "object"
            return
        state.name += ch

    def _on_object(self, state, ch):
        if ch != "{":
            raise Invalid("arguments open with {")
        state.phase = "key_or_close"

    def _on_key_or_close(self, state, ch):
        if ch == "}":
            self._close(state)
        elif ch == '"':
            state.phase, state.key = "key", ""
        elif ch != " ":
            raise Invalid("expected an argument name or }")

    def _on_key(self, state, ch):
        params = self.tools[state.name]["parameters"]
        if ch == '"':
            if state.key not in params or state.key in state.used:
                raise Invalid(f"{state.key!r} is not an unused argument of {state.name}")
            state.used.append(state.key)
            state.phase = "colon"
            return
        state.key += ch
        if not any(p.startswith(state.key) and p not in state.used for p in params):
            raise Invalid("not an argument name")

    def _on_colon(self, state, ch):
        if ch == ":":
            state.phase = "value"
        elif ch != " ":
            raise Invalid("expected :")

    def _param(self, state) -> dict:
        return self.tools[state.name]["parameters"][state.key]

    def _on_value(self, state, ch):
        if ch == " ":
            return
        kind = self._param(state)["type"]
        if kind == "boolean":
            if ch not in "tf":
                raise Invalid("a boolean is true or false")
            state.phase, state.buffer = "literal", ch
        elif kind == "array":
            if ch != "[":
                raise Invalid("an array opens with [")
            state.phase, state.items = "array", []
        elif ch == '"':
            state.phase, state.buffer, state.escaped = "string", "", False
        else:
            raise Invalid("a value here is a quoted string")

    def _on_literal(self, state, ch):
        if ch in ",} " and state.buffer in ("true", "false"):
            state.members[state.key] = state.buffer == "true"
            state.phase = "after"
            return self._on_after(state, ch)
        state.buffer += ch
        if not ("true".startswith(state.buffer) or "false".startswith(state.buffer)):
            raise Invalid("a boolean is true or false")

    def _on_string(self, state, ch):
        if state.escaped:
            state.buffer += {"n": "\n", "t": "\t"}.get(ch, ch)
            state.escaped = False
        elif ch == "\\":
            state.escaped = True
            return
        elif ch == '"':
            return self._end_string(state)
        else:
            state.buffer += ch
        self._check_string_prefix(state)

    def _check_string_prefix(self, state):
        param = self._param(state)
        if param["type"] == "enum":
            if not any(v.startswith(state.buffer) for v in enum_values(param)):
                raise Invalid("not one of the enum's values")
        elif state.buffer.lower() not in self.text:
            raise Invalid("copied words must be in the request")

    def _end_string(self, state):
        param, words = self._param(state), state.buffer
        if param["type"] == "enum":
            if words not in enum_values(param):
                raise Invalid("not one of the enum's values")
        elif not words.strip() or normalised_value(param, words, self.today) is None or not _in_range(param, words, self.today):
            raise Invalid(f"{words!r} cannot be read as a {param['type']}")
        state.members[state.key] = words
        state.phase = "after"

    def _on_array(self, state, ch):
        if ch == " ":
            return
        if ch == "]" and state.items:
            state.members[state.key] = list(state.items)
            state.phase = "after"
            return
        if ch != '"':
            raise Invalid("an array holds quoted words")
        state.phase, state.buffer, state.escaped = "array_item", "", False

    def _on_array_item(self, state, ch):
        if state.escaped:
            state.buffer, state.escaped = state.buffer + ch, False
        elif ch == "\\":
            state.escaped = True
            return
        elif ch == '"':
            if not state.buffer.strip() or state.buffer.lower() not in self.text:
                raise Invalid("array items are words from the request")
            state.items.append(state.buffer)
            state.phase = "array_after"
            return
        else:
            state.buffer += ch
        if state.buffer.lower() not in self.text:
            raise Invalid("array items are words from the request")

    def _on_array_after(self, state, ch):
        if ch == ",":
            state.phase = "array"
        elif ch == "]":
            state.members[state.key] = list(state.items)
            state.phase = "after"
        elif ch != " ":
            raise Invalid("expected , or ]")

    def _on_after(self, state, ch):
        if ch == ",":
            state.phase = "key_open"
        elif ch == "}":
            self._close(state)
        elif ch != " ":
            raise Invalid("expected , or }")

    def _on_key_open(self, state, ch):
        if ch == '"':
            state.phase, state.key = "key", ""
        elif ch != " ":
            raise Invalid("expected an argument name")

    def _close(self, state):
        missing = [k for k in self._required(state.name) if k not in state.members]
        if missing:
            raise Invalid(f"required arguments missing: {', '.join(missing)}")
        state.phase = "done"

    def _on_done(self, state, ch):
        raise Invalid("nothing follows the call")

    def _check_partial(self, state):
        """A name still being typed must be on its way to an offered one (or none)."""
        if state.phase == "name" and not any(n.startswith(state.name) for n in [*self.shown, NONE]):
            raise Invalid("not an offered tool")


def _unspaced(output: str) -> str:
    """The output without the space the student writes before it."""
    return output[1:] if output.startswith(" ") else output


def _in_range(param: dict, words: str, today) -> bool:
    if param["type"] not in ("integer", "number"):
        return True
    value = normalised_value(param, words, today)
    return param.get("minimum", float("-inf")) <= value <= param.get("maximum", float("inf"))

