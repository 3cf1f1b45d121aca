"""What the Still minimises: the loss of one shard of a batch, summed over its targets.

The caller divides by the global batch's target count, so any split of a batch over processes
gives the mean over the whole batch, exactly as one process would compute it. A decoder projects
onto its vocabulary only where there is a target (the call and its end token, about a quarter of
Needle's positions): the same loss as the full projection, without computing logits that the
loss ignores.
"""
import torch
import torch.nn.functional as F


class Objective(torch.nn.Module):
    """Wraps the student so a data-parallel run (DistributedDataParallel) sees one forward call."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.causal = model.config.model_type == "llama"

    def forward(self, ids, mask, labels):
        if self.causal:
            hidden = self.model.model(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
            targets = labels[:, 1:]  # position t predicts token t + 1
            keep = targets.ne(-100)
            logits = self.model.lm_head(hidden[:, :-1][keep])
            return F.cross_entropy(logits.float(), targets[keep], reduction="sum")
        logits = self.model(input_ids=ids, attention_mask=mask).logits
        if labels.dim() == 1:  # one class per example
            return F.cross_entropy(logits.float(), labels, reduction="sum")
        keep = labels.ne(-100)  # one tag per token
        return F.cross_entropy(logits[keep].float(), labels[keep], reduction="sum")
