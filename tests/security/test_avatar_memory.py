"""Issue 12, item 9: an avatar upload's memory is bounded. A lower pixel ceiling, JPEGs decoded at
reduced size (Pillow's draft), every avatar downscaled to AVATAR_MAX_EDGE, and at most
AVATAR_MAX_CONCURRENT images decoded at once per process (503 when the wait is too long)."""
import threading
import time

import pytest
from PIL import Image, JpegImagePlugin
from rest_framework.exceptions import APIException

from profiles import avatar_image as services
from profiles.tests.test_avatar import encode, noise, png_header_only, put, stored_image


def test_the_default_ceiling_refuses_the_issues_5000_by_5000_png(client_for, user):
    r = put(client_for(user), user, png_header_only(5000, 5000), name="me.png")
    assert r.status_code == 400 and "too many pixels" in r.json()["file"][0]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_large_image_is_stored_downscaled_to_the_max_edge(client_for, user, settings, fmt):
    settings.AVATAR_MAX_EDGE = 256
    assert put(client_for(user), user, encode(noise((900, 600)), fmt), name=f"me.{fmt.lower()}").status_code == 200
    image, _, record = stored_image(user)
    assert image.size == (256, 171) and (record["width"], record["height"]) == (256, 171)


def test_a_small_image_keeps_its_size(client_for, user, settings):
    settings.AVATAR_MAX_EDGE = 256
    assert put(client_for(user), user, encode(noise((120, 80)), "PNG"), name="me.png").status_code == 200
    assert stored_image(user)[0].size == (120, 80)


def test_a_jpeg_is_decoded_at_reduced_size(monkeypatch, settings):
    settings.AVATAR_MAX_EDGE = 256
    scales = []
    original = JpegImagePlugin.JpegImageFile.draft

    def draft(self, mode, size):
        result = original(self, mode, size)
        scales.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", draft)
    clean = services.avatar_image_clean(content=encode(Image.new("RGB", (4000, 3000), "teal"), "JPEG"))
    assert scales and max(scales[-1]) <= 1000  # the decoder produced an eighth, not 12 million pixels
    assert (clean.width, clean.height) == (256, 192)


def test_at_most_the_configured_number_of_images_are_decoded_at_once(settings, monkeypatch):
    settings.AVATAR_MAX_CONCURRENT = 2
    busy, peak, lock = [0], [0], threading.Lock()
    original = services._image_reduce

    def slow(*args, **kwargs):
        with lock:
            busy[0] += 1
            peak[0] = max(peak[0], busy[0])
        time.sleep(0.05)
        try:
            return original(*args, **kwargs)
        finally:
            with lock:
                busy[0] -= 1

    monkeypatch.setattr(services, "_image_reduce", slow)
    content = encode(noise((64, 64)), "PNG")
    threads = [threading.Thread(target=services.avatar_image_clean, kwargs={"content": content}) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2


def test_a_too_long_wait_for_image_work_is_a_503(client_for, user, settings):
    settings.AVATAR_MAX_CONCURRENT = 1
    settings.AVATAR_QUEUE_SECONDS = 0.05
    gate = services.image_work_slots()
    assert gate.acquire(timeout=1)
    try:
        r = put(client_for(user), user, encode(noise((64, 64)), "PNG"), name="me.png")
    finally:
        gate.release()
    assert r.status_code == 503 and "detail" in r.json() and int(r["Retry-After"]) >= 1
    assert put(client_for(user), user, encode(noise((64, 64)), "PNG"), name="me.png").status_code == 200
