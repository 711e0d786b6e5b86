"""The WSGI application for the check-in load benchmark (settings: checkin_bench_site)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "checkin_bench_site")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
