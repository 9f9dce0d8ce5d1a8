"""The scenario file format as a typed schema (msgspec, like kiosk/config.py), checked
whole when the file loads: every key, type, date, action, screen name, face, language,
sample and reason code. An error names the file, the line and, for a misspelt name,
the closest known one ("did you mean ..."), before a single second is spent running.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

import msgspec
import yaml

from kiosk.config import Language

FACES = ("same", "other", "photo", "nobody")
OUTCOMES = ("admitted", "referred", "aborted", "officer", "none")  # none: nothing logged
BORDERS = ("stand-in", "offline")
LANGUAGES: tuple[str, ...] = get_args(Language)
# What the lane can show (LaneSnapshot.screen): kiosk/lane/machine.py's messages and
# "error_" + the codes of Lane._fail (officer commands: officer_reset, _close).
SCREENS = (
    "welcome", "place_passport", "reading_chip", "verifying_document", "look_at_camera",
    "show_boarding_pass", "deciding", "take_passport", "admitted", "see_officer",
    "passport_left", "resetting", "error_timeout", "error_card_removed", "error_mrz_unreadable",
    "error_device_fault", "error_internal_error", "error_officer_reset", "error_officer_close",
)

Positive = Annotated[float, msgspec.Meta(gt=0, le=3600)]
Hours = Annotated[float, msgspec.Meta(ge=0, le=100_000)]
State = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}\Z")]
# An instant with its UTC offset: a naive one is a different moment in every zone.
Instant = Annotated[datetime, msgspec.Meta(tz=True)]


class _Strict(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A mapping of the file: an unknown key is an error, not silently ignored."""


class OnwardSpec(_Strict, frozen=True):
    destination: State
    hours_after_arrival: Hours
    confirmed: bool = True


class TravellerSpec(_Strict, frozen=True):
    surname: str
    given_names: str
    nationality: State
    document_number: Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9<]{1,9}\Z")]
    birth_date: date
    key: str | None = None
    label: str = "scenario traveller"
    sex: Literal["F", "M", "X"] = "F"
    portrait: Literal["collins", "hopper"] = "collins"
    arrived_from: State | None = None
    onward: OnwardSpec | None = None
    defects: list[str] = []
    # true: the carrier-signed pass; "unsigned": one anyone could print
    boarding_pass: bool | Literal["unsigned"] = False


class TravellerSection(_Strict, frozen=True):
    sample: str | None = None
    spec: TravellerSpec | None = None
    face: str | None = None
    at_boarding_pass: Literal["answer", "nothing"] = "answer"
    untrusted_csca: bool = False


class Said(_Strict, frozen=True):
    language: str
    contains: str


class Expect(_Strict, frozen=True):
    outcome: str | None = None
    reasons: list[str] = []
    gate_opened: bool | None = None
    error: str | None = None
    checks: dict[str, Any] = {}
    transactions: Annotated[int, msgspec.Meta(ge=0)] | None = None
    screens: list[str] | None = None
    spoken: list[Said] = []
    cleared: bool = False


class ScenarioFile(_Strict, frozen=True):
    traveller: TravellerSection
    name: str | None = None
    description: str | None = None
    clock: Instant | None = None
    config: dict[str, Any] = {}
    border: Literal["stand-in", "offline"] = "stand-in"
    steps: list[dict[str, Any]] = []
    expect: Expect = Expect()


# -- the steps: each action's argument ---------------------------------------------
class _NoArgs(_Strict, frozen=True):
    pass


class ScreenWait(_Strict, frozen=True):
    screen: str
    within: Positive = 30.0


class ScreenAbsent(_Strict, frozen=True):
    screen: str
    # "for" is a keyword in Python: the struct field is for_s, renamed in the file
    for_s: Positive = msgspec.field(default=2.0, name="for")


class Placement(_Strict, frozen=True):
    face: str | None = None
    remove_after_apdus: Annotated[int, msgspec.Meta(ge=1)] | None = None


ACTION_ARGS: dict[str, Any] = {
    "start": str, "switch_language": str, "start_again": _NoArgs | None,
    "expect": str | ScreenWait, "expect_not": ScreenAbsent,
    "place_passport": Placement | None, "remove_passport": _NoArgs | None,
    "walk_through": _NoArgs | None, "show_face": str, "camera_fault": str | None,
    "skip_boarding_pass": _NoArgs | None, "show_boarding_pass": _NoArgs | None,
    "wait": Positive,
}
ACTIONS = tuple(ACTION_ARGS)

# The keys each mapping of the file may hold, by its path with list indices dropped.
_STRUCT_AT: dict[str, type[msgspec.Struct]] = {
    "$": ScenarioFile, "$.traveller": TravellerSection, "$.traveller.spec": TravellerSpec,
    "$.traveller.spec.onward": OnwardSpec, "$.expect": Expect, "$.expect.spoken": Said,
}


class SchemaError(ValueError):
    """A scenario file breaks the format; the message names the file and the line."""


def did_you_mean(word: object, known: Iterable[str]) -> str:
    # 0.5: a one-letter slip in a two-letter code ("em" for "en") still matches
    close = difflib.get_close_matches(str(word), list(known), n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else ""


def _choices(path: str) -> list[str]:
    """The values a Literal field at `path` allows ("$.border": stand-in, offline)."""
    parent, _, name = re.sub(r"\[\d+\]", "", path).rpartition(".")
    struct = _STRUCT_AT.get(parent)
    if struct is None:
        return []
    hints = get_type_hints(struct)
    field = next((f for f in msgspec.structs.fields(struct) if f.encode_name == name), None)
    if field is None:
        return []
    kinds = [hints[field.name]]
    found: list[str] = []
    while kinds:  # unwrap unions and Literals
        kind = kinds.pop()
        if get_origin(kind) is Literal:
            found += [a for a in get_args(kind) if isinstance(a, str)]
        else:
            kinds += list(get_args(kind))
    return found


def _fields(struct: type[msgspec.Struct]) -> list[str]:
    return [f.encode_name for f in msgspec.structs.fields(struct)]


class _Lines:
    """Line numbers of the YAML nodes, by path ("$.steps[3].expect")."""

    def __init__(self, text: str) -> None:
        self.root = yaml.compose(text, Loader=yaml.SafeLoader)

    def line(self, path: str, key: str | None = None) -> int | None:
        node = self.root
        for part in re.findall(r"\.([^.\[]+)|\[(\d+)\]", path):
            name, index = part
            if isinstance(node, yaml.MappingNode) and name:
                node = next((v for k, v in node.value if k.value == name), None)
            elif isinstance(node, yaml.SequenceNode) and index:
                node = node.value[int(index)] if int(index) < len(node.value) else None
            else:
                node = None
            if node is None:
                return None
        if key is not None and isinstance(node, yaml.MappingNode):
            for k, _ in node.value:
                if k.value == key:
                    return int(k.start_mark.line) + 1
        return int(node.start_mark.line) + 1 if node is not None else None


class Checker:
    """Validation of one file's data: raises SchemaError at the first problem."""

    def __init__(self, where: str, text: str) -> None:
        self.where = where
        self.lines = _Lines(text)

    def fail(self, path: str, message: str, key: str | None = None) -> SchemaError:
        line = self.lines.line(path, key)
        at = f" line {line}:" if line else ""
        shown = path.removeprefix("$").removeprefix(".") or "the file"
        return SchemaError(f"{self.where}:{at} {shown}: {message}")

    def convert(self, data: Any, kind: Any, path: str = "$") -> Any:
        """msgspec.convert with the error turned into file, line and a suggestion."""
        try:
            return msgspec.convert(data, kind)
        except msgspec.ValidationError as exc:
            raise self._explain(str(exc), path, kind) from None

    def _explain(self, text: str, base: str, kind: Any) -> SchemaError:
        message, _, at = text.partition(" - at `")
        at = at.rstrip("`").partition("` in `")[2] or at.rstrip("`")  # "`key` in `$.x`"
        path = base + at.removeprefix("$") if at else base
        enum = re.fullmatch(r"Invalid enum value '(.*)'", message)
        if enum:
            message += did_you_mean(enum.group(1), _choices(path))
        unknown = re.fullmatch(r"Object contains unknown field `(.*)`", message)
        if unknown:
            key = unknown.group(1)
            struct = _STRUCT_AT.get(re.sub(r"\[\d+\]", "", path))
            # a step's argument: the keys of the mapping its action takes
            known = _fields(struct) if struct else [
                name for t in (get_args(kind) or (kind,))
                if isinstance(t, type) and issubclass(t, msgspec.Struct) for name in _fields(t)]
            hint = did_you_mean(key, known)
            allowed = f" (have {', '.join(known)})" if known and not hint else ""
            return self.fail(path, f"unknown key {key!r}{hint}{allowed}", key=key)
        return self.fail(path, message)

    def one_of(self, value: object, known: Iterable[str], path: str, what: str) -> None:
        names = list(known)
        if value not in names:
            hint = did_you_mean(value, names) or f" (have {', '.join(names)})"
            raise self.fail(path, f"unknown {what} {value!r}{hint}")

    def screen(self, value: str, path: str) -> None:
        self.one_of(value, SCREENS, path, "screen")

    def face(self, value: str | None, path: str) -> None:
        if value is not None:
            self.one_of(value, FACES, path, "face")

    def language(self, value: str, path: str, languages: Iterable[str]) -> None:
        self.one_of(value, languages, path, "language")


def check_mapping(value: object, checker: Checker, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise checker.fail(path, f"expected a mapping, got {type(value).__name__}")
    return value
