"""Document factory: a complete, signed LDS from MRZ fields and a face image.

`make_document(DocumentSpec(...))` builds EF.COM, DG1, DG2, DG11, DG12, DG14 (chip
authentication key, PACEInfo), DG15 (active authentication key), EF.CardAccess and an
EF.SOD signed under a test PKI (CSCA -> document signer), following ICAO 9303-10/-11.
Named defects produce documents that are wrong in one precise, documented way.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from devices.icao9303 import sod as sod_module
from devices.icao9303.lds import LdsError
from devices.icao9303.lds.dg1 import DataGroup1
from devices.icao9303.lds.dg2 import (
    DataGroup2,
    ImageFormat,
    RecordFormat,
    detect_image_format,
    image_dimensions,
)
from devices.icao9303.lds.dg11 import DataGroup11
from devices.icao9303.lds.dg12 import DataGroup12
from devices.icao9303.lds.dg14 import DataGroup14
from devices.icao9303.lds.dg15 import DataGroup15
from devices.icao9303.lds.ef_com import EfCom
from devices.icao9303.lds.security_infos import (
    CA_ECDH_AES_CBC_CMAC_128,
    ECDSA_PLAIN_SHA256,
    ID_PACE_DH_GM,
    ID_PACE_DH_IM,
    ID_PACE_ECDH_CAM,
    ID_PACE_ECDH_GM,
    ID_PACE_ECDH_IM,
    ID_PK_ECDH,
    STANDARDIZED_DOMAIN_PARAMETERS,
    ActiveAuthenticationInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
    PaceMapping,
    SecurityInfo,
    SecurityInfos,
)
from devices.icao9303.lds.spki import PublicKeyInfo
from devices.icao9303.mrz import Mrz, MrzFormat
from devices.simulated import pki as pki_module
from devices.simulated.pki import TestPki, make_test_pki
from devices.simulated.virtual_passport import VirtualPassport, private_key_der

DEFECTS: dict[str, str] = {
    "expired": "the document expired (expiry date in the past)",
    "bad_check_digit": "DG1 holds an MRZ with a wrong document-number check digit",
    "tampered_dg1": "DG1 was changed after EF.SOD was signed (hash mismatch)",
    "tampered_dg2": "DG2 was changed after EF.SOD was signed (hash mismatch)",
    "wrong_sod_signature": "EF.SOD is signed by a key that is not the DS certificate's",
    "cloned_chip": "the chip lacks the CA and AA private keys (a copy of the files)",
    "bac_only": "no EF.CardAccess and no PACE: BAC only",
    "huge_dg2": "DG2 larger than 60 KB",
    "no_aa": "no DG15, no active authentication",
    "no_ca": "no DG14, no chip authentication",
}
HUGE_DG2_BYTES = 60 * 1024
DEFAULT_FACE_SIZE = (360, 480)  # ICAO portrait proportions, width x height
AaAlgorithm = Literal["rsa2048", "ecdsa-p256"]
_CA_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "secp256r1": ec.SECP256R1,
    "brainpoolP256r1": ec.BrainpoolP256R1,
    "secp384r1": ec.SECP384R1,
    "brainpoolP384r1": ec.BrainpoolP384R1,
}


class FactoryError(ValueError):
    """A document specification the factory cannot honour; the message says why."""


@dataclass(frozen=True)
class DocumentSpec:
    """What to put in the document. Every field has a default: the ICAO specimen holder
    Anna Maria Eriksson of Utopia, expiring five years after `now`."""

    document_code: str = "P"
    issuing_state: str = "UTO"
    surname: str = "ERIKSSON"
    given_names: str = "ANNA MARIA"
    document_number: str = "L898902C3"
    nationality: str = "UTO"
    birth_date: date = date(1974, 8, 12)
    sex: str = "F"
    expiry_date: date | None = None  # None: five years after `now`
    optional_data: str = "ZE184226B"
    mrz_format: MrzFormat | None = None  # None: TD3 for passports, TD1 otherwise
    face_image: bytes | None = None  # JPEG / JPEG 2000 (other formats are re-encoded)
    face_format: ImageFormat | None = None  # None: keep the given JPEG / JPEG 2000
    face_record: RecordFormat = "ISO19794-5"
    dg11: Mapping[str, Any] | None = None  # None: full name and place of birth
    include_dg11: bool = True
    issuing_authority: str = "UTOPIA PASSPORT AUTHORITY"
    date_of_issue: date | None = None  # None: ten years before expiry
    include_dg12: bool = True
    can: str | None = None  # None: six digits derived from the document number
    pace: bool = True
    bac: bool = True
    pace_parameter_id: int = 12  # 12 P-256, 13 brainpoolP256r1, 15 P-384, 16 brainpoolP384r1
    pace_mapping: PaceMapping = "GM"  # GM, IM (integrated) or CAM (chip authentication)
    extended_length: bool = True
    algorithm: str = "rsa2048"  # test PKI algorithm (pki.ALGORITHMS)
    digest: str = "sha256"
    lds_version: tuple[int, int] = (1, 8)
    ca_curve: str = "secp256r1"
    aa_algorithm: AaAlgorithm = "rsa2048"


def _shift_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@lru_cache(maxsize=4)
def default_face_jpeg(width: int = DEFAULT_FACE_SIZE[0], quality: int = 65) -> bytes:
    """A portrait cut from skimage's astronaut image (Eileen Collins, NASA, public domain).

    At the default size and quality it is a JPEG of about 18 KB.
    """
    from PIL import Image
    from skimage import data as skdata

    pixels: Any = skdata.astronaut()  # type: ignore[no-untyped-call]
    portrait = Image.fromarray(pixels).crop((130, 12, 310, 252))
    height = width * 4 // 3
    portrait = portrait.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    portrait.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _jpeg(img: Any, quality: int) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _face_bytes(
    image: bytes | None, huge: bool, want: ImageFormat | None
) -> tuple[bytes, ImageFormat, int, int]:
    """The portrait as stored in DG2: JPEG/JPEG 2000 input is kept unless another format
    is wanted (`want`, or a huge image); anything else is re-encoded."""
    from PIL import Image, UnidentifiedImageError

    data = image if image is not None else default_face_jpeg()
    fmt = detect_image_format(data)
    if fmt is None or huge or (want is not None and want != fmt):
        try:
            with Image.open(io.BytesIO(data)) as img:
                rgb = img.convert("RGB")
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise FactoryError(f"face image cannot be read: {exc}") from exc
        if huge:  # a genuine large portrait (about 80 KB) rather than padding
            for width, quality in ((640, 90), (800, 95), (1200, 97)):
                size = (width, width * rgb.height // rgb.width)
                data = _jpeg(rgb.resize(size, Image.Resampling.LANCZOS), quality)
                if len(data) > HUGE_DG2_BYTES:
                    break
            fmt = "jpeg"
        elif want == "jpeg2000":
            # A raw codestream (FF4FFF51) at 1:30 (about 17 KB), as some issuers store it.
            out = io.BytesIO()
            rgb.save(out, "JPEG2000", no_jp2=True, quality_mode="rates", quality_layers=[30])
            data, fmt = out.getvalue(), "jpeg2000"
        else:
            data, fmt = _jpeg(rgb, 90), "jpeg"
    dims = image_dimensions(data)
    if dims is None:
        raise FactoryError("face image dimensions cannot be read from its header")
    return data, fmt, dims[0], dims[1]


_PACE_FAMILY: dict[tuple[bool, PaceMapping], str] = {
    (False, "GM"): ID_PACE_DH_GM,
    (False, "IM"): ID_PACE_DH_IM,
    (True, "GM"): ID_PACE_ECDH_GM,
    (True, "IM"): ID_PACE_ECDH_IM,
    (True, "CAM"): ID_PACE_ECDH_CAM,
}


def _pace_info(parameter_id: int, mapping: PaceMapping = "GM") -> PACEInfo:
    name = STANDARDIZED_DOMAIN_PARAMETERS.get(parameter_id)
    if name is None:
        raise FactoryError(f"PACE parameter id {parameter_id} is not standardized")
    family = _PACE_FAMILY.get((not name.startswith("modp"), mapping))
    if family is None:
        raise FactoryError(f"PACE mapping {mapping!r} is not defined on {name}")
    if name.startswith("modp"):
        return PACEInfo(family + ".2", 2, parameter_id)
    size = re.search(r"\d{3}", name)
    bits = int(size.group()) if size else 256
    suite = ".2" if bits <= 256 else ".4"  # AES-128 up to 256-bit curves, else AES-256
    return PACEInfo(family + suite, 2, parameter_id)


def _can_for(document_number: str) -> str:
    import hashlib

    digest = hashlib.sha256(document_number.encode()).digest()
    return f"{int.from_bytes(digest[:4], 'big') % 1_000_000:06d}"


def _corrupt_check_digit(mrz: Mrz) -> tuple[str, ...]:
    lines = list(mrz.lines())
    row, col = (0, 14) if mrz.format == "TD1" else (1, 9)
    digit = lines[row][col]
    wrong = str((int(digit) + 1) % 10) if digit.isdigit() else "0"
    lines[row] = lines[row][:col] + wrong + lines[row][col + 1 :]
    return tuple(lines)


def _flip_image_byte(dg2: bytes, image: bytes) -> bytes:
    """Change one byte in the middle of the image data, keeping the TLV structure intact."""
    at = dg2.find(image)
    if at < 0:
        raise FactoryError("cannot locate the image inside DG2")
    pos = at + len(image) // 2
    value = dg2[pos] ^ 0x01
    if value == 0xFF or dg2[pos] == 0xFF:  # avoid creating or breaking a JPEG marker
        pos += 1
        value = dg2[pos] ^ 0x01 if dg2[pos] != 0xFF else dg2[pos]
    return dg2[:pos] + bytes([value]) + dg2[pos + 1 :]


def _issuer_country(state: str) -> str:
    """The 3-letter country for the test PKI (Germany's MRZ code is the single 'D')."""
    code = state.replace("<", "").upper()
    code = {"D": "DEU"}.get(code, code)
    return code if len(code) == 3 and code.isalpha() else "UTO"


def make_document(
    spec: DocumentSpec | None = None,
    *,
    pki: TestPki | None = None,
    defects: Sequence[str] = (),
    now: date | None = None,
) -> VirtualPassport:
    """Build a virtual passport; unknown defects or unusable fields raise FactoryError.

    `pki` defaults to make_test_pki(issuing state, algorithm=spec.algorithm); `now`
    (default today) fixes the default expiry date and the signing time.
    """
    try:
        return _make_document(spec or DocumentSpec(), pki, defects, now)
    except LdsError as exc:
        raise FactoryError(str(exc)) from exc


def _make_document(
    spec: DocumentSpec, pki: TestPki | None, defects: Sequence[str], now: date | None
) -> VirtualPassport:
    unknown = [d for d in defects if d not in DEFECTS]
    if unknown:
        raise FactoryError(f"unknown defect(s) {unknown}; known: {', '.join(DEFECTS)}")
    wanted = set(defects)
    today, moment = _today(now)
    if "bac_only" in wanted:
        spec = replace(spec, pace=False, bac=True)
    if not spec.pace and not spec.bac:
        raise FactoryError("a chip needs PACE or BAC")

    expiry = spec.expiry_date or _shift_years(today, 5)
    if "expired" in wanted and expiry >= today:
        expiry = _shift_years(today, -1)
    issued = spec.date_of_issue or _shift_years(expiry, -10)
    mrz = _mrz(spec, expiry)
    files: dict[str, bytes] = {}
    lines, face = _personal_data(files, spec, mrz, wanted, issued, moment)
    spec, ca_key, aa_key = _chip_keys(files, spec, wanted)

    numbers = sorted(int(name[2:]) for name in files if name.startswith("DG"))
    lds = spec.lds_version
    files["EF.COM"] = EfCom.build(numbers, lds_version=f"{lds[0]:02d}{lds[1]:02d}").encode()
    test_pki = _sign(files, spec, pki, wanted, numbers, moment)

    # Defects applied after signing: the SOD keeps the genuine hashes.
    if "tampered_dg1" in wanted:
        forged = replace(mrz, surname="MALLORY", given_names="EVE", name_field="")
        files["DG1"] = DataGroup1.build(forged).encode()  # the data page keeps the real MRZ
    if "tampered_dg2" in wanted:
        files["DG2"] = _flip_image_byte(files["DG2"], face)

    cloned = "cloned_chip" in wanted
    return VirtualPassport(
        files=files,
        mrz=tuple(lines),
        document_number=mrz.document_number,
        birth_date=mrz.birth_date_yymmdd,
        expiry_date=mrz.expiry_date_yymmdd,
        can=spec.can or _can_for(mrz.document_number),
        pace=spec.pace,
        bac=spec.bac,
        extended_length=spec.extended_length,
        pace_parameter_id=spec.pace_parameter_id if spec.pace else None,
        pace_mapping=spec.pace_mapping,
        ca_private_key=None if cloned or ca_key is None else private_key_der(ca_key),
        aa_private_key=None if cloned or aa_key is None else private_key_der(aa_key),
        csca_cert_der=test_pki.csca_der(),
        ds_cert_der=test_pki.ds_der(),
        face_image=face,
        defects=tuple(dict.fromkeys(defects)),
        details={
            "algorithm": test_pki.algorithm,
            "digest": spec.digest,
            "dg2_bytes": len(files["DG2"]),
        },
    )


def _today(now: date | None) -> tuple[date, datetime]:
    """The issue day and the personalisation/signing moment."""
    if now is None:
        moment = datetime.now(UTC).replace(microsecond=0)
        return moment.date(), moment
    return now, datetime.combine(now, time(12, 0), tzinfo=UTC)


def _mrz(spec: DocumentSpec, expiry: date) -> Mrz:
    try:
        return Mrz.create(
            document_code=spec.document_code,
            issuing_state=spec.issuing_state,
            surname=spec.surname,
            given_names=spec.given_names,
            document_number=spec.document_number,
            nationality=spec.nationality,
            birth_date=spec.birth_date,
            sex=spec.sex,
            expiry_date=expiry,
            optional_data=spec.optional_data,
            format=spec.mrz_format,
        )
    except LdsError as exc:
        raise FactoryError(f"MRZ fields: {exc}") from exc


def _personal_data(
    files: dict[str, bytes],
    spec: DocumentSpec,
    mrz: Mrz,
    wanted: set[str],
    issued: date,
    moment: datetime,
) -> tuple[Sequence[str], bytes]:
    """DG1, DG2, DG11 and DG12 into `files`; the MRZ lines and the face image."""
    lines = mrz.lines()
    if "bad_check_digit" in wanted:
        lines = _corrupt_check_digit(mrz)
        files["DG1"] = DataGroup1.encode_text("".join(lines))
    else:
        files["DG1"] = DataGroup1.build(mrz).encode()

    face, fmt, width, height = _face_bytes(spec.face_image, "huge_dg2" in wanted, spec.face_format)
    gender = {"M": 1, "F": 2}.get(mrz.sex, 0)
    dg2 = DataGroup2.build(face, fmt, width, height, record_format=spec.face_record, gender=gender)
    files["DG2"] = dg2.encode()
    if "huge_dg2" in wanted and len(files["DG2"]) <= HUGE_DG2_BYTES:
        raise FactoryError(f"DG2 came out at {len(files['DG2'])} bytes, not above 60 KB")

    if spec.include_dg11:
        details = (
            dict(spec.dg11)
            if spec.dg11 is not None
            else {
                "full_name": f"{mrz.surname}<<{mrz.given_names}",
                "place_of_birth": "ZENITH<UTOPIA",
                "full_date_of_birth": spec.birth_date,
            }
        )
        files["DG11"] = DataGroup11.build(**details).encode()
    if spec.include_dg12:
        files["DG12"] = DataGroup12.build(
            issuing_authority=spec.issuing_authority,
            date_of_issue=issued,
            personalization_time=moment,
        ).encode()
    return lines, face


def _chip_keys(
    files: dict[str, bytes], spec: DocumentSpec, wanted: set[str]
) -> tuple[
    DocumentSpec,
    ec.EllipticCurvePrivateKey | None,
    rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None,
]:
    """Chip and active authentication keys (DG14, DG15) and EF.CardAccess into `files`."""
    pace_info = _pace_info(spec.pace_parameter_id, spec.pace_mapping) if spec.pace else None
    cam = pace_info is not None and spec.pace_mapping == "CAM"
    if cam:
        # PACE-CAM proves the chip with its static CA key: it must be on the PACE curve.
        curve_name = STANDARDIZED_DOMAIN_PARAMETERS[spec.pace_parameter_id]
        if curve_name not in _CA_CURVES or "no_ca" in wanted:
            raise FactoryError(f"PACE-CAM needs a chip authentication key on {curve_name}")
        spec = replace(spec, ca_curve=curve_name)
    ca_key: ec.EllipticCurvePrivateKey | None = None
    aa_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None
    dg14_infos: list[SecurityInfo] = []
    if "no_ca" not in wanted:
        curve = _CA_CURVES.get(spec.ca_curve)
        if curve is None:
            raise FactoryError(
                f"chip authentication curve {spec.ca_curve!r} not in {list(_CA_CURVES)}"
            )
        ca_key = ec.generate_private_key(curve())
        spki = ca_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        dg14_infos += [
            ChipAuthenticationPublicKeyInfo(ID_PK_ECDH, PublicKeyInfo.parse(spki)),
            ChipAuthenticationInfo(CA_ECDH_AES_CBC_CMAC_128, 1),
        ]
        if pace_info is not None:  # ICAO 9303-11 9.2: PACEInfo also in DG14 (signed)
            dg14_infos.append(pace_info)
    if "no_aa" not in wanted:
        if spec.aa_algorithm == "rsa2048":
            aa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif spec.aa_algorithm == "ecdsa-p256":
            aa_key = ec.generate_private_key(ec.SECP256R1())
            if dg14_infos:  # ECDSA AA must announce its algorithm in DG14
                dg14_infos.append(ActiveAuthenticationInfo(ECDSA_PLAIN_SHA256))
        else:
            raise FactoryError(f"active authentication algorithm {spec.aa_algorithm!r} unknown")
        files["DG15"] = DataGroup15.build(aa_key.public_key()).encode()
    if dg14_infos:
        files["DG14"] = DataGroup14.build(dg14_infos).encode()
    if pace_info is not None:
        files["EF.CardAccess"] = SecurityInfos.of([pace_info]).encode()
    return spec, ca_key, aa_key


def _sign(
    files: dict[str, bytes],
    spec: DocumentSpec,
    pki: TestPki | None,
    wanted: set[str],
    numbers: list[int],
    moment: datetime,
) -> TestPki:
    """EF.SOD over the data groups; the PKI that signed it."""
    try:
        test_pki = pki or make_test_pki(
            _issuer_country(spec.issuing_state), algorithm=spec.algorithm, now=moment
        )
        signer_key = test_pki.ds_key
        if "wrong_sod_signature" in wanted:
            signer_key = pki_module.generate_key(test_pki.algorithm)
        files["EF.SOD"] = pki_module.build_sod(
            {n: files[f"DG{n}"] for n in numbers},
            test_pki.ds_cert,
            signer_key,
            digest=spec.digest,
            signature=test_pki.signature,
            lds_version=spec.lds_version,
            signing_time=moment,
        )
    except (pki_module.PkiError, sod_module.SodError) as exc:
        raise FactoryError(f"signing: {exc}") from exc
    return test_pki
