"""BER-TLV as used by ICAO 9303-10 (LDS) and ISO/IEC 7816-4 (APDU data objects).

Tags are kept as integers of their full encoding (0x5F1F, 0x7F61, 0x30). Only
definite lengths are accepted (ICAO 9303-10 4.1: DER lengths); an indefinite length, a
length longer than the remaining data or a tag longer than 4 bytes raises TlvError.
Parsing never recurses on its own, so hostile nesting cannot exhaust the stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from devices.icao9303.lds import LdsError

MAX_TAG_BYTES = 4
MAX_LENGTH_BYTES = 4


class TlvError(LdsError):
    """Bytes that are not well-formed BER-TLV."""


def is_constructed(tag: int) -> bool:
    """Bit 6 of the first tag byte marks a constructed data object."""
    return bool(tag_bytes(tag)[0] & 0x20)


def tag_bytes(tag: int) -> bytes:
    if tag < 0:
        raise TlvError(f"negative tag {tag}")
    if tag == 0:
        return b"\x00"
    return tag.to_bytes((tag.bit_length() + 7) // 8, "big")


def encode_length(length: int) -> bytes:
    """Definite length: short form below 128, else 81/82/83/84 followed by the length."""
    if length < 0:
        raise TlvError(f"negative length {length}")
    if length < 0x80:
        return bytes([length])
    size = (length.bit_length() + 7) // 8
    if size > MAX_LENGTH_BYTES:
        raise TlvError(f"length {length} does not fit in {MAX_LENGTH_BYTES} bytes")
    return bytes([0x80 | size]) + length.to_bytes(size, "big")


def encode_tlv(tag: int, value: bytes) -> bytes:
    return tag_bytes(tag) + encode_length(len(value)) + value


def read_tag(data: bytes, offset: int) -> tuple[int, int]:
    """The tag starting at `offset` and the offset just past it."""
    if offset >= len(data):
        raise TlvError(f"tag expected at offset {offset}, data ends")
    first = data[offset]
    end = offset + 1
    if first & 0x1F == 0x1F:
        while True:
            if end >= len(data):
                raise TlvError(f"tag at offset {offset} is truncated")
            more = data[end] & 0x80
            end += 1
            if end - offset > MAX_TAG_BYTES:
                raise TlvError(f"tag at offset {offset} is longer than {MAX_TAG_BYTES} bytes")
            if not more:
                break
    return int.from_bytes(data[offset:end], "big"), end


def read_length(data: bytes, offset: int) -> tuple[int, int]:
    """The definite length starting at `offset` and the offset just past it."""
    if offset >= len(data):
        raise TlvError(f"length expected at offset {offset}, data ends")
    first = data[offset]
    if first < 0x80:
        return first, offset + 1
    count = first & 0x7F
    if count == 0:
        raise TlvError(f"indefinite length at offset {offset} is not allowed")
    if count > MAX_LENGTH_BYTES:
        raise TlvError(f"length at offset {offset} uses {count} bytes (max {MAX_LENGTH_BYTES})")
    end = offset + 1 + count
    if end > len(data):
        raise TlvError(f"length at offset {offset} is truncated")
    return int.from_bytes(data[offset + 1 : end], "big"), end


@dataclass(frozen=True)
class Tlv:
    """One data object: its tag and value bytes (children are parsed on demand)."""

    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        return is_constructed(self.tag)

    def encode(self) -> bytes:
        return encode_tlv(self.tag, self.value)

    def children(self) -> list[Tlv]:
        if not self.constructed:
            raise TlvError(f"tag {self.tag:X} is primitive and has no children")
        return parse_all(self.value)

    def find(self, tag: int) -> Tlv | None:
        """The first direct child with `tag`, or None."""
        for child in self.children():
            if child.tag == tag:
                return child
        return None

    def find_all(self, tag: int) -> list[Tlv]:
        return [child for child in self.children() if child.tag == tag]

    def require(self, tag: int, what: str = "") -> Tlv:
        found = self.find(tag)
        if found is None:
            label = f" ({what})" if what else ""
            raise TlvError(f"tag {tag:X}{label} missing inside tag {self.tag:X}")
        return found


def read_tlv(data: bytes, offset: int = 0) -> tuple[Tlv, int]:
    """The data object starting at `offset` and the offset just past it."""
    tag, pos = read_tag(data, offset)
    length, pos = read_length(data, pos)
    end = pos + length
    if end > len(data):
        raise TlvError(
            f"tag {tag:X} at offset {offset} declares {length} bytes, only {len(data) - pos} remain"
        )
    return Tlv(tag, bytes(data[pos:end])), end


def iter_tlv(data: bytes, *, allow_padding: bool = False) -> Iterator[Tlv]:
    """Every top-level object in `data`, which must be TLVs from start to end.

    With allow_padding, 00 and FF bytes between objects are skipped (ISO/IEC 7816-4 5.2.2).
    """
    offset = 0
    while offset < len(data):
        if allow_padding and data[offset] in (0x00, 0xFF):
            offset += 1
            continue
        if data[offset] == 0x00:
            raise TlvError(f"end-of-contents or padding byte at offset {offset}")
        item, offset = read_tlv(data, offset)
        yield item


def parse_all(data: bytes, *, allow_padding: bool = False) -> list[Tlv]:
    return list(iter_tlv(data, allow_padding=allow_padding))


def parse_single(
    data: bytes, expected_tag: int | None = None, *, allow_trailing: bool = False
) -> Tlv:
    """Exactly one object (optionally followed by ignored bytes), checked against its tag."""
    if not data:
        raise TlvError("empty data, a TLV object was expected")
    item, end = read_tlv(data, 0)
    if expected_tag is not None and item.tag != expected_tag:
        raise TlvError(f"tag {item.tag:X} found where tag {expected_tag:X} was expected")
    if end != len(data) and not allow_trailing:
        raise TlvError(f"{len(data) - end} unexpected bytes after tag {item.tag:X}")
    return item
