"""Extra model inputs given as ``"auto"``: measured from the frames instead of given (``--sigma auto``).

A spec lists the inputs that may be ``"auto"`` in ``ModelSpec.auto_inputs``; each name has an estimator
here. The engine estimates them once per temporal window from the window's frames
(``vrestore.engine.runner``); :meth:`LoadedModel.run` estimates any still left from the clip it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from vrestore.metrics.noise import estimate_noise_frames

AUTO = "auto"

#: name -> estimator of its value from a window's RGB frames (``peak`` is their full-scale value).
ESTIMATORS: dict[str, Callable[..., float]] = {
    "sigma": lambda images, peak: round(estimate_noise_frames(list(images), peak=peak), 2),
}


def is_auto(value: Any) -> bool:
    """True for the word ``auto`` (any case)."""
    return isinstance(value, str) and value.lower() == AUTO


def auto_names(extra: Mapping[str, Any]) -> list[str]:
    """The inputs of ``extra`` that are to be estimated."""
    return [name for name, value in extra.items() if is_auto(value)]


def estimate_inputs(extra: Mapping[str, Any], images: Sequence[np.ndarray], peak: float) -> dict[str, float]:
    """Values for the ``auto`` inputs of ``extra``, estimated from ``images`` (H,W,3) of full scale ``peak``."""
    return {name: ESTIMATORS[name](images, peak) for name in auto_names(extra)}
