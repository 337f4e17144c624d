"""A WSGI app that answers after `?seconds` (tests/test_serve.py: requests in flight at SIGTERM)."""
import time


def app(environ, start_response):
    time.sleep(float(environ.get("QUERY_STRING") or 0))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"done\n"]
