"""What we know about a video source before decoding it (plain data, no PyAV)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

#: File suffixes taken as videos when a folder or glob is searched (batches, synth, training clips).
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".mkv", ".mov", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".ts", ".mts", ".m2ts", ".y4m",
     ".wmv", ".flv", ".mxf", ".ogv", ".3gp"}
)


@dataclass(frozen=True)
class ColorTags:
    """Colour description of a source, as FFmpeg names it ("bt709", "smpte170m", "bt2020nc", "tv", "pc").

    The tag fields hold what the file says (None when unspecified). ``matrix_effective`` and
    ``range_effective`` are what decoding really used: the tag when present, otherwise the player
    heuristic (height >= 720 -> "bt709", else "smpte170m"; range "tv").
    """

    primaries: str | None = None
    transfer: str | None = None
    matrix: str | None = None
    range: str | None = None
    matrix_effective: str = "bt709"
    range_effective: str = "tv"


@dataclass(frozen=True)
class StreamInfo:
    """A non-video stream of the source that the writer copies (audio, subtitles, data)."""

    index: int
    kind: str  # "audio" | "subtitle" | "data"
    codec: str
    language: str | None = None


@dataclass(frozen=True)
class VideoInfo:
    """Properties of a video source.

    ``kind`` is "video" (a container PyAV opens), "frames" (a folder or glob of images), "y4m", or "stdin"
    (any stream piped in; its other streams cannot be copied).
    ``frame_count`` is a best estimate for progress bars (None when unknown); never rely on it.
    ``rotation`` is the display-matrix rotation in degrees as FFmpeg reports it (0, 90, -90, 180).
    ``bit_depth`` is bits per sample of the source pixel format (8, 10, 12, 16).
    ``retimed`` says why the source timestamps were unusable from the start (None: they are kept); the
    frames are then re-timed at ``frame_rate``, and ``time_base``/``duration_s`` describe that timing.
    ``fallback_rate`` is the constant rate that replaces broken timestamps (see ``io/timestamps.py``).
    """

    source: str
    kind: str
    width: int
    height: int
    frame_count: int | None = None
    time_base: Fraction | None = None
    frame_rate: Fraction | None = None
    start_pts: int | None = None
    duration_s: float | None = None
    codec: str = ""
    pix_fmt: str = "rgb24"
    bit_depth: int = 8
    color: ColorTags = field(default_factory=ColorTags)
    rotation: int = 0
    streams: tuple[StreamInfo, ...] = ()
    retimed: str | None = None
    fallback_rate: Fraction | None = None

    @property
    def audio_streams(self) -> tuple[StreamInfo, ...]:
        """The audio streams of the source."""
        return tuple(s for s in self.streams if s.kind == "audio")

    @property
    def high_bit_depth(self) -> bool:
        """True when frames decode to uint16 (more than 8 bits per sample)."""
        return self.bit_depth > 8
