from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.webhooks import events, outgoing


class EndpointForm(forms.Form):
    url = forms.URLField(label=_("Address (URL)"), max_length=500, assume_scheme="https",
                         help_text=_("Where to send the events, e.g. https://example.org/hooks."))
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=events.CHOICES, widget=forms.CheckboxSelectMultiple,
        help_text=_("Each message names the event and the ids of what it is about, never a "
                    "name or anything a client wrote."))
    active = forms.BooleanField(label=_("Send events to this address"), required=False,
                                initial=True)

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            outgoing.check_url(url)
        except outgoing.Refused as e:
            raise forms.ValidationError(str(e)) from None
        return url
