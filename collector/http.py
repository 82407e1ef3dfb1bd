"""The one HTTP client for JSON APIs (ARM, Graph, Admin SDK, Okta, Fleet): auth, paging,
retries, typed errors.

What differs between APIs is plugged in: how a request is authenticated (:func:`bearer`,
:func:`ssws`), how the next page is found (:class:`NextLinkField`, :class:`LinkHeader`,
:class:`PageToken`, :class:`PageNumber`) and how long a 429 asks to wait
(:func:`retry_after_wait`, :func:`rate_limit_reset_wait`). Retries (tenacity) are bounded:
429 and 503 wait as the API asks, capped (each such answer is shown to an optional
:data:`RetryObserver`, so a daemon can count throttling); a GET that meets a transient server
error (500, 502, 504) or a dropped connection is retried after a jittered exponential backoff.
Every other error answer, and the last one when the attempts run out, raises
:class:`ApiError` (its cause says how many attempts were made), and an answer of the wrong
shape raises :class:`MalformedResponse`: unknown is never a pass. A client made with a
``rate_key`` (provider, account, service) waits at the process's :data:`RequestGate` before
every request it sends (each page, each retry): a worker's limiter shared by every worker.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

import tenacity

from checks.api import Snapshot
from collector.clock import utcnow
from collector.collect import Target

if TYPE_CHECKING:  # httpx is imported when a client is made: the registry never loads it
    import httpx

    from collector.snapshots import SnapshotCache

S = TypeVar("S", bound=Snapshot)
C = TypeVar("C")

RETRYABLE = frozenset({429, 503})  # the API asks to wait: retried for any method
TRANSIENT = frozenset({500, 502, 504})  # a blip: retried for idempotent GETs only
MAX_SLEEP = 30.0  # seconds: a longer wait is capped, so the retry budget stays bounded
BACKOFF = tenacity.wait_random_exponential(multiplier=1, max=MAX_SLEEP)  # 0-2, 0-4, 0-8 s...

#: Headers to send with one request attempt (called per attempt, so tokens can refresh).
Auth = Callable[[], Mapping[str, str]]
#: Seconds to wait before retrying ``response`` (attempt number, the clock's "now" in epoch s).
WaitPolicy = Callable[["httpx.Response", int, float], float]
#: Told of each 429/503 answer, retried or not (the last attempt's too), with its attempt number.
RetryObserver = Callable[["httpx.Response", int], None]
#: (provider, account or tenant, service) whose shared rate limit a client's requests count on.
RateKey = tuple[str, str, str]
#: Waits until one more request of a :data:`RateKey` may go out (see :func:`set_request_gate`).
RequestGate = Callable[[str, str, str], None]

_request_gate: RequestGate | None = None


def set_request_gate(gate: RequestGate | None) -> None:
    """Make every request of every client with a ``rate_key`` in this process wait at ``gate``
    first (a worker's shared rate limiter, :mod:`collector.worker.ratelimit`); None: none."""
    global _request_gate
    _request_gate = gate


class ApiError(Exception):
    """An error answer: HTTP status, the service's error code and message, the request.

    ``permission`` names what is missing on a 403: taken from the answer when the API says it,
    else the permission the caller declared for the request (``requires``).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        request: str,
        permission: str | None = None,
        attempts: int = 1,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.request = request
        self.permission = permission
        self.attempts = attempts
        super().__init__(self.cause)

    @property
    def cause(self) -> str:
        """The short, one-line cause stored with an ERROR record."""
        text = f"HTTP {self.status} {self.code} on {self.request}: {self.message}"
        if self.status == 403 and self.permission:
            text += f" (missing permission: {self.permission})"
        if self.attempts > 1:
            text += f" (after {self.attempts} attempts)"
        return text


class MalformedResponse(Exception):
    """An answer that is not the JSON shape the API documents (a page without its items...)."""

    def __init__(self, request: str, problem: str) -> None:
        super().__init__(f"malformed answer to {request}: {problem}")


# --- authentication -------------------------------------------------------------------------


def bearer(token: Callable[[], str]) -> Auth:
    """``Authorization: Bearer <token>``, the token asked for on every attempt."""
    return lambda: {"Authorization": f"Bearer {token()}"}


def ssws(token: str) -> Auth:
    """Okta's API token scheme, ``Authorization: SSWS <token>``."""
    return lambda: {"Authorization": f"SSWS {token}"}


# --- paging ---------------------------------------------------------------------------------


class Paging(Protocol):
    """How one API pages a collection."""

    def first(self, params: dict[str, str]) -> dict[str, str]:
        """The query of the first page (a page size, a page number...)."""
        ...

    def items(self, body: Any, request: str) -> list[dict[str, Any]]:
        """The objects of one page; raises :class:`MalformedResponse`."""
        ...

    def next(
        self, response: httpx.Response, body: Any, params: dict[str, str]
    ) -> tuple[str | None, dict[str, str]] | None:
        """``(absolute URL or None for the same URL, query)`` of the next page, or ``None``."""
        ...


def _objects(value: Any, what: str, request: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise MalformedResponse(request, f"{what} is not a list of objects")
    return value


def _field(body: Any, key: str, request: str) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        raise MalformedResponse(request, "not a JSON object")
    return _objects(body.get(key), f"'{key}'", request)


@dataclass(frozen=True)
class NextLinkField:
    """Items under ``items_key``; the next page's full URL in a body field: ARM ``nextLink``,
    Graph ``@odata.nextLink``, or a ``/``-separated path such as Okta's ``_links/next/href``."""

    items_key: str = "value"
    fields: tuple[str, ...] = ("@odata.nextLink", "nextLink")

    def first(self, params: dict[str, str]) -> dict[str, str]:
        return params

    def items(self, body: Any, request: str) -> list[dict[str, Any]]:
        return _field(body, self.items_key, request)

    def next(
        self, response: httpx.Response, body: Any, params: dict[str, str]
    ) -> tuple[str | None, dict[str, str]] | None:
        link = next((v for v in (_dig(body, f) for f in self.fields) if v is not None), None)
        return None if link is None else (link, {})  # next links carry their own query


def _dig(body: Any, path: str) -> Any:
    for key in path.split("/"):
        body = body.get(key) if isinstance(body, dict) else None
    return body


@dataclass(frozen=True)
class LinkHeader:
    """A JSON list per page, or the list under ``items_key`` of an object (GitHub's
    environments); the next page in the RFC 8288 ``Link: <...>; rel="next"`` header (Okta,
    GitHub). ``limit`` is the page size asked for."""

    limit: int | None = None
    items_key: str | None = None

    def first(self, params: dict[str, str]) -> dict[str, str]:
        return params | ({"limit": str(self.limit)} if self.limit else {})

    def items(self, body: Any, request: str) -> list[dict[str, Any]]:
        if self.items_key is not None:
            if not isinstance(body, dict) or self.items_key not in body:
                raise MalformedResponse(request, f"the page has no {self.items_key!r}")
            body = body[self.items_key]
        return _objects(body, "the page", request)

    def next(
        self, response: httpx.Response, body: Any, params: dict[str, str]
    ) -> tuple[str | None, dict[str, str]] | None:
        link = response.links.get("next", {}).get("url")
        return None if link is None else (link, {})


@dataclass(frozen=True)
class PageToken:
    """Items under ``items_key``; the next page asked for by echoing ``nextPageToken`` as the
    ``pageToken`` query parameter (Google APIs).

    Google omits an empty collection's field, so an answer without it cannot be told from an
    incomplete one. It is read as empty only on a single-page answer of a list the caller says
    may really be empty (``may_be_empty``); otherwise it is a :class:`MalformedResponse`.
    """

    items_key: str
    page_size: tuple[str, int] | None = None  # e.g. ("maxResults", 500)
    token_field: str = "nextPageToken"
    token_param: str = "pageToken"
    may_be_empty: bool = False

    def first(self, params: dict[str, str]) -> dict[str, str]:
        size = {self.page_size[0]: str(self.page_size[1])} if self.page_size else {}
        return params | size

    def items(self, body: Any, request: str) -> list[dict[str, Any]]:
        if isinstance(body, dict) and self.items_key not in body:
            if self.may_be_empty and not body.get(self.token_field):
                return []  # unless it answered a later page: see next()
            raise self._missing(request)
        return _field(body, self.items_key, request)

    def _missing(self, request: str) -> MalformedResponse:
        return MalformedResponse(
            request,
            f"no '{self.items_key}' field: cannot tell an empty list from an incomplete one",
        )

    def next(
        self, response: httpx.Response, body: Any, params: dict[str, str]
    ) -> tuple[str | None, dict[str, str]] | None:
        if self.items_key not in body and self.token_param in params:
            raise self._missing(_label(str(response.request.url)))
        token = body.get(self.token_field)
        if not token:
            return None
        if not isinstance(token, str) or token == params.get(self.token_param):
            raise MalformedResponse(_label(str(response.request.url)), f"bad page token {token!r}")
        return None, params | {self.token_param: token}


@dataclass(frozen=True)
class PageNumber:
    """Items under ``items_key``, pages numbered from 0 with ``page``/``per_page`` (Fleet).

    The last page is the one whose ``meta.has_next_results`` is false or, where the API does
    not send ``meta``, the first empty page: a short page is not proof of the end, since a
    server may cap ``per_page`` lower than asked.
    """

    items_key: str
    per_page: int = 100

    def first(self, params: dict[str, str]) -> dict[str, str]:
        return params | {"page": "0", "per_page": str(self.per_page)}

    def items(self, body: Any, request: str) -> list[dict[str, Any]]:
        return _field(body, self.items_key, request)

    def next(
        self, response: httpx.Response, body: Any, params: dict[str, str]
    ) -> tuple[str | None, dict[str, str]] | None:
        meta = body.get("meta")
        if isinstance(meta, dict) and isinstance(meta.get("has_next_results"), bool):
            more = meta["has_next_results"]
        else:
            more = bool(body[self.items_key])
        return (None, params | {"page": str(int(params["page"]) + 1)}) if more else None


# --- waiting on 429 / 503 -------------------------------------------------------------------


def retry_after_wait(response: httpx.Response, attempt: int, now: float) -> float:
    """``Retry-After`` in seconds or as an HTTP date, else exponential (2, 4, 8... s)."""
    header = response.headers.get("Retry-After")
    if header:
        try:
            return float(header)
        except ValueError:
            when = _epoch(header)
            if when is not None:
                return when - now
    return float(2**attempt)


def _epoch(http_date: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(http_date).timestamp()
    except (TypeError, ValueError):
        return None


def rate_limit_reset_wait(response: httpx.Response, attempt: int, now: float) -> float:
    """Okta: until ``X-Rate-Limit-Reset`` (epoch seconds), measured from the answer's
    ``Date`` (the server's clock) when it has one; else :func:`retry_after_wait`."""
    reset = response.headers.get("X-Rate-Limit-Reset")
    try:
        until = float(reset) if reset else None
    except ValueError:
        until = None
    if until is None:
        return retry_after_wait(response, attempt, now)
    server_now = _epoch(response.headers.get("Date") or "")
    return until - (now if server_now is None else server_now)


# --- errors ---------------------------------------------------------------------------------


def error_fields(response: httpx.Response) -> tuple[str, str]:
    """(code, message) of an error answer, in the shapes the supported APIs use.

    ARM/Graph ``{"error": {"code", "message"}}``; Google ``{"error": {"code": 403, "status",
    "message"}}``; OAuth ``{"error": "...", "error_description"}``; Okta ``{"errorCode",
    "errorSummary"}``; Fleet ``{"message", "errors": [{"reason"}]}``.
    """
    code, message = "Unknown", response.reason_phrase or ""
    try:
        body = response.json()
    except ValueError:
        return code, message
    if not isinstance(body, dict):
        return code, message
    error = body.get("error")
    if isinstance(error, dict):
        named = error.get("status") if isinstance(error.get("code"), int) else error.get("code")
        return str(named or code), str(error.get("message") or message)
    if isinstance(error, str):
        return error, str(body.get("error_description") or message)
    if "errorCode" in body:
        return str(body["errorCode"]), str(body.get("errorSummary") or message)
    if isinstance(body.get("message"), str):
        reasons = [e.get("reason") for e in body.get("errors") or () if isinstance(e, dict)]
        detail = "; ".join(str(r) for r in reasons if r and r != body["message"])
        status = response.reason_phrase or code
        return status, body["message"] + (f" ({detail})" if detail else "")
    return code, message


# --- the client -----------------------------------------------------------------------------


class HttpClient:
    """GET (and, for token exchanges, POST) JSON from one API with one way to authenticate.

    ``requires`` on a call names the permission it needs, so a 403 that does not say which
    permission is missing still names one; ``permission_hint`` reads it from the message
    where the API says it. ``on_retryable`` sees every 429/503 answer (the daemon's
    throttling metric). ``throttled`` recognises an answer that asks to wait under another
    status (GitHub's rate limits answer 403 too); it is then retried like a 429. ``rate_key``
    names the shared rate limit its requests count on (see :func:`set_request_gate`).
    """

    def __init__(
        self,
        *,
        base_url: str,
        auth: Auth | None = None,
        timeout: float = 30.0,
        max_attempts: int = 5,
        max_sleep: float = MAX_SLEEP,
        wait: WaitPolicy = retry_after_wait,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        error_type: type[ApiError] = ApiError,
        permission_hint: Callable[[str], str | None] | None = None,
        http: httpx.Client | None = None,
        on_retryable: RetryObserver | None = None,
        throttled: Callable[[httpx.Response], bool] | None = None,
        rate_key: RateKey | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.rate_key = rate_key
        self._on_retryable = on_retryable
        self._throttled = throttled
        self._auth = auth
        self._max_attempts = max_attempts
        self._max_sleep = max_sleep
        self._wait = wait
        self._sleep = sleep
        self._clock = clock
        self._error_type = error_type
        self._permission_hint = permission_hint
        if http is None:
            import httpx

            http = httpx.Client(
                timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                headers={"User-Agent": "annexa", "Accept": "application/json"},
            )
        self._http = http

    def url(self, path: str) -> str:
        """``path`` relative to the base URL, or an absolute URL as it is."""
        if path.startswith(("https://", "http://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def get(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        requires: str | None = None,
    ) -> dict[str, Any]:
        """One JSON object from ``path``."""
        body = self.get_json(path, params=params, requires=requires)
        if not isinstance(body, dict):
            raise MalformedResponse(_label(self.url(path)), "not a JSON object")
        return body

    def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        requires: str | None = None,
    ) -> Any:
        """Any JSON value from ``path`` (Okta answers lists)."""
        return self._send("GET", self.url(path), dict(params or {}), None, requires)[1]

    def post_form(
        self,
        path: str,
        data: Mapping[str, str],
        *,
        params: Mapping[str, str] | None = None,
        requires: str | None = None,
    ) -> dict[str, Any]:
        """POST a form (an OAuth token request, or an empty one to a read action) and return
        the JSON object answered."""
        body = self._send("POST", self.url(path), dict(params or {}), dict(data), requires)[1]
        if not isinstance(body, dict):
            raise MalformedResponse(_label(self.url(path), "POST"), "not a JSON object")
        return body

    def list(
        self,
        path: str,
        *,
        paging: Paging,
        params: Mapping[str, str] | None = None,
        requires: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every item of a collection, page after page until ``paging`` finds no next one."""
        url = self.url(path)
        origin = urlsplit(url)[:2]
        query = paging.first(dict(params or {}))
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        while True:
            response, body = self._send("GET", url, query, None, requires)
            request = _label(url)
            items += paging.items(body, request)
            following = paging.next(response, body, query)
            if following is None:
                return items
            link, query = following
            if link is not None:
                if not isinstance(link, str) or urlsplit(link)[:2] != origin or link in seen:
                    raise MalformedResponse(request, f"bad next link {link!r}")
                seen.add(link)
                url = link

    def _send(
        self,
        method: str,
        url: str,
        query: dict[str, str],
        form: dict[str, str] | None,
        requires: str | None,
    ) -> tuple[httpx.Response, Any]:
        import httpx

        request = _label(url, method)
        idempotent = method == "GET"
        #: Transport failures after the connection was made (reset, closed mid-answer): GETs
        #: retry them.
        dropped = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)

        def attempt_once() -> httpx.Response:
            gate = _request_gate
            if gate is not None and self.rate_key is not None:
                gate(*self.rate_key)
            headers = dict(self._auth()) if self._auth else {}
            try:
                return self._http.request(
                    method, url, params=query or None, data=form, headers=headers
                )
            except httpx.TimeoutException as exc:
                raise TimeoutError(f"{request} timed out ({type(exc).__name__})") from None
            except dropped as exc:
                if idempotent:
                    raise  # retried below
                raise ConnectionError(f"{request} failed: {exc}") from None
            except httpx.TransportError as exc:
                raise ConnectionError(f"{request} failed: {exc}") from None

        def again(state: tenacity.RetryCallState) -> bool:
            outcome = state.outcome
            if outcome is None or outcome.failed:
                return outcome is not None and isinstance(outcome.exception(), dropped)
            status = outcome.result().status_code
            asks = self._asks_to_wait(outcome.result())
            if asks and self._on_retryable is not None:
                self._on_retryable(outcome.result(), state.attempt_number)
            return asks or (idempotent and status in TRANSIENT)

        def wait(state: tenacity.RetryCallState) -> float:
            outcome = state.outcome
            if outcome is not None and not outcome.failed:
                response = outcome.result()
                if self._asks_to_wait(response):
                    asked = self._wait(response, state.attempt_number, self._clock())
                    return min(max(asked, 0.0), self._max_sleep)
            return min(BACKOFF(state), self._max_sleep)

        retrying = tenacity.Retrying(
            retry=again,
            wait=wait,
            stop=tenacity.stop_after_attempt(self._max_attempts),
            sleep=self._sleep,
            retry_error_callback=lambda state: _last_answer(request, state),
        )
        response = retrying(attempt_once)
        attempts = retrying.statistics.get("attempt_number", 1)
        if response.status_code >= 400:
            raise self._error(response, request, requires, attempts)
        try:
            return response, response.json()
        except ValueError:
            raise MalformedResponse(request, "not JSON") from None

    def _asks_to_wait(self, response: httpx.Response) -> bool:
        if response.status_code in RETRYABLE:
            return True
        return self._throttled is not None and self._throttled(response)

    def _error(
        self, response: httpx.Response, request: str, requires: str | None, attempts: int
    ) -> ApiError:
        code, message = error_fields(response)
        permission = None
        if response.status_code == 403 and not self._asks_to_wait(response):  # not throttling
            hinted = self._permission_hint(message) if self._permission_hint else None
            permission = hinted or requires
        return self._error_type(
            response.status_code,
            code,
            " ".join(message.split()),
            request=request,
            permission=permission,
            attempts=attempts,
        )


def _last_answer(request: str, state: tenacity.RetryCallState) -> httpx.Response:
    """The answer given up on, or the dropped connection as a :class:`ConnectionError`."""
    assert state.outcome is not None
    if state.outcome.failed:
        exc = state.outcome.exception()
        raise ConnectionError(f"{request} failed after {state.attempt_number} attempts: {exc}")
    return state.outcome.result()  # type: ignore[no-any-return]


def _label(url: str, method: str = "GET") -> str:
    return f"{method} {urlsplit(url).path}"


# --- what a collector over this client receives ---------------------------------------------


class ApiScope(Generic[C]):
    """One target of an HTTP API provider (a Workspace domain, an Okta org, a Fleet server).

    ``api`` is the target's client; ``settings`` the provider's config section (for snapshots
    that record the configured policy); ``now()`` the collection time, recorded in snapshots
    whose verdicts depend on age (checks never read a clock).
    """

    def __init__(
        self,
        target: Target,
        api: HttpClient,
        cache: SnapshotCache,
        *,
        settings: C,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.target = target
        self.api = api
        self.settings = settings
        self._cache = cache
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    def get(self, kind: type[S]) -> S:
        """Another snapshot for this target (memoised for the run)."""
        return self._cache.get(kind, self.target)
