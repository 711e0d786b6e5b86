from django import forms
from django.utils.translation import gettext_lazy as _


class AuditFilterForm(forms.Form):
    client = forms.ChoiceField(label=_("Client"), required=False)
    user = forms.CharField(label=_("Staff email contains"), required=False, max_length=200)
    action = forms.CharField(label=_("Action starts with"), required=False, max_length=100,
                             help_text=_("For example care.episode or checkins."))
    date_from = forms.DateField(label=_("From (inclusive)"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To (inclusive)"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, clients=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].choices = [("", "Any client")] + [(str(c.code), c.name) for c in clients]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data
