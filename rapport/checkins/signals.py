"""Signals sent by the check-ins app.

`response_stored` is sent by `rapport.checkins.services.submission.submit` inside the transaction that
stores a response (sender=Response, response=<the new Response>). Receivers run in that
transaction: an exception rolls the response back, so keep receivers small and correct.
"""

from django.dispatch import Signal

response_stored = Signal()
