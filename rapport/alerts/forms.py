from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.alerts.models import Alert, Status

STEP_LABELS = {
    Status.ACKNOWLEDGED: _("Acknowledge: I have seen it"),
    Status.DISCUSSED: _("Discussed with the client"),
    Status.RESOLVED: _("Resolve"),
}


class StepForm(forms.Form):
    to_status = forms.ChoiceField(label=_("Next step"), widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Needed to resolve. Encrypted at rest; seen by the treating therapist and "
        "their supervisors."),
    )

    def __init__(self, *args, alert: Alert, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(s.value, STEP_LABELS[s]) for s in alert.next_statuses()]
        self.fields["to_status"].choices = choices
        if choices:
            self.fields["to_status"].initial = choices[0][0]

    def clean(self):
        data = super().clean()
        if data.get("to_status") == Status.RESOLVED and not data.get("note", "").strip():
            self.add_error("note", _("Add a note to resolve: what was done, or why nothing was needed."))
        return data


PHONE_CHARS = set("0123456789 +-().")


class UrgentSettingsForm(forms.Form):
    """Who hears about an urgent alert, when it escalates, and what a client at risk is shown."""

    duty_name = forms.CharField(label=_("Duty contact's name or role"), max_length=200, required=False)
    duty_email = forms.EmailField(label=_("Duty contact's email"), required=False,
                                  help_text=_("Emailed at once about every urgent alert, with the therapist."))
    duty_phone = forms.CharField(label=_("Duty contact's mobile number"), max_length=40, required=False,
                                 help_text=_("Texted at once about every urgent alert, e.g. +44 7700 900123."))
    escalate_after_minutes = forms.IntegerField(
        label=_("Send to the supervisor after (minutes)"), min_value=5, max_value=7 * 24 * 60,
        help_text=_("An urgent alert nobody has acknowledged by then is emailed to the therapist's supervisors."))
    crisis_resources = forms.CharField(
        label=_("What a client at risk is shown"), max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Shown at once to a client whose answer signals risk. Write phone numbers in "
        "full (e.g. 116 123, +44 20 7946 0958): each becomes a tap-to-call link."))

    def clean_duty_phone(self):
        phone = self.cleaned_data["duty_phone"].strip()
        if phone and (not set(phone) <= PHONE_CHARS or sum(c.isdigit() for c in phone) < 6):
            raise forms.ValidationError(_("Give a phone number of digits, spaces and a leading +."))
        return phone

    def clean_crisis_resources(self):
        text = self.cleaned_data["crisis_resources"].strip()
        if not text:
            raise forms.ValidationError(_("Clients at risk must be told where to get help."))
        return text
