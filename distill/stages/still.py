"""The Still: a plain, readable training loop for the student.

AdamW, linear warmup then cosine decay, gradient clipping, seeded data order. It records loss
per step, gradient norms and eval loss per epoch, checkpoints as it goes and resumes from the
last checkpoint if it was killed.
"""
import json
import math
import os
import random
import time

from ..checkpoints import Checkpoints
from ..keys import still_section
from ..progress import bar, say
from ..provenance import environment
from ..student import make_student, parameter_count, special_ids
from ..tasks import task_type


def set_threads() -> int:
    """Training threads: DISTILL_THREADS, else every core. Results are bit-identical only at
    the same thread count (reductions are split differently)."""
    import torch

    torch.set_num_threads(int(os.environ.get("DISTILL_THREADS", os.cpu_count() or 1)))
    return torch.get_num_threads()


def encode_cut(module, task, tokenizer, examples, student: dict):
    """(ids, labels) per example; labels are per token (decoder, tagger) or one class index."""
    return [module.encode(tokenizer, ex, task, student) for ex in examples]


def batches_for_epoch(encoded, batch_size: int, seed: int, epoch: int):
    """Shuffle, then bucket by length inside windows so batches carry little padding."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(encoded)))
    rng.shuffle(order)
    window = batch_size * 32
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start:start + window], key=lambda i: len(encoded[i][0]))
        batches.extend(chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def collate(encoded, indices, pad_id):
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


def _targets_in(labels, causal: bool) -> int:
    """How many targets a batch's mean loss averaged over (decoders predict the next token)."""
    if labels.dim() == 1:
        return labels.numel()
    return int((labels[:, 1:] if causal else labels).ne(-100).sum())


def lr_at(step: int, total: int, peak: float, warmup_ratio: float) -> float:
    warmup = max(1, int(total * warmup_ratio))
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def eval_loss(model, encoded, pad_id, batch_size=32):
    """Mean loss per target on held-out examples."""
    import torch

    causal = model.config.model_type == "llama"
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]))
        for start in range(0, len(order), batch_size):
            ids, labels, mask = collate(encoded, order[start:start + batch_size], pad_id)
            n = _targets_in(labels, causal)
            if n:
                total += model(input_ids=ids, attention_mask=mask, labels=labels).loss.item() * n
                count += n
    model.train()
    return total / max(1, count)


def _save_checkpoint(checkpoints, model, optimizer, state, run):
    import torch

    run["to_step"], run["seconds"] = state["step"], round(time.time() - run["_started"], 3)
    state = {**state, "runs": state["runs"][:-1] + [{k: v for k, v in run.items() if not k.startswith("_")}]}
    checkpoints.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "state": json.dumps(state),
                      "rng": torch.get_rng_state()}, state["step"])


def _this_run(state, threads) -> dict:
    """One entry per process that trained: a resumed run reports every run's threads and time."""
    run = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "threads": threads,
           "from_step": state["step"], "to_step": state["step"], "seconds": 0.0, "_started": time.time()}
    state["runs"] = state.get("runs", []) + [run]
    return run


def train(build, stop_after_steps=None) -> dict:
    """Train (or resume) the student; publishes the still artifact when all epochs are done.

    stop_after_steps: end early after that many optimizer steps, leaving the checkpoint (used
    by tests to simulate a killed run)."""
    import torch

    recipe, keys, store = build.recipe, build.keys, build.store
    threads = set_threads()
    module = task_type(recipe["task"]["type"])
    student, settings, seed = recipe["student"], recipe["still"], recipe["seed"]
    hearts, heads = build.load("cuts", "hearts"), build.load("cuts", "heads")
    work = store.work_dir("still", keys.still)

    task = recipe["task"]
    model, tokenizer = make_student(student, module.HEADS[student["arch"]], module.num_labels(task), seed,
                                    (module.tokenizer_text(ex, task) for ex in hearts), recipe.path.parent)
    pad_id = special_ids(tokenizer)["pad"]
    train_set = encode_cut(module, task, tokenizer, hearts, student)
    eval_set = encode_cut(module, task, tokenizer, heads, student)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings["lr"], betas=(0.9, 0.95),
                                  weight_decay=settings["weight_decay"])
    steps_per_epoch = math.ceil(len(train_set) / settings["batch_size"])
    total_steps = steps_per_epoch * settings["epochs"]
    state = {"step": 0, "loss": [], "grad_norm": [], "lr": [], "eval_loss": [], "train_seconds": 0.0,
             "train_positions": 0, "runs": []}
    checkpoints = Checkpoints(work)
    saved = checkpoints.load_latest(f"still {recipe.name}")
    if saved is not None:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        state = json.loads(saved["state"])
        torch.set_rng_state(saved["rng"])  # dropout continues exactly where it stopped
        say(f"still {recipe.name}: resuming from step {state['step']} of {total_steps}")
    run = _this_run(state, threads)

    model.train()
    progress = bar(total=total_steps, desc=f"still {recipe.name}", unit="step")
    progress.update(state["step"])
    steps_this_run = 0
    for epoch in range(state["step"] // steps_per_epoch, settings["epochs"]):
        batches = batches_for_epoch(train_set, settings["batch_size"], seed, epoch)
        for batch in batches[state["step"] - epoch * steps_per_epoch:]:
            started = time.perf_counter()
            ids, labels, mask = collate(train_set, batch, pad_id)
            for group in optimizer.param_groups:
                group["lr"] = lr_at(state["step"], total_steps, settings["lr"], settings["warmup_ratio"])
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), settings["grad_clip"] or float("inf"))
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            state["step"] += 1
            state["loss"].append(round(loss.item(), 5))
            state["grad_norm"].append(round(norm.item(), 5))
            state["lr"].append(optimizer.param_groups[0]["lr"])
            state["train_seconds"] += time.perf_counter() - started
            state["train_positions"] += int(mask.sum())
            progress.update(1)
            progress.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.3f}", refresh=False)
            steps_this_run += 1
            if state["step"] % settings["checkpoint_every_steps"] == 0:
                _save_checkpoint(checkpoints, model, optimizer, state, run)
            if stop_after_steps is not None and steps_this_run >= stop_after_steps:
                _save_checkpoint(checkpoints, model, optimizer, state, run)
                progress.close()
                return {"stopped_at_step": state["step"]}
        state["eval_loss"].append(round(eval_loss(model, eval_set, pad_id), 5))
        progress.set_postfix(epoch=epoch + 1, val_loss=state["eval_loss"][-1], refresh=False)
        _save_checkpoint(checkpoints, model, optimizer, state, run)
    progress.close()
    run["to_step"], run["seconds"] = state["step"], round(time.time() - run.pop("_started"), 3)

    history = {**state, "parameters": parameter_count(model), "steps_per_epoch": steps_per_epoch,
               "train_examples": len(train_set), "eval_examples": len(eval_set),
               # examples that reach the end of the window (cut, or exactly filling it): never silent
               "at_window_end": sum(len(ids) >= student["max_length"] for ids, _ in train_set),
               "positions_per_second": round(state["train_positions"] / max(state["train_seconds"], 1e-9), 1),
               "threads": threads, "environment": environment(threads)}
    with store.build("still", keys.still, section=still_section(recipe), upstream={"cuts": keys.cuts}) as out:
        torch.save(model.state_dict(), out / "model.pt")
        (out / "config.json").write_text(model.config.to_json_string())
        (out / "tokenizer.json").write_text(tokenizer.to_str())
        (out / "history.json").write_text(json.dumps(history))
        out.extra["summary"] = {k: history[k] for k in ("parameters", "train_examples", "positions_per_second")}
        out.extra["seconds"] = round(sum(r["seconds"] for r in state["runs"]), 3)  # every run, not just this one
        out.extra["runs"] = state["runs"]
    checkpoints.clear()
    say(f"still {recipe.name}: {history['parameters']:,} parameters, {state['step']} steps, "
        f"val_loss {state['eval_loss'][-1]:.4f}, {history['positions_per_second']:.0f} positions/s")
    return history


def is_built(build, _=None) -> bool:
    return build.has("still")


def run(build, _=None) -> dict:
    if build.has("still"):
        return build.store.manifest("still", build.keys.still)["summary"]
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
