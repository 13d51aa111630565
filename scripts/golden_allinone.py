"""Make the parity goldens of PromptIR and DyNet (L and S) from the official code.

Usage:  python -m scripts.golden_allinone --promptir PROMPTIR_REPO --dynet DYNET_REPO [--out tests/models/golden]

PROMPTIR_REPO is a checkout of github.com/va1shn9v/PromptIR, DYNET_REPO of github.com/akshaydudhane16/DyNet
(both unmodified; they need einops). Each official model gets the seeded state dict of
vrestore.models.seeded for its own key layout and restores a 48x64 crop of the first frame of the bundled
Chaplin clip on the CPU in float32. Writes <out>/allinone_parity.npz with the input crop (uint8 HWC), each
output (float32 CHW) and the official state dict's key/shape list.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import av
import numpy as np
import torch

from vrestore.models.seeded import fill_seeded

SEED = 1313
CLIP = Path(__file__).resolve().parents[1] / "vrestore" / "data" / "chaplin-oldfilm-360p.mp4"
CROP = (slice(120, 168), slice(280, 344))  # 48 x 64 pixels with faces and edges


def load_class(path: Path, name: str) -> type:
    spec = importlib.util.spec_from_file_location(f"official_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def first_crop() -> np.ndarray:
    with av.open(str(CLIP)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    return np.ascontiguousarray(frame[CROP])


def run(model: torch.nn.Module, image: np.ndarray) -> tuple[np.ndarray, list[list]]:
    own = fill_seeded(model, SEED).eval().state_dict()
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        y = model(x)[0].numpy().astype(np.float32)
    return y, [[k, list(v.shape)] for k, v in own.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--promptir", type=Path, required=True)
    parser.add_argument("--dynet", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("tests/models/golden"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    image = first_crop()
    outputs, keys = {}, {}
    sys.path.insert(0, str(args.promptir))
    promptir = load_class(args.promptir / "net" / "model.py", "PromptIR")(decoder=True)
    outputs["promptir"], keys["promptir"] = run(promptir, image)
    for variant, cls in (("dynet_l", "DyNet_large"), ("dynet_s", "DyNet_small")):
        net = load_class(args.dynet / "net" / f"{cls}.py", cls)(decoder=True)
        outputs[variant], keys[variant] = run(net, image)
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "allinone_parity.npz"
    np.savez_compressed(target, input=image, keys=np.array(json.dumps(keys)), seed=np.array(SEED), **outputs)
    print(f"wrote {target} ({target.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
