from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.accounts.models import Role, User
from rapport.alerts.forms import UrgentSettingsForm
from rapport.care.models import Channel


class NewClientForm(forms.Form):
    name = forms.CharField(label=_("Full name"), max_length=200)
    preferred_name = forms.CharField(label=_("Preferred name"), max_length=100, required=False)
    pronouns = forms.CharField(label=_("Pronouns"), max_length=50, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(label=_("Mobile phone"), max_length=40, required=False)
    language = forms.CharField(label=_("Preferred language"), max_length=35, initial="en",
                               help_text=_("A language tag, e.g. en or es."))
    preferred_channel = forms.ChoiceField(label=_("Reach them by"), choices=Channel.choices,
                                          widget=forms.RadioSelect, initial=Channel.EMAIL)
    emergency_contact = forms.CharField(label=_("Emergency contact"), max_length=200, required=False,
                                        help_text=_("Name and phone number."))
    therapist = forms.ModelChoiceField(label=_("Therapist"), queryset=User.objects.none(),
                                       empty_label=None)
    invite = forms.BooleanField(label=_("Invite them to the portal now (by email)"), required=False,
                                initial=True)
    different_person = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, therapists, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["therapist"].queryset = therapists

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if phone and not 6 <= len(digits(phone)) <= 15:
            raise forms.ValidationError(_("Enter a phone number of 6 to 15 digits."))
        return phone

    def clean(self):
        data = super().clean()
        if data.get("preferred_channel") == Channel.TEXT and not data.get("phone"):
            self.add_error("phone", _("A mobile number is needed to reach them by text message."))
        if data.get("preferred_channel") == Channel.EMAIL and not data.get("email"):
            self.add_error("email", _("An email address is needed to reach them by email."))
        if data.get("invite") and not data.get("email"):
            self.add_error("email", _("The portal invitation goes by email: add an address or untick it."))
        return data


def digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


class InviteStaffForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    name = forms.CharField(label=_("Name"), max_length=200)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=Role.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple)


class SupervisionForm(forms.Form):
    therapists = forms.ModelMultipleChoiceField(label=_("Supervises"), queryset=User.objects.none(),
                                                required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, therapists, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["therapists"].queryset = therapists


class ReassignForm(forms.Form):
    therapist = forms.ModelChoiceField(label=_("New therapist"), queryset=User.objects.none())

    def __init__(self, *args, therapists, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["therapist"].queryset = therapists


class PracticeSettingsForm(UrgentSettingsForm):
    """The practice's settings, with the urgent-alert ones (duty contact, escalation, the crisis
    text a client at risk is shown): edited here only."""

    invitation_days = forms.IntegerField(label=_("Check-in links work for (days)"), min_value=1, max_value=30)
    hours_before = forms.IntegerField(label=_("Remind clients of a session (hours before)"), min_value=1,
                                      max_value=168)
    quiet_from = forms.TimeField(label=_("Quiet hours from"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                                 help_text=_("No reminder is sent between these times, in the client's time zone."))
    quiet_until = forms.TimeField(label=_("Quiet hours until"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    checkin_invitations = forms.BooleanField(
        label=_("Send check-in invitations automatically"), required=False,
        help_text=_("Before and after each session, by email or text as the client prefers. "
                    "Clients who opted out get none either way."))
    checkin_hours_before = forms.IntegerField(
        label=_("Invite to the pre-session check-in (hours before)"), min_value=1, max_value=168)
    followup_hours = forms.IntegerField(
        label=_("One follow-up when unanswered after (hours)"), min_value=1, max_value=168,
        help_text=_("The post-session invitation goes as soon as the session has ended."))
    statement = forms.CharField(
        label=_("Confidentiality statement"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Changing it publishes a new version that every client is asked to accept again."))
