from django import forms

from rapport.alerts.models import Alert, Status

STEP_LABELS = {
    Status.ACKNOWLEDGED: "Acknowledge: I have seen it",
    Status.DISCUSSED: "Discussed with the client",
    Status.RESOLVED: "Resolve",
}


class StepForm(forms.Form):
    to_status = forms.ChoiceField(label="Next step", widget=forms.RadioSelect)
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Needed to resolve. Encrypted at rest; seen by the treating therapist and "
        "their supervisors.",
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
            self.add_error("note", "Add a note to resolve: what was done, or why nothing was needed.")
        return data
