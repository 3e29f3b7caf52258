"""Forms of the notify pages. They only shape input; every rule lives in notify.services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ChatKind, Pace


class WebhookForm(forms.Form):
    """Add a group-chat robot to a unit."""

    kind = forms.ChoiceField(label=_("Platform"), choices=ChatKind.choices)
    url = forms.CharField(label=_("Webhook address"), max_length=500,
                          widget=forms.TextInput(attrs={"placeholder": "https://", "wide": True,
                                                        "autocomplete": "off"}),
                          help_text=_("Copy it from the robot's settings in the group chat."))
    secret = forms.CharField(label=_("Signing secret"), max_length=200, required=False,
                             widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                             help_text=_("DingTalk and Feishu only, when the robot signs messages "
                                         "(加签 / 签名校验)."))
    enabled = forms.BooleanField(label=_("Send messages to this group now"), required=False)
    pace = forms.ChoiceField(label=_("Sending"), choices=Pace.choices, required=False, initial=Pace.IMMEDIATE,
                             help_text=_("A daily digest gathers the day's messages into one."))


class PaceForm(forms.Form):
    """One's own setting for e-mails."""

    email = forms.ChoiceField(label=_("E-mail reminders"), choices=Pace.choices)
