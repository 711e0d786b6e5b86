from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.accounts.models import User
from rapport.api.models import SCOPES
from rapport.api.tokens import MAX_DAYS


def scope_label(scope: str) -> str:
    resource, _sep, access = scope.partition(":")
    return f"{resource.replace('checkins', 'check-ins').capitalize()}: {access}"


class NewTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("What the token is for, e.g. the name of the other system."))
    user = forms.ModelChoiceField(label=_("Acts as"), queryset=User.objects.none(), empty_label=None,
                                  help_text=_("The token reaches what this person reaches on the pages."))
    scopes = forms.MultipleChoiceField(label=_("What it may do"), widget=forms.CheckboxSelectMultiple,
                                       choices=[(s, scope_label(s)) for s in SCOPES])
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=MAX_DAYS, initial=90)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = members
