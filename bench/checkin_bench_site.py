"""Settings for the check-in load benchmark only (bench/bench_checkin_load.py).

The normal site, with the URLconf in checkin_bench_urls.py, which adds the floor view.
Never used outside the benchmark.
"""

import os

os.environ.setdefault("RAPPORT_MODE", "test")

from rapport.settings import *  # noqa: E402, F403

ROOT_URLCONF = "checkin_bench_urls"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
