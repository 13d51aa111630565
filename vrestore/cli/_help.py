"""Help screens that show value names (``N``, ``PATH``, ``ID``), never Python types (``<bool>``, ``<list[Path]>``).

Typer prints a type column for every parameter: ``<bool>`` beside flags, which take no value, and the
annotation (``<list[Path]>``) beside arguments even when they have a metavar. Its parameter classes are
not configurable, so the command and group classes here re-class each parameter, when Click asks for
them, as a subclass that only changes that column: nothing for flags, the metavar alone for arguments.
Options name their values with ``metavar=`` where they are declared (``_options.py`` and the commands);
``tests/cli/test_help.py`` fails on any ``<type>`` left in a help screen.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


class _NamedArgument(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:
        # The metavar already stands in the name column; repeating the annotation says nothing more.
        return None if self.metavar is not None else super().display_type_rich(ctx)


class _NamedOption(TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        return None if self.is_flag else super().display_type_rich(ctx)


def _named(params: list[Any]) -> list[Any]:
    for param in params:
        # Same state, one overridden method: safe to re-class (Typer builds these objects itself).
        if type(param) is TyperArgument:
            param.__class__ = _NamedArgument
        elif type(param) is TyperOption:
            param.__class__ = _NamedOption
    return params


class HelpCommand(TyperCommand):
    """A command whose help shows value names instead of Python types."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _named(super().get_params(ctx))


class HelpGroup(TyperGroup):
    """A group whose help shows value names instead of Python types."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _named(super().get_params(ctx))


class Typer(typer.Typer):
    """``typer.Typer`` whose commands default to :class:`HelpCommand`."""

    def command(self, *args: Any, cls: type[TyperCommand] | None = None, **kwargs: Any) -> Any:
        return super().command(*args, cls=cls or HelpCommand, **kwargs)
