"""djsite.settings: a Django project with no database and no apps, just
the views of djsite.views behind the usual middleware (CSRF included, so
that the POST views' csrf_exempt is what lets them through)."""

SECRET_KEY = "ringlet-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "djsite.urls"
WSGI_APPLICATION = "djsite.wsgi.application"
INSTALLED_APPS = []
DATABASES = {}
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]
USE_TZ = True
DEFAULT_CHARSET = "utf-8"
LOGGING_CONFIG = None
