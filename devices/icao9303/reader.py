"""Reading an eMRTD chip: access control, the LDS files, then CA and AA.

`read_chip(transport, key)` runs one session over any Transport. PACE is used when
EF.CardAccess offers it (ICAO 9303-11 4.2: PACE first), BAC otherwise; of several
PACEInfos, chip authentication mapping is preferred, whose chip authentication data
is checked against the DG14 key once DG14 is read (CA v1 is then not run). Files are
read with the largest block the chip gives: extended length when the reader path
carries it (an unprotected 6700 or a garbled long answer drops to short APDUs),
odd-INS READ BINARY beyond offset 32767, and blocks that shrink to what the chip
actually returns. Chip authentication runs right after DG14 so the remaining files
are read under its keys; active authentication runs last.

Which data groups are read: those of `ReaderOptions.files` that EF.COM lists, plus
every data group EF.SOD lists except DG3 and DG4 (fingerprints and irises, behind
extended access control). EF.COM is unsigned: a clone that leaves DG14 or DG15 out
of it must not escape their hash check and chip/active authentication, so the
signed list decides (ICAO 9303-10 4.6.2; kiosk/trust/passive.py fails a listed
data group that was not read).

`ChipDocumentReader` wraps this as a devices.protocols.DocumentReader over a
CardTerminal (PC/SC or the in-process emulator).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from devices.errors import (
    AccessDeniedError,
    CardRemovedError,
    ChipDataError,
    ChipError,
    DeviceFault,
)
from devices.icao9303.active_authentication import perform_active_authentication
from devices.icao9303.apdu import (
    SW_END_OF_FILE,
    SW_FILE_NOT_FOUND,
    SW_OK,
    SW_SECURITY_NOT_SATISFIED,
    SW_WRONG_LENGTH,
    CommandApdu,
    ResponseApdu,
    StatusError,
)
from devices.icao9303.bac import BacKeys, perform_bac
from devices.icao9303.chip_authentication import (
    ChipAuthenticationUnsupported,
    perform_chip_authentication,
    select_chip_authentication,
)
from devices.icao9303.lds import LdsError
from devices.icao9303.lds.dg14 import DataGroup14
from devices.icao9303.lds.security_infos import PACEInfo, SecurityInfos
from devices.icao9303.pace import (
    CamEvidence,
    PacePassword,
    establish_pace,
    pace_infos,
    pace_supported,
)
from devices.icao9303.secure_messaging import SecureMessaging, SecureMessagingError
from devices.icao9303.sod import SodError, parse_sod
from devices.icao9303.tlv import (
    TlvError,
    encode_length,
    encode_tlv,
    parse_single,
    read_length,
    read_tag,
)
from devices.icao9303.transport import CardTerminal, CountingTransport, Transport
from devices.protocols import (
    CheckStatus,
    ChipReadResult,
    DocumentListener,
    FileListener,
    MrzKey,
)

EMRTD_AID = bytes.fromhex("A0000002471001")
FILE_IDS: dict[str, int] = {
    "EF.COM": 0x011E,
    "EF.SOD": 0x011D,
    **{f"DG{n}": 0x0100 + n for n in range(1, 17)},
}
# EF.COM tag list (ICAO 9303-10 4.6.1): data group tags to names.
DG_TAGS: dict[int, str] = {
    0x61: "DG1",
    0x75: "DG2",
    0x63: "DG3",
    0x76: "DG4",
    0x65: "DG5",
    0x66: "DG6",
    0x67: "DG7",
    0x68: "DG8",
    0x69: "DG9",
    0x6A: "DG10",
    0x6B: "DG11",
    0x6C: "DG12",
    0x6D: "DG13",
    0x6E: "DG14",
    0x6F: "DG15",
    0x70: "DG16",
}
DEFAULT_FILES = ("EF.COM", "EF.SOD", "DG1", "DG2", "DG11", "DG12", "DG14", "DG15")
EAC_PROTECTED = frozenset({"DG3", "DG4"})  # need terminal authentication (9303-11 7.1)
MAX_FILE_BYTES = 1 << 20  # a larger LDS file is hostile, not a passport
MAX_SESSION_RESTARTS = 2
MAX_PACE_TRIES = 3  # PACEInfos tried before BAC (a chip refusing one mapping may run another)
MAX_APDUS = 10_000  # a chip dribbling out bytes must not hold the lane for minutes
EXTENDED_BLOCK = 65536


@dataclass(frozen=True)
class ReaderOptions:
    files: tuple[str, ...] = DEFAULT_FILES
    extended_length: bool = True  # try extended length when the transport carries it
    prefer_pace: bool = True
    chip_authentication: bool = True
    active_authentication: bool = True
    # Read right after chip authentication, before EF.SOD and the rest: the kiosk
    # starts encoding the DG2 face while the rest of the chip is read (issue 25).
    # Its hash is still checked against EF.SOD, which is read under CA's keys.
    early_files: tuple[str, ...] = ("DG2",)


@dataclass(frozen=True)
class ChipReadReport(ChipReadResult):
    """ChipReadResult plus per-stage timings and transport counters."""

    timings_ms: Mapping[str, float] = field(default_factory=dict)
    bytes_received: int = 0
    block_size: int = 0


class SessionLost(ChipError):
    """The chip dropped secure messaging (unprotected 6982/6987/6988)."""


class _Session:
    def __init__(self, transport: Transport, key: MrzKey, options: ReaderOptions) -> None:
        self.io = CountingTransport(transport)
        self.key = key
        self.options = options
        self.sm: SecureMessaging | None = None
        self.access: Literal["PACE", "BAC", "none"] = "none"
        self.notes: list[str] = []
        self.card_access: bytes | None = None
        self.cam: CamEvidence | None = None  # PACE-CAM data awaiting DG14
        self.extended = options.extended_length and transport.extended_length
        self.block = EXTENDED_BLOCK
        self.restarts = 0

    # --- exchanges --------------------------------------------------------------

    def _transmit(self, apdu: bytes) -> bytes:
        if self.io.apdus >= MAX_APDUS:
            raise ChipError(f"the chip needed more than {MAX_APDUS} APDUs: giving up")
        return self.io.transmit(apdu)

    def plain(self, cmd: CommandApdu) -> ResponseApdu:
        return ResponseApdu.decode(self._transmit(cmd.encode()))

    def secure(self, cmd: CommandApdu) -> ResponseApdu:
        sm = self.sm
        if sm is None:
            raise ChipError("no secure-messaging session")
        resp = sm.unprotect(self._transmit(sm.protect(cmd).encode()))
        if not sm.last.protected and resp.sw in (0x6982, 0x6987, 0x6988):
            raise SessionLost(f"the chip dropped secure messaging (status {resp.sw:04X})")
        if sm.last.protected and not sm.last.had_status_object:
            self.note("sm_response_without_do99")
        return resp

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # --- access control -----------------------------------------------------------

    def read_card_access(self) -> None:
        """EF.CardAccess, by its short file identifier 1C in the master file.

        A chip that an earlier read left inside the eMRTD application (no reset in
        between: the same passport read again for an officer's admit) has no file 1C
        there, so the read also selects the master file (ISO 7816-4 3F00) and tries once
        more; without it the second read fell back to BAC, and a PACE-only chip
        could not be read twice.
        """
        data = self._card_access_by_sfi()
        if data is None and self._select_master_file():
            data = self._card_access_by_sfi()
        self.card_access = data

    def _select_master_file(self) -> bool:
        try:
            resp = self.plain(CommandApdu(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00"))
        except ChipError:
            return False
        return resp.sw == SW_OK

    def _card_access_by_sfi(self) -> bytes | None:
        try:
            resp = self.plain(CommandApdu(0x00, 0xB0, 0x9C, 0x00, ne=256))  # SFI 1C
        except ChipError:
            return None
        if resp.sw not in (SW_OK, SW_END_OF_FILE) or not resp.data:
            return None
        data = resp.data
        while len(data) == 256 * (len(data) // 256) and len(data) < 4096:
            more = self.plain(CommandApdu(0x00, 0xB0, len(data) >> 8, len(data) & 0xFF, ne=256))
            if more.sw not in (SW_OK, SW_END_OF_FILE) or not more.data:
                break
            data += more.data
        return data

    def pace_candidates(self) -> list[PACEInfo]:
        """The PACEInfos to try, best first: CAM (it proves the chip as well, 9303-11
        J.1), then generic, then integrated mapping; EF.CardAccess order within each."""
        if self.card_access is None:
            return []
        try:
            infos = pace_infos(SecurityInfos.parse(self.card_access))
        except LdsError as exc:
            self.note(f"EF.CardAccess unreadable: {exc}")
            return []
        supported = [info for info in infos if pace_supported(info)]
        if infos and not supported:
            self.note("PACE offered with parameters this reader does not support")
        rank = {"CAM": 0, "GM": 1, "IM": 2}
        return sorted(supported, key=lambda info: rank[info.mapping])[:MAX_PACE_TRIES]

    def _establish(self) -> None:
        self.cam = None
        candidates = self.pace_candidates() if self.options.prefer_pace else []
        if candidates:
            try:
                if self.key.can:
                    password = PacePassword.from_can(self.key.can)
                else:
                    password = PacePassword.from_mrz(
                        self.key.document_number, self.key.birth_date, self.key.expiry_date
                    )
            except ValueError as exc:
                raise AccessDeniedError(f"the access key is malformed: {exc}") from exc
        for number, info in enumerate(candidates, 1):
            try:
                pace = establish_pace(self.io, password, info)
            except (AccessDeniedError, CardRemovedError):
                raise
            except (ChipError, ChipDataError) as exc:
                following = "PACE" if number < len(candidates) else "BAC"
                self.note(f"PACE failed, trying {following}: {exc}")
                continue
            self.sm, self.access, self.cam = pace.sm, "PACE", pace.cam
            if pace.algorithm.mapping != "GM":
                self.note(f"PACE-{pace.algorithm.mapping}")
            self.secure(CommandApdu(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)).require_ok(
                "SELECT eMRTD application"
            )
            return
        if self.key.can and not self.key.document_number:
            raise AccessDeniedError("the chip offers BAC only, which needs the MRZ, not a CAN")
        self.plain(CommandApdu(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)).require_ok(
            "SELECT eMRTD application"
        )
        try:
            keys = BacKeys.from_mrz(
                self.key.document_number, self.key.birth_date, self.key.expiry_date
            )
        except ValueError as exc:
            raise AccessDeniedError(f"the access key is malformed: {exc}") from exc
        self.sm = perform_bac(self.io, keys)
        self.access = "BAC"

    def establish(self) -> None:
        self._establish()
        if not self.extended and self.sm is not None:
            self.block = min(self.block, self.sm.max_short_read)

    def restart(self, reason: str) -> None:
        self.restarts += 1
        if self.restarts > MAX_SESSION_RESTARTS:
            raise ChipError(f"secure messaging lost too often: {reason}")
        self.note(f"access control re-run: {reason}")
        self.sm = None
        self.establish()

    # --- files ------------------------------------------------------------------

    def read_file(self, name: str) -> bytes | None:
        """The whole EF, or None when the chip does not have it."""
        data = bytearray()
        while True:
            try:
                return self._read_file(name, data)
            except SessionLost as exc:
                self.restart(str(exc))

    def _read_file(self, name: str, data: bytearray) -> bytes | None:
        fid = FILE_IDS[name].to_bytes(2, "big")
        resp = self.secure(CommandApdu(0x00, 0xA4, 0x02, 0x0C, fid))
        if resp.sw == SW_FILE_NOT_FOUND:
            return None
        if resp.sw == SW_SECURITY_NOT_SATISFIED:
            self.note(f"{name}: access refused (needs terminal authentication?)")
            return None
        resp.require_ok(f"SELECT {name}")
        total: int | None = None
        while total is None or len(data) < total:
            offset = len(data)
            want = self.block if total is None else min(self.block, total - offset)
            try:
                chunk = self._read_block(offset, want)
            except StatusError as exc:
                if exc.sw != SW_SECURITY_NOT_SATISFIED or offset:
                    raise
                # a protected 6982: this file needs EAC; the session itself is intact
                self.note(f"{name}: access refused (needs terminal authentication?)")
                return None
            if not chunk:
                raise ChipError(f"{name}: the chip returned no data at offset {offset}")
            data += chunk
            if total is None:
                total = _declared_length(bytes(data), name)
            if len(chunk) < want and (total is None or len(data) < total):
                self.block = len(chunk)  # the most this chip returns at once
        if len(data) > total:
            del data[total:]
        return bytes(data)

    def _read_block(self, offset: int, want: int) -> bytes:
        if offset > 0x7FFF:
            encoded = offset.to_bytes(3 if offset > 0xFFFF else 2, "big")
            ne = min(want + 1 + len(encode_length(want)), 65536)  # 53 L around the data
            cmd = CommandApdu(0x00, 0xB1, 0x00, 0x00, encode_tlv(0x54, encoded), ne=ne)
        else:
            cmd = CommandApdu(0x00, 0xB0, offset >> 8, offset & 0xFF, ne=want)
        try:
            resp = self.secure(cmd)
        except SecureMessagingError as exc:
            if not self._drop_to_short(cmd, f"garbled extended answer ({exc})"):
                raise
            return self._read_block(offset, min(want, self.block))
        if resp.sw == SW_WRONG_LENGTH and self._drop_to_short(cmd, "chip refused extended length"):
            return self._read_block(offset, min(want, self.block))
        if resp.sw not in (SW_OK, SW_END_OF_FILE):
            raise StatusError(resp.sw, f"READ BINARY at offset {offset}")
        if cmd.ins == 0xB1:
            if not resp.data:
                return b""
            try:
                return parse_single(resp.data, 0x53).value
            except TlvError as exc:
                raise ChipError(f"odd-INS READ BINARY answer is malformed: {exc}") from exc
        return resp.data

    def _drop_to_short(self, cmd: CommandApdu, reason: str) -> bool:
        """Fall back to short APDUs once, when the failing read was extended."""
        if not self.extended or not (cmd.ne or 0) > 256 or self.sm is None:
            return False
        self.extended = False
        self.block = self.sm.max_short_read
        self.note(f"short APDUs: {reason}")
        return True


def _declared_length(head: bytes, name: str) -> int | None:
    """Tag + length + value size from the first bytes of an EF, None if not all there yet."""
    try:
        _, pos = read_tag(head, 0)
        length, pos = read_length(head, pos)
    except TlvError:
        if len(head) >= 8:
            raise ChipError(f"{name} does not start with a BER-TLV header") from None
        return None
    if pos + length > MAX_FILE_BYTES:
        raise ChipError(f"{name} declares {pos + length} bytes, more than any LDS file")
    return pos + length


def _com_files(com: bytes) -> list[str] | None:
    try:
        tags = parse_single(com, 0x60, allow_trailing=True).require(0x5C, "tag list").value
    except TlvError:
        return None
    return [DG_TAGS[t] for t in tags if t in DG_TAGS]


def _sod_files(sod: bytes | None, session: _Session) -> list[str]:
    """The data groups EF.SOD lists, in number order; [] when it does not decode
    (passive authentication then fails it as malformed_sod)."""
    if sod is None:
        return []
    try:
        numbers = sorted(parse_sod(sod).dg_hashes)
    except SodError as exc:
        session.note(f"EF.SOD unreadable, its data group list unused: {exc}")
        return []
    return [f"DG{n}" for n in numbers]


def read_chip(
    transport: Transport,
    key: MrzKey,
    options: ReaderOptions | None = None,
    on_file: FileListener | None = None,
) -> ChipReadReport:
    """One complete chip read. Raises CardRemovedError, AccessDeniedError, ChipError
    (the chip answered wrongly) or ChipDataError (a file it sent is malformed).
    `on_file(name, raw)` hears each file as it is read (unverified until the end)."""
    try:
        return _read_chip(transport, key, options or ReaderOptions(), on_file)
    except (DeviceFault, ChipDataError):
        raise
    except (ValueError, IndexError, KeyError, OverflowError) as exc:
        raise ChipError(f"unusable chip data: {exc}") from exc


def _read_chip(
    transport: Transport, key: MrzKey, options: ReaderOptions, on_file: FileListener | None
) -> ChipReadReport:
    start = time.perf_counter()
    session = _Session(transport, key, options)
    session.read_card_access()
    session.establish()
    t_access = time.perf_counter()
    files: dict[str, bytes] = {}
    if session.card_access is not None:
        files["EF.CardAccess"] = session.card_access
    wanted = [f for f in options.files if f in FILE_IDS]
    if "EF.COM" in wanted:
        com = session.read_file("EF.COM")
        if com is not None:
            files["EF.COM"] = com
            listed = _com_files(com)
            if listed is None:
                session.note("EF.COM is malformed; probing each file")
            else:
                # DG14 is always tried first (one SELECT when absent): chip
                # authentication then protects the rest, EF.SOD included.
                wanted = [f for f in wanted if not f.startswith("DG") or f in listed or f == "DG14"]
    ca: CheckStatus = "not_supported"
    ca_ms = 0.0
    read_ms = 0.0
    done: set[str] = {"EF.COM"}

    def read(name: str) -> None:
        nonlocal ca, ca_ms, read_ms
        done.add(name)
        t = time.perf_counter()
        raw = session.read_file(name)
        read_ms += time.perf_counter() - t
        if raw is not None:
            files[name] = raw
            if on_file is not None:
                on_file(name, raw)
        if name == "DG14" and options.chip_authentication:
            t = time.perf_counter()
            ca = _chip_authentication(session, raw)
            ca_ms = time.perf_counter() - t

    if "DG14" in wanted:
        read("DG14")
    for name in options.early_files:
        if name in wanted and name not in done:
            read(name)
    if "EF.SOD" in wanted:
        read("EF.SOD")
        signed = _sod_files(files.get("EF.SOD"), session)
        missing = [f for f in signed if f not in wanted and f not in EAC_PROTECTED]
        if missing:
            session.note(f"EF.SOD lists {', '.join(missing)}: read as well")
            wanted += missing
        if "DG14" in missing:
            read("DG14")  # after EF.SOD, but still before the other data groups
    for name in wanted:
        if name not in done:
            read(name)
    aa: CheckStatus = "not_supported"
    t_aa = time.perf_counter()
    if "DG15" in files and options.active_authentication:
        try:
            outcome = perform_active_authentication(
                session.io, session.sm, files["DG15"], files.get("DG14")
            )
        except (SecureMessagingError, SessionLost) as exc:
            session.note(f"AA: {exc}")
            aa = "failed"
        else:
            aa = outcome.status
            session.note(f"AA {outcome.status}: {outcome.detail}")
    end = time.perf_counter()
    com_ms = (t_aa - t_access) - read_ms - ca_ms
    timings = {
        "access": (t_access - start) * 1000,
        "read": (read_ms + max(com_ms, 0.0)) * 1000,
        "chip_authentication": ca_ms * 1000,
        "active_authentication": (end - t_aa) * 1000,
        "total": (end - start) * 1000,
    }
    return ChipReadReport(
        files=files,
        access_control=session.access,
        chip_authentication=ca,
        active_authentication=aa,
        apdus=session.io.apdus,
        bytes_read=sum(len(v) for v in files.values()),
        ms=timings["total"],
        notes=tuple(session.notes),
        timings_ms=timings,
        bytes_received=session.io.bytes_received,
        block_size=session.block,
    )


def _chip_authentication(session: _Session, dg14: bytes | None) -> CheckStatus:
    if session.cam is not None and session.access == "PACE":
        return _cam_check(session, dg14)
    if dg14 is None or session.sm is None:
        return "not_supported"
    try:
        setup = select_chip_authentication(dg14)
    except ChipAuthenticationUnsupported as exc:
        session.note(f"CA not supported: {exc}")
        return "not_supported"
    except (ChipError, ValueError) as exc:
        session.note(f"CA failed: {exc}")
        return "failed"
    try:
        session.sm = perform_chip_authentication(session.io, session.sm, setup)
        # CA v1 authenticates implicitly: the next answer must verify under the new keys.
        session.secure(CommandApdu(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)).require_ok(
            "SELECT after chip authentication"
        )
    except CardRemovedError:
        raise
    except (ChipError, ChipDataError) as exc:
        session.note(f"CA failed: {exc}")
        session.restart("chip authentication failed")
        return "failed"
    return "passed"


def _cam_check(session: _Session, dg14: bytes | None) -> CheckStatus:
    """PACE-CAM proves the chip when PK_Map,IC = CA_IC * PK_IC for a DG14 key
    (ICAO 9303-11 4.4.3.5.2). DG14 itself is trusted only after passive
    authentication, which the document check performs on every file read."""
    cam = session.cam
    assert cam is not None
    if dg14 is None:
        session.note("CA failed: PACE-CAM chip without DG14 to check it against")
        return "failed"
    try:
        keys = DataGroup14.parse(dg14).security_infos.chip_authentication_public_keys
    except LdsError as exc:
        session.note(f"CA failed: DG14 is malformed: {exc}")
        return "failed"
    for key in keys:
        if key.public_key.kind == "ec" and cam.verify(key.public_key.key_bytes):
            session.note("CA passed by PACE-CAM")
            return "passed"
    session.note("CA failed: the PACE-CAM data does not match the DG14 key")
    return "failed"


class ChipDocumentReader:
    """devices.protocols.DocumentReader over a CardTerminal."""

    def __init__(self, terminal: CardTerminal, options: ReaderOptions | None = None) -> None:
        self.terminal = terminal
        self.options = options or ReaderOptions()
        self._on_file: FileListener | None = None

    def set_file_listener(self, listener: FileListener | None) -> None:
        """Hear each file as it is read (devices.protocols.EarlyFileReader)."""
        self._on_file = listener

    def set_listener(self, listener: DocumentListener | None) -> None:
        self.terminal.set_listener(listener)

    def document_present(self) -> bool:
        return self.terminal.card_present()

    def read(self, key: MrzKey) -> ChipReadResult:
        transport = self.terminal.connect()
        try:
            return read_chip(transport, key, self.options, self._on_file)
        finally:
            transport.close()
