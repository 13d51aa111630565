"""How much a clip model gains from the other frames of its clip (run by hand).

Usage:  python benchmarks/temporal_use.py [--model pgdenet] [--weights FILE] [--data ../shared/data/test/davis]
        [--interval 12] [--seed 0] [--tag NAME] [--still-only]

For every clip of --data it makes the TUD-degraded copy as benchmarks/quality.py does (``vrestore synth``) and
restores it twice with the model: the whole clip at once, and every frame alone (a one-frame clip). A network
that aligns and fuses its neighbours, as PGDENet is built to, scores higher on the whole clip; one that has
learned to ignore them scores the same. A second test removes alignment from the question: a still scene
(frame 10 of the first clip, 320x240) repeated 12 times with independent Gaussian noise (sigma 15 of 255), where
the plain mean of the 12 noisy frames is the bar a temporal network can reach, and how much each of 6 still
frames moves the correction of the middle one (``influence``), and for PGDENet how much of its hidden state
each step carries on (``carried``) (``--still-only``: this test alone, seconds instead of minutes).
Scores: RGB PSNR, 8-bit.
Writes benchmarks/results/temporal_use-<date>[-<tag>].md with device, command and date.
"""

from __future__ import annotations

import platform
import sys
import tempfile
from pathlib import Path

import torch

from vrestore.api import load_model
from vrestore.engine.tiling import Tiler
from vrestore.models.loaded import LoadedModel
from vrestore.options import TileOptions

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for benchmarks._results
from benchmarks._frames import clip_of, frames_of, images_of  # noqa: E402
from benchmarks._results import command, cpu_model, today, write_results  # noqa: E402
from benchmarks.quality import run, score, test_clip_parser  # noqa: E402

STILL_FRAMES, STILL_SIGMA, STILL_SIZE = 12, 15.0, (240, 320)
INFLUENCE_FRAMES = 6


def restored(model: LoadedModel, clip: torch.Tensor) -> torch.Tensor:
    """``model`` on a (T,C,H,W) clip in [0, 1], whole frames padded as ``vrestore restore`` pads them."""
    out, _ = Tiler(model, TileOptions(0)).run(clip.unsqueeze(0))
    return out[0].clamp(0, 1)


def whole_and_alone(model: LoadedModel, clip: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The clip restored at once, and frame by frame."""
    return restored(model, clip), torch.cat([restored(model, clip[i : i + 1]) for i in range(clip.shape[0])])


def influence(model: LoadedModel, clip: torch.Tensor, target: int, seed: int = 0) -> list[float]:
    """How much each input frame s moves the correction r = out - in of frame ``target``: |d r_target| / |d in_s|
    for one small random change of frame s (finite differences). A plain mean of T aligned frames gives
    1 - 1/T for the frame itself and 1/T for every other frame; a single-frame filter 0 for the others."""
    delta = torch.randn(clip.shape[1:], generator=torch.Generator().manual_seed(seed)) * 1e-2
    base = restored(model, clip)[target] - clip[target]
    moved = []
    for s in range(clip.shape[0]):
        changed = clip.clone()
        changed[s] += delta
        moved.append(float((restored(model, changed)[target] - changed[target] - base).norm() / delta.norm()))
    return moved


def carried(net: torch.nn.Module, clip: torch.Tensor) -> list[str]:
    """Table rows: how much of PGDENet's hidden state survives each step of each branch on ``clip``.

    The state goes through the alignment's deformable convolution at every step (and ``key_fusion`` at key
    frames) before the backbone adds the new frame's share; norm(out) / norm(state) and the cosine between them, mean
    over the steps, say whether the state is carried on (about 1 and 1) or mixed away (cosine near 0).
    """
    seen: dict[str, list[tuple[float, float]]] = {}

    def keep(name: str, width: int | None = None):
        def hook(module, inputs, output):
            state = inputs[0] if width is None else inputs[0][:, :width]
            if state.norm() > 0:
                cosine = torch.nn.functional.cosine_similarity(state.flatten(), output.flatten(), dim=0)
                seen.setdefault(name, []).append((float(output.norm() / state.norm()), float(cosine)))
        return hook

    hooks = [module.register_forward_hook(keep(f"align {name}")) for name, module in net.deform_align.items()]
    hooks.append(net.key_fusion.register_forward_hook(keep("key_fusion", net.mid_channels)))
    with torch.no_grad():
        net(clip.unsqueeze(0))
    for hook in hooks:
        hook.remove()
    return [f"| {name} | {sum(r for r, _ in v) / len(v):.2f} | {sum(c for _, c in v) / len(v):.2f} |"
            for name, v in seen.items()]


def main() -> None:
    parser = test_clip_parser(__doc__)
    parser.add_argument("--still-only", action="store_true", help="only the still-scene test")
    args = parser.parse_args()

    model = load_model(args.model, weights=args.weights, device="cpu", dtype="auto")
    clips = sorted(p for p in args.data.resolve().iterdir() if p.is_dir())
    work = Path(tempfile.mkdtemp(prefix="vrestore-temporal-"))
    commands: list[str] = []
    rows = ["| clip | degraded | whole clip | each frame alone | gain from the other frames |",
            "|---|---:|---:|---:|---:|"]
    for clip in [] if args.still_only else clips:
        lq = work / f"{clip.name}_lq.mkv"
        run([sys.executable, "-m", "vrestore", "synth", str(clip), str(lq), "--protocol", "tud", "--interval",
             str(args.interval), "--seed", str(args.seed), "--overwrite", "--quiet"], commands)
        clean, degraded = frames_of(clip), frames_of(lq)
        whole, alone = whole_and_alone(model, clip_of(degraded))
        p_in, p_whole, p_alone = (score(x, clean)[0] for x in (degraded, images_of(whole), images_of(alone)))
        rows.append(f"| {clip.name} | {p_in:.3f} | {p_whole:.3f} | {p_alone:.3f} | {p_whole - p_alone:+.3f} |")

    still = clip_of(frames_of(clips[0])[10:11])[:, :, : STILL_SIZE[0], : STILL_SIZE[1]]
    generator = torch.Generator().manual_seed(args.seed)
    noise = torch.randn((STILL_FRAMES, *still.shape[1:]), generator=generator) * STILL_SIGMA / 255
    noisy = (still + noise).clamp(0, 1)
    whole, alone = whole_and_alone(model, noisy)
    middle = STILL_FRAMES // 2
    reference = images_of(still)

    def middle_psnr(frames: torch.Tensor) -> float:
        return score(images_of(frames[middle : middle + 1]), reference)[0]

    still_rows = ["| degraded | whole clip | frame alone | mean of the noisy frames |", "|---:|---:|---:|---:|",
                  f"| {middle_psnr(noisy):.2f} | {middle_psnr(whole):.2f} | {middle_psnr(alone):.2f} | "
                  f"{middle_psnr(noisy.mean(0, keepdim=True).expand_as(noisy)):.2f} |"]
    exact = load_model(args.model, weights=args.weights, device="cpu", dtype="fp32")  # finite differences need fp32
    few = noisy[:INFLUENCE_FRAMES]
    moved = influence(exact, few, INFLUENCE_FRAMES // 2)
    influence_rows = ["| " + " | ".join(f"in {s}" for s in range(INFLUENCE_FRAMES)) + " |",
                      "|" + "---:|" * INFLUENCE_FRAMES, "| " + " | ".join(f"{m:.3f}" for m in moved) + " |"]
    carry_rows = (["| module | norm(out) / norm(state), mean | cosine(out, state), mean |", "|---|---:|---:|",
                   *carried(exact.module, noisy)] if hasattr(exact.module, "deform_align") else [])
    weights = model.weights
    lines = [f"# Gain from neighbouring frames, {args.model}, {today()}", "",
             f"- weights: {weights.origin if weights else 'built-in'} {weights.file or '' if weights else ''}"
             + (f" (sha256 {weights.sha256})" if weights and weights.sha256 else ""),
             f"- command: `{command(quote=True)}`",
             f"- device: CPU {cpu_model()}, dtype {model.dtype}, torch {torch.__version__}, "
             f"python {platform.python_version()}",
             f"- clips: TUD-T{args.interval} seed {args.seed} copies of {args.data.name}; RGB PSNR (dB), 8-bit", "",
             *rows, "",
             f"Still scene (frame 10 of {clips[0].name}, {STILL_SIZE[1]}x{STILL_SIZE[0]}, {STILL_FRAMES} copies, "
             f"Gaussian noise sigma {STILL_SIGMA:g}), PSNR of the middle frame:", "", *still_rows, "",
             f"Influence of each frame on the correction of frame {INFLUENCE_FRAMES // 2} of the first "
             f"{INFLUENCE_FRAMES} still frames (fp32; a plain mean: {1 - 1 / INFLUENCE_FRAMES:.2f} for the frame "
             f"itself, {1 / INFLUENCE_FRAMES:.2f} for each other):", "", *influence_rows, "",
             *(["Hidden state carried per step on the still clip (PGDENet; fp32):", "", *carry_rows, ""]
               if carry_rows else []),
             "Commands run:", "", "```", *commands, "```", ""]
    text = "\n".join(lines)
    print(text)
    write_results(text, "temporal_use", *([args.tag] if args.tag else []))


if __name__ == "__main__":
    main()
