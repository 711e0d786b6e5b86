from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

# Ours: a sane calendar range, so a typo (year 20260) gets a clear message instead of a date
# that the database or the date arithmetic cannot handle.
EARLIEST = date(1990, 1, 1)
LATEST = date(2100, 12, 31)


def last_twelve_months(today: date) -> tuple[date, date]:
    """The default period: the twelve months up to and including today."""
    try:
        year_ago = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        year_ago = today.replace(year=today.year - 1, day=28)
    return year_ago + timedelta(days=1), today


class PeriodForm(forms.Form):
    date_from = forms.DateField(label=_("From (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}),
                                error_messages={"required": _("Enter the first day of the period."),
                                                "invalid": _("Enter the first day as a date, like 2026-01-31.")})
    date_to = forms.DateField(label=_("To (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}),
                              error_messages={"required": _("Enter the last day of the period."),
                                              "invalid": _("Enter the last day as a date, like 2026-12-31.")})

    def clean(self):
        data = super().clean()
        for name in ("date_from", "date_to"):
            day = data.get(name)
            if day is not None and not EARLIEST <= day <= LATEST:
                self.add_error(name, _("Choose a date between %(first)s and %(last)s.") % {
                    "first": f"{EARLIEST:%Y}", "last": f"{LATEST:%Y}"})
                data.pop(name, None)
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The period starts after it ends: the first day must "
                                          "not be after the last day."))
        return data
