# syntax=docker/dockerfile:1
# The user service under granian (WSGI). Build: `docker compose build` (see docker-compose.yml).

# --- Build: the dependencies into a virtual environment (every one has a wheel: no compiler) ---
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt

# --- Run: the code, its static files, and a user that owns nothing it could rewrite ---------
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.base \
    LOG_JSON=true
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY . .
# Static files are collected at build time (WhiteNoise serves them). The key and hosts here
# exist only for this command; the running container must be given its own.
RUN SECRET_KEY=collectstatic-only-not-used-at-run-time ALLOWED_HOSTS=localhost JWT_ALGORITHM=HS256 \
    python manage.py collectstatic --noinput --verbosity 0
# Numeric, so that an orchestrator can check it is not root.
USER 10001:10001
EXPOSE 8000
# /health through Django, as a client would reach it: with a Host from ALLOWED_HOSTS, and marked
# as HTTPS so that SECURE_SSL_REDIRECT does not answer with a redirect.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; h = os.environ.get('ALLOWED_HOSTS', 'localhost').split(',')[0].strip().lstrip('.').replace('*', 'localhost') or 'localhost'; u.urlopen(u.Request('http://127.0.0.1:8000/health', headers={'Host': h, 'X-Forwarded-Proto': 'https'}), timeout=4)"]
# Granian serves the WSGI app (chosen by measurement over gunicorn's gthread worker: README,
# "Performance"), started by config/serve.py: WEB_CONCURRENCY processes (unset: one per CPU the
# container may use, measured in README "Processes"), 16 threads each (GRANIAN_BLOCKING_THREADS),
# a graceful stop on SIGTERM (requests in flight finish), prometheus-client's multiprocess folder
# emptied at each start. No access log: the service writes its own request line.
CMD ["python", "-m", "config.serve"]
