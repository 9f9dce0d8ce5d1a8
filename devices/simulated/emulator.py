"""An ICAO 9303 eMRTD chip emulator answering real APDUs.

It holds a master file (EF.CardAccess) and the eMRTD application (EF.COM, EF.SOD,
DG1..DG16) and implements SELECT, READ BINARY (B0 and odd-INS B1, short and
extended length), BAC (GET CHALLENGE, EXTERNAL AUTHENTICATE), PACE (MSE:Set AT,
GENERAL AUTHENTICATE), secure messaging, chip authentication
(MSE:Set KAT, MSE:Set AT + GENERAL AUTHENTICATE) and active authentication
(INTERNAL AUTHENTICATE). PACE runs the mapping EF.CardAccess names (generic,
integrated, chip authentication mapping) on standardized or explicit domain
parameters. `Misbehaviour` switches make it act like faulty chips
and readers seen in the field, so the reader's error paths are tested.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from devices.errors import CardRemovedError, ChipError
from devices.icao9303.apdu import (
    SW_CONDITIONS_NOT_SATISFIED,
    SW_END_OF_FILE,
    SW_FILE_NOT_FOUND,
    SW_INS_NOT_SUPPORTED,
    SW_OK,
    SW_SECURITY_NOT_SATISFIED,
    SW_SM_DATA_INCORRECT,
    SW_WRONG_DATA,
    SW_WRONG_LENGTH,
    SW_WRONG_P1P2,
    ApduError,
    CommandApdu,
    is_extended_encoding,
)
from devices.icao9303.bac import BacKeys, session_from_key_material
from devices.icao9303.chip_authentication import chip_shared_secret, derive_session
from devices.icao9303.lds import LdsError
from devices.icao9303.lds.dg14 import DataGroup14
from devices.icao9303.lds.security_infos import PACEInfo, SecurityInfos, cipher_key
from devices.icao9303.pace import (
    EcPaceGroup,
    PaceAlgorithm,
    PaceGroup,
    PacePassword,
    authentication_token,
    cam_data,
    decode_point,
    encrypt_cam_data,
    nonce_cipher,
    oid_value,
    pace_algorithm,
    pace_group,
    pace_infos,
    pace_supported,
    session_keys,
)
from devices.icao9303.secure_messaging import (
    SecureMessagingError,
    pad,
    retail_mac,
    tdes_cbc,
)
from devices.icao9303.tlv import TlvError, encode_length, encode_tlv, parse_all, parse_single
from devices.simulated.chip_secure_messaging import ChipSecureMessaging
from devices.simulated.chip_signing import ChipPrivateKey, chip_sign, load_chip_key

EMRTD_AID = bytes.fromhex("A0000002471001")
EAC_PROTECTED = frozenset({"DG3", "DG4"})  # fingerprints, iris: EAC terminal authentication
MF_FILES: dict[str, tuple[int, int]] = {
    "EF.CardAccess": (0x011C, 0x1C),
    "EF.ATR/INFO": (0x2F01, 0x01),
}
APP_FILES: dict[str, tuple[int, int]] = {
    "EF.COM": (0x011E, 0x1E),
    "EF.SOD": (0x011D, 0x1D),
    **{f"DG{n}": (0x0100 + n, n) for n in range(1, 17)},
}


@dataclass
class Misbehaviour:
    """Faults observed in real chips and readers, switched on one at a time in tests."""

    refuse_extended_length: bool = False  # unprotected 6700 to any extended-length APDU
    cut_long_apdus: bool = False  # a reader that cuts APDUs longer than 255 bytes
    drop_do99: bool = False  # protected responses without the status object DO99
    wrong_mac_from: int | None = None  # corrupt response MACs from the Nth SM command on
    short_read: int | None = None  # READ BINARY never returns more than this many bytes
    sm_6982_at: int | None = None  # answer the Nth SM command with an unprotected 6982
    remove_after: int | None = None  # the card leaves the field after N APDUs
    aa_silent_on_extended_le: bool = False  # no AA signature when Le is 65536
    non_minimal_sm_lengths: bool = False  # DO87/DO99/DO8E lengths in a longer BER form
    wrong_cam_data: bool = False  # PACE-CAM data that does not match the DG14 key (a clone)


@dataclass
class _PaceState:
    algorithm: PaceAlgorithm
    group: PaceGroup
    password: PacePassword
    step: int = 0
    nonce: bytes = b""
    sk_map: int = 0
    mapped: PaceGroup | None = None
    pk_eph_ic: bytes = b""
    pk_eph_ifd: bytes = b""
    keys: tuple[bytes, bytes] = (b"", b"")


@dataclass
class ChipEmulator:
    """The chip; `process(apdu) -> response` is its only I/O."""

    files: Mapping[str, bytes]
    document_number: str
    birth_date: str
    expiry_date: str
    can: str | None = None
    pace: bool = True
    bac: bool = True
    extended_length: bool = True
    max_read: int = 4096  # largest READ BINARY answer (the chip's I/O buffer)
    ca_private_key: bytes | None = None
    aa_private_key: bytes | None = None
    misbehaviour: Misbehaviour = field(default_factory=Misbehaviour)

    def __post_init__(self) -> None:
        self.apdu_count = 0
        self.sm_commands = 0
        self.removed = False
        self._lock = threading.Lock()
        self._pace_infos: list[PACEInfo] = []
        raw = self.files.get("EF.CardAccess")
        if raw and self.pace:
            try:
                self._pace_infos = pace_infos(SecurityInfos.parse(raw))
            except (LdsError, ValueError):
                self._pace_infos = []
        self._ca_protocols: dict[int | None, str] = {}
        dg14 = self.files.get("DG14")
        if dg14:
            try:
                for info in DataGroup14.parse(dg14).security_infos.chip_authentication_infos:
                    self._ca_protocols[info.key_id] = info.protocol
            except (LdsError, ValueError):
                self._ca_protocols = {}
        self._ca_key = load_chip_key(self.ca_private_key) if self.ca_private_key else None
        self._aa_key = load_chip_key(self.aa_private_key) if self.aa_private_key else None
        self._reset()

    @classmethod
    def from_passport(
        cls,
        passport: Any,
        misbehaviour: Misbehaviour | None = None,
        *,
        max_read: int = 4096,
    ) -> Self:
        """Build from a VirtualPassport (or any object with the same fields)."""
        key = passport.mrz_key()
        mb = misbehaviour or Misbehaviour()
        return cls(
            files=dict(passport.files),
            document_number=key.document_number,
            birth_date=key.birth_date,
            expiry_date=key.expiry_date,
            can=getattr(passport, "can", None),
            pace=bool(getattr(passport, "pace", True)),
            bac=bool(getattr(passport, "bac", True)),
            extended_length=bool(getattr(passport, "extended_length", True)),
            ca_private_key=getattr(passport, "ca_private_key", None),
            aa_private_key=getattr(passport, "aa_private_key", None),
            max_read=max_read,
            misbehaviour=mb,
        )

    # --- card lifecycle -------------------------------------------------------

    def _reset(self) -> None:
        self._sm: ChipSecureMessaging | None = None
        self._next_sm: ChipSecureMessaging | None = None
        self._in_app = False
        self._current: str | None = None
        self._rnd_ic: bytes | None = None
        self._pace_state: _PaceState | None = None
        self._ca_protocol: str | None = None

    @property
    def accepts_extended_length(self) -> bool:
        return self.extended_length and not self.misbehaviour.refuse_extended_length

    def atr(self) -> bytes:
        """A contactless ATR (PC/SC part 3) whose card capabilities state extended length."""
        caps = 0xC0 if self.accepts_extended_length else 0x80  # chaining, extended Lc/Le
        historical = bytes((0x80, 0x73, 0x00, 0x00, caps))
        body = bytes((0x80 | len(historical), 0x80, 0x01)) + historical
        tck = 0
        for b in body:
            tck ^= b
        return b"\x3b" + body + bytes((tck,))

    def power_on(self) -> bytes:
        with self._lock:
            self._reset()
        return self.atr()

    def power_off(self) -> None:
        with self._lock:
            self._reset()

    # --- APDU entry point ------------------------------------------------------

    def process(self, apdu: bytes) -> bytes:
        with self._lock:
            return self._process(bytes(apdu))

    def _process(self, apdu: bytes) -> bytes:
        mb = self.misbehaviour
        self.apdu_count += 1
        if self.removed or (mb.remove_after is not None and self.apdu_count > mb.remove_after):
            self.removed = True
            raise CardRemovedError("the emulated document left the field")
        if mb.cut_long_apdus and len(apdu) > 255:
            apdu = apdu[:255]
        if is_extended_encoding(apdu) and not self.accepts_extended_length:
            return _sw(SW_WRONG_LENGTH)  # unprotected, before the SM layer
        try:
            cmd = CommandApdu.decode(apdu)
        except ApduError:
            return _sw(SW_WRONG_LENGTH)
        response = self._secure(cmd, apdu)
        if mb.cut_long_apdus and len(response) > 255:
            response = response[:253] + response[-2:]
        return response

    def _secure(self, cmd: CommandApdu, raw: bytes) -> bytes:
        mb = self.misbehaviour
        if cmd.cla & 0x0C != 0x0C:
            if self._sm is not None:
                self._sm = None  # a plain command ends the secure channel (ISO 7816-4)
            data, sw = self._dispatch(cmd, protected=False)
            return data + sw.to_bytes(2, "big")
        sm = self._sm
        if sm is None:
            return _sw(SW_SM_DATA_INCORRECT)
        self.sm_commands += 1
        if mb.sm_6982_at is not None and self.sm_commands == mb.sm_6982_at:
            self._reset()
            return _sw(SW_SECURITY_NOT_SATISFIED)
        try:
            plain = sm.unprotect_command(cmd)
        except SecureMessagingError:
            self._reset()
            return _sw(SW_SM_DATA_INCORRECT)
        short_cap = None if is_extended_encoding(raw) else sm.max_short_read
        data, sw = self._dispatch(plain, protected=True, short_cap=short_cap)
        corrupt = mb.wrong_mac_from is not None and self.sm_commands >= mb.wrong_mac_from
        out = sm.protect_response(
            data,
            sw,
            odd_ins=bool(plain.ins & 1) and bool(data),
            include_status=not mb.drop_do99,
            corrupt_mac=corrupt,
            non_minimal_lengths=mb.non_minimal_sm_lengths,
        )
        if self._next_sm is not None and self._sm is sm:
            self._sm, self._next_sm = self._next_sm, None  # CA: new keys after this answer
        return out

    def _dispatch(
        self, cmd: CommandApdu, *, protected: bool, short_cap: int | None = None
    ) -> tuple[bytes, int]:
        try:
            if cmd.ins == 0xA4:
                return self._select(cmd, protected)
            if cmd.ins in (0xB0, 0xB1):
                return self._read_binary(cmd, protected, short_cap)
            if cmd.ins == 0x84:
                return self._get_challenge(cmd, protected)
            if cmd.ins == 0x82:
                return self._external_authenticate(cmd, protected)
            if cmd.ins == 0x22:
                return self._mse(cmd, protected)
            if cmd.ins == 0x86:
                return self._general_authenticate(cmd, protected)
            if cmd.ins == 0x88:
                return self._internal_authenticate(cmd, protected, short_cap)
        except (TlvError, ChipError, ValueError, OverflowError):
            self._pace_state = None
            return b"", SW_WRONG_DATA
        return b"", SW_INS_NOT_SUPPORTED

    # --- file system ------------------------------------------------------------

    def _lookup(self, fid: int | None = None, sfi: int | None = None) -> str | None:
        table = APP_FILES if self._in_app else MF_FILES
        for name, (f, s) in table.items():
            if (fid is not None and f == fid) or (sfi is not None and s == sfi):
                return name if name in self.files else None
        return None

    def _select(self, cmd: CommandApdu, protected: bool) -> tuple[bytes, int]:
        if cmd.p1 == 0x04:
            if cmd.data != EMRTD_AID:
                return b"", SW_FILE_NOT_FOUND
            self._in_app, self._current = True, None
            return b"", SW_OK
        if cmd.p1 == 0x00 and cmd.data in (b"", b"\x3f\x00"):
            self._in_app, self._current = False, None
            return b"", SW_OK
        if cmd.p1 not in (0x00, 0x02) or len(cmd.data) != 2:
            return b"", SW_WRONG_P1P2
        name = self._lookup(fid=int.from_bytes(cmd.data, "big"))
        if name is None:
            return b"", SW_FILE_NOT_FOUND
        if self._in_app and not protected:
            return b"", SW_SECURITY_NOT_SATISFIED
        self._current = name
        if cmd.p2 & 0x0C == 0x0C:
            return b"", SW_OK
        size = len(self.files[name])
        size_bytes = size.to_bytes(max(2, (size.bit_length() + 7) // 8), "big")
        fcp = encode_tlv(0x62, encode_tlv(0x80, size_bytes) + encode_tlv(0x83, cmd.data))
        return fcp, SW_OK

    def _read_binary(
        self, cmd: CommandApdu, protected: bool, short_cap: int | None
    ) -> tuple[bytes, int]:
        if cmd.ne is None:
            return b"", SW_WRONG_LENGTH
        if cmd.ins == 0xB0 and cmd.p1 & 0x80:
            if cmd.p1 & 0x60:
                return b"", SW_WRONG_P1P2
            name = self._lookup(sfi=cmd.p1 & 0x1F)
            if name is None:
                return b"", SW_FILE_NOT_FOUND
            offset = cmd.p2
        elif cmd.ins == 0xB0:
            name = self._current
            offset = (cmd.p1 << 8) | cmd.p2
        else:
            p1p2 = (cmd.p1 << 8) | cmd.p2
            name = self._current if p1p2 == 0 else self._lookup(fid=p1p2)
            offset_obj = parse_single(cmd.data, 0x54)
            if not 1 <= len(offset_obj.value) <= 3:
                return b"", SW_WRONG_DATA
            offset = int.from_bytes(offset_obj.value, "big")
        if name is None:
            return b"", SW_CONDITIONS_NOT_SATISFIED
        if self._in_app and not protected:
            return b"", SW_SECURITY_NOT_SATISFIED
        if name in EAC_PROTECTED:
            return b"", SW_SECURITY_NOT_SATISFIED  # terminal authentication is not emulated
        self._current = name
        content = self.files[name]
        if offset > len(content):
            return b"", SW_WRONG_P1P2
        limit = min(cmd.ne, self.max_read)
        if short_cap is not None:
            limit = min(limit, short_cap)
        if self.misbehaviour.short_read is not None:
            limit = min(limit, self.misbehaviour.short_read)
        if cmd.ins == 0xB1:
            limit = _odd_payload(limit)  # room for the 53 L wrapper
        chunk = content[offset : offset + max(limit, 0)]
        if cmd.ins == 0xB1:
            return encode_tlv(0x53, chunk), SW_OK if chunk else SW_END_OF_FILE
        return chunk, SW_OK if chunk else SW_END_OF_FILE

    # --- BAC ------------------------------------------------------------------------

    def _get_challenge(self, cmd: CommandApdu, protected: bool) -> tuple[bytes, int]:
        if cmd.ne != 8:
            return b"", SW_WRONG_LENGTH
        self._rnd_ic = os.urandom(8)
        return self._rnd_ic, SW_OK

    def _external_authenticate(self, cmd: CommandApdu, protected: bool) -> tuple[bytes, int]:
        rnd_ic, self._rnd_ic = self._rnd_ic, None
        if not self.bac or rnd_ic is None or not self._in_app:
            return b"", SW_CONDITIONS_NOT_SATISFIED
        if len(cmd.data) != 40:
            return b"", SW_WRONG_LENGTH
        keys = BacKeys.from_mrz(self.document_number, self.birth_date, self.expiry_date)
        e_ifd, m_ifd = cmd.data[:32], cmd.data[32:]
        if retail_mac(keys.k_mac, pad(e_ifd, 8)) != m_ifd:
            return b"", 0x6300
        s = tdes_cbc(keys.k_enc, e_ifd, decrypt=True)
        rnd_ifd, echoed, k_ifd = s[:8], s[8:16], s[16:]
        if echoed != rnd_ic:
            return b"", 0x6300
        k_ic = os.urandom(16)
        e_ic = tdes_cbc(keys.k_enc, rnd_ic + rnd_ifd + k_ic)
        self._sm = ChipSecureMessaging.of(session_from_key_material(k_ifd, k_ic, rnd_ic, rnd_ifd))
        return e_ic + retail_mac(keys.k_mac, pad(e_ic, 8)), SW_OK

    # --- PACE and CA ------------------------------------------------------------------

    def _mse(self, cmd: CommandApdu, protected: bool) -> tuple[bytes, int]:
        objects = {o.tag: o.value for o in parse_all(cmd.data)}
        p1p2 = (cmd.p1 << 8) | cmd.p2
        if p1p2 == 0xC1A4 and not protected:
            return self._mse_pace(objects)
        if p1p2 == 0x41A6 and protected:  # CA with 3DES: MSE:Set KAT
            if 0x91 not in objects:
                return b"", SW_WRONG_DATA
            key_id = int.from_bytes(objects[0x84], "big") if 0x84 in objects else None
            protocol = self._ca_protocols.get(key_id) or next(iter(self._ca_protocols.values()), "")
            return self._chip_authenticate(protocol, objects[0x91])
        if p1p2 == 0x41A4 and protected:  # CA with AES: MSE:Set AT, then GA
            oid = objects.get(0x80, b"")
            for protocol in self._ca_protocols.values():
                if oid_value(protocol) == oid:
                    self._ca_protocol = protocol
                    return b"", SW_OK
            return b"", 0x6A80
        return b"", SW_WRONG_P1P2

    def _mse_pace(self, objects: dict[int, bytes]) -> tuple[bytes, int]:
        oid = objects.get(0x80, b"")
        offered = [
            i for i in self._pace_infos if oid_value(i.protocol) == oid and pace_supported(i)
        ]
        if 0x84 in objects:
            wanted = int.from_bytes(objects[0x84], "big")
            offered = [i for i in offered if i.parameter_id == wanted]
        elif len(offered) > 1:
            return b"", 0x6A80  # ambiguous: DO84 is required (9303-11 4.4.4.1)
        if not offered:
            return b"", 0x6A80
        info = offered[0]
        ref = objects.get(0x83, b"")
        if ref == b"\x01":
            password = PacePassword.from_mrz(
                self.document_number, self.birth_date, self.expiry_date
            )
        elif ref == b"\x02" and self.can:
            password = PacePassword.from_can(self.can)
        else:
            return b"", 0x6A88
        algorithm = pace_algorithm(info)
        group = pace_group(algorithm, info.parameter_id, info.domain)
        if algorithm.mapping == "CAM" and not self._cam_key_fits(group):
            return b"", SW_CONDITIONS_NOT_SATISFIED  # no static key for this curve
        self._pace_state = _PaceState(algorithm, group, password)
        return b"", SW_OK

    def _cam_key_fits(self, group: PaceGroup) -> bool:
        key = self._ca_key
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(group, EcPaceGroup):
            return False
        point = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        try:
            decode_point(point, group.curve)
        except ChipError:
            return False
        return True

    def _general_authenticate(self, cmd: CommandApdu, protected: bool) -> tuple[bytes, int]:
        outer = parse_single(cmd.data, 0x7C)
        inner = {o.tag: o.value for o in outer.children()}
        if protected and self._ca_protocol is not None:
            protocol, self._ca_protocol = self._ca_protocol, None
            if 0x80 not in inner:
                return b"", SW_WRONG_DATA
            data, sw = self._chip_authenticate(protocol, inner[0x80])
            return (encode_tlv(0x7C, b""), sw) if sw == SW_OK else (data, sw)
        state = self._pace_state
        if state is None or protected:
            return b"", SW_CONDITIONS_NOT_SATISFIED
        alg = state.algorithm
        if state.step == 0 and not inner:
            state.nonce = os.urandom(alg.nonce_bytes)
            z = nonce_cipher(alg, state.password.k_pi(alg), state.nonce, decrypt=False)
            state.step = 1
            return encode_tlv(0x7C, encode_tlv(0x80, z)), SW_OK
        if state.step == 1 and 0x81 in inner:
            group = state.group
            state.step = 2
            if alg.mapping == "IM":
                state.mapped = group.integrated(alg, state.nonce, inner[0x81])
                return encode_tlv(0x7C, encode_tlv(0x82, b"")), SW_OK
            state.sk_map = group.random_private()
            state.mapped = group.mapped(state.nonce, group.agree(state.sk_map, inner[0x81]))
            return encode_tlv(0x7C, encode_tlv(0x82, group.public(state.sk_map))), SW_OK
        if state.step == 2 and 0x83 in inner and state.mapped is not None:
            mapped = state.mapped
            sk = mapped.random_private()
            state.pk_eph_ic = mapped.public(sk)
            state.pk_eph_ifd = inner[0x83]
            if state.pk_eph_ic == state.pk_eph_ifd:
                raise ChipError("identical ephemeral keys")
            state.keys = session_keys(alg, mapped.secret(mapped.agree(sk, state.pk_eph_ifd)))
            state.step = 3
            return encode_tlv(0x7C, encode_tlv(0x84, state.pk_eph_ic)), SW_OK
        if state.step == 3 and 0x85 in inner:
            ks_enc, ks_mac = state.keys
            self._pace_state = None
            if inner[0x85] != authentication_token(alg, ks_mac, state.pk_eph_ic):
                return b"", 0x6300
            answer = encode_tlv(0x86, authentication_token(alg, ks_mac, state.pk_eph_ifd))
            if alg.mapping == "CAM":
                answer += encode_tlv(0x8A, self._cam_data(state, ks_enc))
            self._sm = ChipSecureMessaging(alg.cipher, ks_enc, ks_mac, 0)
            return encode_tlv(0x7C, answer), SW_OK
        self._pace_state = None
        return b"", SW_CONDITIONS_NOT_SATISFIED

    def _cam_data(self, state: _PaceState, ks_enc: bytes) -> bytes:
        """A_IC = E(KS_enc, SK_IC^-1 * SK_Map,IC mod n) (ICAO 9303-11 4.4.3.5.1)."""
        key = self._ca_key
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(
            state.group, EcPaceGroup
        ):
            raise ChipError("PACE-CAM without a static EC key")
        sk_ic = key.private_numbers().private_value
        ca_ic = cam_data(state.group.curve, sk_ic, state.sk_map)
        if self.misbehaviour.wrong_cam_data:
            ca_ic = (int.from_bytes(ca_ic, "big") + 1).to_bytes(len(ca_ic), "big")
        return encrypt_cam_data(ks_enc, ca_ic)

    def _chip_authenticate(self, protocol: str, terminal_point: bytes) -> tuple[bytes, int]:
        if not protocol or not isinstance(self._ca_key, ec.EllipticCurvePrivateKey):
            return b"", SW_CONDITIONS_NOT_SATISFIED
        suite = cipher_key(protocol)
        if suite is None:
            return b"", SW_CONDITIONS_NOT_SATISFIED
        shared = chip_shared_secret(self._ca_key, terminal_point)
        cipher, size = suite
        self._next_sm = ChipSecureMessaging.of(derive_session(cipher, size, shared))
        return b"", SW_OK

    # --- AA -------------------------------------------------------------------------

    def _internal_authenticate(
        self, cmd: CommandApdu, protected: bool, short_cap: int | None
    ) -> tuple[bytes, int]:
        key: ChipPrivateKey | None = self._aa_key
        if not protected or key is None:
            return b"", SW_CONDITIONS_NOT_SATISFIED
        if self.misbehaviour.aa_silent_on_extended_le and cmd.ne == 65536:
            return b"", SW_OK
        return chip_sign(key, cmd.data, self.files.get("DG14")), SW_OK


def _odd_payload(limit: int) -> int:
    """Largest n with len(53 L <n bytes>) <= limit."""
    for header in (2, 3, 4, 5):
        n = limit - header
        if n >= 0 and 1 + len(encode_length(n)) == header:
            return n
    return 0


def _sw(sw: int) -> bytes:
    return sw.to_bytes(2, "big")
