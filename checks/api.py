"""The plugin API: snapshots, findings and the ``@check`` marker.

Checks are pure functions. They receive typed snapshots (pydantic models that a collector
fetched once per run and target) by parameter type and yield one :class:`Finding` per resource.
A parameter typed ``Across[Kind]`` receives that kind's snapshot from every in-scope target of
its provider (a cross-provider check: leavers who still hold access elsewhere). The decorator
only attaches metadata; registration and validation happen in the registry.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

__all__ = [
    "SEVERITIES",
    "Across",
    "CheckSpec",
    "Finding",
    "Severity",
    "Snapshot",
    "SnapshotPart",
    "check",
    "parse_duration",
    "spec_of",
]

Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITIES: tuple[str, ...] = typing.get_args(Severity)
CHECK_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+){2,}$")
_MARK = "__annexa_check__"
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class Snapshot(BaseModel):
    """Typed, immutable view of what a collector fetched for one target.

    Subclasses set ``provider`` and, for the "0 buckets" evidence line, ``resource_noun``.
    Validators are built on first use (``defer_build``): commands that only list checks or
    read the store never pay for the snapshot models of every provider.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    provider: ClassVar[str] = ""
    resource_noun: ClassVar[str] = "resources"


class SnapshotPart(BaseModel):
    """An immutable piece of a snapshot (a bucket, a user, a policy): snapshot fields hold these."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


S = TypeVar("S", bound=Snapshot)


class Across(Mapping[str, S], Generic[S]):
    """Every in-scope target's snapshot of one kind, by target key (``aws:123456789012``).

    A cross-provider check names ``Across[IamCredentialReport]``; the runner fills it with the
    snapshot of each configured target of that kind's provider (none configured: empty). If any
    of those fetches fails, the check is not run: it is an ERROR naming the failed input.
    """

    def __init__(self, kind: type[S], snapshots: Mapping[str, S] | None = None) -> None:
        self.kind = kind
        self._by_target = dict(sorted((snapshots or {}).items()))
        for key, snapshot in self._by_target.items():
            if not isinstance(snapshot, kind):
                raise TypeError(f"Across[{kind.__name__}] got {type(snapshot).__name__} at {key}")

    def __getitem__(self, target: str) -> S:
        return self._by_target[target]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_target)

    def __len__(self) -> int:
        return len(self._by_target)

    def __repr__(self) -> str:
        return f"Across[{self.kind.__name__}]({list(self._by_target)})"


class Finding(BaseModel):
    """The verdict on one resource: the one result shape every check yields."""

    model_config = ConfigDict(frozen=True)

    resource: str
    passed: bool
    message: str


MAX_DURATION = timedelta(days=36525)  # 100 years: any instant plus it stays representable


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """Parse ``"6h"``, ``"7d"``, ``"30m"``, ``"2w"``, an ISO 8601 duration or seconds; positive
    and at most 100 years (ValueError otherwise)."""
    try:
        if isinstance(value, timedelta):
            result = value
        elif isinstance(value, int | float):
            result = timedelta(seconds=value)
        else:
            match = _DURATION.match(value)
            if match:
                result = timedelta(**{_UNITS[match[2]]: int(match[1])})
            else:
                from pydantic import TypeAdapter, ValidationError

                try:
                    result = TypeAdapter(timedelta).validate_python(value.strip())
                except ValidationError:
                    raise ValueError(
                        f"invalid duration {value!r} (use e.g. 30m, 6h, 7d, 2w or P7D)"
                    ) from None
    except OverflowError:
        result = MAX_DURATION * 2
    if result <= timedelta(0):
        raise ValueError(f"duration must be positive, got {value!r}")
    if result > MAX_DURATION:
        raise ValueError(f"duration {value!r} is longer than 100 years")
    return result


@dataclass(frozen=True)
class CheckSpec:
    """A registered check: its metadata and the function that judges."""

    id: str
    title: str
    provider: str
    severity: Severity
    interval: timedelta
    version: int
    remediation: str
    func: Callable[..., Iterable[Finding]]
    inputs: tuple[type[Snapshot], ...]
    #: the inputs received as :class:`Across` (from every target of their provider)
    across: frozenset[type[Snapshot]] = field(default=frozenset())

    @property
    def own_inputs(self) -> tuple[type[Snapshot], ...]:
        """The inputs read from the check's own target."""
        return tuple(k for k in self.inputs if k not in self.across)

    @property
    def providers(self) -> frozenset[str]:
        """The check's own provider and those of its :class:`Across` inputs."""
        return frozenset({self.provider, *(k.provider for k in self.across)})

    def evaluate(self, snapshots: Mapping[type[Snapshot], Snapshot | Across[Any]]) -> list[Finding]:
        """Run the check on its snapshots (an :class:`Across` for each cross-provider input)
        and return its findings as a list."""
        results = self.func(*(snapshots[kind] for kind in self.inputs))
        findings = list(results or ())
        for finding in findings:
            if not isinstance(finding, Finding):
                raise TypeError(f"check {self.id} yielded {type(finding).__name__}, not Finding")
        return findings


@dataclass(frozen=True)
class _Mark:
    id: str
    title: str
    severity: str
    interval: str | timedelta
    version: int
    provider: str | None
    remediation: str


def check(
    *,
    id: str,
    title: str,
    severity: Severity,
    interval: str | timedelta = "24h",
    version: int = 1,
    provider: str | None = None,
    remediation: str = "",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a function as a check. Only attaches data; the registry validates it.

    ``id`` is a readable slug (``aws.s3.public_access_blocked``); ``provider`` defaults to its
    first segment; ``interval`` is how often it should run (``6h``, ``1d``); bump ``version``
    whenever the verdict logic changes so that evidence says which logic produced it.
    """
    mark = _Mark(id, title, severity, interval, version, provider, remediation)

    def attach(func: Callable[..., Any]) -> Callable[..., Any]:
        setattr(func, _MARK, mark)
        return func

    return attach


def spec_of(func: Callable[..., Any]) -> CheckSpec | None:
    """Build the :class:`CheckSpec` of a marked function (``None`` if it is not a check).

    Raises ``ValueError`` naming the check when its metadata or signature is invalid.
    """
    mark: _Mark | None = getattr(func, _MARK, None)
    if mark is None:
        return None
    where = f"check {mark.id!r} ({func.__module__}.{func.__qualname__})"
    if not CHECK_ID.match(mark.id):
        raise ValueError(f"{where}: id must look like provider.service.name in lower case")
    if mark.severity not in SEVERITIES:
        raise ValueError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
    if not isinstance(mark.version, int) or mark.version < 1:
        raise ValueError(f"{where}: version must be a positive integer")
    try:
        interval = parse_duration(mark.interval)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    try:
        hints = typing.get_type_hints(func)
    except Exception as exc:
        raise ValueError(f"{where}: cannot resolve parameter types: {exc}") from None
    params = [name for name in func.__code__.co_varnames[: func.__code__.co_argcount]]
    inputs: list[type[Snapshot]] = []
    across: set[type[Snapshot]] = set()
    for name in params:
        kind = hints.get(name)
        spread = typing.get_origin(kind) is Across
        if spread:
            (kind,) = typing.get_args(kind)
        if not (isinstance(kind, type) and issubclass(kind, Snapshot)):
            raise ValueError(
                f"{where}: parameter {name!r} must be annotated with a Snapshot type "
                "or Across[<Snapshot type>]"
            )
        if kind in inputs:
            raise ValueError(f"{where}: {kind.__name__} is named by two parameters")
        inputs.append(kind)
        if spread:
            across.add(kind)
    if not inputs:
        raise ValueError(f"{where}: a check needs at least one snapshot parameter")
    return CheckSpec(
        id=mark.id,
        title=mark.title,
        provider=mark.provider or mark.id.split(".", 1)[0],
        severity=mark.severity,  # type: ignore[arg-type]
        interval=interval,
        version=mark.version,
        remediation=mark.remediation,
        func=func,
        inputs=tuple(inputs),
        across=frozenset(across),
    )
