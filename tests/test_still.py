"""The Still: a killed run resumes from its checkpoint and ends where an uninterrupted one does."""
import torch
import yaml

from distill.build import Build
from distill.recipe import load_recipe
from distill.stages.still import lr_at, train
from distill.store import Store
from tests.conftest import tiny_recipe_data


def _prepared(tmp_path, name):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_recipe_data(), sort_keys=False))
    build = Build(load_recipe(path), Store(tmp_path / name))
    build.run("mash")
    build.run("cuts")
    return build


def test_resume_matches_uninterrupted_training(tmp_path):
    whole = _prepared(tmp_path, "whole")
    recipe = whole.recipe
    history = train(whole)
    killed = _prepared(tmp_path, "killed")
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
