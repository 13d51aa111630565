"""Parse degradation specs such as ``"gaussian:sigma=15"`` or ``"resize:direction=down,scale=0.6"``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vrestore.degrade.ops import OPS, Param
from vrestore.errors import UsageError


@dataclass(frozen=True)
class OpSpec:
    """One step of an explicit chain: an operator and the parameters the user fixed."""

    name: str
    overrides: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the sidecar."""
        return {"op": self.name, **self.overrides}


def parse_spec(text: str) -> OpSpec:
    """Parse ``name[:key=value,...]``; UsageError names the bad part and shows a correct example."""
    raw = text.strip()
    name, _, rest = raw.partition(":")
    name = name.strip().lower()
    if name not in OPS:
        raise UsageError(f"--degrade {text!r}: unknown degradation '{name}'; choose one of: {' '.join(OPS)}")
    op = OPS[name]
    overrides: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip().lower()
        if not eq or not value.strip():
            raise UsageError(f"--degrade {text!r}: '{item}' is not key=value; write e.g. {_example(name)}")
        if key not in op.params:
            known = ", ".join(op.params) or "none"
            raise UsageError(f"--degrade {text!r}: '{name}' has no parameter '{key}'; its parameters: {known}")
        overrides[key] = _convert(text, name, key, value.strip(), op.params[key])
    return OpSpec(name, overrides)


def _convert(text: str, name: str, key: str, value: str, param: Param) -> Any:
    if param.choices:
        if value not in param.choices:
            raise UsageError(
                f"--degrade {text!r}: {key}={value} is not allowed; choose one of: {' '.join(param.choices)}"
            )
        return value
    try:
        number = param.kind(value)
    except ValueError:
        kind = "a whole number" if param.kind is int else "a number"
        raise UsageError(f"--degrade {text!r}: {key}={value!r} is not {kind}; write e.g. {_example(name)}") from None
    if (param.lo is not None and number < param.lo) or (param.hi is not None and number > param.hi):
        raise UsageError(f"--degrade {text!r}: {key}={value} is out of range; use {param.lo:g} to {param.hi:g}")
    if name == "blur" and key == "size" and number % 2 == 0:
        raise UsageError(f"--degrade {text!r}: size={value} must be odd; use 3, 5 or 7")
    return number


def _example(name: str) -> str:
    examples = {"gaussian": "gaussian:sigma=15", "poisson": "poisson:alpha=2.5", "speckle": "speckle:sigma=12",
                "jpeg": "jpeg:quality=30", "video": "video:codec=mpeg4,bit_rate=50000",
                "blur": "blur:kernel=iso,size=5,sigma_x=1.5", "resize": "resize:direction=down,scale=0.6,mode=area",
                "compress": "compress:codec=libx265,crf=32", "rain": "rain:strength=0.5",
                "snow": "snow:strength=0.5", "haze": "haze:strength=0.5"}
    return examples[name]


def describe_ops() -> list[str]:
    """One line per degradation with its parameters (for help texts)."""
    return [f"{op.name}: {op.summary} ({', '.join(op.params) or 'no parameters'})" for op in OPS.values()]
