"""What the Still minimises: the loss of one shard of a batch, summed over its targets.

The caller divides by the global batch's target count, so any split of a batch over processes
gives the mean over the whole batch, exactly as one process would compute it. `mask` marks real
tokens (1) and right padding (0).

Decoders (a transformers Llama) are computed here with the student's own modules and weights,
as LlamaModel computes them, with three savings that leave the loss and its gradients the same:
- no padding mask: padding is on the right, so causal attention already keeps every real token
  from seeing it, and what pads compute reaches no loss (PyTorch's causal kernel, no mask);
- q, k, v as one matmul and gate, up as one (the weights concatenated): fewer, larger matmuls;
- the last layer computes queries, attention output and MLP only at the positions whose next
  token is a target (the call, about a quarter of Needle's positions; keys and values
  everywhere), and the vocabulary projection only there. About 10% of Needle's FLOPs.
tests/test_batching.py holds the loss and every gradient to transformers' own forward pass.
Any other decoder goes through transformers' forward (with the target-only projection).
"""
import torch
import torch.nn.functional as F


class Objective(torch.nn.Module):
    """Wraps the student so a data-parallel run (DistributedDataParallel) sees one forward call."""

    def __init__(self, model, fast: bool = True, vocabulary=None, label_smoothing: float = 0.0):
        super().__init__()
        self.model = model
        self.causal = model.config.model_type == "llama"
        self.fast = fast and self.causal and _plain_llama(model)
        self.vocabulary = vocabulary  # an encoder's CompactVocabulary, or None
        self.label_smoothing = label_smoothing  # training only: held-out losses stay plain cross-entropy

    def _cross_entropy(self, logits, targets):
        smoothing = self.label_smoothing if self.training else 0.0
        return F.cross_entropy(logits.float(), targets, reduction="sum", label_smoothing=smoothing)

    def forward(self, ids, mask, labels):
        if self.causal:
            targets = labels[:, 1:]  # position t predicts token t + 1
            keep = targets.ne(-100)
            if self.fast:
                hidden = decoder_states(self.model, ids, keep)
            else:
                hidden = self.model.model(input_ids=ids, use_cache=False).last_hidden_state[:, :-1][keep]
            return self._cross_entropy(self.model.lm_head(hidden), targets[keep])
        if self.vocabulary is not None:
            ids = self.vocabulary.remap[ids]
        logits = self.model(input_ids=ids, attention_mask=mask).logits
        if labels.dim() == 1:  # one class per example
            return self._cross_entropy(logits, labels)
        keep = labels.ne(-100)  # one tag per token
        return self._cross_entropy(logits[keep], labels[keep])


def _plain_llama(model) -> bool:
    """A transformers Llama whose layers this module computes exactly as transformers does."""
    config = model.config
    if type(model).__name__ != "LlamaForCausalLM" or config.attention_dropout or getattr(config, "pretraining_tp", 1) != 1:
        return False
    base = model.model
    if not all(hasattr(base, name) for name in ("embed_tokens", "rotary_emb", "layers", "norm")):
        return False
    attention = ("q_proj", "k_proj", "v_proj", "o_proj", "head_dim", "scaling")
    return all(all(hasattr(layer.self_attn, name) for name in attention)
               and all(hasattr(layer.mlp, name) for name in ("gate_proj", "up_proj", "down_proj", "act_fn"))
               and hasattr(layer, "input_layernorm") and hasattr(layer, "post_attention_layernorm")
               for layer in base.layers)


def _joined(*linears):
    """One weight (and bias) for several linear layers that read the same input."""
    weight = torch.cat([lin.weight for lin in linears])
    bias = torch.cat([lin.bias for lin in linears]) if all(lin.bias is not None for lin in linears) else None
    return weight, bias


def decoder_states(model, ids, keep):
    """The decoder's final hidden states (normed) at the positions where `keep` is true, flattened
    row by row, as LlamaModel computes them (right padding, positions from 0)."""
    from transformers.models.llama.modeling_llama import repeat_kv

    base, config = model.model, model.config
    heads, kv_heads = config.num_attention_heads, config.num_key_value_heads
    hidden = base.embed_tokens(ids)
    batch, length, _ = hidden.shape
    cos, sin = base.rotary_emb(hidden, torch.arange(length, device=ids.device).unsqueeze(0))  # [1, length, head_dim]
    half = cos.shape[-1] // 2
    sin = torch.cat([-sin[..., :half], sin[..., half:]], dim=-1)  # rotate_half(x) * sin == x.roll(half) * this
    rows, cols = keep.nonzero(as_tuple=True)  # where the next token is a target, row by row

    def rope(x, c, s):  # transformers' apply_rotary_pos_emb in three operations instead of seven
        return torch.addcmul(x * c, x.roll(half, dims=-1), s)

    def mlp(layer, x):
        gate, up = F.linear(x, *_joined(layer.mlp.gate_proj, layer.mlp.up_proj)).chunk(2, dim=-1)
        return layer.mlp.down_proj(layer.mlp.act_fn(gate) * up)

    *layers, last = base.layers
    for layer in layers:
        attn, d = layer.self_attn, layer.self_attn.head_dim
        q, k, v = F.linear(layer.input_layernorm(hidden), *_joined(attn.q_proj, attn.k_proj, attn.v_proj)).split(
            [heads * d, kv_heads * d, kv_heads * d], dim=-1)
        q = rope(q.view(batch, length, heads, d).transpose(1, 2), cos.unsqueeze(1), sin.unsqueeze(1))
        k = rope(k.view(batch, length, kv_heads, d).transpose(1, 2), cos.unsqueeze(1), sin.unsqueeze(1))
        v = v.view(batch, length, kv_heads, d).transpose(1, 2)
        groups = heads // kv_heads
        out = F.scaled_dot_product_attention(q, repeat_kv(k, groups), repeat_kv(v, groups), is_causal=True,
                                             scale=attn.scaling)
        hidden = hidden + attn.o_proj(out.transpose(1, 2).reshape(batch, length, heads * d))
        hidden = hidden + mlp(layer, layer.post_attention_layernorm(hidden))

    # the last layer: keys and values everywhere, everything else only where a target is predicted
    attn, d = last.self_attn, last.self_attn.head_dim
    if not rows.numel():
        return hidden.new_zeros(0, hidden.shape[-1])
    x = last.input_layernorm(hidden)
    k, v = F.linear(x, *_joined(attn.k_proj, attn.v_proj)).split([kv_heads * d, kv_heads * d], dim=-1)
    k = rope(k.view(batch, length, kv_heads, d).transpose(1, 2), cos.unsqueeze(1), sin.unsqueeze(1))
    v = v.view(batch, length, kv_heads, d).transpose(1, 2)
    q = rope(attn.q_proj(x[rows, cols]).view(-1, heads, d), cos[0, cols].unsqueeze(1), sin[0, cols].unsqueeze(1))
    # attention wants rows: slot j of row b holds that row's j-th query; empty slots look at key 0
    counts = keep.sum(dim=1)
    slots = torch.arange(rows.numel(), device=ids.device) - (counts.cumsum(0) - counts)[rows]
    width = int(counts.max())
    queries = q.new_zeros(batch, width, heads, d).index_put((rows, slots), q)
    where = cols.new_zeros(batch, width).index_put((rows, slots), cols)
    sees = torch.arange(length, device=ids.device).view(1, 1, length) <= where.unsqueeze(-1)  # causal, per query
    groups = heads // kv_heads
    out = F.scaled_dot_product_attention(queries.transpose(1, 2), repeat_kv(k, groups), repeat_kv(v, groups),
                                         attn_mask=sees.unsqueeze(1), scale=attn.scaling)
    picked = hidden[rows, cols] + attn.o_proj(out.transpose(1, 2)[rows, slots].reshape(-1, heads * d))
    picked = picked + mlp(last, last.post_attention_layernorm(picked))
    return base.norm(picked)


class CompactVocabulary:
    """An encoder trains only the embedding rows of the tokens its hearts and heads contain.

    A pretrained encoder's vocabulary is large (MiniLM: 30,522 tokens, 11.7M of its 22.7M
    parameters) and the Cuts use a few thousand of its tokens. Every other row has a zero gradient
    at every step, so AdamW only decays it: p * (1 - lr * weight_decay) per step. Training the used
    rows as their own embedding and decaying the others once at the end (restore) is the same
    AdamW, without a 47 MB gradient, its clipping and its optimizer update at every step.
    Checkpoints hold the compact embedding; the published model has the full one again.
    """

    def __init__(self, model, token_ids, device):
        embedding = model.get_input_embeddings()
        self.full = embedding.weight.detach().clone()
        self.padding_idx = embedding.padding_idx
        self.used = torch.tensor(sorted(token_ids), dtype=torch.long, device=device)
        self.remap = torch.zeros(self.full.shape[0], dtype=torch.long, device=device)
        self.remap[self.used] = torch.arange(len(self.used), device=device)
        padding = int(self.remap[self.padding_idx]) if self.padding_idx is not None and self.padding_idx in token_ids else None
        compact = torch.nn.Embedding(len(self.used), self.full.shape[1], padding_idx=padding, device=device)
        compact.weight.data.copy_(self.full[self.used])
        model.set_input_embeddings(compact)

    @classmethod
    def for_model(cls, model, encoded, device):
        """Only for an encoder whose data uses under half of its vocabulary (decoders tie it to their output)."""
        if model.config.model_type == "llama":
            return None
        token_ids = {i for ids, _ in encoded for i in ids} | {model.config.pad_token_id or 0}  # collate pads with it
        if len(token_ids) * 2 > model.get_input_embeddings().weight.shape[0]:
            return None
        return cls(model, token_ids, device)

    def restore(self, model, decay: float):
        """Put the full vocabulary back: trained rows where the data reached, decayed rows elsewhere."""
        weight = self.full * decay
        weight[self.used] = model.get_input_embeddings().weight.detach()
        full = torch.nn.Embedding(*weight.shape, padding_idx=self.padding_idx, device=weight.device)
        full.weight.data.copy_(weight)
        model.set_input_embeddings(full)
