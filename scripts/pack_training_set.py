"""Pack frame-folder training clips into small, near-lossless H.264 videos (to ship a training set to a GPU box).

Usage:  python scripts/pack_training_set.py SOURCE_ROOT DEST_ROOT [--crf 14]

Every sub-folder of SOURCE_ROOT holding images becomes DEST_ROOT/<name>.mp4 (yuv444p, so colour is not
subsampled). On ../shared/data/train/davis, crf 10 gives 37 MB at 43 dB against the JPEG frames and crf 18
gives 15 MB at 38 dB; both are far above the TUD degradations (about 27 dB). ``vrestore train`` reads
videos and frame folders alike. Prints the total size and the mean PSNR.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from vrestore.io.frames import find_frame_files, probe_frame_files, read_image
from vrestore.io.reader import open_reader
from vrestore.io.writer import open_writer
from vrestore.options import EncodeOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--crf", type=int, default=14)
    args = parser.parse_args()
    args.dest.mkdir(parents=True, exist_ok=True)
    total, psnrs = 0, []
    for folder in sorted(p for p in args.source.iterdir() if p.is_dir()):
        files = find_frame_files(folder)
        info = probe_frame_files(str(folder), files)
        out = args.dest / f"{folder.name}.mp4"
        images = [read_image(f) for f in files]
        encode = EncodeOptions(codec="libx264", crf=args.crf, pix_fmt="yuv444p", preset="slow")
        with open_writer(out, info, width=info.width, height=info.height, encode=encode, overwrite=True) as writer:
            with open_reader(folder) as reader:
                for frame in reader:
                    writer.write(frame)
        with open_reader(out) as reader:
            for frame, image in zip(reader, images, strict=True):
                mse = float(np.mean((frame.image.astype(np.float64) - image) ** 2))
                psnrs.append(math.inf if mse == 0 else 10 * math.log10(255**2 / mse))
        total += out.stat().st_size
        print(f"{folder.name}: {len(images)} frames, {out.stat().st_size / 1e6:.2f} MB")
    finite = [p for p in psnrs if math.isfinite(p)]
    print(f"total {total / 1e6:.1f} MB; mean PSNR vs the source frames {np.mean(finite):.2f} dB")


if __name__ == "__main__":
    main()
