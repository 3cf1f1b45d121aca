"""The Still: a killed run resumes from its checkpoint and ends where an uninterrupted one does
(a decoder, and an encoder whose dropout masks come from a pool: dropout.py)."""
import json

import pytest
import torch
import yaml

from distill.build import Build
from distill.checkpoints import Checkpoints
from distill.recipe import load_recipe
from distill.stages.still import lr_at, train
from distill.store import Store
from tests.conftest import tiny_recipe_data


def _prepared(tmp_path, name, arch="llama"):
    data = tiny_recipe_data()
    data["student"] = {**data["student"], "arch": arch}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    build = Build(load_recipe(path), Store(tmp_path / name))
    build.run("mash")
    build.run("cuts")
    return build


@pytest.mark.parametrize("arch", ["llama", "bert"])
def test_resume_matches_uninterrupted_training(tmp_path, arch):
    whole = _prepared(tmp_path, "whole", arch)
    recipe = whole.recipe
    history = train(whole)
    killed = _prepared(tmp_path, "killed", arch)
    assert train(killed, stop_after_steps=5) == {"stopped_at_step": 5}
    assert not killed.has("still")
    resumed = train(killed)
    assert resumed["loss"] == history["loss"]
    a, _, _ = whole.load("still")
    b, _, _ = killed.load("still")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name
    assert len(history["eval_loss"]) == recipe["still"]["epochs"]
    assert len(history["grad_norm"]) == len(history["loss"]) == history["step"]
    assert history["loss"][-1] < history["loss"][0]


def test_schedule_warms_up_then_decays():
    lrs = [lr_at(s, 100, 1e-3, 0.1) for s in range(100)]
    assert lrs[0] < lrs[9] == max(lrs)
    assert lrs[-1] < lrs[50] < lrs[10]
    assert min(lrs) >= 1e-4 - 1e-12


@pytest.mark.parametrize("head", ["sequence", "token"])
def test_student_grows_from_a_base_with_a_pooler(tmp_path, head):
    """A base's encoder weights go into the student whatever its head; its pooler (all-MiniLM-L6-v2
    ships one) serves the sequence head and is left out of a token head, which has none."""
    from safetensors.torch import save_file
    from transformers import BertConfig, BertModel

    from distill.bases import Base
    from distill.student import student_from_base

    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                        max_position_embeddings=16, type_vocab_size=2)
    torch.manual_seed(0)
    encoder = BertModel(config)  # with its pooler, named as a sentence-transformers checkpoint names them
    save_file({k: v.contiguous() for k, v in encoder.state_dict().items()}, str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text(config.to_json_string())
    student = student_from_base(Base("local", tmp_path, "test"), head, num_labels=3, seed=1)
    grown = student.bert.state_dict()
    assert all(torch.equal(grown[k], v) for k, v in encoder.state_dict().items() if k in grown)
    assert ("pooler.dense.weight" in grown) == (head == "sequence")


def test_the_still_seed_changes_the_first_weights_and_the_order(tmp_path):
    one = _prepared(tmp_path, "one", "bert")
    data = tiny_recipe_data()
    data["student"] = {**data["student"], "arch": "bert"}
    data["still"]["seed"] = data["seed"] + 1
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    other = Build(load_recipe(path), Store(tmp_path / "one"))  # same store: the Mash and Cuts are reused
    assert other.has("cuts")
    assert train(other, stop_after_steps=2)["stopped_at_step"] == 2
    assert train(one, stop_after_steps=2)["stopped_at_step"] == 2
    losses = [json.loads(Checkpoints(b.store.work_dir("still", b.keys.still)).load_latest("t")["state"])["loss"]
              for b in (one, other)]
    assert losses[0] != losses[1]
