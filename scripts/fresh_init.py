"""Write the starting weights of a fresh pgdenet.tud (or pgdenet.wide) training run (run by hand).

Usage:  python scripts/fresh_init.py --spynet runs/pgdenet-tud-spynet-init2.pth [--model pgdenet.tud] [--seed 13]
        [--carry 0.8] [-o runs/pgdenet-tud-kaiming-init.pth]

The model as registered (last convolution and SPyNet's read-outs at zero), then Kaiming-normal weights
(LeakyReLU slope 0.1, fan in) and zero biases for every plain and deformable convolution outside the residual
blocks and SPyNet, except the two that start at zero on purpose (the last convolution, and the offset/mask
read-out of each alignment module). With PyTorch's default initialisation each of those convolutions shrinks
its input's scale about 2.5x, so the features reach the recurrent branches at ~0.02 and a new network sat at
the identity for hundreds of steps; with this start they are ~0.5 (benchmarks/results/training.md, session
13). The residual blocks keep BasicSR's 0.1-scaled initialisation. SPyNet comes from --spynet (e.g. the output
of scripts/pretrain_spynet.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torch import nn

from vrestore.models.common.blocks import ResidualBlock
from vrestore.models.common.deform import ModulatedDeformConv
from vrestore.models.registry import get_spec
from vrestore.weights.load import read_state_dict

ROOT = Path(__file__).resolve().parents[1]
KEPT_AT_ZERO = ("conv_last", "conv_offset.6")


def fresh_network(seed: int, model: str = "pgdenet.tud", carry: float = 0.0) -> nn.Module:
    """``model`` (a PGDENet configuration) with the Kaiming start described above; ``carry`` > 0 also starts
    the recurrent path near the identity (:func:`start_carrying`)."""
    torch.manual_seed(seed)
    net = get_spec(model).factory()
    in_blocks = {id(m) for block in net.modules() if isinstance(block, ResidualBlock) for m in block.modules()}
    for name, module in net.named_modules():
        if (isinstance(module, (nn.Conv2d, ModulatedDeformConv)) and id(module) not in in_blocks
                and not name.startswith("spynet") and not name.endswith(KEPT_AT_ZERO)):
            nn.init.kaiming_normal_(module.weight, a=0.1)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    if carry > 0:
        start_carrying(net, carry)
    return net


def start_carrying(net: nn.Module, gain: float, rest: float = 0.1) -> None:
    """Make the hidden state pass each step scaled by ``gain`` instead of being mixed away.

    Every step sends the state through the alignment's deformable convolution (masks 0.5 while the read-outs
    are zero) and, at key frames, through ``key_fusion``. With Kaiming weights those keep ~0.4 of the state's
    norm at a cosine of ~0.1 to it (measured on the trained wide stage 1), so nothing survives two steps and
    the network never learns to use its neighbours. Here their random weights are scaled by ``rest`` and the
    centre tap gets ``gain`` times the identity (2x for the deformable one, to undo the 0.5 mask).
    """
    c = net.mid_channels
    eye = torch.eye(c)
    with torch.no_grad():
        for align in net.deform_align.values():
            align.weight.mul_(rest)
            align.weight[:, :, 1, 1] += 2.0 * gain * eye
        fusion = net.key_fusion.weight  # input: the state, then the key frame's prompted features
        fusion[:, :c].mul_(rest)
        fusion[:, :c, 1, 1] += gain * eye


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spynet", type=Path, required=True, help="weights whose spynet.* tensors are used")
    parser.add_argument("--model", default="pgdenet.tud", help="pgdenet.tud or pgdenet.wide")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--carry", type=float, default=0.0,
                        help="start the recurrent path near the identity with this gain (e.g. 0.8); 0 = off")
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "runs" / "pgdenet-tud-kaiming-init.pth")
    args = parser.parse_args()
    net = fresh_network(args.seed, args.model, args.carry)
    state = net.state_dict()
    pretrained = read_state_dict(args.spynet)
    for key in state:
        if key.startswith("spynet."):
            state[key] = pretrained[key].to(state[key].dtype)
    net.load_state_dict(state)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
