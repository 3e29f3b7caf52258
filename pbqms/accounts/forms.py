from django import forms
from django.utils.translation import gettext_lazy as _


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150,
                               widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}))
    password = forms.CharField(label=_("Password"),
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label=_("Current password"), widget=forms.PasswordInput)
    new_password = forms.CharField(label=_("New password"), widget=forms.PasswordInput)
    new_password2 = forms.CharField(label=_("New password again"), widget=forms.PasswordInput)

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        if data.get("new_password") != data.get("new_password2"):
            raise forms.ValidationError(_("The two new passwords differ."))
        return data


class UserCreateForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    display_name = forms.CharField(label=_("Display name"), max_length=60, required=False)
    password = forms.CharField(label=_("Initial password"), widget=forms.PasswordInput)
    member_id = forms.IntegerField(label=_("Linked member (ID in the roster)"), required=False,
                                   help_text=_("Leave empty for an account that is not a person of the roster."))


class RoleGrantForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))
    unit = forms.CharField(label=_("Unit code"), max_length=40)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        from .models import Role

        super().__init__(*args, **kwargs)
        self.fields["role"].choices = Role.choices
