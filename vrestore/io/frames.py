"""Image sequences: reading a folder or glob of PNG/JPEG/TIFF/BMP frames, and writing a PNG folder.

Images are decoded with OpenCV and handed out as RGB: uint8 for 8-bit files, uint16 for 16-bit ones.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from vrestore.errors import InputError, OutputError, UsageError
from vrestore.frame import Frame
from vrestore.io.closing import CloseOnSuccess
from vrestore.io.info import ColorTags, VideoInfo

log = logging.getLogger("vrestore")

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"})
DEFAULT_FRAME_RATE = Fraction(25)
_GLOB_CHARS = frozenset("*?[")
_CODEC_BY_SUFFIX = {".jpg": "mjpeg", ".jpeg": "mjpeg", ".tif": "tiff", ".tiff": "tiff", ".png": "png", ".bmp": "bmp"}


def natural_key(path: Path | str) -> list[int | str]:
    """Sort key that orders embedded numbers by value, so '2.png' < '10.png'."""
    parts = re.split(r"(\d+)", str(path))
    return [int(p) if p.isdigit() else p.lower() for p in parts]


def is_image_file(path: Path) -> bool:
    """True for a visible file whose suffix is one of the supported image formats."""
    # Dot files include macOS "._name.png" resource forks, which are not images.
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".") and path.is_file()


def looks_like_glob(source: str | os.PathLike[str]) -> bool:
    """True when ``source`` contains glob wildcards and is not an existing path."""
    text = os.fspath(source)
    return any(c in _GLOB_CHARS for c in text) and not os.path.exists(text)


def find_frame_files(source: str | os.PathLike[str]) -> list[Path] | None:
    """The image files a frames source stands for, naturally sorted; None when ``source`` is not one.

    A frames source is a folder of images, a glob pattern ("frames/*.png") or a single image file.
    Raises InputError for a folder without images or a pattern that matches none.
    """
    text = os.fspath(source)
    if looks_like_glob(text):
        files = [Path(p) for p in glob.glob(text) if is_image_file(Path(p))]
        if not files:
            raise InputError(f"input pattern '{text}' matches no PNG/JPEG/TIFF/BMP images; check the pattern")
        return sorted(files, key=natural_key)
    path = Path(text)
    if path.is_dir():
        try:
            files = [p for p in path.iterdir() if is_image_file(p)]
        except PermissionError:
            raise InputError(
                f"input folder '{text}' cannot be read (permission denied); check its permissions"
            ) from None
        if not files:
            raise InputError(
                f"input folder '{text}' contains no PNG/JPEG/TIFF/BMP images; pass a video file or a folder of frames"
            )
        return sorted(files, key=natural_key)
    if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
        return [path]
    return None


def read_image(path: Path) -> np.ndarray:
    """Read one image file as a C-contiguous RGB array (H, W, 3), uint8 or uint16."""
    try:
        data = np.fromfile(path, dtype=np.uint8)  # imdecode, unlike imread, copes with non-ASCII paths
    except PermissionError:
        raise InputError(f"image '{path}' cannot be read (permission denied); check its permissions") from None
    except OSError as exc:
        raise InputError(f"image '{path}' cannot be read ({exc.strerror}); check the file") from None
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise InputError(f"image '{path}' is empty or not a readable image; replace or remove it")
    if image.dtype not in (np.uint8, np.uint16):
        raise InputError(
            f"image '{path}' has {image.dtype} samples; only 8-bit and 16-bit images are supported, convert it"
        )
    return np.ascontiguousarray(_to_rgb(image))


def _to_rgb(image: np.ndarray) -> np.ndarray:
    """OpenCV's gray/BGR/BGRA layouts -> RGB (alpha dropped)."""
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    channels = image.shape[2]
    if channels == 1:
        return np.repeat(image, 3, axis=2)
    if channels == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def probe_frame_files(source: str, files: Sequence[Path], frame_rate: Fraction | None = None) -> VideoInfo:
    """VideoInfo of an image sequence; size and bit depth come from the first image."""
    rate = DEFAULT_FRAME_RATE if frame_rate is None else Fraction(frame_rate).limit_denominator(1_000_000)
    if rate <= 0:
        raise UsageError(f"frame rate {frame_rate} is not positive; pass a rate such as 25 or 30000/1001")
    first = read_image(files[0])
    height, width = first.shape[:2]
    deep = first.dtype == np.uint16
    return VideoInfo(
        source=source,
        kind="frames",
        width=width,
        height=height,
        frame_count=len(files),
        time_base=None,
        frame_rate=rate,
        start_pts=0,
        duration_s=float(len(files) / rate),
        codec=_CODEC_BY_SUFFIX[files[0].suffix.lower()],
        pix_fmt="rgb48le" if deep else "rgb24",
        bit_depth=16 if deep else 8,
        color=ColorTags(matrix_effective="bt709" if height >= 720 else "smpte170m", range_effective="pc"),
    )


def iter_frame_files(info: VideoInfo, files: Sequence[Path]) -> Iterator[Frame]:
    """Decode an image sequence into Frames: pts = index, time_base = 1/frame_rate.

    Every image must match the first one's size and bit depth (a mixed folder is an InputError).
    """
    rate = info.frame_rate or DEFAULT_FRAME_RATE
    time_base = 1 / Fraction(rate)
    dtype = np.uint16 if info.bit_depth > 8 else np.uint8
    for index, path in enumerate(files):
        image = read_image(path)
        if image.shape[:2] != (info.height, info.width) or image.dtype != dtype:
            raise InputError(
                f"image '{path}' is {image.shape[1]}x{image.shape[0]} {image.dtype.itemsize * 8}-bit but the first "
                f"frame is {info.width}x{info.height} {info.bit_depth}-bit; all frames must match"
            )
        yield Frame(image=image, pts=index, time_base=time_base, index=index, is_key=True, duration=1)


def write_image(path: Path, image: np.ndarray, *, overwrite: bool = False) -> None:
    """Write one RGB image (PNG/JPEG/TIFF/BMP by suffix) via a temporary name and an atomic rename."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputError(f"output '{path}' already exists; pass --overwrite or choose another path")
    if not path.parent.is_dir():
        raise OutputError(f"output folder '{path.parent}' does not exist; create it first")
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise OutputError(f"output '{path}' is not an image file name; use .png")
    ok, encoded = cv2.imencode(path.suffix.lower(), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OutputError(f"could not encode '{path}' as {path.suffix} (16-bit needs .png or .tif)")
    temp = path.with_name(f".{path.name}.part")
    try:
        temp.write_bytes(encoded.tobytes())
        os.replace(temp, path)
    except OSError as exc:
        raise OutputError(f"cannot write '{path}' ({exc.strerror}); check free space and permissions") from exc
    finally:
        temp.unlink(missing_ok=True)


class PngFolderWriter(CloseOnSuccess):
    """Write frames as ``%08d.png`` (by frame index) into ``<destination>.part/``, renamed on close.

    uint8 frames become 8-bit PNGs and uint16 frames 16-bit PNGs. The destination only ever appears
    complete: ``abort()`` (or an exception inside ``with``) removes the partial folder.
    """

    def __init__(self, destination: Path, *, overwrite: bool = False) -> None:
        self.destination = Path(destination)
        self.partial = self.destination.with_name(self.destination.name + ".part")
        self.overwrite = overwrite
        self.frames_written = 0
        self._open = False
        if self.destination.exists() and not overwrite:
            raise OutputError(f"output '{self.destination}' already exists; pass --overwrite or choose another path")
        if not self.destination.parent.is_dir():
            raise OutputError(f"output folder's parent '{self.destination.parent}' does not exist; create it first")
        try:
            if self.partial.exists():  # left over from an interrupted run; the .part name is ours
                shutil.rmtree(self.partial)
            self.partial.mkdir()
        except OSError as exc:
            raise OutputError(
                f"cannot create output folder '{self.partial}' ({exc.strerror}); check permissions"
            ) from exc
        self._open = True

    def write(self, frame: Frame) -> None:
        """Write one frame as ``<index:08d>.png``."""
        if not self._open:
            raise RuntimeError("PngFolderWriter is closed")
        image = frame.image
        if image.dtype not in (np.uint8, np.uint16) or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"PngFolderWriter needs (H, W, 3) uint8/uint16 RGB, got {image.dtype} {image.shape}")
        ok, encoded = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 3])
        if not ok:
            raise OutputError(f"could not encode frame {frame.index} as PNG")
        target = self.partial / f"{frame.index:08d}.png"
        try:
            target.write_bytes(encoded.tobytes())
        except OSError as exc:
            raise OutputError(f"cannot write '{target}' ({exc.strerror}); check free space and permissions") from exc
        self.frames_written += 1

    def close(self) -> None:
        """Finish: move ``<destination>.part`` to ``<destination>`` (replacing it when overwrite=True)."""
        if not self._open:
            return
        self._open = False
        backup = None
        try:
            if self.destination.exists() or self.destination.is_symlink():
                if not self.overwrite:
                    raise OutputError(
                        f"output '{self.destination}' appeared while writing; pass --overwrite or choose another path"
                    )
                # Move the old output aside first, so that a failure never leaves neither version behind.
                backup = self.destination.with_name(f"{self.destination.name}.old-{os.getpid()}")
                os.replace(self.destination, backup)
            os.replace(self.partial, self.destination)
        except BaseException as exc:
            if backup is not None and not self.destination.exists():
                os.replace(backup, self.destination)
            self.abort()
            if isinstance(exc, OSError):
                raise OutputError(
                    f"cannot move '{self.partial}' to '{self.destination}' ({exc.strerror}); check permissions"
                ) from exc
            raise
        if backup is not None:
            _remove(backup)

    def abort(self) -> None:
        """Discard everything written so far; the destination is left untouched."""
        self._open = False
        _remove(self.partial)



def _remove(path: Path) -> None:
    """Delete a file or folder tree if present, ignoring errors (cleanup path)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        try:
            path.unlink()
        except OSError:
            log.debug("could not remove %s", path)
