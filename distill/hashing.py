"""Content keys: every artifact is named by the hash of exactly the inputs that determine it.

key(stage) = xxh3_128(canonical_json({stage, version, section, upstream}))

STAGE_VERSIONS is bumped by hand when a stage's output meaning changes; the source tree
is never hashed, so a refactor does not invalidate a Mash that cost real money.
"""
import hashlib
import json

import xxhash

STAGE_VERSIONS = {
    "mash": 2,  # 2: tool-call arguments in name order
    "cuts": 1,
    "still": 5,  # 2: fused AdamW, target-only projection, per-step dropout seeds; 3: objective.py computes
    # decoders; 4: encoders train the embedding rows their data uses (CompactVocabulary); 5: pooled dropout masks
    "notes": 2,  # 2: constrained decoding of SQL numbers
    "bottle": 2,  # 2: ONNX bottles record a digest of their graph weights
    "recipe": 1,
}


def canonical_json(value) -> str:
    """One spelling per value: sorted keys, no spaces, UTF-8, floats as Python repr."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def digest(data: bytes) -> str:
    """Fast content digest (xxh3-128, hex) used for keys and for manifest file digests."""
    return xxhash.xxh3_128_hexdigest(data)


def sha256_file(path) -> str:
    """Cryptographic digest for published files, where tampering matters more than speed."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stage_key(stage: str, section, upstream=()) -> str:
    """The content key of one stage's artifact."""
    payload = {
        "stage": stage,
        "version": STAGE_VERSIONS[stage],
        "section": section,
        "upstream": list(upstream),
    }
    return digest(canonical_json(payload).encode("utf-8"))
