"""Forms of the user-management pages (``kurator.accounts.users_views``). They collect input only: the
services (``kurator.accounts.services``) validate it and name each bad field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kurator.access.policy import can
from kurator.access.scoping import curator_candidates
from kurator.accounts.models import Role, User
from kurator.accounts.services import REASON_MAX_LENGTH

MANAGE = "accounts.manage_users"


def roles_for(actor: Any) -> list[tuple[str, Any]]:
    """The roles ``actor`` may give (only an administrator gives the administrator role)."""
    return [(role.value, role.label) for role in Role if can(actor, MANAGE, User(role=role))]


class UserFilterForm(forms.Form):
    STATUS_CHOICES = (
        ("active", pgettext_lazy("users", "Working")),
        ("inactive", pgettext_lazy("users", "Deactivated")),
        ("all", pgettext_lazy("users", "All")),
    )
    status = forms.ChoiceField(label=_("Show"), choices=STATUS_CHOICES, required=False)

    def status_value(self) -> str:
        if self.is_valid():
            return self.cleaned_data.get("status") or "active"
        return "active"


class _ProfileForm(forms.Form):
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    patronymic = forms.CharField(label=_("Patronymic"), max_length=150, required=False)
    email = forms.CharField(
        label=_("E-mail"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        help_text=_("Notifications are sent here."),
    )
    phone = forms.CharField(
        label=_("Phone"), max_length=40, required=False, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    role = forms.ChoiceField(label=_("Role"), choices=())

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["role"]
        field.choices = roles_for(actor)


class _PasswordFields(forms.Form):
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error(
                "password2", forms.ValidationError(_("The two passwords differ."), code="mismatch")
            )
        return cleaned


class UserCreateForm(_ProfileForm, _PasswordFields):
    username = forms.CharField(
        label=_("Sign-in name"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocapitalize": "none", "spellcheck": "false", "autocomplete": "off"}
        ),
        help_text=_("Latin letters, digits and @ . + - _; it cannot be changed later."),
    )
    field_order = [
        "username",
        "last_name",
        "first_name",
        "patronymic",
        "role",
        "email",
        "phone",
        "password1",
        "password2",
    ]


class UserEditForm(_ProfileForm):
    pass


class PasswordForm(_PasswordFields):
    pass


class DeactivateForm(forms.Form):
    """Hand the user's work to a successor and deactivate (R2); the successor is needed only when there is
    work to hand over — the service says so with the counts."""

    successor = forms.ModelChoiceField(
        label=_("Who takes the work over"),
        queryset=User.objects.none(),
        required=False,
        empty_label="—",
        help_text=_("Becomes the curator of the clients and takes the open deals, tasks and inquiries."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept in the history of every record handed over and in the audit log."),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["successor"]
        field.queryset = curator_candidates().exclude(pk=user.pk)
        field.label_from_instance = lambda obj: f"{obj.full_name} · {obj.get_role_display()}"
