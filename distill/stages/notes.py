"""Tasting Notes: proof on heads, strengths and weaknesses with examples, the loss curve and
sample predictions with verdicts. Published failures are the point: they make honesty cheap."""
import html
import json
import random
import time
from collections import defaultdict

from ..keys import notes_section
from ..progress import bar, say
from ..tasks import task_type
from ..tasks.common import degrees


def predict_heads(spirit, heads, desc="proof") -> list[dict]:
    progress = bar(total=len(heads), desc=desc, unit="ex")
    preds = []
    for ex in heads:
        preds.append(spirit.predict_example(ex))
        progress.update(1)
    progress.close()
    return preds


def per_category(module, heads, preds, verdicts):
    """Share of fully correct heads per Mash category (tool, label, entity type, query kind)."""
    table = defaultdict(lambda: {"n": 0, "correct": 0, "failures": [], "successes": []})
    for ex, pred, verdict in zip(heads, preds, verdicts):
        row = table[ex["category"]]
        row["n"] += 1
        row["correct"] += verdict == "correct"
        case = {"input": module.input_text(ex), "gold": ex["target"], "predicted": pred, "verdict": verdict}
        (row["successes"] if verdict == "correct" else row["failures"]).append(case)
    return {name: {**row, "exact": row["correct"] / row["n"]} for name, row in sorted(table.items())}


def sample_predictions(module, heads, preds, verdicts, count, seed):
    """A fixed, honest sample: failures first in proportion, never only the good ones."""
    rows = [{"input": module.input_text(ex), "gold": ex["target"], "predicted": p, "verdict": v,
             "unseen_phrasing": ex.get("unseen_phrasing", False)} for ex, p, v in zip(heads, preds, verdicts)]
    rng = random.Random(seed)
    wrong = [r for r in rows if r["verdict"] != "correct"]
    right = [r for r in rows if r["verdict"] == "correct"]
    n_wrong = min(len(wrong), max(count // 3, count - len(right)))
    picked = rng.sample(wrong, n_wrong) + rng.sample(right, min(len(right), count - n_wrong))
    return picked


def plot_loss(history, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    steps = range(1, len(history["loss"]) + 1)
    ax.plot(steps, history["loss"], lw=0.8, alpha=0.6, label="train loss (per step)")
    per_epoch = history.get("steps_per_epoch", 1)
    ax.plot([per_epoch * (i + 1) for i in range(len(history["eval_loss"]))], history["eval_loss"], "o-",
            label="val loss (heads, per epoch)")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (log)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _subset_proof(module, task, heads, preds, keep):
    pairs = [(ex["target"], p) for ex, p in zip(heads, preds) if keep(ex)]
    return module.proof([g for g, _ in pairs], [p for _, p in pairs], task)


def evaluate(build, folder) -> tuple[dict, list, dict]:
    """Predict every head with the trained student and assemble the Tasting Notes."""
    from ..spirit import spirit_from_model  # numpy and the runtimes: only when notes are written

    recipe = build.recipe
    module, task = task_type(recipe["task"]["type"]), recipe["task"]
    model, tokenizer, history = build.load("still")
    heads, tails = build.load("cuts", "heads"), build.load("cuts", "tails")
    spirit = spirit_from_model(model, tokenizer, recipe.data, recipe.hash)
    started = time.perf_counter()
    preds = predict_heads(spirit, heads, desc=f"notes {recipe.name}")
    seconds = time.perf_counter() - started
    golds = [ex["target"] for ex in heads]
    verdicts = [module.verdict(g, p) for g, p in zip(golds, preds)]
    headline = module.proof(golds, preds, task)
    categories = per_category(module, heads, preds, verdicts)
    k = recipe["notes"]["examples_per_section"]
    ranked = sorted(categories.items(), key=lambda kv: kv[1]["exact"])
    notes = {
        "recipe": recipe.name, "recipe_hash": recipe.hash, "task_type": task["type"],
        "proof": {**headline, "degrees": degrees(headline["value"])},
        "proof_seen_phrasings": _subset_proof(module, task, heads, preds, lambda ex: not ex.get("unseen_phrasing")),
        "proof_unseen_phrasings": _subset_proof(module, task, heads, preds, lambda ex: ex.get("unseen_phrasing")),
        "per_category": {name: {"n": r["n"], "exact": r["exact"]} for name, r in categories.items()},
        "strengths": [{"category": name, "exact": r["exact"], "examples": r["successes"][:k]}
                      for name, r in reversed(ranked[-3:]) if r["successes"]],
        "weaknesses": [{"category": name, "exact": r["exact"], "examples": r["failures"][:k]}
                       for name, r in ranked[:3] if r["failures"]],
        "samples": sample_predictions(module, heads, preds, verdicts, recipe["notes"]["samples"], recipe["seed"]),
        "tails": [{"input": module.input_text(ex), "target": ex["target"], "reason": ex["tail_reason"]} for ex in tails],
        "task_details": module.extra_notes([module.input_text(ex) for ex in heads], golds, preds, task, folder),
        "training": {k2: history.get(k2) for k2 in ("parameters", "train_examples", "eval_examples", "steps_per_epoch",
                                                     "positions_per_second", "train_seconds", "threads", "processes",
                                                     "device", "precision", "real_token_fraction", "flops_per_second",
                                                     "at_window_end")},
        "environment": history.get("environment"),
        "window": recipe["student"]["max_length"],
        "final_val_loss": history["eval_loss"][-1] if history["eval_loss"] else None,
        "pour_seconds_per_example": round(seconds / max(1, len(heads)), 4),
    }
    notes["distinctness"] = distinctness(module, build.load("cuts", "hearts"), heads)
    notes.update(field_notes(build, spirit, module, task, k))
    if recipe.data.get("age"):  # an aged Spirit: deltas against its parent on the same examples
        from .. import aging, field

        notes["aging"] = aging.deltas(build, heads, preds, field.load(build) if notes.get("field_proof") else (),
                                      notes.get("field_predictions", ()))
        notes["training"]["slice"] = history.get("slice")
    if notes.get("field_failures"):  # what real users would see fail comes first
        notes["weaknesses"].insert(0, {"category": "field set (real text)", "exact": notes["field_proof"]["correct_share"],
                                       "examples": notes["field_failures"][:k]})
    return notes, preds, history


def distinctness(module, hearts, heads) -> dict:
    """How little the Mash repeats itself: distinct word 3-grams over all n-grams of its inputs,
    and the share of heads whose wording (values aside) no heart has."""
    from ..tasks.common import normalised_text

    grams, seen = [], set()
    for ex in hearts + heads:
        words = normalised_text(module.input_text(ex)).split()
        grams += [tuple(words[i:i + 3]) for i in range(len(words) - 2)]
    trained = {module.skeleton(ex) for ex in hearts}
    unseen = sum(module.skeleton(ex) not in trained for ex in heads)
    seen = len(set(grams))
    return {"distinct_3gram_ratio": round(seen / max(1, len(grams)), 4), "heads_with_unseen_wording": round(unseen / max(1, len(heads)), 4)}


def field_notes(build, spirit, module, task, k: int) -> dict:
    """The field proof: the same metric on real, human-written examples the Mash never saw."""
    from .. import field

    examples = field.load(build)
    if not examples:
        return {}
    preds = predict_heads(spirit, examples, desc=f"field {build.recipe.name}")
    golds = [ex["target"] for ex in examples]
    verdicts = [module.verdict(g, p) for g, p in zip(golds, preds)]
    proof = module.proof(golds, preds, task)
    failures = [{"input": module.input_text(ex), "gold": g, "predicted": p, "verdict": v}
                for ex, g, p, v in zip(examples, golds, preds, verdicts) if v != "correct"]
    return {"field_proof": {**proof, "degrees": degrees(proof["value"]), "file": build.recipe["proof"]["field"],
                            "correct_share": sum(v == "correct" for v in verdicts) / len(verdicts)},
            "field_failures": failures[: max(20, k)], "field_predictions": preds}


def md(value) -> str:
    """Any text (inputs, predictions: anyone's words) as inert Markdown: HTML escaped, so a
    Recipe or an input can never inject markup into notes.md or the Cellar; table-safe."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = html.escape(" ".join(text.split()), quote=False)
    return text.replace("|", "\\|").replace("`", "&#96;").replace("*", "\\*").replace("_", "\\_").replace("[", "\\[")


def headline(notes: dict) -> str:
    """Both proofs, each labelled: the field set's (real text) first when there is one."""
    p, f = notes["proof"], notes.get("field_proof")
    heads = f"heads {p['degrees']} ({p['n']} synthetic, held out)"
    if not f:
        return f"**Proof: {p['degrees']}** {md(p['metric'])} on {p['n']} held-out heads"
    return f"**Proof: field {f['degrees']} ({f['n']} real examples) · {heads}** — {md(p['metric'])}"


def render_markdown(notes: dict) -> str:
    p = notes["proof"]
    lines = [f"# Tasting Notes — {md(notes['recipe'])}", "", f"{headline(notes)}; recipe {notes['recipe_hash']}", ""]
    if notes.get("field_proof"):
        f = notes["field_proof"]
        extras = ", ".join(f"{md(k.replace('_', ' '))} {v:.1%}" for k, v in f.items()
                           if isinstance(v, float) and k not in ("value", "correct_share"))
        lines.append(f"- Field set `{md(f['file'])}`: {f['degrees']} on {f['n']} real examples"
                     + (f" ({extras})" if extras else "") + f"; {f['correct_share']:.1%} fully right")
    for key, value in p.items():
        if isinstance(value, float) and key != "value":
            lines.append(f"- {md(key.replace('_', ' ').capitalize())}: {value:.1%}")
    for label, key in (("seen phrasings", "proof_seen_phrasings"), ("unseen phrasings (whole templates held out)", "proof_unseen_phrasings")):
        sub = notes[key]
        if sub["n"]:
            extra = f", exact {sub['argument_exact_match']:.1%}" if "argument_exact_match" in sub else ""
            lines.append(f"- Heads with {label}: {degrees(sub['value'])} on {sub['n']}{extra}")
    if notes.get("distinctness"):
        d = notes["distinctness"]
        lines.append(f"- Mash distinctness: {d['distinct_3gram_ratio']:.1%} of word 3-grams distinct; "
                     f"{d['heads_with_unseen_wording']:.1%} of heads worded unlike any heart")
    t = notes["training"]
    lines += [f"- Student: {t['parameters']:,} parameters, {t['train_examples']} hearts, "
              f"{t['positions_per_second']:.0f} training positions/s on {t['threads']} thread(s)"
              + (f" x {t['processes']} process(es), {t['device']}, {t['precision']}; {t['real_token_fraction']:.1%} of "
                 f"computed positions were real tokens, {t['flops_per_second'] / 1e9:.0f} GFLOP/s" if t.get("device") else "")
              + f"; {t.get('at_window_end') or 0} hearts reach the end of the {notes.get('window', '?')}-token window (cut)", ""]
    if notes.get("aging"):
        from ..aging import render_deltas

        lines += render_deltas(notes["aging"], md)[1:] + [""]
    lines += ["## Strengths", ""]
    for s in notes["strengths"]:
        lines.append(f"- **{md(s['category'])}** — exact {s['exact']:.0%}")
        lines += [f"  - {md(e['input'])} → {md(e['predicted'])}" for e in s["examples"]]
    lines += ["", "## Weaknesses", ""]
    if not notes["weaknesses"]:
        lines.append("- No failures on heads.")
    for w in notes["weaknesses"]:
        lines.append(f"- **{md(w['category'])}** — exact {w['exact']:.0%}")
        lines += [f"  - {md(e['input'])}: gold {md(e['gold'])}, got {md(e['predicted'])} ({md(e['verdict'])})"
                  for e in w["examples"]]
    lines += ["", "## Per category", "", "| category | n | fully correct |", "|---|---|---|"]
    lines += [f"| {md(name)} | {r['n']} | {r['exact']:.0%} |" for name, r in notes["per_category"].items()]
    lines += _task_details_markdown(notes.get("task_details", {}))
    lines += ["", "## Loss curve", "", "![loss curve](loss.png)", "",
              f"Final val loss: {notes['final_val_loss']}", "", "## Sample predictions", "",
              "| input | gold | predicted | verdict |", "|---|---|---|---|"]
    for s in notes["samples"]:
        lines.append(f"| {md(s['input'])} | {md(s['gold'])} | {md(s['predicted'])} | {md(s['verdict'])} |")
    lines += ["", f"## Tails ({len(notes['tails'])} flagged, kept out of training)", ""]
    lines += [f"- {md(t['input'])} — {md(t['reason'])}" for t in notes["tails"][:20]]
    if len(notes["tails"]) > 20:
        lines.append(f"- … and {len(notes['tails']) - 20} more in notes.json")
    return "\n".join(lines) + "\n"


def _task_details_markdown(details: dict) -> list[str]:
    """Per-label / per-type / per-clause tables and pictures that only some task types have."""
    lines = []
    for key, title in (("per_label", "Per label"), ("per_type", "Per entity type")):
        if details.get(key):
            lines += ["", f"## {title}", "", "| name | precision | recall | F1 | support |", "|---|---|---|---|---|"]
            lines += [f"| {md(name)} | {r['precision']:.2f} | {r['recall']:.2f} | {r['f1']:.2f} | {r['support']} |"
                      for name, r in details[key].items()]
    if details.get("per_clause_kind"):
        lines += ["", "## Per clause kind", "", "| clause | n | execution accuracy |", "|---|---|---|"]
        lines += [f"| {md(name)} | {r['n']} | {r['execution_accuracy']:.0%} |" for name, r in details["per_clause_kind"].items()]
    for key, title in (("missed_examples", "Missed spans"), ("spurious_examples", "Spurious spans")):
        if details.get(key):
            lines += ["", f"## {title}", ""] + [f"- {md(e['span'])} ({md(e['type'])}) in “{md(e['text'])}”" for e in details[key]]
    for picture in details.get("pictures", []):
        lines += ["", f"![{md(picture)}]({picture})"]
    return lines


def is_built(build, _=None) -> bool:
    return build.has("notes")


def run(build, _=None) -> dict:
    recipe, keys, store = build.recipe, build.keys, build.store
    if store.has("notes", keys.notes):
        return store.manifest("notes", keys.notes)["summary"]
    with store.build("notes", keys.notes, section=notes_section(recipe),
                     upstream={"still": keys.still, "cuts": keys.cuts}) as out:
        notes, preds, history = evaluate(build, out.folder)
        (out / "notes.json").write_text(json.dumps(notes, indent=2, ensure_ascii=False))
        (out / "notes.md").write_text(render_markdown(notes))
        (out / "predictions.jsonl").write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in preds))
        field_preds = notes.pop("field_predictions", [])
        if field_preds:
            (out / "field_predictions.jsonl").write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in field_preds))
        plot_loss(history, out / "loss.png")
        out.extra["summary"] = {"proof": notes["proof"], "field_proof": notes.get("field_proof"),
                                "proof_unseen_phrasings": notes["proof_unseen_phrasings"]}
        if notes.get("aging"):
            out.extra["summary"]["aging"] = notes["aging"]
    p, f = notes["proof"], notes.get("field_proof")
    extras = ", ".join(f"{k.replace('_', ' ')} {v:.1%}" for k, v in p.items()
                       if isinstance(v, float) and k not in ("value",))
    field_part = f"field {f['degrees']} on {f['n']} real examples; " if f else ""
    say(f"notes {recipe.name}: {field_part}heads {p['degrees']} ({p['metric']}){', ' + extras if extras else ''}")
    if notes.get("aging"):
        from ..aging import delta_summary

        say(f"notes {recipe.name}: against {notes['aging']['parent']}: {delta_summary(notes['aging'])}")
    return store.manifest("notes", keys.notes)["summary"]


def load(build, part: str = "notes"):
    """"notes" (notes.json as a dict), "predictions" (the trained model's answer per head) or
    "folder" (the artifact's folder: notes.md, loss.png and task pictures)."""
    folder = build.store.get("notes", build.keys.notes)
    if part == "folder":
        return folder
    if part == "predictions":
        return [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines() if line]
    return json.loads((folder / "notes.json").read_text())
