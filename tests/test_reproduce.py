"""distill reproduce: the same Recipe on the same platform and thread count gives bit-identical
weights; another thread count stays within the stated proof tolerance."""
import json
import os
import subprocess
import sys


def _reproduce(built, tmp_path, threads, ref):
    env = dict(os.environ, DISTILL_CELLAR=str(built / "cellar"), DISTILL_THREADS=str(threads))
    cmd = [sys.executable, "-m", "distill.cli", "reproduce", ref, "--store", str(tmp_path / f"scratch{threads}"), "--json"]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)


def _result(out):
    return json.loads(out.stdout[out.stdout.index("{"):])


def test_reproduce_by_hash_is_bit_identical(built_tiny, tmp_path):
    recipe_hash = json.loads((built_tiny / "cellar" / "index.json").read_text())["spirits"]["tiny"]["recipe_hash"]
    out = _reproduce(built_tiny, tmp_path, os.environ.get("DISTILL_THREADS", "2"), recipe_hash)
    assert out.returncode == 0, out.stderr[-2000:]
    result = _result(out)
    assert result["bit_identical"] and result["proof"] == result["published_proof"]
    assert set(result["stages"].values()) == {"built"}  # a scratch store: everything rebuilt
    assert "bit-identical weights" in out.stdout


def test_reproduce_with_other_threads_is_within_tolerance(built_tiny, tmp_path):
    other = 2 if os.environ.get("DISTILL_THREADS", "2") == "1" else 1  # not the count built_tiny trained with
    out = _reproduce(built_tiny, tmp_path, other, str(built_tiny / "cellar" / "tiny" / "tiny.pt"))
    assert out.returncode == 0, out.stderr[-2000:]
    assert _result(out)["proof_within_tolerance"]
    said = [line for line in out.stdout.splitlines() if line.startswith("environment")]
    assert len(said) == 1 and f"threads {other} here" in said[0], out.stdout


def test_a_library_version_difference_is_named_before_comparing(built_tiny, tmp_path):
    """A Spirit records the versions it was trained with; reproduce names the one that differs."""
    import torch

    blob = torch.load(built_tiny / "cellar" / "tiny" / "tiny.pt", weights_only=True)
    recorded = json.loads(blob["environment"])
    assert recorded["libraries"]["torch"] == torch.__version__ and recorded["threads"] >= 1 and recorded["cpu"]
    recorded["libraries"]["transformers"] = "4.0.0"
    blob["environment"] = json.dumps(recorded)
    older = tmp_path / "tiny.pt"
    torch.save(blob, older)
    out = _reproduce(built_tiny, tmp_path, os.environ.get("DISTILL_THREADS", "2"), str(older))
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    environment = [line for line in lines if line.startswith("environment")]
    assert environment == [f"environment differs, so bit-identical weights are not expected: transformers "
                           f"{recorded_version()} here, 4.0.0 recorded"]
    verdict = next(i for i, line in enumerate(lines) if line.startswith(("bit-identical weights (", "weights differ")))
    assert lines.index(environment[0]) < verdict


def recorded_version():
    from importlib.metadata import version

    return version("transformers")


def test_unknown_hash_is_one_line(built_tiny, tmp_path):
    out = _reproduce(built_tiny, tmp_path, 1, "ab" * 16)
    assert out.returncode == 2 and "not in the cellar index" in out.stderr and "Traceback" not in out.stderr


def test_hash_found_in_the_store_and_cached_stages_reported(built_tiny, tmp_path):
    """Not in this cellar's index, but bottled in the store: found there; rebuilding into that
    same store reuses every stage."""
    recipe_hash = json.loads((built_tiny / "cellar" / "index.json").read_text())["spirits"]["tiny"]["recipe_hash"]
    env = dict(os.environ, DISTILL_CELLAR=str(tmp_path / "empty-cellar"), DISTILL_STORE=str(built_tiny / "store"))
    cmd = [sys.executable, "-m", "distill.cli", "reproduce", recipe_hash, "--store", str(built_tiny / "store"), "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    result = _result(out)
    assert set(result["stages"].values()) == {"cached"} and result["bit_identical"]
    assert "-- still:tiny (cached)" in out.stdout
