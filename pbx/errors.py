"""How the command line fails: one line naming the fix, never a traceback.

Typer 0.29 vendors click as `typer._click`, whose exceptions derive from `typer.TyperException`, not from
`click.ClickException`; both families are recognised here, so this keeps working whichever click parses.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, NoReturn

from rich.console import Console
from rich.text import Text

err = Console(stderr=True, highlight=False, soft_wrap=True)


class Failure(Exception):
    """A user-facing failure raised by the CLI itself."""


def _click_modules() -> Iterator[ModuleType]:
    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            yield importlib.import_module(name)
        except ImportError:
            continue


def _classes(name: str) -> tuple[type[BaseException], ...]:
    found = (getattr(module, name, None) for module in _click_modules())
    return tuple(c for c in found if isinstance(c, type) and issubclass(c, BaseException))


def click_errors() -> tuple[type[BaseException], ...]:
    """The base classes of what click (vendored or not) raises for the user to see."""
    import typer

    return (typer.TyperException, *_classes("ClickException"))


def print_error(message: str) -> None:
    """`error: MESSAGE` on stderr (the message is printed as it is: no markup is read from it)."""
    err.print(Text.assemble(("error:", "red"), " ", message))


def fail(message: str, code: int = 1) -> NoReturn:
    print_error(message)
    sys.exit(code)


def show_click_error(exc: BaseException) -> NoReturn:
    """A usage error: the usage line and where to get help, then `error: ...`; exit 2. Another click
    error (a file that cannot be opened): `error: ...`; exit 1."""
    code = int(getattr(exc, "exit_code", 1))
    if isinstance(exc, _classes("NoArgsIsHelpError")):
        exc.show()  # type: ignore[attr-defined]  # `pbx ext`: the help is the answer
        sys.exit(code)
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, _classes("UsageError")) and ctx is not None:
        err.print(ctx.get_usage(), markup=False)
        if ctx.command.get_help_option(ctx) is not None:
            err.print(f"Try '{ctx.command_path} {ctx.help_option_names[0]}' for help.", markup=False)
    format_message: Callable[[], str] | None = getattr(exc, "format_message", None)
    fail(format_message() if format_message else str(exc), code)


# -- empty arguments ------------------------------------------------------------------------------
def _is_blank(value: Any) -> bool:
    values = value if isinstance(value, (list, tuple)) else [value]
    return any(isinstance(v, str) and not v.strip() for v in values)


def _refusing_blank(param: Any) -> Callable[[Any, Any, Any], Any]:
    original = param.callback

    def check(ctx: Any, p: Any, value: Any) -> Any:
        if _is_blank(value):
            name = str(p.name or "argument").upper()
            what = f" ({p.help})" if getattr(p, "help", None) else ""
            empty = "has an empty value" if isinstance(value, (list, tuple)) else "is empty"
            raise Failure(f"{name}{what} {empty}: give one (see '{ctx.command_path} --help')")
        return original(ctx, p, value) if original else value

    return check


def refuse_blank_arguments(command: Any) -> Any:
    """Every text argument of every command (a NAME, a NUMBER, a DESTINATION...) refuses "" and
    whitespace: `pbx ext rm ""` must not look like it removed something."""
    for sub in getattr(command, "commands", {}).values():
        refuse_blank_arguments(sub)
    for param in command.params:
        if param.param_type_name == "argument":  # only text values are checked (not paths, numbers)
            param.callback = _refusing_blank(param)
    return command
