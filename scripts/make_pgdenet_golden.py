"""Make the PGDENet parity golden by running the OFFICIAL implementation (not in this repository).

Usage:  python scripts/make_pgdenet_golden.py OFFICIAL_REPO [--out tests/models/golden/pgdenet.pt]
        python scripts/make_pgdenet_golden.py OFFICIAL_REPO --keys tests/models/golden/pgdenet_official_keys.txt

OFFICIAL_REPO is a checkout of github.com/ycity16/PGDENet. Its architecture files are imported unmodified,
except that mmcv (a CUDA-built package) is replaced by a stand-in whose ``ModulatedDeformConv2d`` holds the
same ``weight``/``bias`` parameters and whose ``modulated_deform_conv2d`` calls torchvision's DCNv2 operator
(the same layout). The golden holds a seeded random state dict of a reduced-width configuration, an input
clip of real frames (DAVIS-train frames from ../shared/data) and the official output, fp32 on the CPU.
``--keys`` writes the full-size model's state-dict names and shapes instead. Needs ``einops``.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
import types
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torchvision.ops import deform_conv2d

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vrestore.models.seeded import fill_seeded  # noqa: E402

SEED = 7
REDUCED = {"mid_channels": 24, "num_blocks": 2, "prompt_size": 16, "prompt_dim": 24, "keyframe_interval": 3,
           "deform_groups": 24}
MODE_CONFIG = {"dim": 96, "rank": 2, "num_experts": 4, "top_k": 1, "depth_type": "constant", "rank_type": "spread",
               "with_complexity": True, "complexity_scale": "max"}
FRAMES_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "train" / "davis" / "bmx-trees"


def _install_stubs(repo: Path) -> None:
    class ModulatedDeformConv2d(nn.Module):
        def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                     deform_groups=1, bias=True):
            super().__init__()
            self.in_channels, self.out_channels = in_channels, out_channels
            self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
            self.deform_groups = deform_groups
            self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
            self.bias = nn.Parameter(torch.zeros(out_channels))
            bound = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
            nn.init.uniform_(self.weight, -bound, bound)

    def modulated_deform_conv2d(x, offset, mask, weight, bias, stride, padding, dilation, groups, deform_groups):
        return deform_conv2d(x, offset, weight, bias, stride=stride, padding=padding, dilation=dilation, mask=mask)

    def module(name: str, **attrs) -> types.ModuleType:
        mod = types.ModuleType(name)
        mod.__dict__.update(attrs)
        sys.modules[name] = mod
        return mod

    class _Registry:
        def register(self):
            return lambda obj: obj

    module("mmcv")
    module("mmcv.ops")
    module("mmcv.ops.deform_conv", DeformConv2dFunction=None)
    module("mmcv.ops.modulated_deform_conv", ModulatedDeformConv2d=ModulatedDeformConv2d,
           modulated_deform_conv2d=modulated_deform_conv2d)
    module("basicsr").__path__ = []
    module("basicsr.utils").__path__ = []
    module("basicsr.utils.registry", ARCH_REGISTRY=_Registry())
    module("basicsr.archs").__path__ = [str(repo / "basicsr" / "archs")]


def load_official(repo: Path):
    _install_stubs(repo)
    spec = importlib.util.spec_from_file_location("basicsr.archs.pgenet_arch", repo / "basicsr/archs/pgenet_arch.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _official_model(mod, config: dict) -> nn.Module:
    c = config["mid_channels"]
    mode = dict(MODE_CONFIG, dim=c)
    groups = config.get("deform_groups", 24)
    model = mod.PGENet(mid_channels=c, num_blocks=config["num_blocks"], prompt_size=config["prompt_size"],
                       prompt_dim=config["prompt_dim"], keyframe_interval=config["keyframe_interval"],
                       mode_config=mode)
    assert groups == 24, "the official class hard-codes 24 deformable groups"
    return model


def _frames(count: int, size: int) -> torch.Tensor:
    """(1,T,3,size,size) uint8 RGB crops of real frames."""
    import cv2

    files = sorted(FRAMES_DIR.glob("*.jpg"))[:count]
    images = [cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB)[100 : 100 + size, 200 : 200 + size] for f in files]
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)[None].contiguous()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("official", type=Path)
    parser.add_argument("--out", type=Path, default=Path("tests/models/golden/pgdenet.pt"))
    parser.add_argument("--keys", type=Path)
    args = parser.parse_args()
    mod = load_official(args.official)
    if args.keys:
        full = mod.PGENet(mid_channels=96, num_blocks=7, prompt_size=96, prompt_dim=96, keyframe_interval=6,
                          mode_config=MODE_CONFIG)
        lines = [f"{k} {list(v.shape)}" for k, v in full.state_dict().items()]
        args.keys.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {len(lines)} keys to {args.keys}")
        return
    model = fill_seeded(_official_model(mod, REDUCED).eval(), SEED)
    clip = _frames(7, 256)
    with torch.no_grad():
        out = model(clip.float() / 255)
    # Kept small: the weights are re-drawn from SEED by the test; of the output, a central crop of every
    # frame and the whole last frame.
    torch.save({"config": REDUCED, "seed": SEED, "input": clip, "crop": out[..., 80:176, 80:176].clone(),
                "last": out[:, -1].clone()}, args.out)
    print(f"wrote {args.out}: output {tuple(out.shape)}, {args.out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
