"""Cuts: the Mash split into hearts (train), heads (held out) and tails (hard cases, kept out).

- tails: examples the task type flags as suspicious (e.g. an argument the utterance never
  mentions), and identical wordings that the teacher labelled differently (ambiguous).
- heads: (1) every example of a few whole phrasings, chosen per catalog, so the notes can show
  generalisation to unseen wording; (2) near-duplicate clusters picked by the hash of their
  content, so the split is stable as the Mash grows and no near-duplicate straddles the cut.
- hearts: the rest.
Distractor tools are added here, not in the Mash: they depend on the whole catalog.
"""
import json
import random
from collections import defaultdict

from ..hashing import canonical_json, digest
from ..keys import cuts_section
from ..progress import say
from ..tasks import task_type

CUT_FILES = ("hearts.jsonl", "heads.jsonl", "tails.jsonl")


def _unit(*parts) -> float:
    """A number in [0, 1) fixed by content: the split is stable when the Mash grows."""
    return int(digest(canonical_json(list(parts)).encode())[:12], 16) / float(1 << 48)


def _shingles(text: str, n=3) -> set:
    text = f" {text} "
    return {text[i:i + n] for i in range(max(1, len(text) - n + 1))}


class _UnionFind:
    def __init__(self, items):
        self.parent = {item: item for item in items}

    def find(self, item):
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def near_duplicate_groups(texts: list[str], threshold: float) -> dict:
    """Map each text to its cluster's representative (Jaccard over character 3-grams)."""
    unique = sorted(set(texts))
    sets = {s: _shingles(s) for s in unique}
    groups = _UnionFind(unique)
    for i, a in enumerate(unique):
        sa = sets[a]
        for b in unique[i + 1:]:
            sb = sets[b]
            small, large = sorted((len(sa), len(sb)))
            if small / large < threshold:  # Jaccard can't reach the threshold
                continue
            if len(sa & sb) / len(sa | sb) >= threshold:
                groups.union(a, b)
    return {s: groups.find(s) for s in unique}


def heldout_phrasings(examples, share: float, seed: int) -> set:
    """Whole phrasings whose every example goes to heads; each category keeps at least one."""
    by_category = defaultdict(set)
    for ex in examples:
        if ex.get("meta", {}).get("phrasing"):
            by_category[ex["category"]].add(ex["meta"]["phrasing"])
    total = sum(len(p) for p in by_category.values())
    budget = round(share * total)
    ranked = sorted((_unit("phrasing", seed, p), cat, p) for cat, ps in by_category.items() for p in ps)
    chosen, taken = set(), defaultdict(int)
    for _, cat, phrasing in ranked:
        if len(chosen) >= budget:
            break
        if taken[cat] + 1 < len(by_category[cat]):
            chosen.add(phrasing)
            taken[cat] += 1
    return chosen, total


def split(examples: list[dict], recipe) -> dict:
    """Assign every example to hearts, heads or tails; returns lists plus a summary."""
    task = recipe["task"]
    module = task_type(task["type"])
    settings = recipe["cuts"]
    # reviewed rows (aging.py: a human corrected the target) always train: no tail check, not held out
    reviewed = [ex for ex in examples if ex.get("meta", {}).get("reviewed")]
    examples = [ex for ex in examples if not ex.get("meta", {}).get("reviewed")]
    tails, kept = [], []
    for ex in examples:
        reason = module.tail_reason(ex)
        (tails if reason else kept).append({**ex, "tail_reason": reason} if reason else ex)

    # identical wording, different labels: ambiguous, out of both train and eval
    labels_by_skeleton = defaultdict(set)
    for ex in kept:
        labels_by_skeleton[module.skeleton(ex)].add(module.category_of(ex["target"]))
    ambiguous = {s for s, labels in labels_by_skeleton.items() if len(labels) > 1}
    still_kept = []
    for ex in kept:
        if module.skeleton(ex) in ambiguous:
            tails.append({**ex, "tail_reason": "ambiguous: the same wording is labelled differently elsewhere"})
        else:
            still_kept.append(ex)
    kept = still_kept

    held, n_phrasings = heldout_phrasings(kept, settings["heldout_phrasings"], recipe["seed"])
    # the cluster rate tops heads up to the requested share, counting held-out phrasings in
    p = len(held) / n_phrasings if n_phrasings else 0.0
    cluster_rate = max(0.0, (settings["heads"] - p) / (1 - p)) if p < 1 else 0.0

    representative = {}
    by_category = defaultdict(list)
    for ex in kept:
        by_category[ex["category"]].append(module.near_duplicate_text(ex))
    for texts in by_category.values():
        representative.update(near_duplicate_groups(texts, settings["near_duplicate_jaccard"]))

    def group(ex):
        return representative[module.near_duplicate_text(ex)]

    hearts, heads = [], []
    for ex in kept:
        phrasing = ex.get("meta", {}).get("phrasing")
        if phrasing in held:
            heads.append({**ex, "unseen_phrasing": True})
        elif _unit("cluster", recipe["seed"], group(ex)) < cluster_rate:
            heads.append({**ex, "unseen_phrasing": False})
        else:
            hearts.append(ex)

    # a near-duplicate of a held-out phrasing's example must not train either
    held_groups = {group(ex) for ex in heads}
    leaked = [ex for ex in hearts if group(ex) in held_groups]
    hearts = [ex for ex in hearts if group(ex) not in held_groups]
    heads.extend({**ex, "unseen_phrasing": False} for ex in leaked)
    hearts.extend(reviewed)

    hearts, heads, tails = (_present(part, recipe, module) for part in (hearts, heads, tails))
    summary = {"hearts": len(hearts), "heads": len(heads), "tails": len(tails),
               "heads_unseen_phrasing": sum(ex["unseen_phrasing"] for ex in heads),
               "heldout_phrasings": sorted(held), "near_duplicate_clusters": len(set(representative.values())),
               "tail_reasons": _count(_reason_kind(ex["tail_reason"]) for ex in tails)}
    if reviewed:
        summary["reviewed"] = len(reviewed)
    return {"hearts": hearts, "heads": heads, "tails": tails, "summary": summary}


def _present(examples, recipe, module):
    """Each example as the student sees it (tool calling adds the offered tools), fixed by its id."""
    return [module.present(ex, recipe["task"], random.Random(int(ex["id"][:16], 16) ^ recipe["seed"]),
                           recipe["cuts"]["distractors"]) for ex in examples]


def _reason_kind(reason: str) -> str:
    """'ungrounded argument city=...' -> 'ungrounded argument city': countable, no values."""
    return reason.split(" '")[0].split(" (")[0].split("=")[0]


def _count(items):
    out = defaultdict(int)
    for item in items:
        out[item] += 1
    return dict(sorted(out.items()))


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def is_built(build, _=None) -> bool:
    return build.has("cuts")


def run(build, _=None) -> dict:
    recipe, keys, store = build.recipe, build.keys, build.store
    if store.has("cuts", keys.cuts):
        return store.manifest("cuts", keys.cuts)["summary"]
    examples = sorted(build.load("mash"), key=lambda ex: ex["id"])
    if (recipe.data.get("age") or {}).get("reviews_digest"):
        from ..aging import apply_reviews, reviewed_rows

        examples = apply_reviews(examples, reviewed_rows(recipe), task_type(recipe["task"]["type"]),
                                 f"{recipe['age']['reviews']} (age.reviews of {recipe.path})")
    result = split(examples, recipe)
    with store.build("cuts", keys.cuts, section=cuts_section(recipe),
                     upstream={"mash": list(keys.shards.values())}) as out:
        for name in CUT_FILES:
            write_jsonl(out / name, result[name.split(".")[0]])
        out.extra["summary"] = result["summary"]
    s = result["summary"]
    say(f"cuts {recipe.name}: {s['hearts']} hearts, {s['heads']} heads "
        f"({s['heads_unseen_phrasing']} from unseen phrasings), {s['tails']} tails")
    return s


def load(build, name: str) -> list[dict]:
    """One cut: "hearts", "heads" or "tails"."""
    if f"{name}.jsonl" not in CUT_FILES:
        raise ValueError(f"no cut named {name!r}; valid: hearts, heads, tails")
    return read_jsonl(build.store.get("cuts", build.keys.cuts) / f"{name}.jsonl")
