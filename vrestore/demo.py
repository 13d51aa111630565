"""The demo run: degrade the bundled clean clip, restore it, lay the three side by side and score them.

Everything here goes through the public pipelines (synth, restore, compare, eval), so the demo shows what
the tool does on a real clip and doubles as an end-to-end check of an installation.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from vrestore.options import EncodeOptions, RestoreOptions

if TYPE_CHECKING:
    from vrestore.api import Progress

DEMO_CLIP = "bikes-640x272.mp4"
DEMO_SEED = 0
DEMO_INTERVAL = 12
_LOSSLESS = EncodeOptions(codec="ffv1")


def demo_clip() -> Path:
    """Path of the bundled clean example clip."""
    return Path(str(resources.files("vrestore") / "data" / DEMO_CLIP))


def demo_model() -> tuple[str, str]:
    """The model the demo uses and how to name it: the default model, or tiny.test (a smoothing filter, not a
    restorer) in a build whose default model has no registered weights."""
    from vrestore.models import DEFAULT_MODEL, get_spec

    spec = get_spec(DEFAULT_MODEL)
    if spec.weights is not None:
        return spec.id, f"the default model {spec.id}"
    return "tiny.test", f"tiny.test, a test filter, because the default model {spec.id} has no weights registered"


@dataclass(frozen=True)
class DemoResult:
    """Where the demo wrote its files and how the degraded and restored files score against the clean clip.

    ``output`` and ``degraded`` are the files scored, ``reference`` the clean clip they were scored against.
    """

    model: str
    device: str
    output: str
    comparison: str
    frames: int
    seconds: float
    degraded_psnr: float
    degraded_ssim: float
    restored_psnr: float
    restored_ssim: float
    warnings: list[str] = field(default_factory=list)
    degraded: str = ""
    reference: str = ""

    def to_dict(self) -> dict:
        """A JSON-ready dict (the CLI's ``--json`` object)."""
        return {
            "model": self.model, "device": self.device, "output": self.output, "comparison": self.comparison,
            "frames": self.frames, "seconds": round(self.seconds, 3), "reference": self.reference,
            "degraded": {"file": self.degraded, "psnr": round(self.degraded_psnr, 4),
                         "ssim": round(self.degraded_ssim, 5)},
            "restored": {"file": self.output, "psnr": round(self.restored_psnr, 4),
                         "ssim": round(self.restored_ssim, 5)},
            "warnings": list(self.warnings),
        }


def run_demo(
    output: Path,
    comparison: Path,
    *,
    model: str,
    device: str = "auto",
    overwrite: bool = False,
    progress: Callable[[str, Progress], None] | None = None,
    degraded_output: Path | None = None,
) -> DemoResult:
    """Degrade the bundled clip (TUD, seed 0), restore it into ``output`` and write ``comparison``.

    The degraded input is written too, to ``degraded_output`` (default ``<output stem>-degraded<suffix>``),
    through the same encoder as ``output``. The scores are those of these two files against the bundled clip,
    computed as ``vrestore eval FILE CLEAN`` does (``metrics.video.evaluate_pair``, its default options), so
    that anyone can reproduce them; the demo once scored its lossless intermediates instead, and printed other
    numbers than ``eval`` gave for the files it wrote.
    """
    from vrestore.api import restore_video  # torch: imported only when the demo runs
    from vrestore.compare.run import CompareOptions, compare_videos
    from vrestore.io.output_check import check_output
    from vrestore.metrics.video import EvalOptions, evaluate_pair
    from vrestore.synth_api import SynthOptions, synthesize

    if degraded_output is None:
        degraded_output = output.with_name(f"{output.stem}-degraded{output.suffix}")
    for destination in (output, degraded_output, comparison):  # before minutes of work, not after
        check_output(destination, None, overwrite=overwrite)

    def report(stage: str) -> Callable[[Progress], None] | None:
        return None if progress is None else (lambda p: progress(stage, p))

    clean = demo_clip()
    with tempfile.TemporaryDirectory(prefix="vrestore-demo-") as tmp:
        degraded = Path(tmp) / "degraded.mkv"
        restored = Path(tmp) / "restored.mkv"
        synth_options = SynthOptions(protocol="tud", interval=DEMO_INTERVAL, seed=DEMO_SEED, encode=_LOSSLESS)
        synthesized = synthesize(clean, degraded, synth_options, progress=report("degrading"))
        options = RestoreOptions(model=model, device=device, encode=_LOSSLESS)
        result = restore_video(degraded, restored, options, progress=report("restoring"))
        transcode(restored, output, overwrite=overwrite)
        transcode(degraded, degraded_output, overwrite=overwrite)
        compare_videos([degraded, restored, clean], comparison,
                       CompareOptions(labels=("degraded", f"restored ({result.model})", "clean"), overwrite=overwrite))
    # Scored as `vrestore eval` scores by default, on the files written.
    before = evaluate_pair(degraded_output, clean, EvalOptions())
    after = evaluate_pair(output, clean, EvalOptions())
    return DemoResult(
        model=result.model, device=result.device, output=str(output), comparison=str(comparison),
        frames=result.frames, seconds=result.seconds, degraded_psnr=before.mean_psnr,
        degraded_ssim=before.mean_ssim, restored_psnr=after.mean_psnr, restored_ssim=after.mean_ssim,
        warnings=list(dict.fromkeys(synthesized.warnings + result.warnings)),  # the clean clip's come from synth
        degraded=str(degraded_output), reference=str(clean),
    )


def transcode(source: Path, destination: Path, *, overwrite: bool = False,
              encode: EncodeOptions | None = None) -> int:
    """Re-encode ``source`` into ``destination`` with the default (or given) encoder; returns the frame count."""
    from vrestore.engine.pipeline import run_pipeline
    from vrestore.io.reader import open_reader
    from vrestore.io.writer import open_writer

    with open_reader(source) as reader:
        info = reader.info
        with open_writer(destination, info, width=info.width, height=info.height, encode=encode,
                         overwrite=overwrite) as writer:
            count = run_pipeline(reader, iter, writer.write)
            writer.close()
    return count
