"""The smallest WSGI application: what gunicorn alone can serve on this machine.

bench/run.py serves it with the same gunicorn command as the service and loads it with the same
wrk command, so the table shows the ceiling that any Python code in the service is measured
against (a request the service handles can only be slower than this one).
"""

BODY = b'{"status": "ok"}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
