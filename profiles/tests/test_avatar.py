"""PUT, GET and DELETE /users/{user_id}/avatar: decoding decides, metadata goes, GridFS keeps one
file per user, and the chain delete and the trash purge take it along."""
import io
import json
import math
import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from mongoengine.connection import get_db
from PIL import ExifTags, Image, ImageCms, PngImagePlugin, features
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser

from accounts.users.documents import User
from accounts.user_data.services import orphans_find
from profiles import services
from profiles.documents import Avatar

SECRET = "Secret Street 12"


# --- Images, made here ------------------------------------------------------------------------
def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def noise(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Random pixels: they do not compress, so the file is about as large as the image."""
    return Image.frombytes(mode, size, os.urandom(size[0] * size[1] * len(mode)))


def jpeg_with_gps(size=(40, 20), orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (52.0, 22.0, 1.0), 3: "E", 4: (4.0, 53.0, 2.0)})
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    left_red = Image.new("RGB", size, "blue")
    left_red.paste("red", (0, 0, size[0] // 2, size[1]))
    xmp = f"<x:xmpmeta>{SECRET}</x:xmpmeta>".encode()
    return encode(left_red, "JPEG", exif=exif, comment=SECRET.encode(), xmp=xmp, icc_profile=icc)


def png_with_text(mode: str = "RGBA") -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", SECRET)
    info.add_text("Comment", SECRET, zip=True)
    info.add_itxt("Description", SECRET, lang="en")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = SECRET
    return encode(Image.new(mode, (16, 12), (10, 20, 30, 128)), "PNG", pnginfo=info, exif=exif)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a size and carries almost no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def png_bomb(side: int = 30_000) -> bytes:
    """A complete 1-bit PNG of side x side black pixels: a few hundred KB that decode to ~1 GB."""
    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + math.ceil(side / 8))
    idat = b"".join(compressor.compress(row * 1000) for _ in range(side // 1000)) + compressor.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def upload(content: bytes, name: str = "me.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


# --- Helpers ----------------------------------------------------------------------------------
def url(user) -> str:
    return f"/users/{user.id}/avatar"


def put(client, user, content: bytes, **kwargs):
    return client.put(url(user), {"file": upload(content, **kwargs)}, format="multipart")


def files() -> list[dict]:
    return list(get_db()["avatars.files"].find())


def chunks() -> list[dict]:
    return list(get_db()["avatars.chunks"].find())


def stored_image(user) -> tuple[Image.Image, bytes, dict]:
    record = Avatar._get_collection().find_one({"user": user.id})
    parts = sorted(get_db()["avatars.chunks"].find({"files_id": record["file"]}), key=lambda c: c["n"])
    content = b"".join(c["data"] for c in parts)
    return Image.open(io.BytesIO(content)), content, record


def assert_no_avatar_left(*user_ids) -> None:
    ids = [u.id for u in user_ids]
    assert Avatar._get_collection().count_documents({"user": {"$in": ids}}) == 0
    assert files() == [] and chunks() == []


# --- Upload: decoding decides, metadata goes --------------------------------------------------
def test_upload_answers_the_contract_and_sets_avatar_url(client_for, user):
    client = client_for(user)
    assert client.get(f"/users/{user.id}").json()["avatar_url"] is None
    r = put(client, user, jpeg_with_gps())
    assert r.status_code == 200, r.content
    assert r.json() == {"message": "Image uploaded successfully", "avatar_url": f"http://testserver/users/{user.id}/avatar"}
    assert "password" not in r.content.decode()
    assert User.objects.get(id=user.id).has_avatar is True
    assert client.get(f"/users/{user.id}").json()["avatar_url"] == f"http://testserver/users/{user.id}/avatar"


def test_jpeg_loses_exif_gps_comment_xmp_and_icc(client_for, user):
    original = Image.open(io.BytesIO(jpeg_with_gps()))
    assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test image really has GPS
    assert put(client_for(user), user, jpeg_with_gps()).status_code == 200
    image, content, record = stored_image(user)
    assert image.format == "JPEG" and record["content_type"] == "image/jpeg"
    assert len(image.getexif()) == 0 and not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert not {"exif", "xmp", "comment", "icc_profile"} & set(image.info)
    assert b"Exif" not in content and b"SecretCam" not in content and SECRET.encode() not in content


def test_orientation_is_applied_to_the_pixels_before_the_exif_goes(client_for, user):
    # Orientation 6: stored 40x20, shown rotated a quarter turn clockwise (20x40, red on top).
    assert put(client_for(user), user, jpeg_with_gps(size=(40, 20), orientation=6)).status_code == 200
    image, _, record = stored_image(user)
    assert image.size == (20, 40) and (record["width"], record["height"]) == (20, 40)
    red, green, blue = image.convert("RGB").getpixel((10, 5))
    assert red > 200 and blue < 60
    red, green, blue = image.convert("RGB").getpixel((10, 35))
    assert blue > 200 and red < 60


def test_png_loses_text_chunks_and_exif_and_keeps_transparency(client_for, user):
    assert Image.open(io.BytesIO(png_with_text())).text["Author"] == SECRET
    assert put(client_for(user), user, png_with_text(), name="me.png", content_type="image/png").status_code == 200
    image, content, record = stored_image(user)
    assert image.format == "PNG" and record["content_type"] == "image/png"
    assert image.text == {} and len(image.getexif()) == 0
    assert SECRET.encode() not in content and b"tEXt" not in content and b"iTXt" not in content and b"eXIf" not in content
    assert image.mode == "RGBA" and image.getpixel((0, 0)) == (10, 20, 30, 128)


def test_palette_png_keeps_its_transparent_colour(client_for, user):
    palette = Image.new("P", (8, 8), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    assert put(client_for(user), user, encode(palette, "PNG", transparency=1), name="p.png").status_code == 200
    image, _, _ = stored_image(user)
    assert image.convert("RGBA").getpixel((0, 0))[3] == 0


def test_declared_type_and_file_name_are_ignored(client_for, user):
    # A PNG sent as "photo.jpg", image/jpeg, is stored and served as a PNG; the name is kept nowhere.
    png = encode(noise((8, 8)), "PNG")
    name = "../../etc/passwd-holiday.jpg"
    assert put(client_for(user), user, png, name=name, content_type="image/jpeg").status_code == 200
    r = client_for(user).get(url(user))
    assert r["Content-Type"] == "image/png"
    for collection in ("avatars", "avatars.files"):
        for doc in get_db()[collection].find():
            assert "passwd" not in json.dumps(doc, default=str) and doc.get("filename") is None


def test_cmyk_jpeg_is_stored_as_rgb(client_for, user):
    assert put(client_for(user), user, encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG")).status_code == 200
    image, _, _ = stored_image(user)
    assert image.mode == "RGB"


# --- Refusals: 400 in DRF's shape, 413 when too large, never a 500 -----------------------------
def assert_file_error(r) -> None:
    assert r.status_code == 400, r.content
    body = r.json()
    assert list(body) == ["file"] and isinstance(body["file"], list) and body["file"]


def test_gif_is_refused(client_for, user):
    gif = encode(Image.new("RGB", (8, 8), "red"), "GIF")
    assert_file_error(put(client_for(user), user, gif, name="me.png", content_type="image/png"))


def test_text_named_jpg_is_refused(client_for, user):
    r = put(client_for(user), user, b"this is not an image at all\n" * 10, name="me.jpg", content_type="image/jpeg")
    assert_file_error(r)
    assert "JPEG or PNG" in r.json()["file"][0]


def test_truncated_jpeg_is_refused(client_for, user):
    whole = encode(noise((64, 64)), "JPEG")
    assert_file_error(put(client_for(user), user, whole[: len(whole) // 2]))


def test_truncated_png_is_refused(client_for, user):
    whole = encode(noise((64, 64)), "PNG")
    assert_file_error(put(client_for(user), user, whole[: len(whole) // 2], name="me.png"))


def _png_with_bad_crc() -> bytes:
    good = bytearray(encode(noise((8, 8)), "PNG"))
    good[29] ^= 0xFF  # the IHDR checksum
    return bytes(good)


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xd8\xff" + b"\x00" * 100,
        b"\xff\xd8\xff\xe0" + os.urandom(2000),
        b"\x89PNG\r\n\x1a\n" + os.urandom(2000),
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"%PDF-1.4\n",
        b"BM" + os.urandom(100),
        b"\x00",
        os.urandom(4096),
        "bmp",
        "tiff",
        "webp",
        "bad-crc",
    ],
    ids=[
        "jpeg-magic-only", "jpeg-magic-junk", "png-magic-junk", "svg", "pdf", "bmp-magic",
        "one-byte", "random", "bmp", "tiff", "webp", "bad-crc",
    ],
)
def test_anything_else_is_a_400_never_a_500(client_for, user, content):
    if content == "bad-crc":
        content = _png_with_bad_crc()
    elif isinstance(content, str):
        if content == "webp" and not features.check("webp"):
            pytest.skip("this Pillow cannot write WebP")
        content = encode(Image.new("RGB", (8, 8)), content.upper())
    assert_file_error(put(client_for(user), user, content))
    assert files() == [] and chunks() == []


def test_missing_empty_or_non_file_field_is_a_400(client_for, user):
    client = client_for(user)
    assert_file_error(client.put(url(user), {}, format="multipart"))
    assert_file_error(client.put(url(user), {"image": upload(jpeg_with_gps())}, format="multipart"))
    assert_file_error(client.put(url(user), {"file": upload(b"")}, format="multipart"))
    assert_file_error(client.put(url(user), {"file": "just text"}, format="multipart"))


def test_a_json_body_is_415(client_for, user):
    r = client_for(user).put(url(user), {"file": "x"}, format="json")
    assert r.status_code == 415 and "detail" in r.json()


def test_larger_than_the_limit_is_413(client_for, user, settings):
    png = encode(noise((32, 32)), "PNG")
    settings.AVATAR_MAX_BYTES = len(png) - 1
    r = put(client_for(user), user, png, name="me.png")
    assert r.status_code == 413
    assert list(r.json()) == ["detail"] and "larger than" in r.json()["detail"]
    settings.AVATAR_MAX_BYTES = len(png)
    assert put(client_for(user), user, png, name="me.png").status_code == 200


def test_the_default_limit_is_5_mb(client_for, user):
    r = put(client_for(user), user, b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024 - 2))
    assert r.status_code == 413 and r.json() == {"detail": "The image is larger than 5 MB."}


def test_a_far_too_large_body_is_refused_before_it_is_parsed(client_for, user, monkeypatch):
    def parse(*args, **kwargs):
        raise AssertionError("the body was parsed")

    monkeypatch.setattr(MultiPartParser, "parse", parse)
    r = put(client_for(user), user, b"\0" * (6 * 1024 * 1024))
    assert r.status_code == 413 and "5 MB" in r.json()["detail"]


def test_an_oversized_body_is_refused_before_it_is_read(settings):
    settings.AVATAR_MAX_BYTES = 1000
    services.avatar_request_size_check(content_length=None)
    services.avatar_request_size_check(content_length=1000 + services.MULTIPART_OVERHEAD_BYTES)
    with pytest.raises(services.PayloadTooLarge):
        services.avatar_request_size_check(content_length=1001 + services.MULTIPART_OVERHEAD_BYTES)


def test_a_decompression_bomb_is_a_400(client_for, user):
    bomb = png_bomb()
    assert len(bomb) < 1024 * 1024  # small on the wire, 900 million pixels decoded
    r = put(client_for(user), user, bomb, name="me.png")
    assert_file_error(r)
    assert "too many pixels" in r.json()["file"][0]


def test_more_pixels_than_the_setting_is_a_400_before_decoding(client_for, user, settings):
    # 36 million pixels: under Pillow's own threshold, over the default AVATAR_MAX_PIXELS.
    r = put(client_for(user), user, png_header_only(6000, 6000), name="me.png")
    assert_file_error(r)
    assert "too many pixels" in r.json()["file"][0]
    settings.AVATAR_MAX_PIXELS = 100
    r = put(client_for(user), user, encode(noise((11, 10)), "PNG"), name="me.png")
    assert "too many pixels" in r.json()["file"][0]
    assert files() == [] and chunks() == []


def test_pillows_bomb_warning_is_refused_too():
    # Between Pillow's warning threshold and twice it, Pillow warns instead of raising.
    with pytest.warns(Image.DecompressionBombWarning), pytest.raises(ValidationError) as caught:
        services.avatar_image_clean(content=png_header_only(10_000, 10_000))
    assert "too many pixels" in caught.value.detail["file"][0]


# --- Who may: owner or admin; a stranger gets 403 before any 404 -------------------------------
@pytest.mark.parametrize("who, expected", [("owner", 200), ("other", 403), ("admin", 200), ("anonymous", 401)])
def test_put_matrix(client_for, user, other, admin, who, expected):
    caller = {"owner": user, "other": other, "admin": admin, "anonymous": None}[who]
    r = put(client_for(caller), user, jpeg_with_gps())
    assert r.status_code == expected, r.content
    assert len(files()) == (1 if expected == 200 else 0)


@pytest.mark.parametrize("who, expected", [("owner", 200), ("other", 403), ("admin", 200), ("anonymous", 401)])
def test_get_matrix(client_for, user, other, admin, who, expected):
    put(client_for(user), user, jpeg_with_gps())
    caller = {"owner": user, "other": other, "admin": admin, "anonymous": None}[who]
    assert client_for(caller).get(url(user)).status_code == expected


@pytest.mark.parametrize("who, expected", [("owner", 204), ("other", 403), ("admin", 204), ("anonymous", 401)])
def test_delete_matrix(client_for, user, other, admin, who, expected):
    put(client_for(user), user, jpeg_with_gps())
    caller = {"owner": user, "other": other, "admin": admin, "anonymous": None}[who]
    assert client_for(caller).delete(url(user)).status_code == expected
    assert len(files()) == (0 if expected == 204 else 1)


@pytest.mark.parametrize("method", ["get", "delete", "put"])
def test_a_stranger_gets_403_before_any_404(client_for, user, other, method):
    client = client_for(other)
    assert getattr(client, method)(url(user)).status_code == 403  # the user has no avatar
    assert getattr(client, method)("/users/0123456789abcdef01234567/avatar").status_code == 403  # no such user


def test_404_when_there_is_no_avatar_or_no_user(client_for, user, admin):
    client = client_for(user)
    assert client.get(url(user)).status_code == 404
    assert client.delete(url(user)).status_code == 404
    assert list(client.get(url(user)).json()) == ["detail"]
    ghost = "/users/0123456789abcdef01234567/avatar"
    assert client_for(admin).get(ghost).status_code == 404
    assert client_for(admin).put(ghost, {"file": upload(jpeg_with_gps())}, format="multipart").status_code == 404


@pytest.mark.parametrize("slash", ["", "/"])
def test_every_method_with_and_without_trailing_slash(client_for, user, slash):
    client = client_for(user)
    path = url(user) + slash
    assert client.put(path, {"file": upload(jpeg_with_gps())}, format="multipart").status_code == 200
    assert client.get(path).status_code == 200
    assert client.delete(path).status_code == 204


# --- GET: bytes, type, ETag, caching ------------------------------------------------------------
def test_get_returns_the_stored_bytes_with_type_etag_and_private_caching(client_for, user):
    client = client_for(user)
    put(client, user, png_with_text(), name="me.png")
    _, content, _ = stored_image(user)
    r = client.get(url(user))
    assert r.status_code == 200
    assert r.content == content
    assert r["Content-Type"] == "image/png"
    assert r["ETag"].startswith('"') and r["ETag"].endswith('"') and len(r["ETag"]) > 10
    assert "private" in r["Cache-Control"]
    assert "Authorization" in r["Vary"]


def test_if_none_match_gives_304_with_the_same_validators(client_for, user):
    client = client_for(user)
    put(client, user, jpeg_with_gps())
    etag = client.get(url(user))["ETag"]
    for header in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        r = client.get(url(user), HTTP_IF_NONE_MATCH=header)
        assert r.status_code == 304, header
        assert r.content == b"" and r["ETag"] == etag and "private" in r["Cache-Control"]
    assert client.get(url(user), HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def test_replacing_changes_the_etag_and_the_old_one_no_longer_matches(client_for, user):
    client = client_for(user)
    put(client, user, jpeg_with_gps())
    old = client.get(url(user))["ETag"]
    put(client, user, png_with_text(), name="me.png")
    r = client.get(url(user), HTTP_IF_NONE_MATCH=old)
    assert r.status_code == 200 and r["ETag"] != old and r["Content-Type"] == "image/png"


def test_a_304_does_not_read_the_image(client_for, user, round_trips):
    client = client_for(user)
    put(client, user, encode(noise((300, 300)), "PNG"), name="me.png")
    etag = client.get(url(user))["ETag"]
    with round_trips() as counted:
        client.get(url(user))
    full = counted.count
    with round_trips() as counted:
        client.get(url(user), HTTP_IF_NONE_MATCH=etag)
    assert counted.count <= full - 2  # neither the file document nor its chunks


def test_a_client_that_accepts_only_images_gets_the_image_and_json_errors(client_for, user, other):
    put(client_for(user), user, jpeg_with_gps())
    r = client_for(user).get(url(user), HTTP_ACCEPT="image/*")
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    denied = client_for(other).get(url(user), HTTP_ACCEPT="image/png")
    assert denied.status_code == 403 and "detail" in denied.json()


def test_head_answers_like_get(client_for, user):
    put(client_for(user), user, jpeg_with_gps())
    r = client_for(user).head(url(user))
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg" and r["ETag"]


# --- GridFS: one file per user, none left behind ------------------------------------------------
def test_replace_leaves_exactly_one_file_and_its_chunks(client_for, user):
    client = client_for(user)
    # Noise large enough for several 255 KB chunks.
    assert put(client, user, encode(noise((700, 700)), "PNG"), name="me.png").status_code == 200
    first = files()[0]["_id"]
    assert len(chunks()) > 1
    assert put(client, user, encode(noise((600, 600)), "PNG"), name="me.png").status_code == 200
    [stored] = files()
    assert stored["_id"] != first
    assert {c["files_id"] for c in chunks()} == {stored["_id"]}
    assert len(chunks()) == math.ceil(stored["length"] / stored["chunkSize"])
    assert Avatar._get_collection().count_documents({}) == 1
    assert Avatar._get_collection().find_one()["file"] == stored["_id"]


def test_a_refused_replacement_keeps_the_current_avatar(client_for, user):
    client = client_for(user)
    put(client, user, jpeg_with_gps())
    before = client.get(url(user))
    assert put(client, user, b"not an image").status_code == 400
    after = client.get(url(user))
    assert after.content == before.content and len(files()) == 1


def test_delete_leaves_nothing_and_clears_avatar_url(client_for, user):
    client = client_for(user)
    put(client, user, encode(noise((600, 600)), "PNG"), name="me.png")
    assert client.delete(url(user)).status_code == 204
    assert_no_avatar_left(user)
    assert User.objects.get(id=user.id).has_avatar is False
    assert client.get(f"/users/{user.id}").json()["avatar_url"] is None
    assert client.get(url(user)).status_code == 404
    assert client.delete(url(user)).status_code == 404


@pytest.mark.secantus_defect("findAndModify returning the document before the update is not atomic under concurrency")
def test_concurrent_replacements_leave_one_avatar_and_one_file(user):
    images = [encode(noise((200 + n, 200)), "PNG") for n in range(6)]

    def replace(content):
        return services.avatar_replace(user=user, upload=io.BytesIO(content))

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(replace, images))
    [stored] = files()
    assert Avatar._get_collection().count_documents({}) == 1
    assert {c["files_id"] for c in chunks()} == {stored["_id"]}
    assert User.objects.get(id=user.id).has_avatar is True


def test_other_users_avatars_are_untouched(client_for, user, other):
    put(client_for(user), user, jpeg_with_gps())
    put(client_for(other), other, png_with_text(), name="me.png")
    client_for(user).delete(url(user))
    [left] = files()
    assert Avatar._get_collection().find_one({"user": other.id})["file"] == left["_id"]
    assert client_for(other).get(url(other)).status_code == 200


def test_the_chain_delete_takes_the_avatar_file_and_its_chunks(client_for, user, other):
    put(client_for(user), user, encode(noise((600, 600)), "PNG"), name="me.png")
    put(client_for(other), other, jpeg_with_gps())
    r = client_for(user).delete(f"/users/delete_user/{user.id}")
    assert r.status_code == 200
    assert Avatar._get_collection().count_documents({"user": user.id}) == 0
    [left] = files()
    assert {c["files_id"] for c in chunks()} == {left["_id"]}
    assert Avatar._get_collection().find_one({"user": other.id})["file"] == left["_id"]


def test_the_trash_purge_takes_the_avatar_file_and_its_chunks(client_for, user, admin):
    put(client_for(user), user, encode(noise((600, 600)), "PNG"), name="me.png")
    staff = client_for(admin)
    assert staff.delete(f"/users/{user.id}?reason=x").status_code == 204
    assert len(files()) == 1  # the trash keeps the data until the purge
    assert staff.get(url(user)).status_code == 200
    assert staff.delete(f"/trash/{user.id}").status_code == 204
    assert_no_avatar_left(user)


def test_the_integrity_check_finds_nothing_after_replace_and_delete(client_for, user):
    client = client_for(user)
    put(client, user, jpeg_with_gps())
    put(client, user, png_with_text(), name="me.png")
    assert not any(orphans_find().values())
    client.delete(url(user))
    assert not any(orphans_find().values())


def test_the_export_includes_the_avatar_metadata(client_for, user):
    client = client_for(user)
    put(client, user, jpeg_with_gps())
    r = client.get(f"/users/{user.id}/export")
    assert r.status_code == 200
    [avatar] = r.json()["collections"]["avatars"]
    assert avatar["content_type"] == "image/jpeg" and avatar["size"] > 0 and avatar["etag"]
    assert avatar["file"]["contentType"] == "image/jpeg" and avatar["file"]["length"] == avatar["size"]
    assert "password" not in r.content.decode()
