"""Rebuild the extra clean training footage (issue 24) from local git mirrors of public repositories.

Usage:  python scripts/build_extra_footage.py MIRRORS_DIR [--out ../footage] [--max-frames 120]

MIRRORS_DIR holds bare git mirrors named ``owner+name/repo`` (what the project's ``fetch`` tool writes, e.g.
/work/.mirror); nothing is downloaded here. Every source below becomes OUT/clips/<name>/00000.jpg... (JPEG quality
95), its shorter side brought down to 480 pixels with area averaging when larger (the scale of the DAVIS
training and test frames; averaging also hides most of the sources' own compression), at most
``--max-frames`` frames each so that no clip dominates the draws. OUT/SOURCES.md records repository, commit,
path and licence of each clip. The footage stays out of git (about 1.3 GB of JPEGs in memory when training).

Excluded on purpose: co-tracker's bear, paragliding and paragliding-launch (DAVIS sequences; the data rules
allow only the DAVIS sequences of shared/data/train) and anything of a benchmark test set.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vrestore.io.reader import open_reader

SHORT_SIDE = 480


@dataclass(frozen=True)
class Source:
    """One clip: a video file or a folder of frames at ``path`` in ``repo`` (owner/name)."""

    name: str
    repo: str
    path: str
    licence: str


SOURCES = (
    *(Source(f"sam2-{v}", "facebookresearch/sam2", f"demo/data/gallery/{v}.mp4", "Apache-2.0 (repository)")
      for v in ("01_dog", "02_cups", "03_blocks", "04_coffee", "05_default_juggle")),
    Source("sam2-bedroom", "facebookresearch/sam2", "notebooks/videos/bedroom", "Apache-2.0 (repository)"),
    *(Source(f"aot-{v}", "yoxu515/aot-benchmark", f"datasets/Demo/images/{v}", "BSD-3-Clause (repository)")
      for v in ("1001_3iEIq5HBY1s", "1007_YCTBBdbKSSg")),
    *(Source(f"cotracker-{v}", "facebookresearch/co-tracker", f"gradio_demo/videos/{v}.mp4",
             "CC-BY-NC-4.0 (repository; research use only)")
      for v in ("apple", "backpack", "cat", "pillow", "teddy")),
)


def git(mirror: Path, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", str(mirror), *args], check=True, capture_output=True).stdout


def frames_of(mirror: Path, source: Source, limit: int) -> list[np.ndarray]:
    """The first ``limit`` frames of ``source`` as RGB uint8 arrays."""
    listing = git(mirror, "ls-tree", "--name-only", f"HEAD:{source.path}") if not source.path.endswith(".mp4") else b""
    if listing:
        names = sorted(n for n in listing.decode().split() if n.lower().endswith((".jpg", ".png")))[:limit]
        return [cv2.cvtColor(cv2.imdecode(np.frombuffer(git(mirror, "show", f"HEAD:{source.path}/{n}"), np.uint8),
                                          cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) for n in names]
    images = []
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / Path(source.path).name
        video.write_bytes(git(mirror, "show", f"HEAD:{source.path}"))
        with open_reader(video) as reader:
            for frame in reader:
                images.append(frame.image)
                if len(images) == limit:
                    break
    return images


def shrink(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    if min(h, w) <= SHORT_SIDE:
        return image
    scale = SHORT_SIDE / min(h, w)
    return cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mirrors", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "footage")
    parser.add_argument("--max-frames", type=int, default=120)
    args = parser.parse_args()
    rows = []
    for source in SOURCES:
        mirror = args.mirrors / source.repo.replace("/", "+") / "repo"
        commit = git(mirror, "rev-parse", "HEAD").decode().strip()
        images = [shrink(im) for im in frames_of(mirror, source, args.max_frames)]
        folder = args.out / "clips" / source.name
        folder.mkdir(parents=True, exist_ok=True)
        for i, image in enumerate(images):
            cv2.imwrite(str(folder / f"{i:05d}.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
        h, w = images[0].shape[:2]
        rows.append(f"| {source.name} | {len(images)} x {w}x{h} | {source.repo} @{commit[:12]}, {source.path} "
                    f"| {source.licence} |")
        print(rows[-1], flush=True)
    (args.out / "SOURCES.md").write_text(
        "# Extra clean training footage (built by vrestore scripts/build_extra_footage.py)\n\n"
        "| clip | frames | source | licence |\n|---|---|---|---|\n" + "\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
