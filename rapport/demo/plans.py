"""What the demo generator decided: the practice's staff and one plan per client.

The generator builds them (rapport.demo.generator); each later step (goals, check-ins, alerts)
reads them, so these types live apart from both and nobody imports the generator back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from rapport.accounts.models import Organisation, User
from rapport.care.models import CareEpisode, Client, Session


@dataclass
class Staff:
    admin: User
    supervisor: User
    therapists: list[User]


@dataclass
class ClientPlan:
    """What the generator decided for one client; later steps read it."""

    client: Client
    episode: CareEpisode
    story: str
    sessions: list[Session] = field(default_factory=list)


@dataclass
class Practice:
    organisation: Organisation
    staff: Staff
    plans: list[ClientPlan]
    rng: random.Random
    today: date
