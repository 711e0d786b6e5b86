"""Erasing a client's portal rows (see rapport.privacy.registry for the contract).

Login links are deleted whatever the policy: they exist only to reach the client. So is the
login rate limit's bucket for the client's email address (keyed by a keyed hash of it), which
would otherwise outlive the address itself. A portal session held by a browser needs nothing:
it names the client by code, and that code is gone (or replaced by a fresh one).
"""

from __future__ import annotations

from rapport.portal.models import LoginLink
from rapport.portal.services import forget_login_limits
from rapport.privacy.registry import Erased


def erase(client, *, keep_scores: bool) -> Erased:
    done = Erased()
    done.add("login_links", LoginLink.objects.filter(client=client).delete()[0])
    if client.email:
        done.add("login_limits", forget_login_limits(client.email))
    return done
