"""The client's intake in the portal: consent, how to reach them, times that suit them, what they
hope for (a first goal proposal) and, to answer next, the C-NIP (their cultural and treatment
preferences, from the instrument library).

The form can be sent again to change preferences and times; the goal and the C-NIP check-in are
made only the first time, so a resent form creates neither twice.
"""

from __future__ import annotations

from datetime import time
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from rapport.audit.services import record
from rapport.care.models import CareEpisode, Channel, Client, EpisodeStatus
from rapport.checkins.models import CheckIn, Respondent, When
from rapport.checkins.services.consent import accept_statement
from rapport.goals.models import Side
from rapport.goals.services import TITLE_MAX, propose_goal
from rapport.scheduling.models import Availability, Weekday

PREFERENCES = "cnip"  # Cultural (and treatment) preferences: rapport/instruments/library/cnip.json
PARTS = {  # parts of the day a client can tick: (as in "Monday mornings", from, until)
    "morning": (_("mornings"), time(8), time(12)),
    "afternoon": (_("afternoons"), time(12), time(17)),
    "evening": (_("evenings"), time(17), time(21)),
}
# Translators: a day and a part of it, as in "Monday mornings" (Spanish: "lunes por la mañana").
# IANA names of places ("Europe/Madrid"), not the aliases kept for old systems ("Etc/GMT+3").
ZONES = sorted(z for z in available_timezones()
               if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/")))
SLOTS = [(f"{day.value}-{part}", format_lazy(_("{day} {part}"), day=day.label, part=label[0]))
         for day in Weekday for part, label in PARTS.items()]


class IntakeForm(forms.Form):
    accept = forms.BooleanField(label=_("I have read the confidentiality statement and agree to it"),
                                required=False)
    preferred_channel = forms.ChoiceField(label=_("How should we reach you?"), choices=Channel.choices,
                                          widget=forms.RadioSelect)
    reminders = forms.BooleanField(label=_("Remind me before sessions and check-ins"), required=False)
    time_zone = forms.ChoiceField(
        label=_("Your time zone"), required=False,
        help_text=_("Reminders never come at night where you are, and times are shown in it."),
        choices=[("", format_lazy(_("The practice's ({zone})"), zone=settings.TIME_ZONE)),
                 *[(zone, zone.replace("_", " ")) for zone in ZONES]])
    slots = forms.MultipleChoiceField(label=_("Times that suit you"), choices=SLOTS, required=False,
                                      widget=forms.CheckboxSelectMultiple)
    hope = forms.CharField(label=_("What do you hope will change? (this becomes a first goal to agree "
                                 "with your therapist)"), required=False, max_length=TITLE_MAX,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, client: Client, needs_consent: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.client, self.needs_consent = client, needs_consent

    def clean(self):
        data = super().clean()
        if self.needs_consent and not data.get("accept"):
            self.add_error("accept", _("Please read the statement and agree to it to go on."))
        if data.get("preferred_channel") == Channel.TEXT and not self.client.phone:
            self.add_error("preferred_channel", _("We have no mobile number for you: please choose "
                                                  "email, or ask your therapist to add your number."))
        return data


def current_episode(client: Client) -> CareEpisode | None:
    return CareEpisode.objects.filter(client=client, status=EpisodeStatus.ACTIVE).order_by(
        "-started_on").first()


@transaction.atomic
def complete(request: HttpRequest, client: Client, data: dict, statement) -> None:
    client = Client.objects.select_for_update(no_key=True).get(pk=client.pk)  # one intake at a time
    first_time = client.intake_completed_at is None
    if statement is not None:
        accept_statement(client, statement, request)
    Availability.objects.filter(client=client).delete()
    for slot in data["slots"]:
        day, part = slot.split("-")
        _label, starts, ends = PARTS[part]
        Availability.objects.create(organisation=client.organisation, client=client,
                                    weekday=int(day), starts=starts, ends=ends)
    episode = current_episode(client)
    if first_time and episode is not None:
        if data["hope"].strip():
            propose_goal(episode, data["hope"], side=Side.CLIENT, request=request)
        CheckIn.objects.create(organisation=client.organisation, episode=episode, session=None,
                               when=When.BEFORE, respondent=Respondent.CLIENT,
                               instruments=[PREFERENCES])
    client.preferred_channel = data["preferred_channel"]
    client.reminders_opt_out = not data["reminders"]
    client.time_zone = data["time_zone"]
    client.intake_completed_at = client.intake_completed_at or timezone.now()
    client.save(update_fields=["preferred_channel", "reminders_opt_out", "time_zone", "intake_completed_at"])
    record(request, "portal.intake.completed" if first_time else "portal.intake.updated", client,
           client=client, actor_label=f"client:{client.code}",
           detail={"slots": len(data["slots"]), "reminders": data["reminders"],
                   "channel": data["preferred_channel"], "time_zone": data["time_zone"],
                   "goal": bool(data["hope"].strip())})


@transaction.atomic
def ask_preferences(request: HttpRequest, client: Client) -> CheckIn | None:
    """The client asks to give their preferences (C-NIP) again: their open preferences check-in,
    or a new one in their current episode; None when they have no episode yet. Audited."""
    episode = current_episode(client)
    if episode is None:
        return None
    checkin = CheckIn.objects.filter(episode=episode, respondent=Respondent.CLIENT,
                                     instruments=[PREFERENCES], completed_at__isnull=True).first()
    if checkin is None:
        checkin = CheckIn.objects.create(organisation=client.organisation, episode=episode,
                                         session=None, when=When.BEFORE,
                                         respondent=Respondent.CLIENT, instruments=[PREFERENCES])
    record(request, "portal.preferences.requested", checkin, client=client,
           actor_label=f"client:{client.code}")
    return checkin
