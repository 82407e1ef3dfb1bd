"""Service models without their documentation: about a quarter of each botocore model's
memory is HTML documentation that only builds docstrings, which a collector never reads.

:func:`install` gives a boto3 session a data loader (botocore's own ``Loader``, same search
paths) that drops the documentation from each ``service-2`` model once, as it is loaded; the
loader caches the lean model for every client the session creates afterwards."""

from __future__ import annotations

from typing import Any

from botocore.loaders import Loader

_DOC_KEYS = ("documentation", "documentationUrl")


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


class LeanLoader(Loader):
    """A botocore loader whose service models carry no documentation."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stripped: set[int] = set()  # ids of cached models already stripped

    def load_service_model(
        self, service_name: str, type_name: str, api_version: str | None = None
    ) -> Any:
        model = super().load_service_model(service_name, type_name, api_version)
        if type_name == "service-2" and id(model) not in self._stripped:
            strip_documentation(model)  # the loader's cache keeps ``model`` (and its id)
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
