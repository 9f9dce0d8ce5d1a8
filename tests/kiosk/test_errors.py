"""One error base: every kiosk refusal carries a stable code and a message."""

from __future__ import annotations

import pytest

from kiosk.cli.common import CommandError
from kiosk.errors import CodedError
from kiosk.face.errors import (
    FaceError,
    ModelsUnavailableError,
    MultipleFacesError,
    NoFaceError,
    UnreadableImageError,
)
from kiosk.supervisor.officer_ops import OpsRefused
from kiosk.supervisor.officers import OfficerError
from kiosk.supervisor.secrets import SecretError, normalise_officer_id
from kiosk.supervisor.station import StationError


@pytest.mark.parametrize("kind", [SecretError, OfficerError, StationError])
def test_code_and_message(kind: type[CodedError]) -> None:
    error = kind("some_code", "what went wrong")
    assert isinstance(error, CodedError)
    assert (error.code, error.message, str(error)) == (
        "some_code",
        "what went wrong",
        "what went wrong",
    )


def test_ops_refused_keeps_its_detail() -> None:
    error = OpsRefused("not_signed_in", "idle")
    assert (error.code, error.detail) == ("not_signed_in", "idle")
    assert str(error) == "not_signed_in: idle"
    assert OpsRefused("locked").message == "locked"


def test_command_error_adds_an_exit_status() -> None:
    assert CommandError("x", "y").status == 2
    assert CommandError("x", "y", status=3).status == 3


def test_secret_error_is_still_a_value_error() -> None:
    with pytest.raises(ValueError) as caught:
        normalise_officer_id("bad id!")
    assert isinstance(caught.value, CodedError) and caught.value.code == "invalid_officer_id"


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (UnreadableImageError, "unreadable_image"),
        (NoFaceError, "no_face"),
        (ModelsUnavailableError, "models_unavailable"),
    ],
)
def test_face_errors_are_coded_errors_with_their_class_code(
    kind: type[FaceError], code: str
) -> None:
    error = kind("what went wrong")
    assert isinstance(error, CodedError)
    assert (error.code, error.message, str(error)) == (code, "what went wrong", "what went wrong")
    crowd = MultipleFacesError("two people", count=2)
    assert (crowd.code, crowd.count) == ("multiple_faces", 2)


def test_trust_errors_are_coded_value_errors() -> None:
    from kiosk.trust.errors import MalformedInputError, TrustError
    from kiosk.trust.masterlist import MasterListError

    plain = TrustError("what went wrong")
    assert isinstance(plain, CodedError) and isinstance(plain, ValueError)
    assert (plain.code, plain.message, str(plain)) == ("trust_error", "what went wrong",
                                                       "what went wrong")  # fmt: skip
    assert MalformedInputError("bad DER").code == "malformed_input"
    finer = MasterListError("signer_untrusted", "nobody vouches for the signer")
    assert (finer.code, str(finer)) == ("signer_untrusted", "nobody vouches for the signer")
