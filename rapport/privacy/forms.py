from django import forms
from django.utils.translation import gettext_lazy as _


class EraseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500,
        help_text=_("For the record, for example: the client asked by email on 3 May. Do not name the client."),
    )
    confirm = forms.BooleanField(
        label=_("I understand that this cannot be undone."), required=True,
        error_messages={"required": _("Tick the box to confirm that this cannot be undone.")},
    )


class RetentionForm(forms.Form):
    retain_days_after_last_episode = forms.IntegerField(
        label=_("Erase clients this many days after their last episode ends"), required=False,
        min_value=1, max_value=36500,
        help_text=_("Leave empty to keep data until it is erased on request. Check your local law "
                  "and professional body for the period that applies to you."),
    )
    keep_deidentified_scores = forms.BooleanField(
        label=_("Keep de-identified questionnaire scores after erasure"), required=False,
    )
