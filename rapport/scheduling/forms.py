from __future__ import annotations

import uuid
from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.scheduling.models import Repeat, Weekday


def https_only(value: str) -> None:
    if value and not value.lower().startswith("https://"):
        raise ValidationError(_("A video link must start with https://."))


class WhenForm(forms.Form):
    """A date and a time in the practice's time zone, a length and a video link."""

    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    at = forms.TimeField(label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    minutes = forms.IntegerField(label=_("Length (minutes)"), min_value=10, max_value=480, initial=50)
    telehealth_url = forms.URLField(
        label=_("Video link"), required=False, max_length=500, assume_scheme="https",
        validators=[https_only], help_text=_("For a telehealth session; the client sees it in the portal."),
    )

    def clean(self):
        data = super().clean()
        if "day" in data and "at" in data:
            wall = datetime.combine(data["day"], data["at"])
            tz = timezone.get_current_timezone()
            start = timezone.make_aware(wall, tz)
            # A wall-clock time skipped by a daylight-saving change does not survive a round trip.
            if timezone.make_naive(start, tz) != wall:
                raise ValidationError(_("That time does not exist on that day (the clocks change)."))
            data["start"] = start
        return data


class BookingForm(WhenForm):
    repeat = forms.ChoiceField(label=_("Repeat"), choices=Repeat.choices, initial=Repeat.ONCE)
    count = forms.IntegerField(label=_("Number of sessions"), min_value=1, max_value=52, initial=1,
                               help_text=_("For a series: how many sessions to book."))
    key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    field_order = ["day", "at", "minutes", "repeat", "count", "telehealth_url"]

    def clean(self):
        data = super().clean()
        if data.get("repeat") == Repeat.ONCE:
            data["count"] = 1
        elif data.get("count") is not None and data["count"] < 2:
            self.add_error("count", _("A series needs at least two sessions."))
        return data


class CancelForm(forms.Form):
    by = forms.ChoiceField(label=_("Cancelled by"), widget=forms.RadioSelect, choices=[
        ("client", "The client"), ("practice", "The practice")])
    rest_of_series = forms.BooleanField(label=_("Also cancel the later sessions of this series"),
                                        required=False)


class AvailabilityForm(forms.Form):
    weekday = forms.TypedChoiceField(label=_("Day"), choices=Weekday.choices, coerce=int)
    starts = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}))
    ends = forms.TimeField(label=_("Until"), widget=forms.TimeInput(attrs={"type": "time"}))

    def clean(self):
        data = super().clean()
        if data.get("starts") and data.get("ends") and data["ends"] <= data["starts"]:
            raise ValidationError(_("“Until” must be later than “From”."))
        return data
