"""distill verify: passes on a built Spirit, fails with a clear line on each kind of tampering,
and refuses a .pt whose pickle would run code without running it."""
import json
import os

import onnx
import pytest
import torch

from tests.conftest import run_cli


def _verify(built, *files):
    return run_cli("verify", "--json", "--store", str(built / "store"), *map(str, files))


def _failed(result):
    report = json.loads(result.stdout)
    return {c["check"]: c["detail"] for c in report["checks"] if not c["ok"]}


def test_verify_passes_on_both_bottles(built_tiny):
    cellar = built_tiny / "cellar" / "tiny"
    result = _verify(built_tiny, cellar / "tiny.pt", cellar / "tiny.onnx")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    checks = {(os.path.basename(c["file"]), c["check"]) for c in report["checks"]}
    assert ("tiny.pt", "proof") in checks and ("tiny.onnx", "weights") in checks
    assert any(c["check"].startswith("agrees with") for c in report["checks"])
    table = run_cli("verify", "--store", str(built_tiny / "store"), str(cellar / "tiny.pt"))
    # loads, environment, recipe hash, weights, tokenizer, lineage (a first cask: itself), proof
    assert table.returncode == 0 and "all 7 checks passed" in table.stdout, table.stdout
    assert ("tiny.pt", "lineage") in checks


def _tampered_pt(built, tmp_path, change):
    blob = torch.load(built / "cellar" / "tiny" / "tiny.pt", weights_only=True)
    change(blob)
    path = tmp_path / "tiny.pt"
    torch.save(blob, path)
    return path


def _nudge_a_weight(blob):
    name = sorted(blob["state_dict"])[0]
    blob["state_dict"][name].view(-1)[0] += 1.0


def _edit_the_recipe(blob):
    recipe = json.loads(blob["recipe"])
    recipe["still"]["lr"] = 0.5
    blob["recipe"] = json.dumps(recipe)


def _swap_the_tokenizer(blob):
    from distill.student import train_tokenizer

    blob["tokenizer"] = train_tokenizer(["some other corpus entirely"] * 20, 300).to_str()


@pytest.mark.parametrize("change, check, message", [
    (_nudge_a_weight, "weights", "weights were changed"),
    (_edit_the_recipe, "recipe hash", "the Recipe was edited"),
    (_swap_the_tokenizer, "tokenizer", "tokenizer was swapped"),
])
def test_tampered_pt_fails_the_check_it_breaks(built_tiny, tmp_path, change, check, message):
    result = _verify(built_tiny, _tampered_pt(built_tiny, tmp_path, change))
    assert result.returncode == 1
    assert message in _failed(result)[check]


def test_flipped_byte_in_pt_weights_fails(built_tiny, tmp_path):
    import struct
    import zipfile

    path = built_tiny / "cellar" / "tiny" / "tiny.pt"
    data = bytearray(path.read_bytes())
    tensor = max((i for i in zipfile.ZipFile(path).infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
    name_len, extra_len = struct.unpack("<HH", data[tensor.header_offset + 26:tensor.header_offset + 30])
    data[tensor.header_offset + 30 + name_len + extra_len + 10] ^= 0x01  # one bit inside the largest tensor
    bad = tmp_path / "tiny.pt"
    bad.write_bytes(bytes(data))
    result = _verify(built_tiny, bad)
    assert result.returncode == 1
    failed = _failed(result)  # caught by the zip's CRC when loading, else by the weights digest
    assert "corrupted" in failed.get("loads", "") or "weights were changed" in failed.get("weights", "")

def test_flipped_byte_in_onnx_weights_fails(built_tiny, tmp_path):
    path = built_tiny / "cellar" / "tiny" / "tiny.onnx"
    data = bytearray(path.read_bytes())
    largest = max(onnx.load(str(path)).graph.initializer, key=lambda i: len(i.raw_data))
    at = data.find(largest.raw_data[:64]) + 40
    data[at] ^= 0x01
    bad = tmp_path / "tiny.onnx"
    bad.write_bytes(bytes(data))
    result = _verify(built_tiny, bad)
    assert result.returncode == 1
    assert "weights" in _failed(result) or "loads" in _failed(result)


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_without_running(built_tiny, tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save({"format": "distillarium-spirit", "payload": _RunsCode(marker)}, evil)
    result = _verify(built_tiny, evil)
    assert result.returncode == 1
    assert "not a loadable .pt Spirit" in _failed(result)["loads"]
    assert not marker.exists()
    pour = run_cli("pour", str(evil), "hello")
    assert pour.returncode == 2 and "Traceback" not in pour.stderr and not marker.exists()



def test_a_default_added_to_the_schema_later_keeps_old_spirits_verifying(built_tiny, monkeypatch):
    """The embedded Recipe is used as recorded, not re-normalised: a default the schema gains
    after bottling (as bottle.gguf_types did) must not change its hash or its stage keys."""
    import copy

    from distill.commands.verify import verify
    from distill.recipe import schema as schema_module

    newer = copy.deepcopy(schema_module.schema())
    newer["properties"]["still"]["properties"]["new_knob"] = {"type": "number", "default": 1.0}
    monkeypatch.setattr(schema_module, "schema", lambda: newer)
    checks = verify([built_tiny / "cellar" / "tiny" / "tiny.pt"], built_tiny / "store")
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]


def test_gguf_bottles_verify_within_their_type_budget(gguf_built):
    cellar = gguf_built / "cellar" / "tiny"
    result = _verify(gguf_built, cellar / "tiny.pt", cellar / "tiny.gguf", cellar / "tiny.q8_0.gguf")
    assert result.returncode == 0, result.stdout + result.stderr
    checks = {(os.path.basename(c["file"]), c["check"]): c["detail"] for c in json.loads(result.stdout)["checks"]}
    assert checks[("tiny.gguf", "weights")] == "weights match the digest recorded at bottling"
    assert "must match exactly" in checks[("tiny.gguf", "proof")]
    assert "q8_0 allows ±0.5 points" in checks[("tiny.q8_0.gguf", "proof")]
    assert checks[("tiny.gguf", f"agrees with {cellar / 'tiny.pt'}")].startswith("identical on")


def test_resealed_gguf_with_a_changed_weight_fails(gguf_built, tmp_path):
    """A flipped byte is refused at load by the seal; one re-sealed after the change (as a careless
    tool might) still fails, on the weights digest recorded at bottling."""
    from gguf import GGUFReader

    from distill.formats.seal import UNSEALED, _seal_offset, gguf_entry_prefix, seal

    path = gguf_built / "cellar" / "tiny" / "tiny.gguf"
    largest = max(GGUFReader(str(path)).tensors, key=lambda t: t.n_bytes)
    data = bytearray(path.read_bytes())
    data[largest.data_offset + 17] ^= 0x01
    at = _seal_offset(data, gguf_entry_prefix())
    data[at:at + 32] = UNSEALED.encode()
    bad = tmp_path / "tiny.gguf"
    bad.write_bytes(bytes(data))
    seal(bad, gguf_entry_prefix())
    result = _verify(gguf_built, bad)
    assert result.returncode == 1
    assert "weights were changed" in _failed(result)["weights"]


def test_only_lossy_bottles_may_disagree_and_only_within_their_budget():
    from distill.commands.verify import _agreement_check, proof_within_tolerance

    assert proof_within_tolerance(0.9771, 0.9771, "f32") and not proof_within_tolerance(0.9733, 0.9771, "f32")
    assert proof_within_tolerance(0.9733, 0.9771, "q8_0") and not proof_within_tolerance(0.9695, 0.9771, "q8_0")
    assert proof_within_tolerance(0.9580, 0.9771, "q4_0") and not proof_within_tolerance(0.9500, 0.9771, "q4_0")
    same, changed = [{"a": 1}] * 4, [{"a": 1}] * 3 + [{"a": 2}]
    assert _agreement_check("b.onnx", "a.pt", changed, same, {"f32"}).ok is False
    lossy = _agreement_check("b.gguf", "a.pt", changed, same, {"f32", "q8_0"})
    assert lossy.ok and lossy.detail == "differs on 1 of 4 heads (q8_0 weights are lossy)"
