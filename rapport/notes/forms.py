from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.notes.services import ITEM_MAX, TEXT_MAX


class SummaryForm(forms.Form):
    summary = forms.CharField(
        label=_("Summary"), required=False, max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Written for the client: they see it in their portal once you share it."),
    )
    next_steps = forms.CharField(
        label=_("Next steps"), required=False, max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PrivateNoteForm(forms.Form):
    private_note = forms.CharField(
        label=_("Private note"), required=False, max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Never shared: seen only by you and your clinical supervisor. Encrypted at rest."),
    )


class ItemForm(forms.Form):
    text = forms.CharField(label=_("Text"), max_length=ITEM_MAX)

    def __init__(self, *args, label: str, prefix: str, **kwargs):
        super().__init__(*args, prefix=prefix, **kwargs)
        self.fields["text"].label = label
