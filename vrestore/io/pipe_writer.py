"""Write restored frames to stdout as a y4m stream (``restore IN -``).

Decisions (the file writer's are in ``io/writer.py``):

* **Format**: y4m (FFmpeg's ``yuv4mpegpipe``): raw YUV frames behind a one-line header that carries the
  size, the frame rate, the chroma layout and bit depth (``C420p10``) and the colour range (``XCOLORRANGE``).
  Every tool that reads ``-f yuv4mpegpipe`` takes it. Deeper-than-8-bit layouts are not in the original
  y4m spec, so they are written with ``strict=-1``, as ``ffmpeg -strict -1`` does; FFmpeg reads them.
* **Pixel format**: the source's when y4m can hold it (yuvj* as its yuv* twin with full range), else
  yuv420p, or yuv420p10le for sources deeper than 8 bits; 4:4:4 for odd sizes. ``--pix-fmt`` picks another
  y4m layout; ``--codec``, ``--crf`` and ``--preset`` are refused (y4m is uncompressed).
* **Colour**: RGB -> YUV with the source's effective matrix and range, as in the file writer. y4m has no
  field for the matrix, primaries or transfer, so a reader falls back to its own guess (by height) for them.
* **Timing**: y4m is constant rate: frames go out in order at the source's frame rate (25 fps when unknown).
* **No temp file**: a pipe has no name to rename; frames go out as they are restored and a failure just
  stops the stream. A reader that closes the pipe early (``| head``) raises :class:`PipeClosed`.
* **No audio**: y4m holds only video; the input's audio/subtitle streams are left out with a warning (none
  when the input has none).
"""

from __future__ import annotations

import errno
import logging
import sys
from fractions import Fraction
from typing import Any, BinaryIO

import av
import numpy as np

from vrestore.errors import OutputError, PipeClosed, UsageError, VrestoreError
from vrestore.frame import Frame
from vrestore.io.closing import CloseOnSuccess
from vrestore.io.colour import SWS_MATRIX, accurate_interpolation, colour_ids
from vrestore.io.info import VideoInfo
from vrestore.io.probe import rational
from vrestore.options import EncodeOptions

log = logging.getLogger("vrestore")

#: The pixel formats FFmpeg's y4m muxer writes (the 8-bit ones are standard y4m, the deeper ones need strict=-1).
Y4M_PIX_FMTS = (
    "yuv420p", "yuv422p", "yuv444p", "yuv411p",
    "yuv420p10le", "yuv422p10le", "yuv444p10le",
    "yuv420p12le", "yuv422p12le", "yuv444p12le",
    "yuv420p16le", "yuv422p16le", "yuv444p16le",
)  # fmt: skip


def pipe_pix_fmt(source: VideoInfo, encode: EncodeOptions, *, width: int, height: int) -> str:
    """The y4m pixel format for a stdout output; UsageError for encoder options y4m cannot honour."""
    for name, value in (("--codec", encode.codec), ("--crf", encode.crf), ("--preset", encode.preset)):
        if value is not None:
            raise UsageError(f"{name} does not apply to output '-': stdout gets uncompressed y4m; drop {name} "
                             "(or write a file)")
    if encode.pix_fmt is not None:
        if encode.pix_fmt not in Y4M_PIX_FMTS:
            raise UsageError(f"--pix-fmt {encode.pix_fmt} cannot be written as y4m; choose one of: "
                             + " ".join(Y4M_PIX_FMTS))
        chosen = encode.pix_fmt
    else:
        own = source.pix_fmt.replace("yuvj", "yuv", 1)
        chosen = own if own in Y4M_PIX_FMTS else ("yuv420p10le" if source.high_bit_depth else "yuv420p")
    if (width % 2 or height % 2) and not chosen.startswith("yuv444p"):
        if encode.pix_fmt is not None:
            raise UsageError(f"--pix-fmt {chosen} needs an even width and height but the output is "
                             f"{width}x{height}; use a 4:4:4 format such as yuv444p")
        chosen = chosen.replace("yuv420p", "yuv444p").replace("yuv422p", "yuv444p").replace("yuv411p", "yuv444p")
    return chosen


class PipeWriter(CloseOnSuccess):
    """Writes frames as y4m to a binary stream (stdout by default); the FrameWriter protocol of ``io/writer.py``.

    ``pix_fmt`` is the layout ``output_check.check_output`` chose; without it, it is chosen here from ``encode``.
    """

    def __init__(
        self,
        source: VideoInfo,
        *,
        width: int,
        height: int,
        encode: EncodeOptions | None = None,
        stream: BinaryIO | None = None,
        pix_fmt: str | None = None,
    ) -> None:
        self.width = width
        self.height = height
        self.pix_fmt = pix_fmt or pipe_pix_fmt(source, encode or EncodeOptions(), width=width, height=height)
        self.frames_written = 0
        self._out = stream if stream is not None else sys.stdout.buffer
        self._matrix, self._range, primaries, transfer = colour_ids(source)
        self._interp = accurate_interpolation()
        self._closed = False
        rate = rational(source.frame_rate) or Fraction(25)
        kept = [s for s in source.streams if s.kind in ("audio", "subtitle")]
        if kept and source.kind != "stdin":  # a stdin source has warned already
            log.warning("y4m holds only video: %d audio/subtitle stream(s) of the input are left out of stdout",
                        len(kept))
        self._container: Any = av.open(self._out, "w", format="yuv4mpegpipe", options={"strict": "-1"})
        self._stream = self._container.add_stream("wrapped_avframe", rate=rate)
        self._stream.width, self._stream.height, self._stream.pix_fmt = width, height, self.pix_fmt
        ctx = self._stream.codec_context
        ctx.colorspace, ctx.color_range = self._matrix, self._range
        if primaries is not None:
            ctx.color_primaries = primaries
        if transfer is not None:
            ctx.color_trc = transfer

    def write(self, frame: Frame) -> None:
        """Send one frame (RGB uint8/uint16 of the output size) down the pipe."""
        if self._closed:
            raise VrestoreError("the stdout writer is closed")
        image = np.ascontiguousarray(frame.image)
        if image.ndim != 3 or image.shape[2] != 3 or image.shape[:2] != (self.height, self.width):
            raise VrestoreError(f"frame {frame.index} has shape {image.shape}; stdout expects "
                                f"({self.height}, {self.width}, 3)")
        rgb = "rgb48le" if image.dtype == np.uint16 else "rgb24"
        vframe = av.VideoFrame.from_ndarray(image, format=rgb).reformat(
            format=self.pix_fmt, dst_colorspace=SWS_MATRIX[self._matrix], dst_color_range=self._range,
            interpolation=self._interp,
        )
        vframe.pts = self.frames_written
        self._mux(vframe)
        self.frames_written += 1

    def close(self) -> int:
        """Flush the stream; returns the frames written."""
        if self._closed:
            raise VrestoreError("the stdout writer is already closed")
        self._mux(None)
        self._closed = True
        container, self._container = self._container, None
        self._guard(container.close)
        self._guard(self._out.flush)
        return self.frames_written

    def abort(self) -> None:
        """Stop writing: nothing on disk to remove; a broken pipe at this point is ignored."""
        self._closed = True
        container, self._container = self._container, None
        if container is not None:
            try:
                container.close()
            except Exception:  # noqa: BLE001 - best effort: the stream is being abandoned
                pass

    def _mux(self, vframe: av.VideoFrame | None) -> None:
        def mux() -> None:
            for packet in self._stream.encode(vframe):
                self._container.mux(packet)

        self._guard(mux)

    def _guard(self, step: Any) -> None:
        try:
            step()
        except OSError as exc:  # BrokenPipeError from our file object, or FFmpeg's EPIPE
            if exc.errno == errno.EPIPE or isinstance(exc, BrokenPipeError):
                self._closed = True
                raise PipeClosed(self.frames_written) from None
            raise OutputError(f"writing the video to stdout failed: {exc}") from exc
        except av.FFmpegError as exc:
            raise OutputError(f"writing the video to stdout failed: {exc}") from exc

