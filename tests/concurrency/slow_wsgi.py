"""The site for the worker-kill test (test_worker_kill.py), served by gunicorn.

The real application with two short pauses in each stored submission, where a killed worker
does the most harm: inside the transaction (the response written, not committed) and after
the commit (stored, the reply not yet sent). Used by that test only.
"""

import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.test_settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

from django.db import transaction  # noqa: E402

from rapport.checkins.models import Response  # noqa: E402
from rapport.checkins.signals import response_stored  # noqa: E402

# Seconds. The committed phase already takes a while (the alerts refresh runs on commit), so the
# pause inside the transaction is the longer one: a kill lands in either phase.
IN_TRANSACTION, AFTER_COMMIT = 0.08, 0.02


def pause(sender, response, **kwargs):
    time.sleep(IN_TRANSACTION)
    transaction.on_commit(lambda: time.sleep(AFTER_COMMIT))


response_stored.connect(pause, sender=Response, dispatch_uid="tests.concurrency.pause")
