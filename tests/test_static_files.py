"""config/static_files.py: with DEBUG off, hashed names after collectstatic, plain names before it."""
import json

from config.static_files import ManifestOrPlainStorage


def test_without_a_manifest_the_url_is_the_plain_name(tmp_path):
    storage = ManifestOrPlainStorage(location=str(tmp_path), base_url="/static/")
    assert storage.url("browsable/json-forms.js") == "/static/browsable/json-forms.js"


def test_with_a_manifest_the_url_is_the_hashed_name(tmp_path):
    (tmp_path / "staticfiles.json").write_text(json.dumps({"version": "1.1", "paths": {"a.js": "a.0123456789ab.js"}, "hash": "x"}))
    storage = ManifestOrPlainStorage(location=str(tmp_path), base_url="/static/")
    assert storage.url("a.js") == "/static/a.0123456789ab.js"
