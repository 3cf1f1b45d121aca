"""Pooled dropout (distill/dropout.py): the same regulariser as torch's, training only, undone
before a model is saved."""
import torch
from transformers import BertConfig, BertForTokenClassification

from distill import dropout


def tiny_bert():
    torch.manual_seed(0)
    config = BertConfig(vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=32, num_labels=3)
    return BertForTokenClassification(config)


def batch():
    ids = torch.randint(5, 120, (3, 9), generator=torch.Generator().manual_seed(1))
    mask = torch.ones(3, 9, dtype=torch.long)
    mask[1, 6:] = 0
    return ids, mask


def test_in_eval_the_model_answers_as_transformers_does_and_remove_restores_it():
    model, (ids, mask) = tiny_bert().eval(), batch()
    with torch.no_grad():
        before = model(input_ids=ids, attention_mask=mask).logits
    keys = set(model.state_dict())
    undo = dropout.install(model, seed=3)
    assert model.config._attn_implementation == dropout.ATTENTION
    assert sum(isinstance(m, dropout.PooledDropout) for m in model.modules()) == 2 * 3 + 2  # per layer 3, embeddings, head
    with torch.no_grad():
        pooled = model(input_ids=ids, attention_mask=mask).logits
    torch.testing.assert_close(pooled, before, atol=1e-5, rtol=1e-5)
    assert set(model.state_dict()) == keys  # checkpoints and artifacts see the same weights
    dropout.remove(model, undo)
    assert not any(isinstance(m, dropout.PooledDropout) for m in model.modules())
    assert model.config._attn_implementation == "sdpa" and "distill" not in model.config.to_json_string()


def test_masks_drop_at_the_rate_independently_and_repeat_from_the_step_seed():
    pool = dropout.MaskPool(0.1, seed=5)
    x = torch.ones(64, 24, 384)
    torch.manual_seed(7)
    first = pool.apply(x, training=True)
    second = pool.apply(x, training=True)
    dropped = (first == 0).float().mean().item()
    assert 0.095 < dropped < 0.105
    assert torch.allclose(first[first != 0], torch.tensor(1 / 0.9))
    assert (first == second).float().mean() < 0.9  # another call, another mask (equal only where both keep)
    torch.manual_seed(7)
    assert torch.equal(pool.apply(x, training=True), first)  # a resumed run draws what it drew
    assert pool.apply(x, training=False) is x


def test_training_with_pooled_dropout_gives_gradients_and_stays_random():
    model, (ids, mask) = tiny_bert().train(), batch()
    dropout.install(model, seed=3)
    torch.manual_seed(1)
    a = model(input_ids=ids, attention_mask=mask).logits
    b = model(input_ids=ids, attention_mask=mask).logits
    assert not torch.allclose(a, b)  # dropout is on while training
    a.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_a_mask_too_large_for_the_pool_falls_back_to_torch(monkeypatch):
    monkeypatch.setattr(dropout, "POOL_SIZE", 1000)
    pool = dropout.MaskPool(0.5, seed=1)
    out = pool.apply(torch.ones(40, 40), training=True)
    assert set(out.unique().tolist()) <= {0.0, 2.0} and 0.3 < (out == 0).float().mean() < 0.7
