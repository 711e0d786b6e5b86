from django import forms


class AuditFilterForm(forms.Form):
    client = forms.ChoiceField(label="Client", required=False)
    user = forms.CharField(label="Staff email contains", required=False, max_length=200)
    action = forms.CharField(label="Action starts with", required=False, max_length=100,
                             help_text="For example care.episode or checkins.")
    date_from = forms.DateField(label="From (inclusive)", required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To (inclusive)", required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, clients=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].choices = [("", "Any client")] + [(str(c.code), c.name) for c in clients]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("The start date is after the end date.")
        return data
