"""User settings that belong to no Recipe: where a team's remote store and published Cellars are.

The environment comes first (DISTILL_REMOTE, DISTILL_CELLARS), then a user config file
($DISTILL_CONFIG, else $XDG_CONFIG_HOME/distill/config.yaml, else ~/.config/distill/config.yaml):

    remote: s3://team-bucket/distill          # the shared store (push, pull, build)
    cellars: [https://cellar.example.com]     # where `fork: "<hash>"` looks after cellar/index.json

The file holds URLs only. Credentials come from the environment and nowhere else, so a config
that names anything else (a key, a secret) is refused in one line rather than read.
"""
import os
from pathlib import Path

from .errors import DistillError

MAX_CONFIG_BYTES = 64_000
FIELDS = {"remote": "a URL (s3://bucket/prefix or file:///shared/folder)",
          "cellars": "a list of published Cellar URLs"}


def config_path() -> Path:
    if os.environ.get("DISTILL_CONFIG"):
        return Path(os.environ["DISTILL_CONFIG"])
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "distill" / "config.yaml"


def user_config() -> dict:
    """The config file's fields ({} when there is none), checked field by field."""
    import yaml

    path = config_path()
    try:
        raw = path.read_bytes() if path.stat().st_size <= MAX_CONFIG_BYTES else None
    except OSError:
        return {}
    if raw is None:
        raise DistillError(f"{path}: larger than {MAX_CONFIG_BYTES:,} bytes; it holds two URLs at most")
    try:
        data = yaml.safe_load(raw.decode("utf-8")) or {}
    except (UnicodeDecodeError, yaml.YAMLError):
        raise DistillError(f"{path}: not YAML; write e.g. `remote: s3://bucket/prefix`") from None
    if not isinstance(data, dict):
        raise DistillError(f"{path}: expected a mapping such as `remote: s3://bucket/prefix`")
    for name in data:
        if name not in FIELDS:
            raise DistillError(f"{path}: unknown field '{name}'; the config holds only "
                               + ", ".join(f"{k} ({v})" for k, v in FIELDS.items())
                               + "; credentials come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), "
                                 "never from a file")
    if "remote" in data and not isinstance(data["remote"], str):
        raise DistillError(f"{path}: remote: expected {FIELDS['remote']}")
    cellars = data.get("cellars", [])
    if not isinstance(cellars, list) or not all(isinstance(c, str) for c in cellars):
        raise DistillError(f"{path}: cellars: expected {FIELDS['cellars']}")
    return data


def remote_url() -> str | None:
    """The shared store's URL: DISTILL_REMOTE, else the config's `remote`, else None (local only).
    DISTILL_REMOTE set to an empty string turns a configured remote off for one command."""
    if "DISTILL_REMOTE" in os.environ:
        return os.environ["DISTILL_REMOTE"].strip() or None
    return user_config().get("remote") or None


def cellar_urls() -> list[str]:
    """Published Cellars that `fork: "<hash>"` consults: DISTILL_CELLARS (comma or space
    separated), else the config's `cellars`."""
    if "DISTILL_CELLARS" in os.environ:
        return [u for u in os.environ["DISTILL_CELLARS"].replace(",", " ").split() if u]
    return list(user_config().get("cellars", []))
