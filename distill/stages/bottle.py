"""Bottling: the trained student exported as one self-contained Spirit file per format.

Every bottle embeds weights, tokenizer, the normalised Recipe, its hash, the proof and the
training environment; the format modules (distill/formats/) say how each file is laid out.
Each bottle is poured on the heads right after it is written; the measurements (proof, agreement
with the trained model, latency) go into its manifest and from there into the cellar's
bottles.json and the "## Bottles" section of the cellar copy of notes.md (bottle_table.py).
"""
import json
import os
import shutil
import tempfile
from pathlib import Path

from .. import formats
from ..cellar.index import cellar_root, locked, update_index
from ..hashing import sha256_file
from ..keys import bottle_section, bottle_variants, variants_of
from ..progress import say


def bottle_filename(recipe, variant: str) -> str:
    """<name>.pt, <name>.onnx, <name>.wasm.html, <name>.gguf for the first GGUF type, <name>.<type>.gguf for the others."""
    fmt, gguf_type = bottle_variants(recipe).get(variant, (variant, None))
    if fmt == "gguf" and variant != "gguf":
        return f"{recipe.name}.{gguf_type}.gguf"
    return f"{recipe.name}{formats.suffix_of(fmt)}"


def cellar_path(recipe, variant: str) -> Path:
    return cellar_root() / recipe.name / bottle_filename(recipe, variant)


def format_options(recipe, variant: str) -> dict:
    """What one bottle's writer needs beyond the model: its section's options."""
    return bottle_section(recipe, variant)["options"]


def publish(src: Path, dest: Path):
    """Copy into the cellar atomically: readers never see half a Spirit."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a cellar is meant to be shared
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_atomically(dest: Path, text: str):
    """Readers see the old file or the new one, never half; two writers never share a temp file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, dest)


def publish_notes(build):
    """The Tasting Notes into the cellar, the cellar's notes.md with the bottle table appended
    (the store's notes artifact stays as the notes stage wrote it)."""
    from ..bottle_table import bottle_rows, render_bottles

    recipe = build.recipe
    folder = build.load("notes", "folder")
    dest = cellar_root() / recipe.name
    with locked(dest / "bottles.json"):  # bottles of one Spirit may be bottled in parallel (doit -n 2)
        for path in sorted(folder.iterdir()):  # notes.json, loss.png, task pictures
            if path.suffix == ".png" or path.name == "notes.json":
                publish(path, dest / path.name)
        rows = bottle_rows(build, build.load("notes"))
        write_atomically(dest / "notes.md", (folder / "notes.md").read_text() + render_bottles(rows))
        write_atomically(dest / "bottles.json", json.dumps({"recipe_hash": recipe.hash, "bottles": rows}, indent=2) + "\n")
        write_atomically(dest / "recipe.json", json.dumps(recipe.data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def bottled_file(store, key) -> Path | None:
    manifest = store.manifest("bottle", key)
    if not manifest:
        return None
    return store.path("bottle", key) / manifest["spirit"]


def _variant_in_cellar(build, variant) -> bool:
    store, key = build.store, build.keys.bottles[variant]
    src, dest = bottled_file(store, key), cellar_path(build.recipe, variant)
    if src is None or not dest.exists() or not src.exists():
        return False
    manifest = store.manifest("bottle", key)
    if dest.stat().st_size != src.stat().st_size:
        return False
    sha = store.stats.digest(dest, sha256_file)  # re-hashed only when the copy's size or mtime changed
    store.stats.save()
    return manifest.get("sha256") == sha


def is_built(build, fmt) -> bool:
    """Every bottle of this format exists in the store and its cellar copy is that exact file."""
    variants = variants_of(build.recipe, fmt)
    return bool(variants) and all(_variant_in_cellar(build, v) for v in variants)


def _bottle_variant(build, variant: str) -> Path:
    """Write one bottle into the store (if it is not there), taste it on the heads, publish it."""
    from ..bottle_table import taste

    recipe, keys, store = build.recipe, build.keys, build.store
    key = keys.bottles[variant]
    fmt, gguf_type = bottle_variants(recipe)[variant]
    if not store.has("bottle", key):
        from .. import field
        from ..aging import lineage

        model, tokenizer, history = build.load("still")
        meta = formats.spirit_metadata(recipe, model, tokenizer, build.load("notes"), history.get("environment"),
                                       field.load(build), lineage(build))
        filename = bottle_filename(recipe, variant)
        with store.build("bottle", key, section=bottle_section(recipe, variant),
                         upstream={"still": keys.still, "notes": keys.notes}) as out:
            formats.module(fmt).write(out / filename, model, tokenizer, meta, format_options(recipe, variant))
            out.extra.update({"spirit": filename, "format": fmt, "type": gguf_type, "variant": variant,
                              "sha256": sha256_file(out / filename), "bytes": (out / filename).stat().st_size,
                              "tasting": taste(out / filename, build)})
    dest = cellar_path(recipe, variant)
    publish(bottled_file(store, key), dest)
    update_index(recipe, build.load("notes"), dest, variant, _bottled_lineage(dest))
    say(f"bottle {recipe.name}-{variant}: {dest} ({dest.stat().st_size / 1e6:.2f} MB)")
    return dest


def _bottled_lineage(path: Path) -> list | None:
    """The cask history a bottle carries (None for a bottle from before lineage was recorded)."""
    from ..spirit import read_bottle

    meta = read_bottle(path)[1]
    return json.loads(meta["lineage"]) if "lineage" in meta else None


def run(build, fmt: str) -> Path:
    """Every bottle of one format (each GGUF type for "gguf"); returns the first one's cellar path."""
    paths = [_bottle_variant(build, variant) for variant in variants_of(build.recipe, fmt)]
    publish_notes(build)
    return paths[0]


def load(build, variant: str) -> Path | None:
    """The bottled file of one variant in the store (None if it is not bottled)."""
    return bottled_file(build.store, build.keys.bottles[variant])
