"""`distill tails <recipe>`: the tails (and optionally the worst heads) as a review file.

One JSON line per example: its id (the Mash example it came from), input, the teacher's target,
the trained model's prediction and why it was flagged. A reviewer corrects "target" or adds
"reject": true, deletes the rows they did not review, and names the file in an aged Recipe's
`age.reviews`: the rows then override the Mash (aging.py), checked by the task type first.
"""
import json
from pathlib import Path

HEADER = ('# Review file for age.reviews (distill tails). Per row: correct "target", or add "reject": true; '
          'delete rows you did not review (every row left here counts as reviewed and trains).\n')


def teacher_target(example: dict) -> dict:
    """The Mash example's target as the teacher wrote it (tool calling may have withheld the tool
    from the student's view; the review is of the call itself), without bookkeeping fields."""
    target = example.get("withheld_call") or example["target"]
    return {k: v for k, v in target.items() if k != "surfaces"}


def review_rows(build, worst_heads: int = 0) -> list[dict]:
    from ..spirit import spirit_from_model
    from ..tasks import task_type

    recipe = build.recipe
    module = task_type(recipe["task"]["type"])
    build.build_through("notes", report=lambda line: None)
    model, tokenizer, _ = build.load("still")
    spirit = spirit_from_model(model, tokenizer, recipe.data, recipe.hash)
    rows = []
    for ex in build.load("cuts", "tails"):
        rows.append({"id": ex["id"], "category": ex["category"], "input": module.input_text(ex),
                     "target": teacher_target(ex), "prediction": spirit.predict_example(ex),
                     "why": f"tail: {ex['tail_reason']}"})
    if worst_heads:
        heads, preds = build.load("cuts", "heads"), build.load("notes", "predictions")
        wrong = [(ex, p, module.verdict(ex["target"], p)) for ex, p in zip(heads, preds)]
        wrong = [w for w in wrong if w[2] != "correct"][:worst_heads]
        rows += [{"id": ex["id"], "category": ex["category"], "input": module.input_text(ex),
                  "target": teacher_target(ex), "prediction": p, "why": f"head answered wrong: {verdict}"}
                 for ex, p, verdict in wrong]
    return rows


def write_review_file(build, out: Path, worst_heads: int = 0) -> int:
    rows = review_rows(build, worst_heads)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(HEADER + "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows),
                   encoding="utf-8")
    return len(rows)
