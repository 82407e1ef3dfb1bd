"""Lean service models: a botocore model describes every operation of its service (EC2: 830,
12 MB as loaded JSON) and documents each in HTML, where annexa calls a handful and reads no
docstring.

:func:`install` gives a boto3 session a data loader (botocore's own ``Loader``, same search
paths) that, once per ``service-2`` model as it is loaded, empties its documentation and keeps
only the operations annexa's AWS code names (as ``describe_volumes`` or ``DescribeVolumes``
anywhere in ``collector/aws``, plus those botocore calls itself) and the shapes they reach.
The loader caches the lean model for every client the session creates afterwards; a client
has no method for an operation left out."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from botocore import xform_name
from botocore.loaders import Loader

_DOC_KEYS = ("documentation", "documentationUrl")
#: services kept whole: credential providers create their clients from the same session
_WHOLE = frozenset({"sts", "sso", "sso-oidc", "signin"})
#: operations botocore calls on its own (S3's region redirects and S3 Express sessions)
_INTERNAL = {"s3": frozenset({"HeadBucket", "GetBucketLocation", "CreateSession"})}


def strip_documentation(model: dict[str, Any]) -> None:
    """Empty the documentation strings of a botocore service model, in place."""
    stack: list[Any] = [model]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in _DOC_KEYS:
                if key in node:  # emptied, not removed: botocore reads some of these keys
                    node[key] = ""
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))


@cache
def named_in_sources() -> frozenset[str]:
    """Every identifier and string word in annexa's AWS collector sources."""
    words: set[str] = set()
    for path in Path(__file__).parent.rglob("*.py"):
        words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", path.read_text(encoding="utf-8")))
    return frozenset(words)


def keep_operations(model: dict[str, Any], service: str, names: frozenset[str]) -> None:
    """Keep only the operations named in ``names`` (either spelling) or that botocore calls
    itself, and the shapes they reach, in place. A service annexa names no operation of is
    left whole."""
    if service in _WHOLE:
        return
    internal = _INTERNAL.get(service, frozenset())
    kept = {
        name: op
        for name, op in model["operations"].items()
        if name in names or xform_name(name) in names or name in internal
    }
    if not kept:
        return
    shapes = model["shapes"]
    stack = [
        ref["shape"]
        for op in kept.values()
        for ref in (op.get("input"), op.get("output"), *op.get("errors", ()))
        if ref
    ]
    reached: set[str] = set()
    while stack:
        name = stack.pop()
        if name in reached:
            continue
        reached.add(name)
        shape = shapes[name]
        refs = [shape.get(k) for k in ("member", "key", "value")]
        refs += list(shape.get("members", {}).values())
        stack.extend(ref["shape"] for ref in refs if ref)
    model["operations"] = kept
    model["shapes"] = {name: shapes[name] for name in shapes if name in reached}


class LeanLoader(Loader):
    """A botocore loader whose service models carry no documentation and only the operations
    annexa names."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stripped: set[int] = set()  # ids of cached models already stripped

    def load_service_model(
        self, service_name: str, type_name: str, api_version: str | None = None
    ) -> Any:
        model = super().load_service_model(service_name, type_name, api_version)
        if type_name == "service-2" and id(model) not in self._stripped:
            strip_documentation(model)  # the loader's cache keeps ``model`` (and its id)
            keep_operations(model, service_name, named_in_sources())
            self._stripped.add(id(model))
        return model


def install(session: Any) -> None:
    """Give ``session`` (a boto3 Session) a :class:`LeanLoader`, unless it has one already.
    Call before the session creates its first client."""
    core = session._session  # boto3 keeps its botocore session here (no public accessor)
    current = core.get_component("data_loader")
    if isinstance(current, LeanLoader):
        return
    lean = LeanLoader(
        extra_search_paths=list(current.search_paths), include_default_search_paths=False
    )
    core.register_component("data_loader", lean)
