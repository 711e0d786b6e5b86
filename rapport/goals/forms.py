from django import forms

from rapport.goals.services import DESCRIPTION_MAX, REASON_MAX, TITLE_MAX


class GoalForm(forms.Form):
    title = forms.CharField(
        label="Goal", max_length=TITLE_MAX,
        help_text="In the client's words where possible, e.g. “Sleep through most nights”.",
    )
    description = forms.CharField(
        label="What it would look like (optional)", required=False, max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CloseGoalForm(forms.Form):
    OUTCOMES = [("achieved", "Achieved"), ("closed", "Closed without being achieved")]
    outcome = forms.ChoiceField(label="Outcome", choices=OUTCOMES, widget=forms.RadioSelect)
    reason = forms.CharField(
        label="Reason", required=False, max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Needed when the goal was not achieved. Kept in the goal's history; "
        "not shown to the client.",
    )

    def clean(self):
        data = super().clean()
        if data.get("outcome") == "closed" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Please give a reason for closing the goal.")
        return data


class ClientGoalForm(forms.Form):
    title = forms.CharField(label="Your goal", max_length=TITLE_MAX,
                            help_text="A few words about what you would like to change.")
    description = forms.CharField(
        label="What would tell you it is getting better? (optional)", required=False,
        max_length=DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 3}),
    )
