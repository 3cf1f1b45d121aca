"""Teacher answers shared through the remote: what a Mash cost, bought once per team.

Answers are grouped by what determines them apart from the prompt: the teacher's output fields,
the seed, the task type and the category. A group therefore holds every answer any Recipe with
that teacher could reuse for that category's shard, across forks and stage versions. Under
teacher-cache/<group>/ the remote holds immutable segments: JSONL files named by the digest of
their bytes, so a segment is complete or absent, and one that does not hash to its name is
refused. Push writes one segment with the answers the remote lacks; pull merges every segment
into the local cache.

A downloaded answer is data: each line must be {"key": 32 hex, "answer": the JSON text of an
answer}, within size bounds, and it enters the cache through TextOnlyDisk (JSON text only,
never a pickle). An answer already in the local cache is kept as it is.
"""
import json
import re

from ..hashing import canonical_json, digest
from . import CACHE_VERSION, CACHED_FIELDS

MAX_SEGMENT_BYTES = 256 << 20
MAX_ANSWER_BYTES = 1 << 20
KEY_RE = re.compile(r"^[0-9a-f]{32}$")
SEGMENT_RE = re.compile(r"^[0-9a-f]{32}\.jsonl$")


def cacheable(settings: dict) -> bool:
    """Only API teachers have answers worth sharing; the built-in one costs nothing to ask."""
    return settings["provider"] != "builtin"


def group(settings: dict, seed: int, task_type: str, category: str) -> str:
    from ..recipe.schema import output_fields

    identity = {"version": CACHE_VERSION, "teacher": output_fields("teacher", settings), "seed": seed,
                "task": task_type, "category": category}
    return digest(canonical_json(identity).encode())


def recipe_groups(recipe) -> dict[str, str]:
    """category -> answer group, for every shard of a Recipe's Mash."""
    from ..tasks import task_type

    task = recipe["task"]
    return {name: group(recipe["teacher"], recipe["seed"], task["type"], name)
            for name, _ in task_type(task["type"]).categories(task)}


def _valid(line) -> bool:
    if not isinstance(line, dict) or set(line) != {"key", "answer"}:
        return False
    key, answer = line["key"], line["answer"]
    if not isinstance(key, str) or not KEY_RE.match(key) or not isinstance(answer, str) or len(answer) > MAX_ANSWER_BYTES:
        return False
    try:
        fields = json.loads(answer)
    except ValueError:
        return False
    return isinstance(fields, dict) and isinstance(fields.get("text"), str) and set(fields) <= set(CACHED_FIELDS)


def read_segments(remote, group_id: str, warn) -> dict[str, str]:
    """key -> answer text from every intact segment of a group; a damaged one is warned about and skipped."""
    folder = f"teacher-cache/{group_id}"
    answers = {}
    for name in remote.list(folder):
        if not SEGMENT_RE.match(name):
            continue
        raw = remote.read(f"{folder}/{name}", MAX_SEGMENT_BYTES)
        if raw is None:
            continue
        if digest(raw) != name.removesuffix(".jsonl"):
            warn(f"teacher answers {remote.where(f'{folder}/{name}')} do not match their digest; not using them")
            continue
        try:
            lines = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
        except (UnicodeDecodeError, ValueError):
            lines = [None]
        if not all(_valid(line) for line in lines):
            warn(f"teacher answers {remote.where(f'{folder}/{name}')} hold something that is not an answer; not using them")
            continue
        answers.update((line["key"], line["answer"]) for line in lines)
    return answers


def push(remote, cache, group_id: str, keys, warn) -> int:
    """Upload the answers for `keys` that the local cache has and the remote lacks; how many."""
    have = read_segments(remote, group_id, warn)
    new = {}
    for key in sorted(set(keys) - set(have)):
        answer = cache.get(key)
        if isinstance(answer, str):
            new[key] = answer
    if not new:
        return 0
    data = "".join(json.dumps({"key": k, "answer": v}, ensure_ascii=False) + "\n" for k, v in new.items()).encode()
    remote.write(f"teacher-cache/{group_id}/{digest(data)}.jsonl", data)
    return len(new)


def pull(remote, cache, group_id: str, warn) -> int:
    """Add the remote's answers of a group to the local cache; how many were new here."""
    added = 0
    for key, answer in read_segments(remote, group_id, warn).items():
        if key not in cache:
            cache.set(key, answer)
            added += 1
    return added


# ---------------------------------------------------------------- during a build (best effort)

def _tier_for(build):
    """The store's remote tier when this build's teacher has answers worth sharing, else None."""
    tier = build.store.remote
    if tier is None or tier.down or not cacheable(build.recipe["teacher"]):
        return None
    return tier


def pull_answers(tier, recipe, cache_dir, categories=None) -> int:
    """The team's answers for a Recipe's shards (all, or `categories`) into a local cache; best
    effort: an unreachable remote is warned about once and skipped."""
    from ..remote import RemoteError
    from ..remote_tier import warn
    from .cache import open_cache

    if tier is None or tier.down or not cacheable(recipe["teacher"]):
        return 0
    groups = recipe_groups(recipe)
    cache = open_cache(cache_dir)
    try:
        return sum(pull(tier.remote, cache, groups[name], warn) for name in (categories or groups))
    except RemoteError as err:
        tier.give_up(err)
        return 0
    finally:
        cache.close()


def pull_for_shards(build, categories) -> int:
    """Before asking the teacher for missing shards: the team's answers for them, if any."""
    return pull_answers(build.store.remote, build.recipe, build.store.teacher_cache, categories)


def push_for_shard(build, category: str, keys) -> int:
    """After a shard is built: the answers it was built from, for the team."""
    from ..remote import RemoteError
    from ..remote_tier import warn
    from .cache import open_cache

    tier = _tier_for(build)
    if tier is None or not keys:
        return 0
    cache = open_cache(build.store.teacher_cache)
    try:
        return push(tier.remote, cache, recipe_groups(build.recipe)[category], keys, warn)
    except RemoteError as err:
        tier.give_up(err)
        return 0
    finally:
        cache.close()
