"""Adds a new writer's field rows to a Recipe's field set, half to dev and half to test.

    python bench/field_split.py recipes/sql.yaml new_rows.jsonl

Each row is checked as the Recipe reads it (one line naming the row otherwise); rows are grouped by
the task's category (the tool or "no call" and whether tools are restricted, the label, the query
shape), ordered by the content hash of their text, and dealt alternately to the dev and the test
half, so neither the writer's order nor the reader's choice decides which half a row lands in.
Rows already in either half (as near-duplicate detection compares text) are skipped. Update the halves' headers by hand (who wrote what).
"""
import argparse
import json
import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repository, not bench/


def stratum(row: dict, module, task: dict) -> str:
    category = module.category_of(module.field_target(row, task))
    return f"{category}|{'restricted' if row.get('tools') else 'all'}"


def main():
    from distill import field
    from distill.hashing import digest
    from distill.recipe import load_recipe
    from distill.tasks import task_type
    from distill.tasks.common import normalised_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe")
    parser.add_argument("rows", help="JSONL of the new writer's labelled rows")
    args = parser.parse_args()
    recipe = load_recipe(args.recipe)
    module, task = task_type(recipe["task"]["type"]), recipe["task"]
    dev_path = field.field_path(recipe.path, recipe["proof"]["field"])
    test_path = dev_path.with_name(dev_path.name.replace(".dev.", ".test."))
    known = {normalised_text(row["text"])
             for path in (dev_path, test_path) for row in field.read_rows(path, recipe.path, module, task)}
    new = [row for row in field.read_rows(Path(args.rows), recipe.path, module, task)
           if normalised_text(row["text"]) not in known]
    groups: dict[str, list[dict]] = {}
    for row in new:
        groups.setdefault(stratum(row, module, task), []).append(row)
    halves = {dev_path: [], test_path: []}
    turn = 0  # runs on across groups, so odd-sized groups do not all favour dev
    for key in sorted(groups):
        for row in sorted(groups[key], key=lambda row: digest(row["text"].encode())):
            halves[dev_path if turn % 2 == 0 else test_path].append(row)
            turn += 1
    for path, rows in halves.items():
        with path.open("a", encoding="utf-8") as out:
            out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        print(f"{path}: +{len(rows)} rows")


if __name__ == "__main__":
    main()
