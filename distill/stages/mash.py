"""The Mash: teacher-written examples, one JSONL shard per category (tool / label / ...).

Inputs and targets come from separate requests, so the teacher never sees the answer it is
about to be graded on while writing the input (the glossary's leakage warning).
"""
import json
import math
from collections import Counter

from ..hashing import canonical_json, digest
from ..keys import shard_section
from ..progress import bar, say
from ..tasks import Rejected, task_type
from ..teachers import TeacherClient, Usage, sync

MAX_REQUEST_ROUNDS = 4  # how many waves to ask for when the teacher's answers keep being rejected


def example_id(record: dict) -> str:
    return digest(canonical_json({"input": record["input"], "target": record["target"]}).encode())


def read_shard(path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _collect_inputs(task_module, task, category, spec, client, settings, sample_start, wanted, usage):
    per_request = settings["inputs_per_request"]
    n_requests = math.ceil(wanted / per_request)
    requests = []
    for i in range(n_requests):
        request = task_module.inputs_request(task, category, spec, per_request)
        requests.append({**request, "task": task["type"], "sample": sample_start + i})
    items, rejects = [], Counter()
    for request, answer in zip(requests, client.ask_many(requests)):
        usage.add(answer)
        try:
            parsed = task_module.parse_inputs(answer.json())
        except (ValueError, AttributeError):
            rejects["invalid JSON"] += request["spec"]["count"]
            continue
        for j, item in enumerate(parsed):
            # where the item came from: lets the offline teacher re-derive its plan; never the answer
            origin = {k: v for k, v in request["spec"].items() if k != "count"}
            items.append((item, {**origin, "sample": request["sample"], "item": j}))
    return items, rejects, sample_start + n_requests


def build_shard(recipe, category, spec, client, progress) -> tuple[list[dict], dict]:
    task = recipe["task"]
    module = task_type(task["type"])
    settings = recipe["mash"]
    wanted = module.shard_size(spec, settings["examples_per_category"], len(module.categories(task)))
    usage, rejects, seen_texts = Usage(), Counter(), set()
    examples, generated, sample = [], 0, 0
    for _ in range(MAX_REQUEST_ROUNDS):
        missing = wanted - len(examples)
        if missing <= 0:
            break
        items, input_rejects, sample = _collect_inputs(module, task, category, spec, client, settings,
                                                       sample, missing, usage)
        rejects.update(input_rejects)
        requests = [{**module.target_request(task, category, item, origin), "task": task["type"],
                     "sample": origin["sample"] * 1000 + origin["item"]} for item, origin in items]
        answers = client.ask_many(requests)
        for (item, _), answer in zip(items, answers):
            usage.add(answer)
            generated += 1
            try:
                target = module.parse_target(answer.json(), item, task, category)
                if item["text"].lower() in seen_texts:
                    raise Rejected("duplicate")
            except ValueError:
                rejects["invalid JSON"] += 1
                continue
            except Rejected as rejected:
                rejects[rejected.reason] += 1
                continue
            seen_texts.add(item["text"].lower())
            if len(examples) < wanted:
                record = {"category": category, "input": {"text": item["text"]}, "target": target,
                          "meta": {k: v for k, v in item.items() if k != "text"}}
                examples.append({"id": example_id(record), **record})
                progress.update(1)
        progress.set_postfix(requests=usage.requests, rejected=sum(rejects.values()), refresh=False)
    stats = {"category": category, "accepted": len(examples), "generated": generated,
             "distinct_input_share": round(len(seen_texts) / generated, 4) if generated else 0.0,
             "rejected": dict(sorted(rejects.items())), **usage.as_dict()}
    return examples, stats


def is_built(build, _=None) -> bool:
    return build.has("mash")


def run(build, _=None) -> dict:
    """Build every missing shard; shards already in the store cost nothing."""
    recipe, keys, store = build.recipe, build.keys, build.store
    task = recipe["task"]
    categories = task_type(task["type"]).categories(task)
    missing = [(name, spec) for name, spec in categories if not store.has("mash", keys.shards[name])]
    if not missing:
        return {"built": 0, "requests": 0}
    sync.pull_for_shards(build, [name for name, _ in missing])  # answers a teammate paid for are free here
    client = TeacherClient(recipe["teacher"], recipe["seed"], cache_dir=store.teacher_cache,
                           replay_only=build.teacher_replay_reason())
    total_requests = 0
    try:
        module = task_type(task["type"])
        progress = bar(total=sum(module.shard_size(spec, recipe["mash"]["examples_per_category"], len(categories))
                                 for _, spec in missing), desc=f"mash {recipe.name}", unit="ex")
        for name, spec in missing:
            asked_before = len(client.asked)
            examples, stats = build_shard(recipe, name, spec, client, progress)
            answers = sorted(set(client.asked[asked_before:]))  # what `distill push` shares with this shard
            key = keys.shards[name]
            with store.build("mash", key, section=shard_section(recipe, spec)) as out:
                with open(out / "shard.jsonl", "w", encoding="utf-8") as f:
                    for example in examples:
                        f.write(json.dumps(example, ensure_ascii=False) + "\n")
                out.extra["stats"] = stats
                if answers:
                    out.extra["teacher_cache_keys"] = answers
            sync.push_for_shard(build, name, answers)
            total_requests += stats["requests"]
            store.log_usage(recipe.name, "mash", name, stats)
        progress.close()
    finally:
        client.close()
    say(f"mash {recipe.name}: built {len(missing)} shard(s), {total_requests} teacher request(s)")
    return {"built": len(missing), "requests": total_requests}


def load(build, category=None) -> list[dict]:
    """Every example of the Mash (or of one category's shard), in catalog order."""
    examples = []
    for name, key in build.keys.shards.items():
        if category in (None, name):
            examples.extend(read_shard(build.store.get("mash", key) / "shard.jsonl"))
    return examples
