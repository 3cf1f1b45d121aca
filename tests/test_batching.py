"""Batches: every example once per epoch in an order that does not depend on the process count,
contiguous shards, >= 95% real tokens on Needle, and the loss of shards adding up to the batch's."""
import json

import pytest
import torch

from distill import batching
from distill.build import Build
from distill.flops import _layer_matmul_params
from distill.objective import Objective
from distill.store import Store
from tests.conftest import ROOT


def test_an_epoch_holds_every_example_once_in_a_seeded_order():
    lengths = [5 + (i * 37) % 60 for i in range(1000)]
    first = batching.epoch_batches(lengths, 16, seed=7, epoch=0)
    assert sorted(i for b in first for i in b) == list(range(1000))
    assert all(len(b) <= 16 for b in first)
    assert first == batching.epoch_batches(lengths, 16, seed=7, epoch=0)
    assert first != batching.epoch_batches(lengths, 16, seed=7, epoch=1)


@pytest.mark.parametrize("world", [1, 2, 3, 5, 20])
def test_shards_are_contiguous_and_even(world):
    batch = list(range(100, 117))
    parts = [batching.shard(batch, r, world) for r in range(world)]
    assert [i for p in parts for i in p] == batch  # in order, nothing lost or doubled
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_needle_computes_at_least_95_percent_real_tokens(tmp_path):
    """Length bucketing on the shipped Recipe, with its own tokenizer (stated in the README)."""
    from distill.stages.still import encode_cut
    from distill.student import make_student
    from distill.tasks import task_type

    build = Build.from_path(ROOT / "recipes" / "needle.yaml", tmp_path / "store")
    build.run("mash")
    build.run("cuts")
    recipe, module = build.recipe, task_type("tool_call")
    hearts = build.load("cuts", "hearts")
    _, tokenizer = make_student(recipe["student"], module.HEADS[recipe["student"]["arch"]], 0, recipe["seed"],
                                (module.tokenizer_text(ex, recipe["task"]) for ex in hearts), recipe.path.parent)
    lengths = [len(x) for x, _ in encode_cut(module, recipe["task"], tokenizer, hearts, recipe["student"])]
    batches = batching.epoch_batches(lengths, recipe["still"]["batch_size"], recipe["seed"], 0)
    for world in (1, 2):
        computed = sum(batching.computed_positions(lengths, b, world) for b in batches)
        assert sum(lengths) / computed >= 0.95, world


def _tiny_llama():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=50, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, max_position_embeddings=64, tie_word_embeddings=True, pad_token_id=0)
    return LlamaForCausalLM(config)


def _tiny_bert(architecture):
    import transformers

    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                     intermediate_size=48, max_position_embeddings=64, num_labels=3,
                                     hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                                     architectures=[architecture])
    return getattr(transformers, architecture)(config)


def _examples(causal, per_token):
    """Encoded examples of different lengths: (ids, labels) as the task modules write them."""
    out = []
    for n in (7, 12, 5, 9):
        ids = [1] + [2 + (n * k) % 45 for k in range(n - 1)]
        if causal:
            labels = [-100] * (n // 2) + ids[n // 2:]
        elif per_token:
            labels = [-100] + [k % 3 for k in range(n - 2)] + [-100]
        else:
            labels = n % 3
        out.append((ids, labels))
    return out


@pytest.mark.parametrize("kind", ["llama", "BertForSequenceClassification", "BertForTokenClassification"])
def test_the_objective_is_the_models_own_loss_and_shards_add_up(kind):
    """The Still's loss (summed, divided by the batch's targets) equals transformers' mean loss on the
    padded batch, with the same gradients; two shards' sums add up to the whole batch's."""
    model = _tiny_llama() if kind == "llama" else _tiny_bert(kind)
    model.train()
    causal = kind == "llama"
    encoded = _examples(causal, kind.endswith("TokenClassification"))
    batch = list(range(len(encoded)))
    ids, labels, mask = batching.collate(encoded, batch, 0)
    n = sum(batching.target_count(ex, causal) for ex in encoded)

    reference = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    reference.backward()
    expected = {k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)

    objective = Objective(model)
    assert objective.fast == causal  # the decoder is computed by objective.py, not transformers
    total = objective(ids, mask, labels)
    (total / n).backward()
    assert float(total.detach() / n) == pytest.approx(float(reference.detach()), rel=1e-5)
    for name, grad in expected.items():
        assert torch.allclose(dict(model.named_parameters())[name].grad, grad, atol=1e-6, rtol=1e-4), name

    halves = 0.0
    for rank in range(2):
        ids, labels, mask = batching.collate(encoded, batching.shard(batch, rank, 2), 0)
        halves += float(objective(ids, mask, labels).detach())
    assert halves == pytest.approx(float(total), rel=1e-5)


@pytest.mark.parametrize("kind", ["llama", "BertForSequenceClassification"])
def test_flops_count_every_weight_matrix_of_a_layer(kind):
    model = _tiny_llama() if kind == "llama" else _tiny_bert(kind)
    layers = model.model.layers if kind == "llama" else model.bert.encoder.layer
    linear = sum(m.weight.numel() for m in layers[0].modules() if isinstance(m, torch.nn.Linear))
    assert _layer_matmul_params(model.config) == linear


def test_the_still_records_its_device_processes_and_real_tokens(built_tiny):
    store = Store(built_tiny / "store")
    history = json.loads((store.path("still", store.keys("still")[0]) / "history.json").read_text())
    assert history["device"] == "cpu" and history["processes"] == 1 and history["precision"] == "fp32"
    assert 0.9 < history["real_token_fraction"] <= 1 and history["flops_per_second"] > 0
    assert history["environment"]["device"] == "cpu" and history["environment"]["processes"] == 1
    notes = (built_tiny / "cellar" / "tiny" / "notes.md").read_text()
    assert "of computed positions were real tokens" in notes


@pytest.mark.parametrize("fast", [True, False])
def test_decoder_flops_are_the_matmuls_the_objective_runs(fast):
    """flops.py against torch's own FLOP counter (matmuls; attention is counted by formula)."""
    from torch.utils.flop_counter import FlopCounterMode

    from distill.flops import forward_flops

    model = _tiny_llama()
    ids, labels, mask = batching.collate(_examples(True, False)[:1], [0], 0)  # one example: no padding
    objective = Objective(model, fast=fast)
    with FlopCounterMode(display=False) as counter:
        objective(ids, mask, labels)
    counts = counter.get_flop_counts()["Global"]
    measured = sum(v for op, v in counts.items() if "mm" in str(op) and "bmm" not in str(op))
    n, t = ids.shape[1], batching.target_count(_examples(True, False)[0], True)
    config, d = model.config, model.config.hidden_size
    attention = config.num_hidden_layers * 4.0 * d * n * (n + 1) / 2
    if fast:
        attention -= 4.0 * d * (n * (n + 1) / 2 - sum(range(n - t, n)))
    assert forward_flops(config, [(n, t)], fast) - attention == pytest.approx(measured, rel=1e-9)


def test_an_encoder_trains_its_used_vocabulary_as_adamw_trains_the_whole(monkeypatch):
    """CompactVocabulary: the same weights as dense AdamW, never-seen rows decayed, not frozen."""
    import copy
    import math

    from distill.objective import CompactVocabulary

    dense = _tiny_bert("BertForTokenClassification")
    dense.resize_token_embeddings(200)
    dense.config.pad_token_id = 0
    compact = copy.deepcopy(dense)
    encoded = _examples(False, True)
    vocabulary = CompactVocabulary.for_model(compact, encoded, "cpu")
    assert vocabulary is not None and compact.get_input_embeddings().weight.shape[0] < 50
    runs = []
    for model, objective in ((dense, Objective(dense)), (compact, Objective(compact, vocabulary=vocabulary))):
        optimizer = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.1, fused=True)
        for step in range(4):
            batch = [step % 4, (step + 1) % 4]
            ids, labels, mask = batching.collate(encoded, batch, 0)
            objective(ids, mask, labels).backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        runs.append(model)
    vocabulary.restore(compact, math.prod([1 - 0.01 * 0.1] * 4))
    a, b = runs[0].state_dict(), compact.state_dict()
    assert a.keys() == b.keys()
    for name in a:
        assert torch.allclose(a[name], b[name], atol=1e-6, rtol=1e-5), name
    unseen = sorted(set(range(200)) - {i for ids, _ in encoded for i in ids} - {0})
    trained = a["bert.embeddings.word_embeddings.weight"][unseen]
    assert torch.allclose(trained, vocabulary.full[unseen] * (1 - 0.001) ** 4, atol=1e-7)  # decayed, as AdamW does


@pytest.mark.parametrize("per_token", [False, True])
def test_label_smoothing_shapes_the_training_loss_only(per_token):
    """still.label_smoothing: the training loss is cross-entropy against smoothed targets (the mean
    of the plain loss and of the uniform one, weighted by the share); a held-out loss stays plain."""
    import torch.nn.functional as F

    model = _tiny_bert("BertForTokenClassification" if per_token else "BertForSequenceClassification")
    encoded = _examples(False, per_token)
    ids, labels, mask = batching.collate(encoded, [0, 1, 2, 3], 0)
    logits = model(input_ids=ids, attention_mask=mask).logits.detach()
    keep = labels.ne(-100)
    logits, targets = (logits[keep], labels[keep]) if per_token else (logits, labels)
    plain = F.cross_entropy(logits, targets, reduction="sum")
    uniform = -F.log_softmax(logits, -1).mean(-1).sum()
    smoothed = Objective(model, label_smoothing=0.2)
    assert torch.allclose(smoothed(ids, mask, labels), 0.8 * plain + 0.2 * uniform, atol=1e-5)
    smoothed.eval()
    assert torch.allclose(smoothed(ids, mask, labels), plain, atol=1e-5)
    assert not torch.allclose(0.8 * plain + 0.2 * uniform, plain, atol=1e-3)
