"""Field sets: real, human-written labelled examples that never enter the Mash (`proof.field`).

Heads measure how well the student fits its teacher; a field set measures the Spirit on text the
project did not write. A field file is JSON Lines, one example per line in the task's own shape
({"text", "label"}, {"text", "spans"}, {"text", "sql"}, {"text", "call"}); lines starting with
"#" are comments (who wrote the set, and how). Each row is checked against the Recipe's catalog
when the Recipe is read, so a malformed field set is one line naming the file, the line and the
fix, before anything is trained. Every Spirit embeds its field set, so verify can re-measure it.
"""
import json
from pathlib import Path

from .errors import RecipeError
from .hashing import digest

MAX_FIELD_BYTES = 5_000_000
MAX_ROWS = 20_000


def field_path(recipe_path: Path, field: str) -> Path:
    path = Path(field)
    return path if path.is_absolute() else recipe_path.parent / path


def read_rows(path: Path, recipe_path: Path, module, task: dict) -> list[dict]:
    """The rows of a field file, each checked by the task type; one RecipeError line otherwise."""
    where = f"{path} (proof.field of {recipe_path})"
    try:
        if path.stat().st_size > MAX_FIELD_BYTES:
            raise RecipeError(path, None, None, f"larger than {MAX_FIELD_BYTES:,} bytes; a field set is a few hundred examples")
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise RecipeError(recipe_path, None, "proof.field", f"{path} does not exist; give a JSONL file of labelled "
                                                            "examples, relative to the Recipe") from None
    except UnicodeDecodeError:
        raise RecipeError(path, None, None, f"not UTF-8 text ({where}); save it as UTF-8 JSON Lines") from None
    except OSError as err:
        raise RecipeError(path, None, None, f"cannot read ({err.strerror or err})") from None
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not row["text"].strip():
                raise ValueError('each line is a JSON object with a non-empty "text"')
            module.field_target(row, task)
        except ValueError as err:
            raise RecipeError(path, number, None, f"{' '.join(str(err).split())} (a field example for {task['type']})") from None
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise RecipeError(path, number, None, f"more than {MAX_ROWS:,} examples; a field set is for measuring")
    if not rows:
        raise RecipeError(path, None, None, "no examples (only comments or blank lines)")
    return rows


def rows_digest(rows: list[dict]) -> str:
    from .hashing import canonical_json

    return digest(canonical_json(rows).encode())


def examples(rows: list[dict], module, task: dict) -> list[dict]:
    """Field rows in the shape of Mash examples ({"input": {"text"}, "target"}), ready to pour."""
    return [{"input": {"text": row["text"]}, "target": module.field_target(row, task), "category": "field",
             **({"shown": row["tools"]} if row.get("tools") else {}), **({"today": row["today"]} if row.get("today") else {})}
            for row in rows]


def load(build) -> list[dict]:
    """The Recipe's field set as examples, or [] when it names none; the rows come from the file
    (a Recipe being built) and must match the digest the Recipe was read with."""
    proof = build.recipe.data.get("proof") or {}
    if not proof.get("field"):
        return []
    from .tasks import task_type

    module, task = task_type(build.recipe["task"]["type"]), build.recipe["task"]
    rows = read_rows(field_path(build.recipe.path, proof["field"]), build.recipe.path, module, task)
    if rows_digest(rows) != proof.get("field_digest"):
        raise RecipeError(build.recipe.path, None, "proof.field", "the field set changed since the Recipe was read; "
                                                                  "read the Recipe again (rerun the build)")
    return examples(rows, module, task)
