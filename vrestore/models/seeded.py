"""Deterministic pseudo-random weights: the named rules that tiny test variants and parity goldens use.

Every rule sees only tensor names and shapes (plus a seed), so two implementations with the same state-dict
layout get the same values: that is how a golden made with the official code is compared with ours. Each
rule is kept exactly as the goldens were made with it; a change to one changes every golden that names it
(regenerate those only from the official code, with the script that names the rule).

- :func:`uniform_fan_in`: ``promptir.test``, ``dynet.test``, ``dppd.test`` (through :func:`fill_seeded`) and the
  PromptIR, DyNet and PGDENet goldens (scripts/golden_allinone.py, scripts/make_pgdenet_golden.py).
- :func:`normal_per_key`: the RVRT goldens (scripts/rvrt_reference.py; scripts/rvrt_gpu_check.py).
- :func:`normal_haar`: the DynStaticNet golden (scripts/make_dynstaticnet_golden.py).
- :func:`default_init`: ``pgdenet.test``, ``dynstaticnet.test`` (PyTorch's own initialisation from a fixed seed).
- :func:`fill_normal`: the toy convolutions of the engine tests (tests/engine/toy_models.py).

``tiny.test`` keeps its own drawn smoothing filters (vrestore/models/tiny): a design, not a random rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TypeVar

import torch
from torch import nn

M = TypeVar("M", bound=nn.Module)

RVRT_KEEP = ("relative_position_index", "spynet.mean", "spynet.std")
"""Key endings :func:`normal_per_key` keeps as they are in RVRT (fixed buffers, not weights)."""


def uniform_fan_in(shapes: Mapping[str, torch.Size], seed: int) -> dict[str, torch.Tensor]:
    """Uniform values scaled by 1/sqrt(fan-in) for tensors of rank >= 2; 1 +- 0.1 noise for vectors.

    One generator seeded with ``seed``; names are visited in sorted order so the draw does not depend on
    module definition order.
    """
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for name in sorted(shapes):
        shape = torch.Size(shapes[name])
        noise = torch.rand(shape, generator=generator) * 2 - 1
        if len(shape) >= 2 and shape[0] > 0:
            value = noise / math.sqrt(max(1, shape.numel() // shape[0]))
        else:
            value = 1 + 0.1 * noise
        state[name] = value
    return state


def normal_per_key(
    reference: Mapping[str, torch.Tensor], seed: int, keep: tuple[str, ...] = RVRT_KEEP
) -> dict[str, torch.Tensor]:
    """Random values for every entry of ``reference`` (a state dict); keys ending in ``keep`` are copied.

    Scales keep activations tame: weights ~ N(0, 1/fan_in), other vectors (LayerNorm weights)
    ~ 1 + N(0, 0.1^2), biases and position-bias tables ~ N(0, 0.02^2). The i-th key in sorted order draws
    (in float64, then cast to the entry's dtype) from its own generator seeded ``seed * 100_003 + i``.
    """
    state = {}
    for index, key in enumerate(sorted(reference)):
        value = reference[key]
        if any(key.endswith(k) for k in keep):
            state[key] = value.clone()
            continue
        gen = torch.Generator().manual_seed(seed * 100_003 + index)
        noise = torch.randn(value.shape, generator=gen, dtype=torch.float64)
        if key.endswith("relative_position_bias_table") or key.endswith("bias"):
            noise = noise * 0.02
        elif value.dim() == 1:
            noise = 1 + 0.1 * noise
        else:
            noise = noise / math.sqrt(value[0].numel())
        state[key] = noise.to(value.dtype)
    return state


def normal_haar(shapes: Mapping[str, torch.Size], seed: int) -> dict[str, torch.Tensor]:
    """Normal values for every entry (sorted by name, one generator), with DynStaticNet's fixed filters true.

    Norm weights (vectors named ``*.weight``) ~ 1 + N(0, 0.1^2), other vectors ~ N(0, 0.05^2), running
    variances uniform in [0.5, 1.5], ``num_batches_tracked`` 0, tensors of rank >= 2
    ~ 0.25 * N(0, 1/fan_in); the Haar filters (``*.wt.h{0,1}_{col,row}``) keep their true values.
    """
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for name in sorted(shapes):
        shape = tuple(shapes[name])
        if ".wt.h" in name:
            sign = -1.0 if ".wt.h1" in name else 1.0
            state[name] = torch.tensor([1.0, sign]).mul(0.5**0.5).view(shape)
        elif name.endswith("num_batches_tracked"):
            state[name] = torch.tensor(0)
        elif name.endswith("running_var"):
            state[name] = 0.5 + torch.rand(shape, generator=generator)
        elif len(shape) == 1 and name.endswith(".weight"):
            state[name] = 1 + 0.1 * torch.randn(shape, generator=generator)
        elif len(shape) == 1:
            state[name] = 0.05 * torch.randn(shape, generator=generator)
        else:
            fan_in = math.prod(shape[1:])
            state[name] = 0.25 * torch.randn(shape, generator=generator) / math.sqrt(fan_in)
    return state


def default_init(factory: Callable[[], M], seed: int) -> M:
    """``factory()`` with PyTorch's own initialisation drawn after ``torch.manual_seed(seed)``.

    The global CPU generator is forked, so the caller's random stream is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return factory()


def fill_normal(module: M, seed: int, stds: Mapping[str, float]) -> M:
    """Set each parameter named in ``stds`` to N(0, std^2), drawn in that order from one generator; return it."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, std in stds.items():
            parameter = module.get_parameter(name)
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * std)
    return module


def shapes_of(module: nn.Module) -> dict[str, torch.Size]:
    """The names and shapes of ``module``'s state dict, the input of the shape-only rules."""
    return {k: v.shape for k, v in module.state_dict().items()}


def fill_seeded(
    module: M, seed: int, rule: Callable[[Mapping[str, torch.Size], int], dict[str, torch.Tensor]] = uniform_fan_in
) -> M:
    """Load ``rule`` (default :func:`uniform_fan_in`) for ``module``'s own layout into it (strict); return it."""
    module.load_state_dict(rule(shapes_of(module), seed), strict=True)
    return module
