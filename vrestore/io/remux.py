"""Copying the source's audio and subtitle streams into the output, interleaved with the video.

Packets are stream-copied with unchanged timestamps and muxed as the video advances; a codec the output
container cannot hold is re-encoded (AAC for mp4/mov, Opus for webm, FLAC for mkv) with a warning, and
OutputError when even that fails. Subtitles that cannot be copied are skipped with a warning.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from vrestore.errors import InputError, OutputError
from vrestore.io.probe import rational

log = logging.getLogger("vrestore")

_AUDIO_FALLBACK = {"mp4": "aac", "mov": "aac", "webm": "libopus", "matroska": "flac"}


class _Track:
    """One non-video source stream on its way to the output: copied, or re-encoded when it must be."""

    def __init__(self, in_stream: Any, out_stream: Any, *, transcode: bool) -> None:
        self.in_stream = in_stream
        self.out_stream = out_stream
        self.transcode = transcode

    def describe(self) -> str:
        src = self.in_stream.codec_context.name
        how = f"{src}->{self.out_stream.codec_context.name}" if self.transcode else f"{src} copied"
        return f"{self.in_stream.type}#{self.in_stream.index} {how}"

    def mux(self, output: Any, packet: Any) -> None:
        if not self.transcode:
            packet.stream = self.out_stream
            output.mux(packet)
            return
        for frame in self.in_stream.decode(packet):
            output.mux(self.out_stream.encode(frame))

    def flush(self, output: Any) -> None:
        if not self.transcode:
            return
        for frame in self.in_stream.decode(None):
            output.mux(self.out_stream.encode(frame))
        output.mux(self.out_stream.encode(None))


class SideStreams:
    """Demuxes the source's audio/subtitle streams and muxes them into ``output`` paced by the video."""

    def __init__(self, source: Path, output: Any, format_name: str) -> None:
        try:
            self._input = av.open(str(source))
        except (OSError, av.FFmpegError) as exc:
            raise InputError(f"cannot open {source} to copy its audio: {exc}") from exc
        self._output = output
        self._tracks: dict[int, _Track] = {}
        self._pending: Any = None
        try:
            self._add_all(source, format_name)
        except BaseException:
            self._input.close()
            raise
        selected = [t.in_stream for t in self._tracks.values()]
        self._packets: Iterator[Any] = iter(self._input.demux(*selected)) if selected else iter(())

    def _add_all(self, source: Path, format_name: str) -> None:
        wanted = [s.index for s in self._input.streams if s.type in ("audio", "subtitle")]
        try:
            samples = _first_packets(source, wanted)
        except (OSError, av.FFmpegError) as exc:
            raise InputError(f"cannot read the audio of {source}: {exc}") from exc
        for stream in self._input.streams:
            track = self._add(stream, format_name, samples.get(stream.index))
            if track is not None:
                self._tracks[stream.index] = track

    def _add(self, stream: Any, format_name: str, sample: Any) -> _Track | None:
        if stream.type not in ("audio", "subtitle"):
            if stream.type != "video":
                log.info("not copying %s stream #%d of the source", stream.type, stream.index)
            return None
        if _can_copy(format_name, stream, sample):
            return _Track(stream, self._output.add_stream_from_template(stream), transcode=False)
        codec = stream.codec_context.name
        if stream.type == "subtitle":
            log.warning(
                "subtitle stream #%d (%s) cannot be stored in a %s file and is not copied; use .mkv to keep it",
                stream.index,
                codec,
                format_name,
            )
            return None
        return self._add_transcoded(stream, format_name)

    def _add_transcoded(self, stream: Any, format_name: str) -> _Track:
        target = _AUDIO_FALLBACK.get(format_name, "aac")
        codec = stream.codec_context.name
        try:
            ctx = stream.codec_context
            rate = 48000 if target == "libopus" else ctx.sample_rate
            layout = _named_layout(ctx.layout)
            out = self._output.add_stream(target, rate=rate, layout=layout)
            if target == "aac":
                out.codec_context.bit_rate = min(96_000 * max(1, ctx.layout.nb_channels), 512_000)
            out.codec_context.open()
        except Exception as exc:
            raise OutputError(
                f"audio stream #{stream.index} ({codec}) cannot be stored in a {format_name} file "
                f"and re-encoding it to {target} failed ({exc}); use .mkv"
            ) from exc
        log.warning(
            "audio stream #%d (%s) cannot be copied into a %s file; re-encoding it to %s",
            stream.index,
            codec,
            format_name,
            target,
        )
        return _Track(stream, out, transcode=True)

    def describe(self) -> tuple[str, ...]:
        return tuple(t.describe() for t in self._tracks.values())

    def mux_until(self, limit: Fraction | None) -> None:
        """Mux source packets whose time is <= ``limit`` seconds (all remaining when None)."""
        while True:
            packet = self._pending if self._pending is not None else next(self._packets, None)
            self._pending = None
            if packet is None:
                break
            if packet.size == 0:  # demux's flush packet; a packet with dts None is still real data
                continue
            when = _packet_time(packet)
            if limit is not None and when is not None and when > limit:
                self._pending = packet
                return
            self._tracks[packet.stream.index].mux(self._output, packet)
        if limit is None:
            for track in self._tracks.values():
                track.flush(self._output)

    def close(self) -> None:
        self._pending = None
        self._input.close()


_DEFAULT_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


def _named_layout(layout: Any) -> str:
    """A layout name an encoder accepts: the source's, or the default one for its channel count."""
    name = str(layout.name)
    if not name.endswith("channels"):
        return name
    return _DEFAULT_LAYOUTS.get(int(layout.nb_channels), "stereo")


def _packet_time(packet: Any) -> Fraction | None:
    ts = packet.dts if packet.dts is not None else packet.pts
    tb = rational(packet.time_base)
    if ts is None or tb is None:
        return None
    return ts * tb


def _can_copy(format_name: str, stream: Any, sample: Any) -> bool:
    """Whether ``format_name`` accepts a copy of ``stream``: header, one ``sample`` packet and trailer in memory.

    Some muxers only refuse at the trailer (mp4 with PCM of unknown channel layout), so all three are tried.
    """
    trial = av.open(io.BytesIO(), "w", format=format_name)
    try:
        out = trial.add_stream_from_template(stream)
        trial.start_encoding()
        if sample is not None:
            sample.stream = out
            trial.mux(sample)
        trial.close()
    except (ValueError, av.FFmpegError):
        try:
            trial.close()
        except Exception:  # noqa: BLE001 - the trial may have failed half-way
            pass
        return False
    return True


def _first_packets(source: Path, indexes: list[int]) -> dict[int, Any]:
    """The first non-empty packet of each stream in ``indexes`` (for copy trials), read from a separate handle."""
    found: dict[int, Any] = {}
    if not indexes:
        return found
    with av.open(str(source)) as container:
        streams = [container.streams[i] for i in indexes]
        for packet in container.demux(*streams):
            if packet.size and packet.stream.index not in found:
                found[packet.stream.index] = packet
                if len(found) == len(indexes):
                    break
    return found
