"""The result of scoring several pairs (``vrestore eval``): per video, the mean over videos, the settings."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vrestore.errors import OutputError

if TYPE_CHECKING:
    from vrestore.metrics.video import EvalOptions, VideoScore

CSV_HEADER = ("restored", "reference", "frame", "psnr", "ssim")


def json_number(value: float) -> float | str:
    """JSON has no inf/nan: they are written as the strings "inf" / "nan"."""
    if math.isinf(value) or math.isnan(value):
        return str(value)
    return value


@dataclass(frozen=True)
class EvalReport:
    """The scores of every pair, the options they were computed with and the seconds it took."""

    scores: list[VideoScore]
    options: EvalOptions
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` object: per video (means and per-frame values), the mean over videos, the settings."""
        from vrestore.metrics.video import mean_over_videos

        mean_psnr, mean_ssim = mean_over_videos(self.scores)
        return {
            "videos": [
                {
                    "restored": s.restored,
                    "reference": s.reference,
                    "frames": s.count,
                    "psnr": json_number(s.mean_psnr),
                    "ssim": json_number(s.mean_ssim),
                    "identical_frames": s.identical_frames,
                    "peak": s.peak,
                    "per_frame": [
                        {"frame": i, "psnr": json_number(p), "ssim": json_number(q)}
                        for i, p, q in zip(s.frames, s.psnr, s.ssim, strict=True)
                    ],
                }
                for s in self.scores
            ],
            "mean": {"psnr": json_number(mean_psnr), "ssim": json_number(mean_ssim), "videos": len(self.scores),
                     "frames": sum(s.count for s in self.scores)},
            "settings": {"y_channel": self.options.y_channel, "crop_border": self.options.crop_border,
                         "align": self.options.align},
            "seconds": round(self.seconds, 3),
        }

    def write_csv(self, path: Path) -> None:
        """Per-frame rows (``CSV_HEADER``; inf as "inf"), written to a temporary name and then renamed.

        OutputError when ``path`` cannot be written.
        """
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        writer.writerows(frame_rows(self.scores))
        temp = path.with_name(f".{path.name}.part")
        try:
            temp.write_text(buffer.getvalue())
            temp.replace(path)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise OutputError(f"cannot write --csv {path} ({exc.strerror or exc}); check that its folder exists "
                              "and is writable") from None


def frame_rows(scores: list[VideoScore]) -> Iterator[tuple[str, str, int, float | str, float | str]]:
    """One row per scored frame, as ``CSV_HEADER`` names them (inf as "inf")."""
    for s in scores:
        for index, p, q in zip(s.frames, s.psnr, s.ssim, strict=True):
            yield s.restored, s.reference, index, json_number(p), json_number(q)
