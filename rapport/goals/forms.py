from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.goals.services import DESCRIPTION_MAX, REASON_MAX, TITLE_MAX


class GoalForm(forms.Form):
    title = forms.CharField(
        label=_("Goal"), max_length=TITLE_MAX,
        help_text=_("In the client's words where possible, e.g. “Sleep through most nights”."),
    )
    description = forms.CharField(
        label=_("What it would look like (optional)"), required=False, max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CloseGoalForm(forms.Form):
    OUTCOMES = [("achieved", _("Achieved")), ("closed", _("Closed without being achieved"))]
    outcome = forms.ChoiceField(label=_("Outcome"), choices=OUTCOMES, widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when the goal was not achieved. Kept in the goal's history; "
        "not shown to the client."),
    )

    def clean(self):
        data = super().clean()
        if data.get("outcome") == "closed" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Please give a reason for closing the goal."))
        return data


class ClientGoalForm(forms.Form):
    title = forms.CharField(label=_("Your goal"), max_length=TITLE_MAX,
                            help_text=_("A few words about what you would like to change."))
    description = forms.CharField(
        label=_("What would tell you it is getting better? (optional)"), required=False,
        max_length=DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 3}),
    )
