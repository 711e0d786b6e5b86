from __future__ import annotations

import uuid
from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rapport.scheduling.models import MoveReason, Repeat, Weekday


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
            data["start"] = aware(data["day"], data["at"])
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
        ("client", _("The client")), ("practice", _("The practice"))])
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


class ProposeForm(forms.Form):
    """The therapist's other time for a session the client asked to move."""

    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    at = forms.TimeField(label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))

    def clean(self):
        data = super().clean()
        if "day" in data and "at" in data:
            data["start"] = aware(data["day"], data["at"])
        return data


def aware(day, at) -> datetime:
    """A date and a wall-clock time in the practice's time zone; a time the clocks skip is refused
    (a wall-clock time skipped by a daylight-saving change does not survive a round trip)."""
    wall = datetime.combine(day, at)
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(wall, tz)
    if timezone.make_naive(start, tz) != wall:
        raise ValidationError(_("That time does not exist on that day (the clocks change)."))
    return start


class MoveRequestForm(forms.Form):
    """The client's request to move a session: a reason from a list, and the times that suit."""

    reason = forms.ChoiceField(label=_("Why would you like to move it?"), widget=forms.RadioSelect,
                               choices=MoveReason.choices)
    times = forms.MultipleChoiceField(label=_("Times that suit you"), required=False,
                                      widget=forms.CheckboxSelectMultiple)
    day = forms.DateField(label=_("Or another date"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))
    at = forms.TimeField(label=_("and time"), required=False,
                         widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args, suggestions: list[datetime], **kwargs):
        super().__init__(*args, **kwargs)
        when = gettext("l j F, H:i")  # as the portal writes a session's time ("martes 8 de diciembre")
        self.fields["times"].choices = [
            (s.isoformat(), formats.date_format(timezone.localtime(s), when)) for s in suggestions]

    def clean(self):
        data = super().clean()
        options = [datetime.fromisoformat(t) for t in data.get("times", [])]
        if data.get("day") and data.get("at"):
            options.append(aware(data["day"], data["at"]))
        elif data.get("day") or data.get("at"):
            raise ValidationError(_("Give both a date and a time, or neither."))
        if not options:
            raise ValidationError(_("Choose at least one time that suits you, or give one."))
        if len(options) > 3:
            raise ValidationError(_("Choose at most three times."))
        data["options"] = options
        return data
