"""The store: atomic publish, corruption is a miss, concurrent builders cannot corrupt a key."""
import multiprocessing
import time

import pytest

from distill.store import Store


def test_build_publishes_with_manifest(tmp_path):
    store = Store(tmp_path)
    with store.build("cuts", "ab" * 16, section={"x": 1}) as out:
        (out / "hearts.jsonl").write_text("{}\n")
    assert store.has("cuts", "ab" * 16)
    manifest = store.manifest("cuts", "ab" * 16)
    assert manifest["files"]["hearts.jsonl"]["bytes"] == 3 and manifest["section"] == {"x": 1}


def test_crash_mid_build_leaves_nothing(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(RuntimeError):
        with store.build("cuts", "cd" * 16) as out:
            (out / "hearts.jsonl").write_text("partial")
            raise RuntimeError("killed")
    assert not store.has("cuts", "cd" * 16)
    assert not list((tmp_path / "store" / "cuts").rglob("hearts.jsonl"))


def test_corrupt_artifact_is_a_miss_and_is_removed(tmp_path, capsys):
    store = Store(tmp_path)
    key = "ef" * 16
    with store.build("notes", key) as out:
        (out / "notes.json").write_text('{"proof": 1}')
    (store.path("notes", key) / "notes.json").write_text('{"proof": 2}')  # same size, other bytes
    assert not store.has("notes", key)
    with pytest.raises(KeyError):
        store.get("notes", key)
    assert "corrupt" in capsys.readouterr().err
    assert not store.path("notes", key).exists()


def _builder(root, key, payload, barrier):
    store = Store(root)
    barrier.wait()
    with store.build("mash", key) as out:
        (out / "shard.jsonl").write_text(payload * 20000)
        time.sleep(0.05)


def test_two_processes_building_one_key(tmp_path):
    key = "12" * 16
    barrier = multiprocessing.Barrier(2)
    procs = [multiprocessing.Process(target=_builder, args=(tmp_path, key, "same\n", barrier)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    store = Store(tmp_path)
    assert store.has("mash", key)
    leftovers = [p for p in (tmp_path / "store" / "mash").rglob("*") if p.name.startswith(".tmp")]
    assert leftovers == []
