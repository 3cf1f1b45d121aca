"""Arithmetic of a training step (bench/still.py holds it against the machine's matmul ceiling).

FLOPs are counted on real tokens only (padding is work, not progress), 2 per multiply-add:
every weight matrix of every layer; attention scores and weighted sums over each example's own
context (a decoder's token sees itself and the tokens before it, an encoder's token sees all);
the output head where the Still computes it (a decoder's vocabulary projection only at target
positions, an encoder's classifier); a decoder's last layer only where objective.py computes it.
Embedding lookups, norms and activations are not counted.
A training step is 3x the forward pass (the backward pass computes gradients for activations
and for weights). This is the usual model-FLOPs convention, so achieved FLOP/s over the
ceiling is a model-FLOPs utilisation.
"""


def _layer_matmul_params(config) -> int:
    d, inner = config.hidden_size, config.intermediate_size
    if config.model_type == "llama":
        kv = d * config.num_key_value_heads // config.num_attention_heads
        return 2 * d * d + 2 * d * kv + 3 * d * inner  # q, o; k, v; gate, up, down
    return 4 * d * d + 2 * d * inner  # q, k, v, o; intermediate, output


def forward_flops(config, examples, last_layer_at_targets: bool = False) -> float:
    """One forward pass over (length, targets) examples. A decoder projects onto its vocabulary at
    its targets; with last_layer_at_targets (objective.py), its last layer computes queries,
    attention output and MLP only at target positions (keys and values everywhere). An encoder's
    head runs per example (classification) or per token (tagging)."""
    d, layers = config.hidden_size, config.num_hidden_layers
    per_layer = _layer_matmul_params(config)
    flops = 0.0
    for n, t in examples:
        flops += 2.0 * per_layer * layers * n
        if config.model_type == "llama":
            flops += layers * 4.0 * d * n * (n + 1) / 2  # causal: QK^T and AV over the tokens before
            flops += 2.0 * d * config.vocab_size * t
            if last_layer_at_targets:
                kv = 2 * d * d * config.num_key_value_heads // config.num_attention_heads
                flops -= 2.0 * (per_layer - kv) * (n - t)  # q, o and MLP of the last layer skip non-targets
                flops -= 4.0 * d * (n * (n + 1) / 2 - sum(range(n - t, n)))  # and their queries: position p sees p + 1 keys
        else:
            flops += layers * 4.0 * d * n * n
            labels = config.num_labels
            if (config.architectures or [""])[0].endswith("TokenClassification"):
                flops += 2.0 * d * labels * n
            else:
                flops += 2.0 * (d * d + d * labels)  # pooler and classifier
    return flops


def train_flops(config, examples, last_layer_at_targets: bool = False) -> float:
    return 3.0 * forward_flops(config, examples, last_layer_at_targets)
