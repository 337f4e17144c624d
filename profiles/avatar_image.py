"""Whether an upload is an acceptable avatar, decided by decoding it, and its re-encoded pixels.

Memory is bounded (issue 12, item 9): the pixel count is checked from the header before any pixel
is decoded (AVATAR_MAX_PIXELS), JPEGs are decoded at reduced size, every avatar is downscaled to
fit AVATAR_MAX_EDGE, and at most AVATAR_MAX_CONCURRENT images are decoded at once per process.
`bench/avatar_memory.py` measures the peak.
"""
import io
import logging
import math
import threading
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError

logger = logging.getLogger(__name__)

AVATAR_INVALID = "Upload a valid JPEG or PNG image. The file was not an image, was damaged, or was of another format."
# Pillow's name for what it decoded -> how the avatar is stored. MPO is a JPEG carrying extra
# pictures (as phone cameras write them); only the first picture is kept.
_STORED_AS = {"JPEG": ("JPEG", "image/jpeg"), "MPO": ("JPEG", "image/jpeg"), "PNG": ("PNG", "image/png")}
_DECODERS = ("JPEG", "PNG")
JPEG_QUALITY = 90



@dataclass(frozen=True)
class CleanImage:
    """An accepted image, re-encoded from its pixels alone."""

    content: bytes
    content_type: str
    width: int
    height: int


def _max_pixels() -> int:
    # Never above Pillow's own threshold, so an image Pillow only warns about is refused here
    # before any pixel is decoded.
    return min(settings.AVATAR_MAX_PIXELS, Image.MAX_IMAGE_PIXELS or settings.AVATAR_MAX_PIXELS)


def _too_many_pixels() -> ValidationError:
    return ValidationError({"file": [f"The image has too many pixels (at most {_max_pixels():,})."]})


def _reencode(image: Image.Image, stored_as: str) -> tuple[bytes, tuple[int, int]]:
    """The pixels alone, encoded afresh: no EXIF (GPS included), XMP, comments, text chunks or
    ICC profile. Orientation is applied to the pixels first, so the picture stays upright."""
    image = ImageOps.exif_transpose(image)
    # Pillow's encoders copy some metadata (ICC profile, JPEG comment) from `info` unasked.
    transparency = image.info.get("transparency")
    image.info = {}
    options: dict = {}
    if stored_as == "JPEG":
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
        options["quality"] = JPEG_QUALITY
    elif transparency is not None:
        options["transparency"] = transparency
    out = io.BytesIO()
    image.save(out, format=stored_as, **options)
    return out.getvalue(), image.size


class ImageWorkBusy(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Too many images are being processed. Try again shortly."
    default_code = "image_work_busy"

    def __init__(self, wait: int):
        super().__init__()
        self.wait = wait  # DRF's handler sends it as Retry-After


_slots: tuple[int, threading.BoundedSemaphore] | None = None
_slots_lock = threading.Lock()


def image_work_slots() -> threading.BoundedSemaphore:
    """This process's AVATAR_MAX_CONCURRENT slots for decoding images: each decode holds one, so
    the memory images take is bounded by that many times one image's peak, however many
    uploads arrive at once."""
    global _slots
    size = max(1, settings.AVATAR_MAX_CONCURRENT)
    with _slots_lock:
        if _slots is None or _slots[0] != size:
            _slots = (size, threading.BoundedSemaphore(size))
        return _slots[1]


def _image_reduce(image: Image.Image, max_edge: int) -> Image.Image:
    """Decode `image` no larger than needed and downscale it to fit `max_edge` x `max_edge`.

    A JPEG is decoded at reduced size (Pillow's `draft`: the decoder itself produces 1/2, 1/4 or
    1/8 of the pixels, the smallest that still covers `max_edge`), so a 12-megapixel photo never
    exists in memory at full size. A PNG has no such mode: its pixels are bounded by
    AVATAR_MAX_PIXELS, checked before decoding, and it is box-reduced before it is resampled."""
    if image.format in ("JPEG", "MPO"):
        image.draft(None, (max_edge, max_edge))
    image.load()  # a damaged image fails here, inside the caller's error handling
    factor = max(image.size) // max_edge
    if factor > 1:
        # A box reduction first, straight from the decoded pixels: resampling the full image
        # would first copy it (Pillow premultiplies alpha into a second full-size image).
        image = image.reduce(factor)
    image.thumbnail((max_edge, max_edge), reducing_gap=None)
    return image


def avatar_image_clean(*, content: bytes) -> CleanImage:
    """Decide by decoding whether `content` is an acceptable avatar, and re-encode it.

    Accepted: a JPEG or PNG that Pillow decodes completely, of at most AVATAR_MAX_PIXELS pixels
    (checked from the header, before decoding: decompression bombs never reach memory). It is
    stored downscaled to fit AVATAR_MAX_EDGE (JPEGs decoded at reduced size), at most
    AVATAR_MAX_CONCURRENT decodes run at once (503 after AVATAR_QUEUE_SECONDS of waiting), so
    the memory one process spends on images is bounded. The format stays; everything but the
    pixels is dropped. Anything else is a 400 on `file`; no input raises anything but
    ValidationError (or the 503).
    """
    slots = image_work_slots()
    if not slots.acquire(timeout=settings.AVATAR_QUEUE_SECONDS):
        raise ImageWorkBusy(wait=max(1, math.ceil(settings.AVATAR_QUEUE_SECONDS)))
    try:
        return _image_clean(content)
    finally:
        slots.release()


def _image_clean(content: bytes) -> CleanImage:
    try:
        with Image.open(io.BytesIO(content), formats=_DECODERS) as probe:
            decoded_as = probe.format
            width, height = probe.size
            if width * height > _max_pixels():
                raise _too_many_pixels()
            probe.verify()
        # verify() leaves the image unusable; decoding needs a fresh one.
        with Image.open(io.BytesIO(content), formats=_DECODERS) as image:
            if image.size != (width, height) or decoded_as not in _STORED_AS:
                raise ValidationError({"file": [AVATAR_INVALID]})
            image = _image_reduce(image, settings.AVATAR_MAX_EDGE)
            stored_as, content_type = _STORED_AS[decoded_as]
            clean, (width, height) = _reencode(image, stored_as)
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except Exception as exc:  # noqa: BLE001 - a hostile file can make any decoder raise anything
        logger.info("avatar refused: %s: %s", type(exc).__name__, exc)
        raise ValidationError({"file": [AVATAR_INVALID]}) from None
    return CleanImage(content=clean, content_type=content_type, width=width, height=height)

