"""API tokens: issued at a throttled, lockout-guarded login, expiring, revocable.

A token is a password for the API, so it ages like one: ``API_TOKEN_TTL_DAYS`` after it was
issued it stops working and the owner logs in again for a new one. The owner revokes their
token with ``DELETE /api/v1/auth/token/revoke/``; a registry admin revokes anyone's in the admin
("Tokens"). Logins go through ``django.contrib.auth.authenticate`` with the request, so
django-axes counts the failures and locks the username out like the admin login.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from registry.api.authentication import token_expired, token_expires_at


class LockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = (
        "Too many failed logins for this username from your address: locked for now. Try "
        "again later, or ask a registry administrator to lift the lockout."
    )
    default_code = "locked_out"


class ObtainToken(ObtainAuthToken):
    """POST username and password: your API token (a new one once the old has expired)."""

    # ObtainAuthToken switches throttling off and parses with DRF's own JSON parser: restore
    # the project's (a guess per request, counted per address; deep JSON is a 400).
    throttle_scope = "token"
    throttle_classes = [ScopedRateThrottle]
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            # django-axes marks the request it refused (the DRF request the serializer passed
            # to authenticate); say "locked", not "wrong password", as the admin login does.
            if getattr(request, "axes_locked_out", False):
                raise LockedOut()
            raise exceptions.ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        token, _ = Token.objects.get_or_create(user=user)
        if token_expired(token):
            token.delete()
            token = Token.objects.create(user=user)
        return Response({"token": token.key, "expires_at": token_expires_at(token)})


class RevokeToken(APIView):
    """DELETE: revoke the token you are using (or your token, signed in by session)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, format=None):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
