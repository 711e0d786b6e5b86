from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.care.models import Attendance


class AttendanceForm(forms.Form):
    attendance = forms.ChoiceField(choices=Attendance.choices)


class ConcernsForm(forms.Form):
    presenting_concerns = forms.CharField(
        label=_("Presenting concerns"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Encrypted at rest; seen only by the treating therapist and their supervisors."),
    )
