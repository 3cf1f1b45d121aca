"""Dropout from a pool of masks: the same regulariser, a fraction of its cost on a CPU.

torch's dropout draws one Bernoulli number per element at every call (about 6 ns an element
on one thread here): 4.4% of an encoder Still's step, a sixth of everything that is not a
matmul (bench/still.py). Here each rate p has one pool of factors, 0 with probability p and
1 / (1 - p) otherwise, drawn once per training process from the Still's seed, and every call
multiplies by the pool at a random offset. Each element is still dropped with probability p,
independently of its neighbours; two calls' masks are unrelated unless their offsets nearly
coincide (the pool is 8M factors, the largest mask a batch of 16 needs about 3M). The offsets
come from torch's generator, which the Still seeds at every step (stages/still.py step_seed), so
a resumed run draws what an uninterrupted one drew.

Training only: `install` swaps the model's dropout modules and its attention for these, and
`remove` puts transformers' own back before the model is saved, so no artifact and no bottle
sees anything but a plain transformers model.
"""
import torch

POOL_SIZE = 1 << 23
ATTENTION = "distill-pooled-dropout"  # the attention implementation's name while training


class MaskPool:
    """Kept/dropped factors for one rate, per dtype and device, drawn from one seed."""

    def __init__(self, p: float, seed: int):
        self.p, self.seed, self.pools = p, seed, {}

    def factors(self, like: torch.Tensor) -> torch.Tensor | None:
        """A mask shaped like `like`, or None when the pool is too small to give one."""
        n = like.numel()
        if n * 2 > POOL_SIZE:
            return None
        pool = self.pools.get((like.dtype, like.device))
        if pool is None:
            generator = torch.Generator().manual_seed(self.seed)
            kept = torch.rand(POOL_SIZE, generator=generator) >= self.p
            pool = (kept.to(torch.float32) / (1 - self.p)).to(like.device, like.dtype)
            self.pools[(like.dtype, like.device)] = pool
        offset = int(torch.randint(POOL_SIZE - n + 1, ()))
        return pool[offset:offset + n].view(like.shape)

    def apply(self, x: torch.Tensor, training: bool) -> torch.Tensor:
        if not training:
            return x
        mask = self.factors(x)
        return torch.nn.functional.dropout(x, self.p, True) if mask is None else x * mask


class PooledDropout(torch.nn.Module):
    """nn.Dropout's place while training; keeps the module it replaced to put it back."""

    def __init__(self, replaced: torch.nn.Dropout, pool: MaskPool):
        super().__init__()
        self.p, self.replaced, self.pool = replaced.p, replaced, pool  # transformers reads .p for attention
        self.train(replaced.training)

    def forward(self, x):
        return self.pool.apply(x, self.training)


def attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **_):
    """BERT's eager attention, its probabilities dropped by the module's pooled dropout."""
    scaling = query.size(-1) ** -0.5 if scaling is None else scaling
    scores = torch.matmul(query, key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        scores = scores + attention_mask[:, :, :, : key.shape[-2]]
    weights = torch.softmax(scores, dim=-1)
    if dropout:  # the module's own dropout: pooled once installed, torch's for a rate install left alone
        weights = module.dropout(weights)
    return torch.matmul(weights, value).transpose(1, 2).contiguous(), None


def _register():
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, AttentionMaskInterface

    AttentionInterface.register(ATTENTION, attention)
    AttentionMaskInterface.register(ATTENTION, ALL_MASK_ATTENTION_FUNCTIONS["eager"])  # additive float masks


def install(model, seed: int) -> dict:
    """Pooled dropout in every dropout module of an encoder (a decoder's Still has none); returns what
    `remove` needs to undo it."""
    pools, swapped = {}, []
    for parent in [m for m in model.modules() if not isinstance(m, PooledDropout)]:
        for name, child in list(parent.named_children()):
            if type(child) is torch.nn.Dropout and child.p > 0:
                pool = pools.setdefault(child.p, MaskPool(child.p, seed * 7919 + len(pools)))
                setattr(parent, name, PooledDropout(child, pool))
                swapped.append((parent, name))
    undo = {"swapped": swapped, "attention": None}
    if swapped and model.config.model_type == "bert":
        _register()
        undo["attention"] = model.config._attn_implementation
        model.set_attn_implementation(ATTENTION)
    return undo


def remove(model, undo: dict) -> None:
    """transformers' own dropout modules and attention back, as before `install`."""
    for parent, name in undo["swapped"]:
        setattr(parent, name, getattr(parent, name).replaced)
    if undo["attention"] is not None:
        model.set_attn_implementation(undo["attention"])
