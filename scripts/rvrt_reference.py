"""Reference data for vrestore's RVRT from the official code (JingyunLiang/RVRT), on CPU.

    python scripts/rvrt_reference.py keys    --official .official/RVRT
    python scripts/rvrt_reference.py goldens --official .official/RVRT

``keys`` writes the official constructor's state-dict key/shape lists per task to tests/models/rvrt/data/.
``goldens`` runs the official network, unmodified, on a tiny seeded input with seeded random weights
(``normal_per_key`` of vrestore/models/seeded.py) and stores the output with the seed and shape that remake the input.
The official guided deformable attention is a CUDA extension; here its compiled ``deform_attn_forward`` is
replaced by the reference written from the kernel's math (vrestore/models/rvrt/reference_op.py).
Needs einops and torchvision.
"""

from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "models" / "rvrt" / "data"
sys.path.insert(0, str(ROOT))

# Constructor arguments per task, as main_test_rvrt.py sets them (other arguments keep their defaults).
COMMON = dict(clip_size=2, img_size=[2, 64, 64], window_size=[2, 8, 8], num_blocks=[1, 2, 1], depths=[2, 2, 2],
              num_heads=[6, 6, 6], deformable_groups=12, attention_heads=12, attention_window=[3, 3],
              cpu_cache_length=100)
SR = dict(COMMON, upscale=4, embed_dims=[144, 144, 144], inputconv_groups=[1, 1, 1, 1, 1, 1])
DEBLUR = dict(COMMON, upscale=1, embed_dims=[192, 192, 192], inputconv_groups=[1, 3, 3, 3, 3, 3])
DENOISE = dict(COMMON, upscale=1, embed_dims=[192, 192, 192], inputconv_groups=[1, 3, 4, 6, 8, 4],
               nonblind_denoising=True)
TASKS = {
    "sr-reds-x4": SR, "sr-vimeo-bi-x4": SR, "sr-vimeo-bd-x4": SR,
    "deblur-dvd": DEBLUR, "deblur-gopro": DEBLUR, "denoise-davis": DENOISE,
}
# One golden per distinct configuration: (config, seed, input shape N,T,C,H,W, sigma or None).
GOLDENS = {
    "sr": (SR, 1, (1, 4, 3, 40, 48), None),
    "deblur": (DEBLUR, 2, (1, 4, 3, 136, 144), None),
    "denoise": (DENOISE, 3, (1, 4, 3, 136, 144), 20.0),
}


def official_network(official: Path, forward=None) -> types.ModuleType:
    """Import the official models/network_rvrt.py with the CUDA extension replaced by ``forward``."""
    import torch.utils.cpp_extension as cpp

    from vrestore.models.rvrt.reference_op import extension_forward

    real_load = cpp.load
    cpp.load = lambda *a, **k: types.SimpleNamespace(deform_attn_forward=forward or extension_forward)
    sys.path.insert(0, str(official))
    try:
        from models import network_rvrt
    finally:
        cpp.load = real_load
    return network_rvrt


def write_keys(official: Path) -> None:
    net = official_network(official)
    DATA.mkdir(parents=True, exist_ok=True)
    for task, config in TASKS.items():
        state = net.RVRT(**config).state_dict()
        lines = [f"{key} {tuple(value.shape)}" for key, value in state.items()]
        (DATA / f"keys_{task}.txt").write_text("\n".join(lines) + "\n")
        print(task, len(lines), "keys")


def write_goldens(official: Path) -> None:
    from vrestore.models.seeded import normal_per_key

    net = official_network(official)
    DATA.mkdir(parents=True, exist_ok=True)
    for name, (config, seed, shape, sigma) in GOLDENS.items():
        model = net.RVRT(**config).eval()
        model.load_state_dict(normal_per_key(model.state_dict(), seed), strict=True)
        gen = torch.Generator().manual_seed(seed)
        x = torch.rand(shape, generator=gen)
        lqs = x if sigma is None else torch.cat([x, torch.full_like(x[:, :, :1], sigma / 255)], 2)
        with torch.no_grad():
            y = model(lqs)
        # The input is not stored: torch.rand(shape) from a generator seeded with `seed` remakes it.
        torch.save({"seed": seed, "shape": shape, "sigma": sigma, "output": y}, DATA / f"golden_{name}.pt")
        print(name, tuple(y.shape), float(y.abs().max()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("keys", "goldens"))
    parser.add_argument("--official", type=Path, required=True, help="checkout of JingyunLiang/RVRT")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    (write_keys if args.what == "keys" else write_goldens)(args.official.resolve())


if __name__ == "__main__":
    main()
