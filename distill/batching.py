"""Batches for the Still: length-bucketed, so nearly every position the student computes is a
real token, and split into one contiguous shard per process for data-parallel training.

Each epoch shuffles the hearts (seeded by the Recipe's seed and the epoch), sorts every window
of 32 batches by length, cuts the window into batches and shuffles the batches. A batch then
holds examples of nearly one length, and padding to its longest costs little: 97.9% of the
positions Needle computes are real tokens, 97.6% for intent (bench/still.py; the Still records
the fraction in its history and the Tasting Notes show it).

Why not sequence packing: packing the examples of a batch into long rows removes the last 2%
of padding, but attention must then not cross examples. On the CPU, PyTorch's attention takes
that as a block-diagonal mask over the whole packed row, which costs attention over the row
instead of over each example (transformers 5 builds exactly that mask from restarting
position_ids); only flash-attention's variable-length kernels on a GPU skip the masked blocks.
Bucketing gives >= 95% real positions with plain per-example attention on every device.

A global batch is what one process would train on in a step. With N processes, process r
trains on the r-th of N contiguous, near-equal slices of it, and the loss is divided by the
global batch's target count, so the summed gradients equal the one-process gradient.
"""
import random

WINDOW_BATCHES = 32  # batches sorted together: larger windows pad less but make batches less random


def epoch_batches(lengths: list[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The global batches of one epoch (lists of example indices), the same for any process count."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = batch_size * WINDOW_BATCHES
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start:start + window], key=lambda i: lengths[i])
        batches.extend(chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def shard(batch: list[int], rank: int, world: int) -> list[int]:
    """Process `rank`'s contiguous slice of a global batch; sizes differ by at most one (may be empty)."""
    size, extra = divmod(len(batch), world)
    start = rank * size + min(rank, extra)
    return batch[start:start + size + (1 if rank < extra else 0)]


def target_count(example, causal: bool) -> int:
    """How many targets an encoded example adds to a mean loss (decoders predict the next token)."""
    _, labels = example
    if not isinstance(labels, list):
        return 1  # one class per example
    return sum(1 for y in (labels[1:] if causal else labels) if y != -100)


def computed_positions(lengths: list[int], batch: list[int], world: int = 1) -> int:
    """Positions the student computes for a global batch: each shard is padded to its longest."""
    total = 0
    for rank in range(world):
        part = shard(batch, rank, world)
        total += len(part) * max((lengths[i] for i in part), default=0)
    return total


def collate(encoded, indices, pad_id: int):
    """(ids, labels, mask) tensors of one shard, right-padded to its longest example."""
    import torch

    width = max(len(encoded[i][0]) for i in indices)
    ids = torch.full((len(indices), width), pad_id, dtype=torch.long)
    labels = torch.full((len(indices), width), -100, dtype=torch.long)
    mask = torch.zeros((len(indices), width), dtype=torch.long)
    for row, i in enumerate(indices):
        x, y = encoded[i]
        ids[row, :len(x)] = torch.tensor(x)
        mask[row, :len(x)] = 1
        if isinstance(y, list):
            labels[row, :len(y)] = torch.tensor(y)
    if not isinstance(encoded[indices[0]][1], list):  # one class per example
        labels = torch.tensor([encoded[i][1] for i in indices], dtype=torch.long)
    return ids, labels, mask
