"""Golden tensors for the DynStaticNet parity test, computed by the official implementation.

Usage: python scripts/make_dynstaticnet_golden.py OFFICIAL_REPO [--out tests/models/data/dynstaticnet_golden.pt]
       python scripts/make_dynstaticnet_golden.py OFFICIAL_REPO --keys-only

Also writes the official constructor's state-dict keys and shapes for widths 24 and 48
(tests/models/data/dynstaticnet_keys_{24,48}.txt, one "name shape" line each).

OFFICIAL_REPO is a checkout of github.com/zqx1216155858/DynstaticNet (needs torch, einops, timm and
pytorch_wavelets installed; not vrestore dependencies). The official module is loaded from its source with
only its CUDA-only tensor constructors made device-agnostic; its MMEditing registry and its unused decord
import are replaced by stand-ins. Inputs are real DAVIS frames from ../shared/data/train/davis. The width-24
network gets a seeded random state dict (``normal_haar`` of vrestore/models/seeded.py) and the decoder's random query
is seeded with torch.manual_seed right before the forward, as vrestore's deterministic mode does.
"""

from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vrestore.models.seeded import fill_seeded, normal_haar  # noqa: E402

MODULE = "mmedit/models/backbones/sr_backbones/DynStaticNet.py"
STATE_SEED = 1216
QUERY_SEED = 7
CASES = {  # name: (sequence, frames, top, left, height, width)
    "a": ("camel", 10, 120, 300, 64, 96),
    "b": ("bmx-trees", 4, 200, 100, 40, 56),  # not a multiple of 32: the attention pads internally
}


def load_official(repo: Path) -> types.ModuleType:
    """Execute the official backbone module with CUDA constructors replaced and registries stubbed."""
    decord = types.ModuleType("decord")
    decord.bridge = types.SimpleNamespace(set_bridge=lambda name: None)
    registry = types.ModuleType("mmedit.models.registry")
    registry.BACKBONES = types.SimpleNamespace(register_module=lambda: (lambda cls: cls))
    for name in ("mmedit", "mmedit.models"):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["decord"] = decord
    sys.modules["mmedit.models.registry"] = registry
    source = (repo / MODULE).read_text()
    source = source.replace("torch.cuda.FloatTensor(", "torch.FloatTensor(").replace(".cuda()", "")
    module = types.ModuleType("official_dynstaticnet")
    exec(compile(source, str(repo / MODULE), "exec"), module.__dict__)
    return module


def frames(data: Path, sequence: str, count: int, top: int, left: int, height: int, width: int) -> torch.Tensor:
    """(1, T, 3, H, W) uint8 crop of the first ``count`` frames of a DAVIS training sequence."""
    paths = sorted((data / "train" / "davis" / sequence).glob("*.jpg"))[:count]
    arrays = [np.asarray(Image.open(p).convert("RGB"))[top : top + height, left : left + width] for p in paths]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).unsqueeze(0).contiguous()


def write_keys(official: types.ModuleType, folder: Path) -> None:
    """One "name d0,d1,..." line per state-dict entry of the official constructor, for widths 24 and 48."""
    for dim in (24, 48):
        state = official.DynStaticNet(dim=dim).state_dict()
        lines = [f"{name} {','.join(map(str, t.shape))}" for name, t in state.items()]
        path = folder / f"dynstaticnet_keys_{dim}.txt"
        path.write_text("\n".join(lines) + "\n")
        print(f"wrote {path} ({len(lines)} keys)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("official", type=Path, help="checkout of zqx1216155858/DynstaticNet")
    parser.add_argument("--data", type=Path, default=REPO / ".." / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "models" / "data" / "dynstaticnet_golden.pt")
    parser.add_argument("--keys-only", action="store_true", help="only write the key lists")
    args = parser.parse_args()

    official = load_official(args.official)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_keys(official, args.out.parent)
    if args.keys_only:
        return
    net = fill_seeded(official.DynStaticNet(dim=24).eval(), STATE_SEED, normal_haar)
    golden: dict[str, object] = {"state_seed": STATE_SEED, "query_seed": QUERY_SEED, "dim": 24}
    for name, case in CASES.items():
        clip = frames(args.data, *case)
        torch.manual_seed(QUERY_SEED)
        with torch.no_grad():
            out = net(clip.float() / 255)
        golden[f"input_{name}"] = clip
        golden[f"output_{name}"] = out.contiguous()
        print(f"case {name}: input {tuple(clip.shape)}, output range [{out.min():.3f}, {out.max():.3f}]")
    torch.save(golden, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
