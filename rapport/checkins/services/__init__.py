"""Check-in services, one module a topic: answers (and drafts), submission, schedule,
invitations, consent (and the practice's settings)."""
