"""Log in and log out (Django's own views, wrapped so that the policy coverage test sees their permission),
and the signed-in user's API tokens."""

from typing import Any

from django.contrib.auth.views import LoginView, LogoutView
from django.urls import path

from kurator.access.decorators import require
from kurator.access.policy import AUTHENTICATED, PUBLIC
from kurator.accounts.token_views import api_token_revoke_view, api_tokens
from kurator.accounts.views import KuratorLoginForm

login_view: Any = LoginView.as_view(
    template_name="accounts/login.html",
    authentication_form=KuratorLoginForm,
    redirect_authenticated_user=True,
)
logout_view: Any = LogoutView.as_view()

urlpatterns = [
    path("login/", require(PUBLIC)(login_view), name="login"),
    path("logout/", require(AUTHENTICATED)(logout_view), name="logout"),
    path("tokens/", api_tokens, name="api_tokens"),
    path("tokens/<int:pk>/revoke/", api_token_revoke_view, name="api_token_revoke"),
]
