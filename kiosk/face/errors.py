"""Typed failures of the face pipeline; `code` is the stable string CLI and UI use."""

from __future__ import annotations

from kiosk.errors import CodedError


class FaceError(CodedError):
    """Base of the face pipeline's errors; each subclass names its stable code."""

    code = "face_error"

    def __init__(self, message: str) -> None:
        super().__init__(type(self).code, message)


class UnreadableImageError(FaceError):
    """The bytes are not a decodable JPEG, JPEG 2000, PNG ... image."""

    code = "unreadable_image"


class NoFaceError(FaceError):
    code = "no_face"


class MultipleFacesError(FaceError):
    """Several faces of similar size: one person at a time."""

    code = "multiple_faces"

    def __init__(self, message: str, count: int) -> None:
        super().__init__(message)
        self.count = count


class ModelsUnavailableError(FaceError):
    """The dlib model files (package face_recognition_models) cannot be loaded."""

    code = "models_unavailable"
