"""Reading a Recipe's YAML safely: bounded in bytes and in what its aliases expand to, parsed
once, with the line of every field path kept for error messages.

PyYAML shares an aliased node rather than copying it, so a "billion laughs" file composes in
microseconds; what explodes is anything that walks the tree (the line map, validation,
hashing). Counting the expanded size with memoisation is linear in the file, so a bomb is
refused before anything walks it.
"""
from pathlib import Path

import yaml

from ..errors import RecipeError

MAX_BYTES = 2_000_000  # the largest shipped Recipe is ~10 kB; a 60-tool catalog ~60 kB
MAX_NODES = 200_000  # scalars, mappings and sequences once aliases are expanded
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SelfReference(Exception):
    pass


def expanded_size(node, memo=None) -> int:
    """How many nodes the document holds with every alias written out (memoised by node);
    raises _SelfReference for an alias inside its own anchor."""
    memo = {} if memo is None else memo
    if id(node) in memo:
        if memo[id(node)] is None:
            raise _SelfReference
        return memo[id(node)]
    memo[id(node)] = None  # in progress
    if isinstance(node, yaml.MappingNode):
        size = 1 + sum(expanded_size(k, memo) + expanded_size(v, memo) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(expanded_size(item, memo) for item in node.value)
    else:
        size = 1
    memo[id(node)] = size
    return size


def line_map(node, path=(), out=None) -> dict:
    """Every field path in a YAML node tree -> the 1-based line it starts on."""
    out = {} if out is None else out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = path + (key_node.value,)
            line_map(value_node, child, out)
            out[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            line_map(item, path + (i,), out)
    return out


def _text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise RecipeError(path, None, None, f"{size:,} bytes is larger than a Recipe may be ({MAX_BYTES:,}); "
                                                "split the catalog or check that this is the right file")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError(path, None, None, "file not found") from None
    except UnicodeDecodeError:
        raise RecipeError(path, None, None, "not UTF-8 text; save the Recipe as UTF-8") from None
    except OSError as err:
        raise RecipeError(path, None, None, f"cannot read: {err.strerror or err}") from None


def read_yaml(path: Path):
    """Parse one YAML file: (data, line map). Every failure is one RecipeError line."""
    text = _text(path)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise RecipeError(path, 1, None, "the file is empty; a Recipe is a YAML mapping (key: value lines)")
        try:
            too_big = expanded_size(node) > MAX_NODES
        except _SelfReference:
            raise RecipeError(path, None, None, "a YAML alias refers to itself; write the values out") from None
        if too_big:
            raise RecipeError(path, None, None, f"its YAML aliases expand to more than {MAX_NODES:,} values; "
                                                "write the values out instead of nesting aliases")
        data = loader.construct_document(node)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise RecipeError(path, line, None, f"YAML syntax error: {problem}; fix the indentation or quoting") from None
    except RecursionError:
        raise RecipeError(path, None, None, "nested too deeply; a Recipe needs only a few levels") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise RecipeError(path, 1, None, "a Recipe must be a YAML mapping (key: value lines)")
    return data, line_map(node)
