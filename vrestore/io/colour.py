"""FFmpeg colour names <-> libav enum ids, and the swscale settings used for RGB <-> YUV conversion.

The writer tags its output stream with these ids and converts RGB to YUV with the source's *effective*
matrix and range (see ``info.ColorTags``), never with ``encode()``'s BT.601 default.
"""

from __future__ import annotations

import logging

import av

from vrestore.io.info import VideoInfo

log = logging.getLogger("vrestore")

# FFmpeg colour names -> AVColorSpace / AVColorPrimaries / AVColorTransferCharacteristic / AVColorRange.
_MATRIX_IDS = {
    "rgb": 0,
    "gbr": 0,
    "bt709": 1,
    "fcc": 4,
    "bt470bg": 5,
    "smpte170m": 6,
    "smpte240m": 7,
    "ycgco": 8,
    "bt2020nc": 9,
    "bt2020_ncl": 9,
    "bt2020c": 10,
    "bt2020_cl": 10,
}
_PRIMARIES_IDS = {
    "bt709": 1,
    "bt470m": 4,
    "bt470bg": 5,
    "smpte170m": 6,
    "smpte240m": 7,
    "film": 8,
    "bt2020": 9,
    "smpte428": 10,
    "smpte431": 11,
    "smpte432": 12,
    "ebu3213": 22,
    "jedec-p22": 22,
}
_TRC_IDS = {
    "bt709": 1,
    "gamma22": 4,
    "gamma28": 5,
    "smpte170m": 6,
    "smpte240m": 7,
    "linear": 8,
    "log100": 9,
    "log316": 10,
    "iec61966-2-4": 11,
    "bt1361e": 12,
    "iec61966-2-1": 13,
    "bt2020-10": 14,
    "bt2020-12": 15,
    "smpte2084": 16,
    "smpte428": 17,
    "arib-std-b67": 18,
}
_RANGE_IDS = {"tv": 1, "mpeg": 1, "limited": 1, "pc": 2, "jpeg": 2, "full": 2}
# AVColorSpace -> swscale matrix name used by reformat().
SWS_MATRIX = {1: "ITU709", 4: "FCC", 5: "ITU601", 6: "ITU601", 7: "SMPTE240M", 9: "BT2020", 10: "BT2020"}
AVCOL_SPC_RGB = 0
AVCOL_RANGE_JPEG = 2


def colour_ids(source: VideoInfo) -> tuple[int, int, int | None, int | None]:
    """(matrix, range, primaries, transfer) ids for the output; matrix/range are the effective ones.

    RGB sources (image folders, RGB video) have no YUV range to keep: they get limited ("tv") range, the
    common and most compatible choice, with the effective (height-guessed) matrix.
    """
    tags = source.color
    matrix = _MATRIX_IDS.get((tags.matrix_effective or "").lower())
    if matrix not in SWS_MATRIX:
        log.info("no YUV matrix for source colour matrix %r; encoding with bt709", tags.matrix_effective)
        matrix = 1
    rng = 1 if is_rgb_format(source.pix_fmt) else _RANGE_IDS.get((tags.range_effective or "tv").lower(), 1)
    primaries = _PRIMARIES_IDS.get(tags.primaries.lower()) if tags.primaries else None
    transfer = _TRC_IDS.get(tags.transfer.lower()) if tags.transfer else None
    return matrix, rng, primaries, transfer


def is_rgb_format(pix_fmt: str) -> bool:
    try:
        return bool(av.VideoFormat(pix_fmt).is_rgb)
    except Exception:  # noqa: BLE001 - unknown names: treat as YUV
        return False


# swscale flag values (libswscale/swscale.h); av 17's Interpolation enum lacks the modifier flags.
_SWS_FLAGS = {"BICUBIC": 0x4, "FULL_CHR_H_INT": 0x2000, "ACCURATE_RND": 0x40000}


def accurate_interpolation() -> int:
    """Bicubic scaling with accurate rounding and full chroma interpolation (swscale flags)."""
    interp = av.video.reformatter.Interpolation
    return int(sum(int(getattr(interp, name, value)) for name, value in _SWS_FLAGS.items()))
