"""One restore's side of ``--resume``: continue a kept partial output, or keep this run's when it is interrupted.

The files and the state are ``resume.py``'s; where a continued run restarts and how the kept frames are
joined to the new ones is ``engine/splice.py``'s. :class:`Resumption` makes the decisions of one run with
them, so that ``api._restore`` only calls it at each step. A run without ``--resume`` has one too: its
writer's temporary file is the kept part's name, so it replaces a kept part and drops that part's state.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vrestore import resume
from vrestore.errors import PartialKept, UsageError
from vrestore.frame import Frame
from vrestore.io.output_check import is_frame_folder
from vrestore.io.stdio import is_stdio
from vrestore.models.loaded import dtype_name
from vrestore.options import RestoreOptions
from vrestore.resume import ResumeState

if TYPE_CHECKING:
    from vrestore.engine.run_plan import RunPlan
    from vrestore.io.info import VideoInfo
    from vrestore.io.writer import FrameWriter
    from vrestore.models.loaded import LoadedModel
    from vrestore.stream import Transform


class Resumption:
    """``--resume`` in one restore: the kept state it continues (None: a fresh start) and what it keeps.

    ``check`` runs before anything is loaded; :meth:`begin` once the model is, then in the run's order:
    :meth:`plan`, :attr:`temp_path` for the writer, :meth:`writer_opened`, :meth:`transform`,
    :meth:`keeping_partial` around the stream, :meth:`finish`.
    """

    def __init__(self, options: RestoreOptions, destination: Path, source: Path, state: ResumeState | None,
                 wanted: dict[str, Any]) -> None:
        self.options = options
        self.destination = destination
        self.source = source
        self.state = state  # the kept run's, when this run continues it
        self.wanted = wanted  # the output options, as a state records them
        self.start = 0  # the first frame fed to the model (see engine/splice.py)
        self.first = 0  # the first frame taken from the model rather than from the kept part

    @staticmethod
    def check(options: RestoreOptions, destination: Path) -> None:
        """UsageError for the combinations ``--resume`` cannot continue exactly (before anything is loaded)."""
        from vrestore.engine.chunking import carries_state
        from vrestore.models.registry import get_spec, is_registered

        if not options.resume:
            return
        if options.temporal_smooth:
            raise UsageError("--resume cannot be combined with --temporal-smooth (the smoothing carries every frame "
                             "into the next, so a continued run would differ); drop one of them")
        if is_frame_folder(destination):
            raise UsageError(f"--resume needs a video file output; {destination} is a PNG folder")
        if is_registered(options.model) and carries_state(get_spec(options.model)):
            raise UsageError(f"--resume cannot continue model {options.model}: it carries a recurrent state from "
                             "window to window, so a continued run would differ; run without --resume")

    @classmethod
    def begin(cls, options: RestoreOptions, destination: Path, source: Path, model: LoadedModel) -> Resumption:
        """The resumption of a run of ``model``: with ``--resume``, the state kept for ``destination``, if any.

        UsageError when that state was made from another input or with other output options.
        """
        if not options.resume:
            return cls(options, destination, source, None, {})
        wanted = resume.output_options(options, model=model.spec.id, device=str(model.device),
                                       dtype=dtype_name(model.dtype))
        state = resume.load(destination)
        if state is not None:
            resume.check_matches(state, destination, wanted, resume.input_identity(source))
        return cls(options, destination, source, state, wanted)

    def plan(self, model: LoadedModel, info: VideoInfo) -> RunPlan:
        """The run's plan: a continued run's sizes are the kept state's; sets where the model restarts (``start``)."""
        from vrestore.engine.run_plan import plan_run, resumed_plan
        from vrestore.engine.splice import resume_point

        if self.state is None:
            return plan_run(model, self.options, info.height, info.width)
        plan = resumed_plan(model, self.options, self.state.sizes, self.state.frames_done)
        self.start, self.first = resume_point(self.state.frames_done, plan.clip, self.state.cuts)
        return plan

    @property
    def temp_path(self) -> Path | None:
        """Where the writer writes: a continued run beside the kept part (None: the writer's usual temp file)."""
        return resume.next_path(self.destination) if self.state is not None else None

    def writer_opened(self) -> None:
        """A fresh run's writer has just replaced any kept part with its temporary file: the part's state goes."""
        if self.state is None and self._keeps_parts:
            resume.discard(self.destination, part=False)

    def transform(self, marked: Transform, restore: Transform, stack: ExitStack) -> Transform:
        """The run's frames: ``restore(marked(...))``; a continued run takes its first frames from the kept part.

        ``marked`` sees every source frame from frame 0 (scene cuts are found as in the interrupted run), and
        ``restore`` those from ``start`` on (``engine.splice.splice``). The kept part's reader closes with ``stack``.
        """
        if self.state is None:
            return lambda frames: restore(marked(frames))
        from vrestore.engine.splice import splice
        from vrestore.io.reader import open_reader

        kept = stack.enter_context(open_reader(resume.part_path(self.destination)))
        start, first = self.start, self.first

        def spliced(frames: Iterable[Frame]) -> Iterator[Frame]:
            return splice(marked(frames), (frame.image for frame in kept), start, first, restore)

        return spliced

    @contextmanager
    def keeping_partial(self, writer: FrameWriter, plan: RunPlan, cuts: list[int]) -> Iterator[None]:
        """With ``--resume``, an interrupt inside the block keeps the partial output and raises PartialKept.

        ``cuts`` are the scene cuts found so far (read when the interrupt comes). Without ``--resume``, or
        when nothing can be kept, the interrupt goes on as it came.
        """
        try:
            yield
        except KeyboardInterrupt as exc:
            if not self.options.resume:
                raise
            fresh = ResumeState(plan.model, self.wanted, resume.checksum(self.wanted),
                                resume.input_identity(self.source), plan.resume_sizes(), 0, list(cuts))
            frames = self._keep(writer, fresh)
            if frames:
                raise PartialKept(str(self.source), resume.part_path(self.destination), frames) from exc
            raise

    def finish(self) -> None:
        """The output is complete: the kept part and its state are done with."""
        if self._keeps_parts:
            resume.discard(self.destination)

    @property
    def _keeps_parts(self) -> bool:
        # A PNG folder and stdout have no temporary file that a state could describe.
        return not is_frame_folder(self.destination) and not is_stdio(self.destination)

    def _keep(self, writer: FrameWriter, fresh: ResumeState) -> int:
        """Finish and keep the partial output; returns the frames kept (0: nothing kept).

        A continued run's output replaces the kept part only when it holds more frames than the part.
        """
        keep = getattr(writer, "keep_partial", None)
        frames = keep() if keep is not None else 0
        previous = 0 if self.state is None else self.state.frames_done
        if frames > previous:
            if self.state is not None:
                os.replace(resume.next_path(self.destination), resume.part_path(self.destination))
            kept = replace(fresh, frames_done=frames, cuts=[cut for cut in fresh.cuts if cut < frames])
            resume.save(self.destination, kept)
            return frames
        if frames:
            resume.next_path(self.destination).unlink(missing_ok=True)
        return previous
