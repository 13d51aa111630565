"""RVRT on a CUDA machine: the official compiled op and network against ours, plus timings.

    python scripts/rvrt_gpu_check.py --official .official/RVRT --out rvrt_gpu

Needs python3 with torch, torchvision, einops, ninja and a CUDA toolkit (nvcc) matching torch, this repository
and a checkout of JingyunLiang/RVRT (unmodified). Steps:

1. Builds the official ``deform_attn`` extension from copies of its sources in ``<out>/build`` (two textual
   fixes for torch 2.x: ``THC/THCAtomics.cuh`` -> ``ATen/cuda/Atomic.cuh``; ``distutils`` shimmed on
   Python >= 3.12). If the build fails, the official network runs with the reference op written from the
   kernel's math (vrestore/models/rvrt/reference_op.py) and the report says so.
2. Op: our grid_sample op vs the official op on random inputs (max |diff|).
3. Model: for the SR, deblur and denoise configurations with the seeded weights of the CPU goldens, the official
   network (with the op of step 1) vs ours on the GPU; also ours vs the checked-in CPU goldens. Writes GPU
   goldens ``<out>/golden_<name>_gpu.pt`` (same format as the CPU ones).
4. Timing: official forward vs ours at equal settings (one clip, fp32, TF32 off), median of 3 after a warm-up.

Prints one JSON report and writes it to ``<out>/report.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
import types
from functools import partial
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.rvrt_reference import GOLDENS, official_network  # noqa: E402
from vrestore.models.rvrt.deform_attn import deform_attn  # noqa: E402
from vrestore.models.rvrt.net import DEBLUR, DENOISE, RVRT, SR  # noqa: E402
from vrestore.models.rvrt.reference_op import extension_forward  # noqa: E402
from vrestore.models.seeded import normal_per_key  # noqa: E402

OURS = {"sr": SR, "deblur": DEBLUR, "denoise": DENOISE}
# Timing inputs (N, T, C, H, W): SR on a REDS-like 180x320 LR clip, deblur/denoise on an official 256 tile.
TIMING = {"sr": (1, 16, 3, 180, 320), "deblur": (1, 16, 3, 256, 256), "denoise": (1, 16, 3, 256, 256)}


def shim_distutils() -> None:
    """``distutils.version.LooseVersion`` for Python >= 3.12, where distutils is gone."""
    try:
        import distutils.version  # noqa: F401
    except ImportError:
        from packaging.version import Version

        module = types.ModuleType("distutils.version")
        module.LooseVersion = lambda v: Version(str(v).split("+")[0])
        package = types.ModuleType("distutils")
        package.version = module
        sys.modules["distutils"], sys.modules["distutils.version"] = package, module


def build_extension(official: Path, out: Path):
    """Compile the official op from patched copies; None when that fails."""
    from torch.utils.cpp_extension import load

    build = out / "build"
    src = build / "src"
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(official / "models" / "op", src)
    for path in src.glob("*.c*"):
        text = path.read_text()
        text = text.replace("#include <THC/THCAtomics.cuh>", "#include <ATen/cuda/Atomic.cuh>")
        path.write_text(text)
    try:
        return load("deform_attn", sources=[str(src / "deform_attn_ext.cpp"), str(src / "deform_attn_cuda_pt110.cpp"),
                                            str(src / "deform_attn_cuda_kernel.cu")],
                    build_directory=str(build), verbose=False)
    except Exception as exc:  # a missing nvcc or an incompatible toolchain
        print(f"official op build failed ({type(exc).__name__}: {str(exc)[-300:]}); using the reference op",
              file=sys.stderr)
        return None


def compare_ops(official_forward, device: str) -> list[dict]:
    results = []
    for channels, h, w, spread in ((288, 24, 40, 3.0), (384, 17, 23, 12.0)):
        gen = torch.Generator().manual_seed(0)
        q = torch.randn(2, 1, channels, h, w, generator=gen).to(device)
        kv = torch.randn(1, 2, 2 * channels, h, w, generator=gen).to(device)
        offset = (torch.randn(2, 432, h, w, generator=gen) * spread).to(device)
        theirs = torch.empty_like(q)
        official_forward(q, kv.contiguous(), offset, theirs, q.new_empty(0), q.new_empty(0), q.new_empty(0),
                         3, 3, 1, 1, 1, 1, 1, 1, 12, 12, 2)
        ours = deform_attn(q[:, 0], kv, offset, heads=12, groups=12)
        results.append({"channels": channels, "size": [h, w], "offset_std": spread,
                        "max_abs_diff": float((ours - theirs[:, 0]).abs().max())})
    return results


def _input(name: str, shape, sigma, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.rand(shape, generator=torch.Generator().manual_seed(seed))
    lqs = x if sigma is None else torch.cat([x, torch.full_like(x[:, :, :1], sigma / 255)], 2)
    return x, lqs


def compare_models(net, out: Path, device: str) -> dict:
    report = {}
    for name, (config, seed, shape, sigma) in GOLDENS.items():
        official = net.RVRT(**config).eval()
        state = normal_per_key(official.state_dict(), seed)
        official.load_state_dict(state, strict=True)
        ours = RVRT(OURS[name]).eval()
        ours.load_state_dict(normal_per_key(ours.state_dict(), seed), strict=True)
        official.to(device)
        ours.to(device)
        x, lqs = _input(name, shape, sigma, seed)
        with torch.no_grad():
            theirs = official(lqs.to(device)).cpu()
            mine = ours(x.to(device), sigma=sigma).cpu()
        cpu_golden = torch.load(ROOT / "tests/models/rvrt/data" / f"golden_{name}.pt", weights_only=True)["output"]
        torch.save({"seed": seed, "shape": shape, "sigma": sigma, "output": theirs}, out / f"golden_{name}_gpu.pt")
        report[name] = {"ours_vs_official_gpu": float((mine - theirs).abs().max()),
                        "ours_gpu_vs_cpu_golden": float((mine - cpu_golden).abs().max()),
                        "official_gpu_vs_cpu_golden": float((theirs - cpu_golden).abs().max())}
    return report


def _median_time(fn, repeats: int = 3) -> float:
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_models(net) -> dict:
    report = {}
    for name, (config, seed, _shape, sigma) in GOLDENS.items():
        shape = TIMING[name]
        x, lqs = _input(name, shape, sigma, seed)
        x, lqs = x.cuda(), lqs.cuda()
        official = net.RVRT(**config).eval().cuda()
        ours = RVRT(OURS[name]).eval().cuda()
        with torch.no_grad():
            t_official = _median_time(partial(official, lqs))
            del official
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
            t_ours = _median_time(partial(ours, x, sigma=sigma))
            peak = torch.cuda.max_memory_allocated() / 2**30
        frames = shape[1]
        report[name] = {"input": list(shape), "official_s": t_official, "ours_s": t_ours,
                        "official_ms_per_frame": 1000 * t_official / frames,
                        "ours_ms_per_frame": 1000 * t_ours / frames, "ours_peak_gib": peak}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--official", type=Path, required=True, help="checkout of JingyunLiang/RVRT")
    parser.add_argument("--out", type=Path, default=Path("rvrt_gpu"))
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--skip-models", action="store_true", help="op comparison only")
    parser.add_argument("--device", default="cuda", help="cpu: dry run with the reference op (slow)")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("rvrt_gpu_check: needs a CUDA device")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    args.out.mkdir(parents=True, exist_ok=True)
    shim_distutils()
    ext = build_extension(args.official.resolve(), args.out.resolve()) if args.device == "cuda" else None
    forward = ext.deform_attn_forward if ext is not None else extension_forward
    net = official_network(args.official.resolve(), forward)
    name = torch.cuda.get_device_name() if args.device == "cuda" else args.device
    report = {"device": name, "torch": torch.__version__,
              "official_op": "compiled CUDA extension" if ext is not None else "reference op (no build)",
              "op": compare_ops(forward, args.device)}
    if not args.skip_models:
        report["model"] = compare_models(net, args.out, args.device)
    if not args.skip_timing and args.device == "cuda":
        report["timing"] = time_models(net)
    text = json.dumps(report, indent=2)
    (args.out / "report.json").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
