"""Shared codec of DG11 and DG12: a tag list (5C) followed by optional text/binary fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from datetime import date
from typing import Any

from devices.icao9303.lds import LdsError
from devices.icao9303.lds.der import decode_integer, encode_integer
from devices.icao9303.lds.ef_com import parse_tag_list
from devices.icao9303.tlv import Tlv, encode_tlv, parse_single

FieldSpec = tuple[int, str, str]  # (tag, attribute, "text" | "bytes")
MAX_OTHER_NAMES = 32


def decode_fields(
    raw: bytes, dg_tag: int, specs: Sequence[FieldSpec], names_tag: int, what: str
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Field values by attribute name, and the entries of the A0 'other names' template."""
    outer = parse_single(raw, dg_tag, allow_trailing=True)
    children = outer.children()
    if not children or children[0].tag != 0x5C:
        raise LdsError(f"{what} must start with its tag list (5C)")
    parse_tag_list(children[0].value)
    by_tag = {tag: (attr, kind) for tag, attr, kind in specs}
    values: dict[str, Any] = {}
    others: tuple[str, ...] = ()
    for child in children[1:]:
        if child.tag == 0xA0:
            others = _other_names(child, names_tag, what)
            continue
        spec = by_tag.get(child.tag)
        if spec is None:
            continue  # a field of a later LDS version: keep parsing the rest
        attr, kind = spec
        values[attr] = child.value if kind == "bytes" else _text(child, what)
    return values, others


def _text(item: Tlv, what: str) -> str:
    try:
        return item.value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LdsError(f"{what} field {item.tag:X} is not UTF-8 text") from exc


def _other_names(template: Tlv, names_tag: int, what: str) -> tuple[str, ...]:
    children = template.children()
    if not children or children[0].tag != 0x02:
        raise LdsError(f"{what} other-names template lacks its count (02)")
    count = decode_integer(children[0], 0x02, f"{what} other-names count")
    names = tuple(_text(c, what) for c in children[1:] if c.tag == names_tag)
    if count != len(names) or count > MAX_OTHER_NAMES:
        raise LdsError(f"{what} declares {count} other names and holds {len(names)}")
    return names


def encode_fields(
    dg_tag: int,
    specs: Sequence[FieldSpec],
    values: Mapping[str, Any],
    names_tag: int,
    names: Sequence[str],
    names_position: int,
) -> bytes:
    """Encode present fields in table order; the A0 template goes after spec `names_position`."""
    present: list[tuple[int, bytes]] = []
    for index, (tag, attr, kind) in enumerate(specs):
        value = values.get(attr)
        if value is not None:
            data = value if kind == "bytes" else str(value).encode("utf-8")
            present.append((tag, encode_tlv(tag, data)))
        if index == names_position and names:
            body = encode_integer(len(names)) + b"".join(
                encode_tlv(names_tag, name.encode("utf-8")) for name in names
            )
            present.append((names_tag, encode_tlv(0xA0, body)))
    tag_list = b"".join(tag.to_bytes(2, "big") for tag, _ in present)
    return encode_tlv(dg_tag, encode_tlv(0x5C, tag_list) + b"".join(e for _, e in present))


def check_known(values: Mapping[str, Any], known: Iterable[str], what: str) -> None:
    unknown = set(values) - set(known)
    if unknown:
        raise LdsError(f"{what} has no field(s) {sorted(unknown)}")


def yyyymmdd(text: str | None) -> date | None:
    """A complete YYYYMMDD date, else None (DG11/DG12 dates may be partial)."""
    text = text or ""
    if len(text) == 8 and text.isdigit():
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return None
    return None


def details_json(group: Any) -> dict[str, Any]:
    """The fields present (binary ones as their size); tuples become lists."""
    out: dict[str, Any] = {}
    for f in fields(group):
        value = getattr(group, f.name)
        if f.name == "raw" or value in (None, ()):
            continue
        if isinstance(value, bytes):
            out[f.name] = f"{len(value)} bytes"
        else:
            out[f.name] = list(value) if isinstance(value, tuple) else value
    return out
