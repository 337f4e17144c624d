"""Settings for every environment, read from the environment or `.env` (see README, "Settings").

With DEBUG off (the default), SECRET_KEY and ALLOWED_HOSTS must be set: the process refuses to
start otherwise, so a production deployment cannot run on a development key by accident.
"""
import ipaddress
import logging
import urllib.parse
import warnings
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import BASE_DIR, env
from config.secret_key import key_generate_pem, kept_in_file, secret_key_from_file

# --- Core -------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)

# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
if DEBUG:
    # Never a constant: a random key made once and kept in a git-ignored file (config/secret_key.py).
    SECRET_KEY = env("SECRET_KEY", default="") or secret_key_from_file(
        Path(env("SECRET_KEY_FILE", default=str(BASE_DIR / ".secret_key")))
    )
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
else:
    try:
        SECRET_KEY = env("SECRET_KEY")
        ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(
            f"{exc}. With DEBUG off, SECRET_KEY and ALLOWED_HOSTS are required "
            "(set DEBUG=true to try the service locally)."
        ) from exc

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

INSTALLED_APPS = [
    # contenttypes and auth are imported by simplejwt; their tables are never used.
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    # For its `embedded_db` command (config/management/commands/); it has no models.
    "config",
    "accounts",
    "profiles",
]

# Modules whose `user_fields()` declare fields of the user document that another app keeps
# (accounts/users/documents.py `user_fields_contributed`; README "How it is built"), in this
# order after `User`'s own. Code, not a deployment setting: it follows INSTALLED_APPS.
USER_FIELD_MODULES = ["accounts.mfa.passkeys.user_fields", "profiles.user_fields"]

MIDDLEWARE = [
    # First: counts and times every request, whatever answers it (config/metrics.py).
    "config.metrics.RequestMetricsMiddleware",
    "config.logging.RequestIdMiddleware",
    # `Cache-Control: no-store` on every answer that sets no caching of its own (config/caching.py).
    "config.caching.NoStoreMiddleware",
    # The base URL a request reached: the tokens' `iss` when JWT_ISSUER is unset.
    "accounts.sessions.keys.IssuerMiddleware",
    # Before anything that can answer on its own, so a preflight or an error still carries CORS.
    "corsheaders.middleware.CorsMiddleware",
    # Before anything reads the body or the query string (config/request_guard.py).
    "config.request_guard.CharsetGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves /static/ (Swagger UI, ReDoc, the browsable API) under granian, with no web server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Only Django views (the browser login page) rely on it: DRF's views are csrf_exempt, and
    # accounts.sessions.authentication.CookieJWTAuthentication runs the same check itself.
    # Before the CSRF check reads a form: a body past DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 unread.
    "config.request_guard.BodySizeGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Our own pages outside any app (config/templates: the ReDoc page without web fonts), the
        # mails, kept with the email capability (accounts/emails/templates/email/), and the
        # passkeys page, kept with the passkeys (accounts/mfa/passkeys/templates/passkeys/).
        "DIRS": [
            BASE_DIR / "config" / "templates",
            BASE_DIR / "accounts" / "emails" / "templates",
            BASE_DIR / "accounts" / "mfa" / "passkeys" / "templates",
        ],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# No SQL database: every document lives in MongoDB (see config/mongo.py).
DATABASES: dict = {}

# Paths answer with and without a trailing slash (the routers say so), never by redirect.
APPEND_SLASH = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The browsable API's own script (config/static/browsable/).
# config/static: the browsable API's scripts; the passkeys' page script stays with the passkeys.
STATICFILES_DIRS = [BASE_DIR / "config" / "static", BASE_DIR / "accounts" / "mfa" / "passkeys" / "static"]
# https://whitenoise.readthedocs.io/en/stable/django.html : with DEBUG off and `manage.py
# collectstatic` run (the Dockerfile and the README's recipe do), hashed and compressed files,
# cached for ever. Decision: without it (a recipe that skipped the step) the pages use the files'
# plain names, served by WhiteNoise from the apps' folders, never a 500 for a missing manifest
# entry (config/static_files.py); config/startup.py says so in the log. With DEBUG, plain names
# always. Decided from the environment here, not from settings.DEBUG at start-up, which the test
# runner turns off.
STATIC_COLLECTED = not DEBUG and (STATIC_ROOT / "staticfiles.json").is_file()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG else "config.static_files.ManifestOrPlainStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_COLLECTED
# Without collectstatic, STATIC_ROOT does not exist, which is expected (above), not worth a warning.
warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
WHITENOISE_AUTOREFRESH = DEBUG

# --- MongoDB ----------------------------------------------------------------------------------
# Unset: the embedded database, one local SecantusDB server shared by every process of this
# project, its data in EMBEDDED_MONGODB_DIR, kept across restarts (config/embedded_mongodb.py).
MONGODB_URI = env("MONGODB_URI", default="")
# The database used when the URI names none; several services can share one server this way.
MONGODB_DB = env("MONGODB_DB", default="user_service")
EMBEDDED_MONGODB_PORT = env.int("EMBEDDED_MONGODB_PORT", default=27117)
EMBEDDED_MONGODB_DIR = env("EMBEDDED_MONGODB_DIR", default=str(BASE_DIR / ".data" / "mongodb"))
# Dotted path of an in-process client class used instead of any server (the tests: mongomock).
MONGODB_CLIENT_CLASS = ""
# Bounded waits (config/mongo.py), so a frozen or lost database costs a request seconds, never its
# thread: opening a connection, finding a server to talk to, one reply on an open connection,
# and waiting for a free pooled connection. Milliseconds.
MONGODB_CONNECT_TIMEOUT_MS = env.int("MONGODB_CONNECT_TIMEOUT_MS", default=2000)
MONGODB_SERVER_SELECTION_TIMEOUT_MS = env.int("MONGODB_SERVER_SELECTION_TIMEOUT_MS", default=3000)
MONGODB_SOCKET_TIMEOUT_MS = env.int("MONGODB_SOCKET_TIMEOUT_MS", default=5000)
MONGODB_WAIT_QUEUE_TIMEOUT_MS = env.int("MONGODB_WAIT_QUEUE_TIMEOUT_MS", default=2000)
# Replies read by blocking sockets, MONGODB_SOCKET_TIMEOUT_MS kept by the kernel: half the
# context switches of a request (config/mongo_reads.py). Off: pymongo's own reads.
MONGODB_BLOCKING_READS = env.bool("MONGODB_BLOCKING_READS", default=True)
# Acknowledged means durable (config/mongo.py): every write waits for the journal (`j: true`),
# and for a majority of the replica set when the URI names one. `w=`/`journal=` in MONGODB_URI win.
# The embedded server commits with an fsync of its log (`--sync-on-commit`).
MONGODB_DURABLE_WRITES = env.bool("MONGODB_DURABLE_WRITES", default=True)

# --- No process cache. Rate limits, the lock-out and every other state shared between requests
# live in MongoDB, which every process shares (common/throttling.py): nothing may depend on a
# per-process cache, so Django's is a dummy that keeps nothing.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}

# --- Passwords (OWASP Password Storage Cheat Sheet: Argon2id first) --------------------------
PASSWORD_HASHERS = [
    # Argon2id with the parameters below, hashed at low CPU priority (accounts/users/hashers.py).
    "accounts.users.hashers.LowPriorityArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "accounts.users.hashers.LegacyBcryptPasswordHasher",
]
# Argon2id's parameters, chosen by measurement (README "Performance", bench/hashcheck.py --grid):
# of OWASP's five equivalent minimums, 12 MiB with 3 passes and 1 lane costs ~23 ms of CPU a hash
# here (19 MiB with 2 passes ~25-31 ms), so a core does more than Keycloak's planned 15 logins a
# second, and four hashes at once hold 48 MiB. A stored hash with other parameters is re-hashed
# with these at its owner's next login. `manage.py check` warns below OWASP's floor.
PASSWORD_ARGON2_TIME_COST = env.int("PASSWORD_ARGON2_TIME_COST", default=3)
PASSWORD_ARGON2_MEMORY_KIB = env.int("PASSWORD_ARGON2_MEMORY_KIB", default=12288)
PASSWORD_ARGON2_PARALLELISM = env.int("PASSWORD_ARGON2_PARALLELISM", default=1)
# Hashes run at once (more wait their turn) and their niceness (0-19; 19 yields the most). The
# memory hashing can hold is bounded by PASSWORD_HASHING_THREADS x PASSWORD_ARGON2_MEMORY_KIB.
PASSWORD_HASHING_THREADS = env.int("PASSWORD_HASHING_THREADS", default=4)
PASSWORD_HASHING_NICE = env.int("PASSWORD_HASHING_NICE", default=19)
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "email")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Django REST Framework --------------------------------------------------------------------
REST_FRAMEWORK = {
    # Bearer first; then the browser login's cookie (accounts/browser/), CSRF-checked.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.sessions.authentication.MongoJWTAuthentication",
        "accounts.sessions.authentication.CookieJWTAuthentication",
    ],
    # Closed by default: an endpoint opens itself up on purpose.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        # DRF's, with forms where it would show a 405, in the service's words (common/browsable.py).
        "common.browsable.ServiceBrowsableAPIRenderer",
    ],
    # DRF's, answering a request that states no preference without the full negotiation (common/negotiation.py).
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "common.negotiation.ContentNegotiation",
    "VIEW_NAME_FUNCTION": "common.browsable.view_name",
    "VIEW_DESCRIPTION_FUNCTION": "common.browsable.view_description",
    "UNAUTHENTICATED_USER": None,
    # JSON in and out; the avatar upload alone accepts multipart (API.md, "Conventions").
    "DEFAULT_PARSER_CLASSES": ["config.parsers.UnicodeJSONParser"],
    "EXCEPTION_HANDLER": "config.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "login": env("THROTTLE_LOGIN", default="20/min"),
        "register": env("THROTTLE_REGISTER", default="10/min"),
        "token": env("THROTTLE_TOKEN", default="60/min"),
        # PATCH /users/{id} naming a username or email, per caller (accounts/users/throttles.py).
        "identity_change": env("THROTTLE_IDENTITY_CHANGE", default="20/hour"),
        # Tokens from emails (verify, reset confirm), per client address: guessing is hopeless.
        "email_token": env("THROTTLE_EMAIL_TOKEN", default="10/min"),
        # Reset requests per client address, and verification resends per user.
        "password_reset": env("THROTTLE_PASSWORD_RESET", default="5/min"),
        "email_resend": env("THROTTLE_EMAIL_RESEND", default="5/hour"),
        # Requests that ask for the person again (password change, TOTP on/off, recovery codes) or
        # confirm an enrolment, per caller (accounts/users/throttles.py ReauthThrottle).
        "reauth": env("THROTTLE_REAUTH", default="20/hour"),
    },
}

# --- JSON Web Tokens (simplejwt) ---------------------------------------------------------------
# How tokens are signed (accounts/sessions/keys.py): ES256 (default, measured: README "Integrating
# other services"), EdDSA or RS256 with JWT_SIGNING_KEYS, published at /.well-known/jwks.json;
# HS256 with the shared secret JWT_SIGNING_KEY, for one service alone.
JWT_ALGORITHM = env("JWT_ALGORITHM", default="ES256")
if JWT_ALGORITHM not in ("ES256", "EdDSA", "RS256", "HS256"):
    raise ImproperlyConfigured("JWT_ALGORITHM must be ES256, EdDSA, RS256 or HS256.")
# PEM blocks or a JSON Web Key Set: the first key signs, every key verifies (rotation: put the new
# key first, keep the old one until its tokens expired). Or a file holding the same.
JWT_SIGNING_KEYS = env("JWT_SIGNING_KEYS", default="")
if not JWT_SIGNING_KEYS and env("JWT_SIGNING_KEYS_FILE", default=""):
    JWT_SIGNING_KEYS = Path(env("JWT_SIGNING_KEYS_FILE")).read_text()
if not JWT_SIGNING_KEYS and JWT_ALGORITHM != "HS256":
    if not DEBUG:
        raise ImproperlyConfigured(
            f"JWT_SIGNING_KEYS is required with DEBUG off and JWT_ALGORITHM={JWT_ALGORITHM} (README, "
            '"Integrating other services", says how to make one), or set JWT_ALGORITHM=HS256.'
        )
    # Never in the source: a key made once and kept in a git-ignored file (config/secret_key.py).
    JWT_SIGNING_KEYS = kept_in_file(
        Path(env("JWT_KEY_FILE", default=str(BASE_DIR / ".jwt_signing_key.pem"))), lambda: key_generate_pem(JWT_ALGORITHM)
    )
# `iss`: the service's public base URL; unset (development), the base URL the request reached.
JWT_ISSUER = env("JWT_ISSUER", default="").rstrip("/")
# `aud`: who the access tokens are for (the resource servers check it); empty: no `aud` claim.
JWT_AUDIENCE = env("JWT_AUDIENCE", default="user-service")
# Seconds of clock skew tolerated between the host that issued a token and the one checking it
# (its `exp`, and PyJWT's `iat`/`nbf` checks): a token from a host 5 s ahead is still valid here.
JWT_LEEWAY_SECONDS = env.int("JWT_LEEWAY_SECONDS", default=10)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("ACCESS_TOKEN_MINUTES", default=5)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("REFRESH_TOKEN_DAYS", default=1)),
    "ALGORITHM": JWT_ALGORITHM,
    # The HS256 secret (JWT_ALGORITHM=HS256 only); the asymmetric keys are JWT_SIGNING_KEYS.
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
    "LEEWAY": JWT_LEEWAY_SECONDS,
}

# --- Login brute-force protection (counted in MongoDB so it holds across processes) ----------
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=300)
# Per client address the limit is higher: many people may share one address.
LOGIN_FAILURE_LIMIT_PER_IP = env.int("LOGIN_FAILURE_LIMIT_PER_IP", default=50)
# From all addresses together an account may fail this often before it is locked for everybody
# (accounts/users/lockout.py: LOGIN_FAILURE_LIMIT counts per account and address).
LOGIN_FAILURE_LIMIT_PER_ACCOUNT = env.int("LOGIN_FAILURE_LIMIT_PER_ACCOUNT", default=100)
# Behind a proxy, the number of proxies whose X-Forwarded-For entries are trusted; 0: none, the
# socket's address is the client's (common/client_ip.py; our throttles use it).
NUM_PROXIES = max(0, env.int("NUM_PROXIES", default=0))
REST_FRAMEWORK["NUM_PROXIES"] = NUM_PROXIES

# --- Sessions (accounts/sessions/services.py) ------------------------------------------------
# Live sessions (logins) a user may have; a login past it ends the oldest. Their ids ride on the
# user document that every request loads, so the list is kept short.
SESSIONS_MAX_PER_USER = env.int("SESSIONS_MAX_PER_USER", default=50)

# --- Two-factor login (accounts/mfa/two_factor.py) -----------------------------------------------
# Fernet keys (`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`)
# that encrypt TOTP secrets at rest, comma-separated: the first encrypts, all decrypt, so a key is
# rotated by putting the new one first. Unset: one key derived from SECRET_KEY (a salted HMAC, as
# Django derives its own keys); set it in production so SECRET_KEY can change on its own.
MFA_ENCRYPTION_KEYS = env.list("MFA_ENCRYPTION_KEYS", default=[])
# How long the mfa_token of a password-checked login waits for its second factor.
MFA_TOKEN_SECONDS = env.int("MFA_TOKEN_SECONDS", default=300)
# Codes a pending TOTP enrolment takes before its secret is dropped (start again, with the password).
MFA_ENROL_CONFIRM_ATTEMPTS = env.int("MFA_ENROL_CONFIRM_ATTEMPTS", default=5)
# Wrong second-factor codes an account may receive in 24 hours from all addresses together; past
# it the second step is a 429 until the window ends or a password reset (accounts/mfa/guess_cap.py).
MFA_FAILURE_LIMIT_PER_DAY = env.int("MFA_FAILURE_LIMIT_PER_DAY", default=30)
# The name an authenticator app shows beside the account.
MFA_TOTP_ISSUER = env("MFA_TOTP_ISSUER", default="User service")

# --- Passkeys (WebAuthn; accounts/mfa/passkeys) ------------------------------------------------
# The relying party: the domain the passkeys are made for (no scheme, no port). Browsers accept a
# ceremony only on a page whose host is this domain or under it, so a passkey made for
# example.com works on app.example.com and api.example.com alike. It cannot change later without
# every passkey becoming useless. An IP address is not a valid one; use localhost locally.
WEBAUTHN_RP_ID = env("WEBAUTHN_RP_ID", default="localhost")
# The name authenticators show for the service.
WEBAUTHN_RP_NAME = env("WEBAUTHN_RP_NAME", default="User service")
# The origins (scheme://host[:port]) of the pages that run the ceremonies, comma-separated: the
# browser writes the page's origin into what the authenticator signs, and an assertion from any
# other origin is refused. When the web app (https://app.example.com) calls the API
# (https://api.example.com), list the app's origin here (and in CORS_ALLOWED_ORIGINS), with
# WEBAUTHN_RP_ID=example.com; add the API's own origin if its browser login page is used too.
WEBAUTHN_ORIGINS = env.list("WEBAUTHN_ORIGINS", default=["http://localhost:8000"])
# Attestation asked of authenticators: `none` (the default; any authenticator, nothing about it
# is kept but its model id) or `direct` (its statement is verified against the known roots).
WEBAUTHN_ATTESTATION = env("WEBAUTHN_ATTESTATION", default="none")
if WEBAUTHN_ATTESTATION not in ("none", "direct"):
    raise ImproperlyConfigured("WEBAUTHN_ATTESTATION is none or direct.")
# How long a ceremony's challenge waits for its answer (it is used once in any case).
WEBAUTHN_CHALLENGE_SECONDS = env.int("WEBAUTHN_CHALLENGE_SECONDS", default=300)

# --- Avatars ----------------------------------------------------------------------------------
AVATAR_MAX_BYTES = env.int("AVATAR_MAX_BYTES", default=5 * 1024 * 1024)
# Pixels an upload may declare (a PNG is decoded at full size: 4 bytes a pixel for RGBA).
AVATAR_MAX_PIXELS = env.int("AVATAR_MAX_PIXELS", default=16_000_000)
# Avatars are stored downscaled to fit this edge; JPEGs are decoded at reduced size to match.
AVATAR_MAX_EDGE = env.int("AVATAR_MAX_EDGE", default=1024)
# Images decoded at once per process, and how long an upload waits for its turn (then 503).
AVATAR_MAX_CONCURRENT = env.int("AVATAR_MAX_CONCURRENT", default=2)
AVATAR_QUEUE_SECONDS = env.float("AVATAR_QUEUE_SECONDS", default=10.0)
DATA_UPLOAD_MAX_MEMORY_SIZE = AVATAR_MAX_BYTES + 1024 * 1024

# --- Email (README, "Email") -------------------------------------------------------------------
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-email-url :
# smtp://user:password@host:587, smtp+tls://..., smtps://... (SSL), consolemail:// (print).
# DEBUG prints mail to the console by default; otherwise Django's default, SMTP on localhost:25.
EMAIL_URL = env("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
vars().update({key: value for key, value in env.email_url_config(EMAIL_URL).items() if value is not None})
if EMAIL_URL.startswith("filemail:"):
    # A file URL's path, as RFC 8089 reads it: `filemail:///var/mail/service` is /var/mail/service
    # (django-environ drops the leading slash and would write to var/mail/service under the working
    # directory); four slashes mean the same. `filemail://` alone is refused.
    _mail_path = urllib.parse.urlsplit(EMAIL_URL)
    if not _mail_path.path.strip("/") or _mail_path.netloc:
        raise ImproperlyConfigured("EMAIL_URL=filemail:///absolute/folder names the folder mails are written to.")
    EMAIL_FILE_PATH = "/" + _mail_path.path.lstrip("/")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="User service <no-reply@localhost>")
# Seconds a connection to the mail server may block; mail is sent off the request, so a slow
# server delays only the mail, and the sender gives up (and logs it) after this.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# `none`: no verification; `optional`: mailed, not required; `mandatory`: no login until verified.
EMAIL_VERIFICATION = env("EMAIL_VERIFICATION", default="optional")
if EMAIL_VERIFICATION not in ("none", "optional", "mandatory"):
    raise ImproperlyConfigured("EMAIL_VERIFICATION must be none, optional or mandatory.")
EMAIL_VERIFICATION_HOURS = env.int("EMAIL_VERIFICATION_HOURS", default=72)
PASSWORD_RESET_MINUTES = env.int("PASSWORD_RESET_MINUTES", default=60)
# Reset mails one account may receive per hour, however many requests name it.
PASSWORD_RESET_MAILS_PER_HOUR = env.int("PASSWORD_RESET_MAILS_PER_HOUR", default=5)
# The links in the mails: the front end's pages, which POST the token to the API. `{token}` is
# replaced by the token (URL-safe base64).
EMAIL_VERIFY_URL = env("EMAIL_VERIFY_URL", default="http://localhost:8000/auth/email/verify?token={token}")
PASSWORD_RESET_URL = env("PASSWORD_RESET_URL", default="http://localhost:8000/auth/password/reset/confirm?token={token}")
for _name in ("EMAIL_VERIFY_URL", "PASSWORD_RESET_URL"):
    if "{token}" not in vars()[_name]:
        raise ImproperlyConfigured(f"{_name} must contain {{token}}.")
# A folder whose templates (email/*.txt, email/*.html) replace the shipped ones.
EMAIL_TEMPLATES_DIR = env("EMAIL_TEMPLATES_DIR", default="")
if EMAIL_TEMPLATES_DIR:
    TEMPLATES[0]["DIRS"].insert(0, EMAIL_TEMPLATES_DIR)

# --- The outbox and webhooks (accounts/events/; README "Integrating other services") -----------
# `manage.py check_integrity` leaves alone what began less than this long ago (a sign-up's jobs
# before its user, a chain delete or trash move still running): it may be a write on its way,
# not one a crash cut short. `--grace` overrides it for one run.
INTEGRITY_GRACE_SECONDS = env.int("INTEGRITY_GRACE_SECONDS", default=60)

# Worker threads in each server process (0 when `manage.py outbox` runs elsewhere), how often an
# idle worker looks for due jobs, and how long a claimed job is held before another worker may
# take it up (a worker that died).
OUTBOX_WORKERS_IN_PROCESS = env.int("OUTBOX_WORKERS_IN_PROCESS", default=1)
OUTBOX_POLL_SECONDS = env.float("OUTBOX_POLL_SECONDS", default=1.0)
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=30)
# Seconds to wait after each failed attempt; when they run out the job is failed (a dead letter).
# The default: the third attempt within 70 s, the last about 27.6 hours after the first.
OUTBOX_RETRY_DELAYS = [int(s) for s in env.list("OUTBOX_RETRY_DELAYS", default=["5", "60", "300", "1800", "7200", "18000", "36000", "36000"])]
# A job whose cause is not visible yet (a sign-up's mail written before the user) is looked at
# again every OUTBOX_DEFER_SECONDS, and cancelled after the grace (the change never happened).
OUTBOX_DEFER_SECONDS = env.int("OUTBOX_DEFER_SECONDS", default=5)
if OUTBOX_DEFER_SECONDS < 1:  # 0 would have a worker claim the same deferred job again at once, in a busy loop
    raise ImproperlyConfigured("OUTBOX_DEFER_SECONDS must be 1 or more (seconds before a deferred job is looked at again).")
OUTBOX_CAUSE_GRACE_SECONDS = env.int("OUTBOX_CAUSE_GRACE_SECONDS", default=600)
# Webhook URLs on loopback, private, link-local or reserved addresses are refused (SSRF) unless this is on.
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=False)
# Seconds a receiver may take to answer one delivery.
WEBHOOKS_TIMEOUT_SECONDS = env.int("WEBHOOKS_TIMEOUT_SECONDS", default=10)

# --- OpenAPI (drf-spectacular), assets served locally by the sidecar --------------------------
SPECTACULAR_SETTINGS = {
    "TITLE": "User service",
    "DESCRIPTION": "Users, JWTs, linked ids, details, avatars and the chain delete, on MongoDB.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    # Bearer alone: API clients (and Swagger UI's "Authorize") send `Authorization: Bearer`. The
    # browser login's cookie is for the browsable API and stays out of the schema.
    "AUTHENTICATION_WHITELIST": ["accounts.sessions.authentication.MongoJWTAuthentication"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.openapi.paths_without_trailing_slash",
        "config.openapi.unsupported_media_type",
        "config.openapi.typed_validation_errors",
        "config.openapi.status_descriptions",
        "config.openapi.parameter_descriptions",
    ],
}

# --- Cross-origin requests (django-cors-headers) ----------------------------------------------
# Closed by default: no origin may call the API from a browser page of another origin until it is
# listed here (scheme://host[:port], comma-separated; `*` is refused by the check below).
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
if "*" in CORS_ALLOWED_ORIGINS or "null" in CORS_ALLOWED_ORIGINS:
    raise ImproperlyConfigured("CORS_ALLOWED_ORIGINS lists origins (https://app.example.com), never * or null.")
CORS_ALLOW_ALL_ORIGINS = False
# Bearer tokens need no credentials mode; cookies do. When on, only listed origins ever get
# Access-Control-Allow-Credentials (django-cors-headers never sends it with a wildcard).
CORS_ALLOW_CREDENTIALS = env.bool("CORS_ALLOW_CREDENTIALS", default=False)
# What a page's script may read besides the simple headers.
CORS_EXPOSE_HEADERS = ["X-Request-ID", "ETag", "Retry-After", "Content-Disposition"]
CORS_PREFLIGHT_MAX_AGE = 600

# --- Security headers (on whenever DEBUG is off) ----------------------------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# The load balancer's or the container's health check speaks plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health/?$", r"^ready/?$"]
# Origins (scheme://host) allowed to POST forms when a proxy rewrites the Host header.
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# What a 500's report (the DEBUG page included) may show: no secret, DEBUG or not (config/error_reports.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.error_reports.SecretsHiddenReporterFilter"

# --- Operations: /metrics (config/metrics.py) and tracing (config/tracing.py) ------------------
# Who may read /metrics: clients in these networks (the address as NUM_PROXIES trusts it), or any
# client sending `Authorization: Bearer <METRICS_TOKEN>` when that is set.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
try:
    METRICS_ALLOWED_NETWORKS = [
        ipaddress.ip_network(network.strip(), strict=False)
        for network in env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
        if network.strip()
    ]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS lists networks such as 10.0.0.0/8: {exc}") from exc

# --- Logging: one line per request, JSON by setting, never a secret ---------------------------
LOG_JSON = env.bool("LOG_JSON", default=False)
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
# Lines are written by a thread of their own, not the request's (config/logging.py's
# BackgroundStreamHandler: 17% of a signed-in read's CPU when written in the request).
LOG_BACKGROUND = env.bool("LOG_BACKGROUND", default=True)


def _not_below_info(level: str) -> int:
    number = int(level) if level.isdigit() else logging.getLevelName(level.upper())
    return max(logging.INFO, number if isinstance(number, int) else logging.INFO)


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "config.logging.RequestIdFilter"},
        "no_request_object": {"()": "config.logging.DropRequestObjectFilter"},
        # Client-written text (paths, user agents, reasons, names) cannot forge a log line.
        "escape_control": {"()": "config.logging.EscapeControlFilter"},
    },
    "formatters": {
        "plain": {"()": "config.logging.PlainFormatter", "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
        },
    },
    "handlers": {
        "null": {"class": "logging.NullHandler"},
        "console": {
            "class": "config.logging.BackgroundStreamHandler" if LOG_BACKGROUND else "logging.StreamHandler",
            "formatter": "json" if LOG_JSON else "plain",
            "filters": ["request_id", "no_request_object", "escape_control"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own loggers write through our handler only (its defaults add another console
        # handler and, with DEBUG off, mail_admins, which would send request data by email).
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # Our request log replaces runserver's own, which would log each request a second time.
        # A NullHandler, not an empty list: a logger with no handler at all hands its warnings
        # (runserver logs every 4xx as one) to Python's last-resort handler, i.e. to stderr.
        "django.server": {"handlers": ["null"], "propagate": False},
        # 5xx only (4xx are in the request log): path and traceback, never headers or body.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # pymongo logs every command and reply at DEBUG, password hashes and tokens included:
        # never below INFO, whatever LOG_LEVEL says (tests/test_logging.py checks at DEBUG).
        **{name: {"level": _not_below_info(LOG_LEVEL)} for name in ("pymongo", "pymongo.command", "pymongo.connection", "pymongo.serverSelection", "pymongo.topology")},
        # Authlib logs a PKCE code_verifier at DEBUG (accounts/providers): never below INFO either.
        "authlib": {"level": _not_below_info(LOG_LEVEL)},
    },
}

# --- First admin, created at start-up when none exists (like Keycloak's variables) -----------
ADMIN_USERNAME = env("ADMIN_USERNAME", default="")
ADMIN_EMAIL = env("ADMIN_EMAIL", default="")
ADMIN_PASSWORD = env("ADMIN_PASSWORD", default="")

# --- Sign-in with OpenID Connect providers (accounts/providers; README "Sign in with an identity provider")
# The providers, as JSON: [{"id", "name", "issuer", "client_id", "client_secret", "scopes"?}].
# Each issuer's discovery document (<issuer>/.well-known/openid-configuration) is read.
OIDC_PROVIDERS = env.json("OIDC_PROVIDERS", default=[])
# The base URL of the callbacks registered at providers (<base>/auth/providers/<id>/callback);
# unset: the URL the request reached (development). Set it behind a proxy.
OIDC_REDIRECT_BASE_URL = env("OIDC_REDIRECT_BASE_URL", default="")
# Where the callback may send a browser with tokens besides this site's own paths (origins).
OIDC_ALLOWED_NEXT_ORIGINS = env.list("OIDC_ALLOWED_NEXT_ORIGINS", default=[])
# Where the callback sends the browser when the redirect named no `next` (the browsable API).
OIDC_DEFAULT_NEXT = env("OIDC_DEFAULT_NEXT", default="/users/me")
# How long a process keeps a provider's discovery document and JWKS (per process: README).
OIDC_METADATA_TTL_SECONDS = env.int("OIDC_METADATA_TTL_SECONDS", default=3600)
# Seconds a request to a provider may take before the sign-in is a 502.
OIDC_HTTP_TIMEOUT_SECONDS = env.int("OIDC_HTTP_TIMEOUT_SECONDS", default=10)
# Clock skew allowed when checking an id token's exp and iat.
OIDC_CLOCK_LEEWAY_SECONDS = env.int("OIDC_CLOCK_LEEWAY_SECONDS", default=60)
