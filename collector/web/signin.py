"""Sign-in with the organisation's identity provider: OpenID Connect authorisation code flow
with PKCE, through Authlib's Starlette client (discovery, state, nonce and ID token checks)."""

from __future__ import annotations

import os
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from collector.settings import Settings

__all__ = ["callback", "oauth_client", "signout", "start"]


def oauth_client(settings: Settings) -> Any:
    """The registered OIDC client, None when ``web.oidc`` is not configured."""
    oidc = settings.web.oidc
    if oidc is None:
        return None
    from authlib.integrations.starlette_client import OAuth

    oauth = OAuth()
    oauth.register(
        "idp",
        client_id=oidc.client_id,
        client_secret=os.environ.get(oidc.client_secret_env),
        server_metadata_url=oidc.issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": oidc.scopes, "code_challenge_method": "S256"},
    )
    return oauth


def _page(request: Request, message: str, status: int) -> Response:
    from collector.web.app import page

    return page(request, "error.html.j2", {"message": message}, status=status)


async def start(request: Request) -> Response:
    """Redirect to the identity provider (or explain that sign-in is not configured)."""
    ctx = request.app.state.ctx
    if ctx.oauth is None:
        return _page(request, "Sign-in is not configured (web.oidc).", 404)
    target = request.query_params.get("next", "/")
    request.session["next"] = target if target.startswith("/") else "/"
    base = ctx.settings.web.public_url
    redirect = base.rstrip("/") + "/auth/callback" if base else str(request.url_for("callback"))
    return await ctx.oauth.idp.authorize_redirect(request, redirect)


async def callback(request: Request) -> Response:
    """Finish the code flow; keep only the verified e-mail in the signed session."""
    from authlib.integrations.base_client import OAuthError

    ctx = request.app.state.ctx
    if ctx.oauth is None:
        return _page(request, "Sign-in is not configured (web.oidc).", 404)
    try:
        token = await ctx.oauth.idp.authorize_access_token(request)
    except OAuthError as exc:
        return _page(request, f"Sign-in failed: {exc.error}", 401)
    claims = token.get("userinfo") or {}
    email = claims.get("email")
    if not email:
        return _page(request, "Sign-in failed: the identity provider sent no e-mail claim.", 401)
    target = request.session.pop("next", "/")
    request.session.clear()
    request.session["email"] = str(email)
    return RedirectResponse(target, status_code=303)


async def signout(request: Request) -> Response:
    """Forget the session."""
    request.session.clear()
    return RedirectResponse("/", status_code=303)
