"""Token authentication with an expiry (``API_TOKEN_TTL_DAYS``); see ``registry.api.tokens``.

Kept apart from the views: DRF imports authentication classes while it loads its own views.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def token_expires_at(token: Token) -> dt.datetime:
    return token.created + dt.timedelta(days=settings.API_TOKEN_TTL_DAYS)


def token_expired(token: Token, now: dt.datetime | None = None) -> bool:
    return (now or timezone.now()) >= token_expires_at(token)


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise exceptions.AuthenticationFailed(
                "The token has expired: request a new one at /api/v1/auth/token/."
            )
        return user, token
