"""Writes on what hangs off a user in `profiles`: details and the avatar."""
import hashlib
import io
import logging
from dataclasses import dataclass
from typing import IO

import gridfs
from bson import ObjectId
from django.conf import settings
from mongoengine.connection import get_db
from PIL import Image, ImageOps
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, ValidationError

from accounts.documents import User, now
from accounts.selectors import NO_USER
from profiles.documents import AVATAR_BUCKET, Avatar, Details

logger = logging.getLogger(__name__)


def details_upsert(*, user: User, **fields) -> None:
    """Create the user's details or update the fields given; the others are kept.

    One atomic upsert keyed on the user (a unique index), so concurrent first writes for one
    user leave one document."""
    stamp = now()
    update = {"$set": {**fields, "updated_at": stamp}, "$setOnInsert": {"created_at": stamp}}
    if "preferences" not in fields:
        update["$setOnInsert"]["preferences"] = {}
    collection = Details._get_collection()
    try:
        collection.update_one({"user": user.id}, update, upsert=True)
    except DuplicateKeyError:
        # Two first upserts raced; the document exists now, so this one updates it.
        collection.update_one({"user": user.id}, update, upsert=True)


# --- Avatars ----------------------------------------------------------------------------------
class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request is too large."
    default_code = "payload_too_large"


AVATAR_INVALID = "Upload a valid JPEG or PNG image. The file was not an image, was damaged, or was of another format."
# Room for the multipart boundary and part headers around the file in the request body.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
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


def _size_text(n: int) -> str:
    for unit, factor in (("MB", 2**20), ("KB", 2**10)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} bytes"


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"The image is larger than {_size_text(settings.AVATAR_MAX_BYTES)}.")


def avatar_request_size_check(*, content_length: int | None) -> None:
    """413 for a request body that cannot hold an acceptable image, before any of it is read,
    so an oversized upload is not first spooled to disk. `None` (unknown) passes: the upload
    itself is bounded again when read."""
    if content_length is not None and content_length > settings.AVATAR_MAX_BYTES + MULTIPART_OVERHEAD_BYTES:
        raise _too_large()


def _upload_read(upload: IO[bytes]) -> bytes:
    """The upload's bytes, reading at most one byte more than the limit (413 past it)."""
    limit = settings.AVATAR_MAX_BYTES
    if (getattr(upload, "size", None) or 0) > limit:
        raise _too_large()
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise _too_large()
    return content


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


def avatar_image_clean(*, content: bytes) -> CleanImage:
    """Decide by decoding whether `content` is an acceptable avatar, and re-encode it.

    Accepted: a JPEG or PNG that Pillow decodes completely, of at most AVATAR_MAX_PIXELS pixels
    (checked from the header, before decoding: decompression bombs never reach memory). The
    format stays; everything but the pixels is dropped. Anything else is a 400 on `file`; no
    input raises anything but ValidationError.
    """
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
            image.load()
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


def _bucket() -> gridfs.GridFS:
    return gridfs.GridFS(get_db(), collection=AVATAR_BUCKET)


def _has_avatar_sync(*, user_id: ObjectId) -> bool:
    """Set `User.has_avatar` from whether an Avatar exists (the Avatar is the truth; the flag
    only drives `avatar_url`). False when the user no longer exists."""
    exists = Avatar._get_collection().count_documents({"user": user_id}, limit=1) > 0
    return User._get_collection().update_one({"_id": user_id}, {"$set": {"has_avatar": exists}}).matched_count > 0


def avatar_replace(*, user: User, upload: IO[bytes]) -> Avatar:
    """Store `upload` as the user's avatar, replacing any previous one.

    Guarantees: the upload is at most AVATAR_MAX_BYTES (413) and an acceptable image (400, see
    `avatar_image_clean`); what is stored is the re-encoded pixels, never the uploaded bytes or
    file name. Afterwards the user has exactly one Avatar and one GridFS file with its chunks;
    the previous file is deleted. The record is switched to the new file in one atomic upsert
    (the unique index on `user` decides between concurrent uploads), so a reader sees the old
    avatar or the new one, never none. A crash between the steps leaves at worst an unreferenced
    file, which `check_integrity --fix` removes. 404 if the user turns out to be gone once the
    record is written, and what was written is removed again; a chain delete that overlaps the
    write more narrowly can leave an orphan, which the same check removes.
    """
    clean = avatar_image_clean(content=_upload_read(upload))
    bucket = _bucket()
    file_id = bucket.put(clean.content, contentType=clean.content_type)
    fields = {
        "file": file_id,
        "content_type": clean.content_type,
        "etag": hashlib.sha256(clean.content).hexdigest(),
        "size": len(clean.content),
        "width": clean.width,
        "height": clean.height,
        "updated_at": now(),
    }
    new_id = ObjectId()
    update = {"$set": fields, "$setOnInsert": {"_id": new_id}}
    collection = Avatar._get_collection()

    def swap() -> dict | None:
        return collection.find_one_and_update({"user": user.id}, update, upsert=True, return_document=ReturnDocument.BEFORE)

    try:
        try:
            previous = swap()
        except DuplicateKeyError:
            # Two first uploads raced; the record exists now, so this one replaces it.
            previous = swap()
    except BaseException:
        bucket.delete(file_id)  # nothing refers to it
        raise
    if previous is not None and previous.get("file") not in (None, file_id):
        bucket.delete(previous["file"])
    if not _has_avatar_sync(user_id=user.id):
        # A chain delete ran concurrently and may have missed what was just written.
        collection.delete_one({"user": user.id, "file": file_id})
        bucket.delete(file_id)
        raise NotFound(NO_USER)
    user.has_avatar = True
    return Avatar._from_son({"_id": previous["_id"] if previous else new_id, "user": user.id, **fields})


def avatar_remove(*, user: User) -> None:
    """Remove the user's avatar: afterwards no Avatar, GridFS file or chunk of theirs is left and
    `has_avatar` is false. 404 when there is none, so a repeated call is a harmless 404.
    The record goes before the file: a crash in between leaves an unreferenced file (which
    `check_integrity --fix` removes), never a record pointing at missing bytes."""
    previous = Avatar._get_collection().find_one_and_delete({"user": user.id})
    if previous is None:
        raise NotFound("This user has no avatar.")
    if previous.get("file") is not None:
        _bucket().delete(previous["file"])
    _has_avatar_sync(user_id=user.id)
    user.has_avatar = False
