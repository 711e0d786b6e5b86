"""Webhooks: a practice's administrators subscribe URLs to events (a response stored, an alert
raised or resolved, a check-in missed); each event is delivered by a worker, signed per the
Standard Webhooks specification, with retries and a delivery log. The app reacts to the signals
of the apps below it and is imported by none of them."""
