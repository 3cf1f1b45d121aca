"""The Still: a plain, readable training loop for the student.

AdamW, linear warmup then cosine decay, gradient clipping, seeded data order. It records loss
per step, gradient norms and eval loss per epoch, checkpoints as it goes and resumes from the
last checkpoint if it was killed.

The pieces around the loop: devices.py (CPU or GPU, threads, bf16 autocast, fused AdamW),
batching.py (length-bucketed batches, one shard per process), objective.py (the loss),
distributed.py (torchrun processes: `distill build --nproc N`), flops.py (what a step costs).
"""
import json
import math
import os
import time
from dataclasses import dataclass

from .. import batching, devices, distributed
from ..checkpoints import Checkpoints
from ..flops import train_flops
from ..keys import still_section
from ..progress import bar, say
from ..provenance import environment
from ..student import make_student, parameter_count, special_ids
from ..tasks import task_type

LOG_EVERY = 25  # steps between reading losses back from the device (a GPU runs ahead meanwhile)


def encode_cut(module, task, tokenizer, examples, student: dict):
    """(ids, labels) per example; labels are per token (decoder, tagger) or one class index."""
    return [module.encode(tokenizer, ex, task, student) for ex in examples]


def lr_at(step: int, total: int, peak: float, warmup_ratio: float) -> float:
    warmup = max(1, int(total * warmup_ratio))
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def still_seed(recipe) -> int:
    """The seed of everything random in the Still (first weights, batch order, dropout): still.seed,
    else the Recipe's, so another Still of the same Mash and Cuts is one field away."""
    return recipe["still"].get("seed", recipe["seed"])


def step_seed(seed: int, step: int, rank: int) -> int:
    """Dropout's random numbers at one step of one process: a resumed run draws what an
    uninterrupted one drew, with no generator state to save."""
    return (seed * 1_000_003 + step) * 1_009 + rank


def eval_loss(objective, encoded, pad_id, device, ranks, batch_size=32):
    """Mean loss per target on held-out examples (each process takes every world-th batch)."""
    import torch

    objective.eval()
    total, count = 0.0, 0
    causal = objective.causal
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]))
    with torch.no_grad(), devices.autocast(device):
        for b, start in enumerate(range(0, len(order), batch_size)):
            if b % ranks.world != ranks.rank:
                continue
            indices = order[start:start + batch_size]
            n = sum(batching.target_count(encoded[i], causal) for i in indices)
            if n:
                ids, labels, mask = devices.to_device(batching.collate(encoded, indices, pad_id), device)
                total += objective(ids, mask, labels).item()
                count += n
    objective.train()
    total, count = distributed.all_sum([total, count], ranks, device)
    return total / max(1, count)


def _save_checkpoint(checkpoints, model, optimizer, state, run):
    run["to_step"], run["seconds"] = state["step"], round(time.time() - run["_started"], 3)
    state = {**state, "runs": state["runs"][:-1] + [{k: v for k, v in run.items() if not k.startswith("_")}]}
    checkpoints.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "state": json.dumps(state)},
                     state["step"])


def _this_run(state, threads, processes, device) -> dict:
    """One entry per launch that trained: a resumed run reports every run's threads, processes and time."""
    run = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "threads": threads, "processes": processes,
           "device": device, "from_step": state["step"], "to_step": state["step"], "seconds": 0.0,
           "_started": time.time()}
    state["runs"] = state.get("runs", []) + [run]
    return run


@dataclass
class Session:
    """What one training process holds: the student, its data, its optimizer, who it is."""

    ranks: distributed.Ranks
    device: str
    threads: int
    model: object
    tokenizer: object
    objective: object  # the loss of a shard (objective.py)
    step_loss: object  # the objective, or the objective under DistributedDataParallel
    optimizer: object
    train_set: list
    eval_set: list
    lengths: list  # tokens per training example
    targets: list  # targets per training example
    pad_id: int
    grad_clip: float
    slice: dict | None = None  # an aged Still's training set: new, replayed and reviewed examples (aging.py)
    dropout: dict | None = None  # what dropout.remove needs to give the model transformers' dropout back

    def step(self, batch, lr: float):
        """One optimizer step on a global batch (this process trains its shard): the loss summed over
        this shard's targets, the global batch's target count and the gradient norm, as tensors."""
        import torch

        part, weight = batching.shard(batch, self.ranks.rank, self.ranks.world), 1.0
        if not part:  # fewer examples than processes: take part with zero weight, so gradients still sync
            part, weight = batch[:1], 0.0
        n = sum(self.targets[i] for i in batch)  # the global batch's targets: every process knows them
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        ids, labels, mask = devices.to_device(batching.collate(self.train_set, part, self.pad_id), self.device)
        with devices.autocast(self.device):
            total = self.step_loss(ids, mask, labels) * weight
        (total * (self.ranks.world / n)).backward()  # DDP averages over processes: sum / n overall
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return total.detach(), n, norm.detach()

    def flops(self, batch) -> float:
        """Model FLOPs of one step on a global batch, over every process (flops.py)."""
        return train_flops(self.model.config, [(self.lengths[i], self.targets[i]) for i in batch], self.objective.fast)


def start(build) -> Session:
    """Set up a training process: device, threads, process group, student, encoded cuts, optimizer."""
    import torch

    from .. import dropout as pooled_dropout
    from ..objective import CompactVocabulary, Objective

    recipe, keys = build.recipe, build.keys
    student, settings, seed, task = recipe["student"], recipe["still"], still_seed(recipe), recipe["task"]
    device = devices.resolve(settings.get("device"), int(os.environ.get("LOCAL_RANK", 0)))
    ranks = distributed.start(device) if distributed.launched_by_torchrun() else distributed.Ranks()
    threads = devices.set_threads()
    devices.deterministic(device)
    distributed.same_everywhere(f"{keys.still} (cuts {keys.cuts})", ranks, "Still key")
    module = task_type(task["type"])
    hearts, heads = build.load("cuts", "hearts"), build.load("cuts", "heads")
    slice_ = None
    if recipe.data.get("age"):  # aging: the parent's weights and tokenizer, the new slice plus replay
        from ..aging import start_from_parent, training_examples

        model, tokenizer = start_from_parent(build, module, task, seed)
        hearts, slice_ = training_examples(build, hearts)
    else:
        model, tokenizer = make_student(student, module.HEADS[student["arch"]], module.num_labels(task), seed,
                                        (module.tokenizer_text(ex, task) for ex in hearts), recipe.path.parent)
    model.to(device)
    pooled = pooled_dropout.install(model, seed)
    train_set = encode_cut(module, task, tokenizer, hearts, student)
    eval_set = encode_cut(module, task, tokenizer, heads, student)
    vocabulary = CompactVocabulary.for_model(model, train_set + eval_set, device)  # encoders: used rows only
    objective = Objective(model, vocabulary=vocabulary, label_smoothing=settings.get("label_smoothing", 0.0))
    # each process's gradients are summed over the processes once per step (DDP divides by world)
    step_loss = objective if ranks.world == 1 else torch.nn.parallel.DistributedDataParallel(
        objective, device_ids=[device] if device != "cpu" else None, gradient_as_bucket_view=True)
    session = Session(ranks=ranks, device=device, threads=threads, model=model, tokenizer=tokenizer, objective=objective,
                      step_loss=step_loss, optimizer=devices.adamw(model.parameters(), device, settings["lr"],
                                                                   settings["weight_decay"]),
                      train_set=train_set, eval_set=eval_set, lengths=[len(x) for x, _ in train_set],
                      targets=[batching.target_count(ex, objective.causal) for ex in train_set],
                      pad_id=special_ids(tokenizer)["pad"], grad_clip=settings["grad_clip"] or float("inf"),
                      slice=slice_, dropout=pooled)
    return session


def train(build, stop_after_steps=None) -> dict:
    """Train (or resume) the student; publishes the still artifact when all epochs are done.

    Run alone, or as one of the processes torchrun started (distributed.py): then every process
    trains its shard of each global batch and rank 0 alone writes checkpoints and the artifact.
    stop_after_steps: end early after that many optimizer steps, leaving the checkpoint (used
    by tests to simulate a killed run)."""
    import torch

    from .. import dropout as pooled_dropout

    recipe, keys, store = build.recipe, build.keys, build.store
    settings, seed = recipe["still"], still_seed(recipe)
    session = start(build)
    ranks, device, model, optimizer = session.ranks, session.device, session.model, session.optimizer
    steps_per_epoch = math.ceil(len(session.train_set) / settings["batch_size"])
    epochs = recipe["age"]["epochs"] if recipe.data.get("age") else settings["epochs"]
    total_steps = steps_per_epoch * epochs
    state = {"step": 0, "loss": [], "grad_norm": [], "lr": [], "eval_loss": [], "train_seconds": 0.0,
             "train_positions": 0, "computed_positions": 0, "train_flops": 0.0, "runs": []}
    checkpoints = Checkpoints(store.work_dir("still", keys.still))
    saved = distributed.broadcast(checkpoints.load_latest(f"still {recipe.name}") if ranks.main else None, ranks)
    if saved is not None:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        state = json.loads(saved["state"])
        if ranks.main:
            say(f"still {recipe.name}: resuming from step {state['step']} of {total_steps}")
    del saved
    run = _this_run(state, session.threads, ranks.world, device)
    lengths = session.lengths

    pending = []  # (loss sum on this process, targets in the global batch, grad norm) not yet read back

    def read_back():
        """Losses of the steps since the last call, summed over processes: one sync, not one per step."""
        if not pending:
            return
        sums = distributed.all_sum([p[0].item() for p in pending], ranks, device)
        for total, (_, n, norm, lr) in zip(sums, pending):
            state["loss"].append(round(total / n, 5))
            state["grad_norm"].append(round(norm.item(), 5))
            state["lr"].append(lr)
        pending.clear()

    def save():
        read_back()
        if ranks.main:
            _save_checkpoint(checkpoints, model, optimizer, state, run)

    model.train()
    progress = bar(total=total_steps, desc=f"still {recipe.name}", unit="step") if ranks.main else None
    if progress:
        progress.update(state["step"])
    steps_this_run = 0
    for epoch in range(state["step"] // steps_per_epoch, epochs):
        batches = batching.epoch_batches(lengths, settings["batch_size"], seed, epoch)
        for batch in batches[state["step"] - epoch * steps_per_epoch:]:
            started = time.perf_counter()
            torch.manual_seed(step_seed(seed, state["step"], ranks.rank))
            lr = lr_at(state["step"], total_steps, settings["lr"], settings["warmup_ratio"])
            total, n, norm = session.step(batch, lr)
            pending.append((total, n, norm, lr))
            state["step"] += 1
            state["train_seconds"] += time.perf_counter() - started
            state["train_positions"] += sum(lengths[i] for i in batch)
            state["computed_positions"] += batching.computed_positions(lengths, batch, ranks.world)
            state["train_flops"] += session.flops(batch)
            steps_this_run += 1
            if state["step"] % LOG_EVERY == 0:
                started = time.perf_counter()
                read_back()  # also waits for a GPU to finish the steps it queued
                state["train_seconds"] += time.perf_counter() - started
                if progress:
                    progress.set_postfix(epoch=epoch + 1, loss=f"{state['loss'][-1]:.3f}", refresh=False)
            if progress:
                progress.update(1)
            if state["step"] % settings["checkpoint_every_steps"] == 0:
                save()
            distributed.maybe_die(ranks, state["step"])
            if stop_after_steps is not None and steps_this_run >= stop_after_steps:
                save()
                if progress:
                    progress.close()
                return {"stopped_at_step": state["step"]}
        read_back()
        state["eval_loss"].append(round(eval_loss(session.objective, session.eval_set, session.pad_id, device, ranks), 5))
        if progress:
            progress.set_postfix(epoch=epoch + 1, val_loss=state["eval_loss"][-1], refresh=False)
        save()
    if progress:
        progress.close()
    run["to_step"], run["seconds"] = state["step"], round(time.time() - run.pop("_started"), 3)
    if not ranks.main:
        return {}

    pooled_dropout.remove(model, session.dropout)
    if session.objective.vocabulary is not None:  # AdamW's weight decay on the rows no step reached
        decay = math.prod(1 - lr * settings["weight_decay"] for lr in state["lr"])
        session.objective.vocabulary.restore(model, decay)
    seconds = max(state["train_seconds"], 1e-9)
    history = {**state, "parameters": parameter_count(model), "steps_per_epoch": steps_per_epoch,
               "train_examples": len(session.train_set), "eval_examples": len(session.eval_set),
               # examples that reach the end of the window (cut, or exactly filling it): never silent
               "at_window_end": sum(len(ids) >= recipe["student"]["max_length"] for ids, _ in session.train_set),
               "positions_per_second": round(state["train_positions"] / seconds, 1),
               "real_token_fraction": round(state["train_positions"] / max(1, state["computed_positions"]), 4),
               "flops_per_second": round(state["train_flops"] / seconds),
               "threads": session.threads, "processes": ranks.world, "device": device,
               "precision": devices.precision(device), "environment": environment(session.threads, device, ranks.world)}
    if session.slice is not None:
        history["slice"] = session.slice
    upstream = {"cuts": keys.cuts}
    if recipe.data.get("age"):  # aging: the parent's Still is an upstream too (build.py)
        from ..aging import parent_recipe
        from ..build import recipe_keys

        upstream["parent_still"] = recipe_keys(parent_recipe(recipe)).still
    with store.build("still", keys.still, section=still_section(recipe), upstream=upstream) as out:
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, out / "model.pt")
        (out / "config.json").write_text(model.config.to_json_string())
        (out / "tokenizer.json").write_text(session.tokenizer.to_str())
        (out / "history.json").write_text(json.dumps(history))
        out.extra["summary"] = {k: history[k] for k in ("parameters", "train_examples", "positions_per_second",
                                                        "real_token_fraction", "device", "processes")}
        out.extra["seconds"] = round(sum(r["seconds"] for r in state["runs"]), 3)  # every run, not just this one
        out.extra["runs"] = state["runs"]
        out.extra["environment"] = history["environment"]
    checkpoints.clear()
    say(f"still {recipe.name}: {history['parameters']:,} parameters, {state['step']} steps, "
        f"val_loss {state['eval_loss'][-1]:.4f}, {history['positions_per_second']:.0f} positions/s "
        f"({history['real_token_fraction']:.1%} of computed positions real) on {device}, "
        f"{ranks.world} process(es) x {session.threads} thread(s)")
    return history


def is_built(build, _=None) -> bool:
    return build.has("still")


def run(build, _=None) -> dict | None:
    if build.has("still"):
        return build.store.manifest("still", build.keys.still)["summary"]
    if build.recipe.data.get("age") and not distributed.launched_by_torchrun():
        from ..aging import parent_build

        parent_build(build)  # the parent's Still first, here: never once per training process
    launch = distributed.launch_settings()
    if launch.distributed and not distributed.launched_by_torchrun():
        return distributed.launch_still(build, launch)
    return train(build)


def load(build, _=None):
    """(model, tokenizer, history) from a finished still artifact."""
    import torch

    from ..student import load_tokenizer, model_from_config_json

    folder = build.store.get("still", build.keys.still)
    model = model_from_config_json((folder / "config.json").read_text())
    model.load_state_dict(torch.load(folder / "model.pt", weights_only=True))
    model.eval()
    tokenizer = load_tokenizer((folder / "tokenizer.json").read_text())
    return model, tokenizer, json.loads((folder / "history.json").read_text())
