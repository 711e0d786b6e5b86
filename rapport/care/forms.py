from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.care.models import Attendance, EpisodeStatus


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


class DischargeForm(forms.Form):
    """Ending an episode. The closing summary is asked of the treating therapist only: it is
    clinical free text written to the client (an administrator ending an episode writes none)."""

    status = forms.ChoiceField(label=_("How the episode ended"), choices=[
        (EpisodeStatus.COMPLETED, _("Completed: the work is done")),
        (EpisodeStatus.DROPPED_OUT, _("Ended early: the client stopped coming")),
        (EpisodeStatus.TRANSFERRED, _("Transferred to another service")),
    ])
    ended_on = forms.DateField(label=_("Last day of the episode"),
                               widget=forms.DateInput(attrs={"type": "date"}))
    summary = forms.CharField(
        label=_("Closing summary for the client"), max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Shown to the client in their portal and in their data download: what you "
                    "worked on, what changed, and where to turn if things get hard again. "
                    "Encrypted at rest."))
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, writes_summary: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not writes_summary:
            del self.fields["summary"]

    def clean_summary(self):
        text = self.cleaned_data["summary"].replace("\r\n", "\n").strip()
        if not text:
            raise forms.ValidationError(_("Write a few words to the client before ending."))
        return text

    def clean_ended_on(self):
        ended = self.cleaned_data["ended_on"]
        if ended > timezone.localdate():
            raise forms.ValidationError(_("The end date cannot be in the future."))
        return ended
