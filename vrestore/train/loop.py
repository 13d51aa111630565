"""The training loop: Charbonnier loss, AdamW, warm-up + cosine schedule, clipping, bf16, EMA, exact resume.

Exactness: the data are a pure function of the sample index (see ``train.data``), the only other randomness
is torch's generator (saved in every checkpoint), and the checkpoint carries model, EMA, optimiser,
scheduler and step. On the same device and thread count a resumed run therefore equals an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from vrestore.engine.host_memory import keep_freed_memory
from vrestore.errors import UsageError
from vrestore.filters.motion_average import motion_average_uint8
from vrestore.metrics.psnr import psnr
from vrestore.metrics.ssim import ssim
from vrestore.models.loaded import forward_clip, resolve_device
from vrestore.models.registry import get_spec, is_registered
from vrestore.models.spec import ModelSpec, Temporal
from vrestore.train.checkpoint import FORMAT, load_checkpoint, save_atomic
from vrestore.train.config import TrainConfig
from vrestore.train.data import TrainSamples, find_clips, load_clip, validation_pairs
from vrestore.train.pool import PooledSamples
from vrestore.weights.load import load_into, read_registered, read_state_dict

LAST = "last.pth"
LOG = "log.jsonl"


@dataclass
class StepReport:
    """What the loop tells its caller after each optimiser step (for progress bars)."""

    step: int
    total: int
    loss: float
    lr: float
    steps_per_s: float


@dataclass
class TrainSummary:
    """The outcome of one ``train`` call."""

    output: str
    step: int
    total: int
    finished: bool
    last_loss: float | None
    validation: dict[str, float] | None
    seconds: float
    rank: int = 0


class Ema:
    """Exponential moving average of a module's floating-point state (buffers are copied as they are)."""

    def __init__(self, module: nn.Module, decay: float) -> None:
        self.decay = decay
        self.state = {k: v.detach().clone() for k, v in module.state_dict().items()}

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        """Blend the module's current state into the average (one multi-tensor call for the float entries)."""
        mine, theirs = [], []
        for name, value in module.state_dict().items():
            if value.is_floating_point():
                mine.append(self.state[name])
                theirs.append(value.detach())
            else:
                self.state[name].copy_(value)
        if mine:
            torch._foreach_lerp_(mine, theirs, 1.0 - self.decay)


def charbonnier(output: torch.Tensor, target: torch.Tensor, eps: float) -> torch.Tensor:
    """Mean of sqrt((x - y)^2 + eps^2), in float32."""
    diff = output.float() - target.float()
    return torch.sqrt(diff * diff + eps * eps).mean()


def lr_factor(step: int, config: TrainConfig) -> float:
    """Learning-rate multiplier at ``step``: linear warm-up, then cosine from lr down to min_lr."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    span = max(1, config.steps - config.warmup_steps)
    progress = min(1.0, (step - config.warmup_steps) / span)
    floor = config.min_lr / config.lr
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass(frozen=True)
class World:
    """This process's place in a torchrun job (rank 0 of 1 when not distributed)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    owns_group: bool = False

    @property
    def main(self) -> bool:
        """The process that validates, logs and writes checkpoints."""
        return self.rank == 0


def join_world(device: torch.device) -> World:
    """Join the torchrun process group when launched by torchrun (WORLD_SIZE > 1); NCCL on CUDA, else gloo."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    import torch.distributed as dist

    owns_group = not dist.is_initialized()
    if owns_group:
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")), owns_group)


def leave_world(world: World) -> None:
    """Wait for every rank, then close the process group that :func:`join_world` opened.

    Without this a rank that finishes first exits while its peers still hold gloo connections to it, and
    gloo aborts one of them (SIGABRT) now and then.
    """
    if not world.owns_group:
        return
    import torch.distributed as dist

    dist.barrier()
    dist.destroy_process_group()


def build_model(config: TrainConfig) -> tuple[ModelSpec, nn.Module]:
    """The model of the recipe, freshly initialised from the run's seed or from ``init`` weights."""
    spec = get_spec(config.model)
    torch.manual_seed(config.seed)
    module = spec.factory()
    if config.init:
        path = config.resolve(config.init)
        if path.is_file():
            load_into(module, read_state_dict(path), config.init)
        elif is_registered(config.init) and get_spec(config.init).weights is not None:
            from vrestore.weights.store import Store

            state, _ = read_registered(Store(), get_spec(config.init).weights, label=config.init)
            load_into(module, state, config.init)
        else:
            raise UsageError(f"--init/init: checkpoint '{path}' does not exist; check the path (relative paths in a "
                             "recipe are relative to the recipe file), or name a model with registered weights")
    return spec, module


def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    stop_at: int | None = None,
    time_limit_s: float | None = None,
    on_step: Callable[[StepReport], None] | None = None,
    on_validation: Callable[[int, dict[str, float]], None] | None = None,
) -> TrainSummary:
    """Train (or continue) the run of ``config`` until ``steps``, ``stop_at`` or the time limit.

    A checkpoint is written every ``checkpoint_every`` steps and whenever the call ends, also on Ctrl-C.
    """
    started = time.perf_counter()
    output = config.resolve(config.output)
    last = output / LAST
    if last.exists() and not resume:
        raise UsageError(f"'{output}' already holds a training run; pass --resume to continue it or pick another "
                         "output folder")
    device = resolve_device(config.device)
    world = join_world(device)
    if world.size > 1 and device.type == "cuda":
        device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    spec, module = build_model(config)
    place_for_training(spec, module, device)
    trainable = [p for p in module.parameters() if p.requires_grad]
    freeze(module, config.freeze)
    network: nn.Module = module
    if world.size > 1:
        from torch.nn.parallel import DistributedDataParallel

        # Networks that route sparsely (mixture-of-experts) say so with ``routes_sparsely = True``: their
        # unselected experts get no gradient in a step, which DDP must be told about.
        network = DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None,
                                          find_unused_parameters=bool(getattr(module, "routes_sparsely", False)))
    ema = Ema(module, config.ema_decay)
    optimizer = make_optimizer(trainable, config, device)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, config))
    step = 0
    if resume and last.exists():
        step = _restore(last, config, module, ema, optimizer, scheduler)
    elif resume:
        raise UsageError(f"--resume: no checkpoint '{last}' to continue from; start the run without --resume")
    if world.rank > 0:
        # Rank 0's generator is the one saved; the others are re-derived from (seed, rank, step).
        torch.manual_seed(hash((config.seed, world.rank, step)) % 2**63)
    if world.main:
        output.mkdir(parents=True, exist_ok=True)
    end = min(config.steps, stop_at) if stop_at is not None else config.steps

    clips = [load_clip(p, config.data.max_side) for p in find_clips([config.resolve(s) for s in config.data.train])]
    sample_type = PooledSamples if config.data.pool else TrainSamples
    input_filter = motion_average_uint8 if spec.motion_average else None
    samples = sample_type(clips, config.data, config.seed, config.steps * config.batch_size * world.size,
                          input_filter)
    val_clips = [load_clip(p, config.data.max_side, config.data.val_frames * config.data.val_draws)
                 for p in find_clips([config.resolve(s) for s in config.data.val])] if config.data.val else []
    val_pairs = validation_pairs(val_clips, config.data, config.seed, input_filter) if world.main else []

    last_loss: float | None = None
    # Sums since the last log line: the logged loss is their mean, and "input_loss" the loss of the degraded
    # input itself, so a log shows the gain over doing nothing despite samples of very different difficulty.
    loss_sum, input_sum, summed = 0.0, 0.0, 0
    validation: dict[str, float] | None = None
    tick, tick_step = time.perf_counter(), step
    try:
        for degraded, clean in _batches(samples, config, step, end, world):
            degraded, clean = degraded.to(device), clean.to(device)
            last_loss = training_step(spec, module, degraded, clean, optimizer, config, network)
            scheduler.step()
            ema.update(module)
            step += 1
            if not math.isfinite(last_loss):
                raise UsageError(f"the training loss became {last_loss} at step {step}; lower lr or enable grad_clip")
            loss_sum += last_loss
            input_sum += float(charbonnier(degraded, clean, config.charbonnier_eps))
            summed += 1
            if world.main and (step % config.log_every == 0 or step == end):
                now = time.perf_counter()
                rate = (step - tick_step) / max(now - tick, 1e-9)
                tick, tick_step = now, step
                lr = scheduler.get_last_lr()[0]
                _log(output, {"step": step, "loss": loss_sum / summed, "input_loss": input_sum / summed, "lr": lr,
                              "steps_per_s": rate})
                loss_sum, input_sum, summed = 0.0, 0.0, 0
                if on_step is not None:
                    on_step(StepReport(step, config.steps, last_loss, lr, rate))
            if val_pairs and (step % config.val_every == 0 or step == config.steps):
                validation = validate(spec, module, ema, val_pairs, device)
                _log(output, {"step": step, **{f"val_{k}": v for k, v in validation.items()}})
                if on_validation is not None:
                    on_validation(step, validation)
            if world.main and step % config.checkpoint_every == 0:
                _save(last, config, step, module, ema, optimizer, scheduler)
            if time_limit_s is not None and _agreed(time.perf_counter() - started > time_limit_s, world, device):
                break
    finally:
        # Also on Ctrl-C: the steps done so far are kept, and --resume continues from them.
        if step > 0 and world.main:
            _save(last, config, step, module, ema, optimizer, scheduler)
    leave_world(world)
    return TrainSummary(str(output), step, config.steps, step >= config.steps, last_loss, validation,
                        time.perf_counter() - started, world.rank)


def make_optimizer(params: list[nn.Parameter], config: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    """The recipe's AdamW; its fused kernel on the CPU and CUDA (one pass over all parameters: about 4x
    faster than the per-tensor loop on the CPU; a small share of a PGDENet step, ~1% side by side)."""
    fused = device.type in ("cpu", "cuda")
    return torch.optim.AdamW(params, lr=config.lr, betas=config.betas, weight_decay=config.weight_decay,
                             fused=fused)


def freeze(module: nn.Module, prefixes: Sequence[str]) -> None:
    """Keep the parameters whose names start with one of ``prefixes`` fixed (e.g. ``spynet`` after its pretraining).

    They stay in the optimiser, which skips parameters without a gradient, so a run can freeze or thaw them
    between ``--resume`` chunks; no autograd graph is recorded through a frozen part, so it costs no backward.
    """
    named = dict(module.named_parameters())
    for prefix in prefixes:
        matched = [p for name, p in named.items() if name == prefix or name.startswith(prefix + ".")]
        if not matched:
            raise UsageError(f"training setting freeze: '{prefix}' names no parameter of the model; "
                             "give a module name such as 'spynet'")
        for parameter in matched:
            parameter.requires_grad_(False)


def place_for_training(spec: ModelSpec, module: nn.Module, device: torch.device) -> None:
    """Move ``module`` to ``device`` in training mode, with the speed settings measured for it: the spec's
    channels_last (about 1.3x for PGDENet on the CPU) and, on the CPU, an allocator that keeps freed memory
    (a fifth of a CPU step went to page faults on freshly mapped tensors; vrestore/engine/host_memory.py)."""
    if device.type == "cpu":
        keep_freed_memory()
    module.to(device).train()
    if spec.channels_last:
        module.to(memory_format=torch.channels_last)


def training_step(spec: ModelSpec, module: nn.Module, degraded: torch.Tensor, clean: torch.Tensor,
                  optimizer: torch.optim.Optimizer, config: TrainConfig, network: nn.Module | None = None) -> float:
    """One optimiser step on a batch (bf16 autocast when the recipe and the model allow it); returns the loss.

    ``network`` is what runs the forward pass when it is not ``module`` itself (a DDP wrapper); a model's
    auxiliary loss (e.g. mixture-of-experts balance) is read from ``module.aux_loss`` after the forward pass.
    """
    network = module if network is None else network
    bf16 = config.bf16 and spec.supports_bfloat16
    with torch.autocast(degraded.device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext():
        restored, _ = forward_clip(spec, network, degraded)
        loss = charbonnier(restored, clean, config.charbonnier_eps)
        aux = getattr(module, "aux_loss", None)
        if isinstance(aux, torch.Tensor):
            loss = loss + aux.float()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if config.grad_clip is not None:
        torch.nn.utils.clip_grad_norm_([p for p in module.parameters() if p.requires_grad], config.grad_clip)
    optimizer.step()
    return float(loss.detach())


def _batches(samples: TrainSamples, config: TrainConfig, step: int, end: int,
             world: World) -> Iterator[tuple[torch.Tensor, ...]]:
    """This process's batches for steps ``step .. end-1``.

    Step ``s`` uses the global sample indices ``[s*B*W, (s+1)*B*W)`` (B = batch_size per process, W = world
    size); rank ``r`` takes the r-th block of B of them.
    """
    if step >= end:
        return iter(())
    b, w = config.batch_size, world.size
    indices = [s * b * w + world.rank * b + i for s in range(step, end) for i in range(b)]
    loader = DataLoader(samples, batch_size=config.batch_size, sampler=indices, num_workers=config.data.workers,
                        persistent_workers=False, drop_last=False)
    return iter(loader)


@torch.no_grad()
def validate(spec: ModelSpec, module: nn.Module, ema: Ema, pairs: list[tuple[torch.Tensor, torch.Tensor]],
             device: torch.device) -> dict[str, float]:
    """Mean PSNR/SSIM (RGB, 8-bit, BasicSR conventions) of the EMA weights on the validation clips, and the
    mean PSNR of the degraded inputs (``input_psnr``) to read the gain against.

    For clip models also ``single_psnr``: the same frames restored one at a time, without their neighbours.
    ``psnr - single_psnr`` is what the network gains from the other frames of the clip (zero for a network
    that has learned to ignore them, which a recurrent model can do).
    """
    model = copy.deepcopy(module).eval()
    model.load_state_dict(ema.state)
    psnrs, ssims, inputs, singles = [], [], [], []
    for degraded, clean in pairs:
        clip = degraded.unsqueeze(0).to(device)
        restored, _ = forward_clip(spec, model, clip)
        ref = (clean * 255).round()
        out = _to_8bit(restored[0])
        psnrs.append(_psnr_8bit(out, ref))
        ssims.append(float(ssim(out.to(torch.uint8), ref.to(torch.uint8), 255.0).mean()))
        inputs.append(_psnr_8bit(_to_8bit(degraded), ref))
        if spec.temporal is Temporal.CLIP:
            alone = torch.cat([forward_clip(spec, model, clip[:, i : i + 1])[0][0] for i in range(clip.shape[1])])
            singles.append(_psnr_8bit(_to_8bit(alone), ref))
    scores = {"psnr": mean(psnrs), "ssim": mean(ssims), "input_psnr": mean(inputs)}
    if singles:
        scores["single_psnr"] = mean(singles)
    return scores


def _to_8bit(frames: torch.Tensor) -> torch.Tensor:
    """(T,C,H,W) frames in [0, 1] as 8-bit values (float, on the CPU)."""
    return (frames.float().clamp(0, 1) * 255).round().cpu()


def _psnr_8bit(frames: torch.Tensor, ref: torch.Tensor) -> float:
    """Mean PSNR of 8-bit (T,C,H,W) frames against 8-bit ``ref``."""
    return float(psnr(frames, ref, 255.0).clamp(max=100).mean())


def _agreed(flag: bool, world: World, device: torch.device) -> bool:
    """True on every process when it is true on any (so all ranks stop at the same step)."""
    if world.size == 1:
        return flag
    import torch.distributed as dist

    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def _save(path: Path, config: TrainConfig, step: int, module: nn.Module, ema: Ema,
          optimizer: torch.optim.Optimizer, scheduler: Any) -> None:
    state = {
        "format": FORMAT,
        "step": step,
        "config": config.to_dict(),
        "model": module.state_dict(),
        "ema": ema.state,
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    save_atomic(state, path)


def _restore(path: Path, config: TrainConfig, module: nn.Module, ema: Ema, optimizer: torch.optim.Optimizer,
             scheduler: Any) -> int:
    data = load_checkpoint(path)
    saved = data["config"]
    changed = sorted(k for k in ("model", "batch_size", "steps", "lr", "seed")
                     if saved.get(k) != config.to_dict().get(k))
    if changed:
        raise UsageError(f"cannot resume '{path}': the recipe changed {', '.join(changed)} since the run started; "
                         "restore the recipe or start a new output folder")
    module.load_state_dict(data["model"])
    ema.state = {k: v.to(ema.state[k].device) for k, v in data["ema"].items()}
    optimizer.load_state_dict(data["optimizer"])
    scheduler.load_state_dict(data["scheduler"])
    torch.set_rng_state(data["torch_rng"])
    if data["cuda_rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(data["cuda_rng"])
    return int(data["step"])


def _log(output: Path, record: dict[str, Any]) -> None:
    with open(output / LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps({"time": round(time.time(), 3), **record}) + "\n")
