"""Typed errors of the ARM and Graph client: the shared :class:`collector.http.ApiError`, with
the cause Graph's "no P1/P2 licence" answer deserves."""

from __future__ import annotations

from collector.http import ApiError, MalformedResponse

__all__ = ["NON_PREMIUM", "AzureApiError", "MalformedResponse"]

#: Graph's answer when the tenant has no Entra ID P1/P2 licence (sign-in activity, reports).
NON_PREMIUM = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"


class AzureApiError(ApiError):
    """An error answer from ARM or Graph: status, service error code and message.

    ``permission`` names what is missing on a 403: taken from the answer when the API says it
    (ARM's "perform action '...'", Intune's "one of the following scopes: ..."), else the
    permission the caller declared for the request.
    """

    @property
    def cause(self) -> str:
        if self.code == NON_PREMIUM:
            return (
                "tenant has no Microsoft Entra ID P1/P2 licence: sign-in activity and "
                f"authentication reports are unavailable ({self.code} on {self.request})"
            )
        return super().cause
