"""Static files with DEBUG off: hashed and compressed after `collectstatic`, plain before it.

Django's manifest storage answers every `{% static %}` of a page with a 500 ("Missing staticfiles
manifest entry") until `collectstatic` has run. Decision: a server started without it still works:
the URLs are the files' plain names, which WhiteNoise serves from the apps' folders
(`WHITENOISE_USE_FINDERS`, settings), briefly cached and uncompressed, and config/startup.py logs
that `collectstatic` was skipped. After `collectstatic` (the Dockerfile and the README's recipe run
it) this is WhiteNoise's CompressedManifestStaticFilesStorage, unchanged: hashed names, compressed,
cached for ever.
"""
from django.contrib.staticfiles.storage import StaticFilesStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage


class ManifestOrPlainStorage(CompressedManifestStaticFilesStorage):
    def url(self, name, force=False):
        if not self.hashed_files:  # no manifest: collectstatic has not run here
            return StaticFilesStorage.url(self, name)
        return super().url(name, force)
