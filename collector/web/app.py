"""The web console as an ASGI application (Starlette, Jinja2 templates, no JavaScript build).

Every page is a small view over the same functions the CLI calls (``Workspace.statuses``,
``audit.statuses_at``, ``audit.period_continuity``, ``export_package``): there is no second
implementation of status. Sessions and CSRF tokens are signed with ``web.session_secret_env``
(a random key per process when unset: sign-ins then end with a restart).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asgi_csrf import asgi_csrf
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from collector.app import Workspace, load_workspace
from collector.causes import describe_error
from collector.clock import utcnow
from collector.logs import get_logger
from collector.settings import Settings
from collector.soa import Soa
from collector.web.auth import Principal, is_loopback, principal_for_token, principal_for_user
from collector.web.cache import ReadCache
from storage import EvidenceStore

log = get_logger("annexa.web")

__all__ = [
    "LazyConsole",
    "WebContext",
    "create_app",
    "guarded",
    "not_found",
    "page",
    "principal",
]

_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


@dataclass
class WebContext:
    """What every view needs: settings, the loaded workspace and SoA, the store, the clock."""

    settings: Settings
    workspace: Workspace
    soa: Soa
    soa_notice: str | None
    store: EvidenceStore
    host: str
    clock: Callable[[], datetime] = utcnow
    oauth: Any = None
    jobs: dict[str, Any] = field(default_factory=dict)
    cache: ReadCache = field(init=False)

    def __post_init__(self) -> None:
        self.cache = ReadCache(self.store, self.clock)

    @property
    def loopback(self) -> bool:
        """Whether the server is bound to a loopback address only."""
        return is_loopback(self.host)


class SecurityHeaders:
    """Adds the security headers (CSP, no framing, no sniffing, no referrer, HSTS off loopback)."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = [(k.encode(), v.encode()) for k, v in _HEADERS.items()]
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + self.headers
            await send(message)

        await self.app(scope, receive, with_headers)


def principal(request: Request) -> Principal | None:
    """Who sent this request: a bearer token, a signed-in session, or anonymous on loopback."""
    ctx: WebContext = request.app.state.ctx
    web, now = ctx.settings.web, ctx.clock()
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return principal_for_token(web, header[7:].strip(), now)
    email = request.session.get("email") if "session" in request.scope else None
    if email:
        return principal_for_user(web, email, now)
    if ctx.loopback and web.anonymous_role is not None:
        return Principal("anonymous (loopback)", web.anonymous_role, "loopback")
    return None


def guarded(view: Callable[..., Response], *, write: bool = False) -> Callable[..., Any]:
    """Run ``view(request, ctx, who)`` in a worker thread after the role check."""
    from starlette.concurrency import run_in_threadpool

    async def endpoint(request: Request) -> Response:
        who = principal(request)
        ctx: WebContext = request.app.state.ctx
        if who is None:
            if request.method == "GET" and ctx.settings.web.oidc is not None:
                return RedirectResponse(f"/signin?next={request.url.path}", status_code=303)
            return page(request, "error.html.j2", {"message": "Sign in first."}, status=401)
        if not who.can_read or (write and not who.can_write):
            message = f"Your role ({who.role}) may not do this."
            return page(request, "error.html.j2", {"message": message}, who=who, status=403)
        return await run_in_threadpool(view, request, ctx, who)

    return endpoint


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    who: Principal | None = None,
    status: int = 200,
) -> Response:
    """Render ``template``; ``?format=json`` returns the context's ``json`` entry instead."""
    if request.query_params.get("format") == "json" and "json" in context:
        return JSONResponse(context["json"], status_code=status)
    templates: Jinja2Templates = request.app.state.templates
    ctx: WebContext = request.app.state.ctx
    csrf = request.scope.get("csrftoken")
    base = {
        "request": request,
        "who": who,
        "csrftoken": csrf() if callable(csrf) else "",
        "soa_notice": ctx.soa_notice,
        "oidc": ctx.settings.web.oidc is not None,
    }
    return templates.TemplateResponse(request, template, {**base, **context}, status_code=status)


def _warming(ctx: WebContext) -> threading.Thread:
    warming = threading.Thread(target=_warm, args=(ctx,), name="annexa-web-warm", daemon=True)
    warming.start()
    return warming


def _warm(ctx: WebContext) -> None:
    """The overview's reads made at start (``pages.warm``); a failure is logged, and each page
    then reads for itself and shows its own error."""
    from collector.web import pages

    started = time.perf_counter()
    try:
        pages.warm(ctx)
    except Exception as exc:  # the pages report it when they read
        log.warning("console read at start failed", error=describe_error(exc))
        return
    log.info("console read at start", seconds=round(time.perf_counter() - started, 2))


def create_app(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    clock: Callable[[], datetime] = utcnow,
    store: EvidenceStore | None = None,
    warm: bool = False,
) -> ASGIApp:
    """The console for ``settings`` bound to ``host``; opens the store unless given one. Its
    reads for the overview are made in the background when it starts (its lifespan), or at
    once with ``warm`` (mounted in the daemon, where no lifespan reaches it)."""
    from collector.web import actions, pages, signin

    workspace = load_workspace(settings)
    soa, notice = workspace.soa(None)
    web = settings.web
    secret = os.environ.get(web.session_secret_env) or secrets.token_urlsafe(32)
    owned = store is None
    opened = store or EvidenceStore.open(settings.store_url)
    ctx = WebContext(settings, workspace, soa, notice, opened, host, clock)
    ctx.oauth = signin.oauth_client(settings)

    env = Environment(
        loader=PackageLoader("collector.web", "templates"), autoescape=select_autoescape()
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        for name in env.list_templates():  # compiled at start, not by each page's first view
            env.get_template(name)
        warming = _warming(ctx)  # a page asked for meanwhile waits for the read it shares
        yield
        warming.join()
        if owned:
            opened.close()

    routes = [
        Route("/", guarded(pages.overview)),
        Route("/controls", guarded(pages.controls)),
        Route("/controls/{control_id}", guarded(pages.control)),
        Route("/checks/{check_id}", guarded(pages.check)),
        Route("/records/{record_id:int}", guarded(pages.record)),
        Route("/runs", guarded(pages.runs)),
        Route("/exceptions", guarded(actions.add_exception, write=True), methods=["POST"]),
        Route(
            "/exceptions/{exception_id:int}/revoke",
            guarded(actions.revoke_exception, write=True),
            methods=["POST"],
        ),
        Route(
            "/controls/{control_id}/evidence",
            guarded(actions.add_manual, write=True),
            methods=["POST"],
        ),
        Route("/export", guarded(actions.start_export), methods=["POST"]),
        Route("/export/{job_id}", guarded(actions.export_progress)),
        Route("/export/{job_id}/download", guarded(actions.export_download)),
        Route("/signin", signin.start),
        Route("/auth/callback", signin.callback),
        Route("/signout", signin.signout, methods=["POST"]),
        Route("/healthz", lambda _: Response("ok\n", media_type="text/plain")),
        Mount("/static", StaticFiles(packages=[("collector.web", "static")]), name="static"),
    ]
    loopback = is_loopback(host)
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders, hsts=not loopback),
            Middleware(
                SessionMiddleware,
                secret_key=secret,
                session_cookie="annexa_session",
                same_site="lax",
                https_only=not loopback,
                max_age=8 * 3600,
            ),
        ],
        lifespan=lifespan,
    )
    app.state.templates = Jinja2Templates(env=env)
    app.state.ctx = ctx
    if warm:
        _warming(ctx)
    return asgi_csrf(
        app,
        signing_secret=secret,
        cookie_secure=not loopback,
        always_protect=_EveryPath(),
        skip_if_scope=_bearer,
    )


class LazyConsole:
    """The console as the daemon serves it (``daemon.web``), with its own store connection:
    created in the background when the daemon starts (``prepare``), or by its first request
    when the store could not be opened then, so the daemon starts (and answers ``/healthz``)
    while the store is still unreachable; until the console can open the store, its pages
    answer 503."""

    def __init__(
        self, settings: Settings, *, host: str, clock: Callable[[], datetime] = utcnow
    ) -> None:
        import asyncio

        self.settings, self.host, self.clock = settings, host, clock
        self._app: ASGIApp | None = None
        self._store: EvidenceStore | None = None
        self._lock = asyncio.Lock()
        self._creating = threading.Lock()

    def prepare(self) -> None:
        """Create the console in the background now (the daemon calls this when it starts), so
        that its reads are made before the first visitor; if the store cannot be opened yet,
        the first request tries again."""

        def create() -> None:
            try:
                self._create()
            except Exception as exc:
                log.warning("console not created at start", error=describe_error(exc))

        threading.Thread(target=create, name="annexa-web-create", daemon=True).start()

    def _create(self) -> ASGIApp:
        with self._creating:  # once, whether at start or by the first request
            if self._app is None:
                store = EvidenceStore.open(self.settings.store_url)
                try:
                    app = create_app(
                        self.settings, host=self.host, clock=self.clock, store=store, warm=True
                    )
                except BaseException:
                    store.close()
                    raise
                self._store, self._app = store, app
            return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from starlette.concurrency import run_in_threadpool

        if self._app is None:
            async with self._lock:
                if self._app is None:
                    try:
                        self._app = await run_in_threadpool(self._create)
                    except Exception as exc:  # store down: the daemon keeps serving /healthz
                        cause = " ".join(str(exc).split()) or type(exc).__name__
                        response = Response(
                            f"The web console cannot open the evidence store: {cause}\n",
                            status_code=503,
                            media_type="text/plain",
                        )
                        await response(scope, receive, send)
                        return
        await self._app(scope, receive, send)

    def close(self) -> None:
        """Close the console's store connection (the daemon calls this when it stops)."""
        if self._store is not None:
            self._store.close()


class _EveryPath:
    """asgi-csrf skips cookie-less requests unless their path is "always protected"; the
    loopback anonymous role needs no cookie, so every unsafe request is protected."""

    def __contains__(self, path: object) -> bool:
        return True


def _bearer(scope: Scope) -> bool:
    """Token requests carry no ambient credential, so CSRF does not apply to them."""
    return any(
        k == b"authorization" and v.lower().startswith(b"bearer ")
        for k, v in scope.get("headers", [])
    )


def not_found(request: Request, what: str, who: Principal) -> Response:
    """A 404 page naming what was not found."""
    return page(request, "error.html.j2", {"message": f"{what} not found."}, who=who, status=404)
