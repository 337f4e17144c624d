"""Run the test provider: `python -m tests.oidc_provider [--port PORT]` (0 or none: a free port).

Prints `READY <issuer>` on stdout once it accepts connections; runs until killed. Its SQLite
database lives in a temporary folder removed at exit."""
import argparse
import os
import socket
import sys
import tempfile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    port = args.port
    if not port:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    folder = tempfile.TemporaryDirectory(prefix="oidc-provider-")
    os.environ["OIDC_TEST_PROVIDER_PORT"] = str(port)
    os.environ["OIDC_TEST_PROVIDER_DB"] = os.path.join(folder.name, "provider.sqlite3")
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"

    import django

    django.setup()
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import make_server

    from django.conf import settings
    from django.core.management import call_command
    from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", verbosity=0, interactive=False)

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    httpd = make_server("127.0.0.1", port, get_wsgi_application(), server_class=Server, handler_class=WSGIRequestHandler)
    print(f"READY {settings.OAUTH2_PROVIDER['OIDC_ISS_ENDPOINT']}", flush=True)
    try:
        httpd.serve_forever()
    finally:
        folder.cleanup()


if __name__ == "__main__":
    sys.exit(main())
