"""Turn a msgspec.ValidationError into (key path, problem) for the error messages.

msgspec reports "Expected `int` <= 9999 - at `$.kiosk.lane`"; the project's errors
read "kiosk.lane: expected `int` <= 9999, got 0", so the key leads and the
offending value is shown. Shared by the kiosk configuration and the policy case.
"""

from __future__ import annotations

import re
import types
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin, get_type_hints

import msgspec

_AT: Final = re.compile(r"(?P<problem>.*?)(?: - at `\$(?P<path>[^`]*)`)?", re.S)
_FIELD: Final = re.compile(
    r"Object (?P<what>contains unknown|missing required) field `(?P<key>.*)`", re.S
)
_STEP: Final = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_GOT_TYPE: Final = re.compile(r", got `[^`]*`\Z")
_MISSING: Final = object()


def _value_at(data: Any, path: str) -> Any:
    """The value at a msgspec path such as ".kiosk.languages[0]", or _MISSING."""
    for name, index in _STEP.findall(path):
        try:
            data = data[name] if name else data[int(index)]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return data


def _bare(hint: Any) -> Any:
    """`hint` without Annotated metadata and without `| None`."""
    while True:
        if get_origin(hint) is Annotated:
            hint = get_args(hint)[0]
        elif get_origin(hint) in (Union, types.UnionType):
            rest = [a for a in get_args(hint) if a is not type(None)]
            if len(rest) != 1:
                return hint
            hint = rest[0]
        else:
            return hint


def _description(hint: Any) -> str | None:
    """The msgspec.Meta description of a hint, e.g. "a three-letter IATA airport code"."""
    while get_origin(hint) in (Union, types.UnionType):
        rest = [a for a in get_args(hint) if a is not type(None)]
        if len(rest) != 1:
            return None
        hint = rest[0]
    if get_origin(hint) is not Annotated:
        return None
    metas = [m for m in get_args(hint)[1:] if isinstance(m, msgspec.Meta) and m.description]
    return metas[0].description if metas else None


def _type_at(root: Any, path: str) -> Any:
    """The schema type at a msgspec path (Annotated kept), or None when it leaves the schema."""
    hint = root
    for name, _index in _STEP.findall(path):
        hint = _bare(hint)
        if name:
            hints = get_type_hints(hint, include_extras=True) if isinstance(hint, type) else {}
            hint = hints.get(name)
        else:
            args = get_args(hint)
            hint = args[0] if args else None
    return hint


def key_and_problem(exc: msgspec.ValidationError, data: Any, schema: Any) -> tuple[str, str]:
    """("kiosk.lane", "expected `int` >= 1, got 0"); the key is "" for the whole input."""
    match = _AT.fullmatch(str(exc))
    assert match is not None  # the pattern matches any text
    problem, path = match["problem"], match["path"] or ""
    field = _FIELD.fullmatch(problem)
    if field is not None:  # name the key itself, not the table holding it
        path = f"{path}.{field['key']}"
        problem = "unknown key" if field["what"] == "contains unknown" else "is required"
    else:
        value = _value_at(data, path)
        problem = problem[:1].lower() + problem[1:]
        problem = problem.replace("invalid RFC3339 encoded date", "expected a date YYYY-MM-DD")
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        hint = _type_at(schema, path)
        described = _description(hint)
        if problem.startswith("invalid enum value") and get_origin(_bare(hint)) is Literal:
            problem = f"{shown} is not one of {', '.join(repr(a) for a in get_args(_bare(hint)))}"
        elif "matching regex" in problem and described is not None:
            problem = f"{shown} is not {described}"  # the pattern itself would not help
        elif value is not _MISSING and shown not in problem:
            # "expected `int`, got `str`" -> "expected `int`, got 'two'"
            problem = _GOT_TYPE.sub("", problem) + f", got {shown}"
    return path.removeprefix("."), problem
