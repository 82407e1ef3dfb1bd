"""A local Cloud Asset API on 127.0.0.1 that serves recorded wire-format pages.

Routes are keyed by what the real client sends: the path, the asset types and content type
(``contentType`` travels as an enum number, ``enum-encoding=int``) and the page token. A
request nobody recorded is answered 404, so a collector asking for the wrong thing fails.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

RECORDINGS = Path(__file__).parent / "recordings"
ORG = "organizations/100200300"
CONTENT = {"RESOURCE": "1", "IAM_POLICY": "2", "ORG_POLICY": "4"}


def recording(name: str) -> Any:
    return json.loads((RECORDINGS / name).read_text())


def error(name: str) -> tuple[int, Any]:
    body = recording("org/errors.json")[name]
    return body["error"]["code"], body


@dataclass(frozen=True)
class Route:
    path: str
    asset_types: tuple[str, ...] = ()
    content: str | None = None
    page_token: str = ""


@dataclass
class AssetApi:
    """Route -> answers (status, body); the last answer repeats once the others are used."""

    routes: dict[Route, list[tuple[int, Any]]]
    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)

    def answer(self, raw_path: str) -> tuple[int, Any]:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query)
        self.requests.append((parts.path, query))
        route = Route(
            parts.path,
            tuple(sorted(query.get("assetTypes", []))),
            query.get("contentType", [None])[0],
            query.get("pageToken", [""])[0],
        )
        answers = self.routes.get(route)
        if not answers:
            return 404, {
                "error": {"code": 404, "message": f"unrecorded {route}", "status": "NOT_FOUND"}
            }
        return answers.pop(0) if len(answers) > 1 else answers[0]


def pages(path: str, files: list[str], asset_types=(), content=None) -> dict[Route, list]:
    """Routes for a paged recording: page n+1 is asked for with page n's nextPageToken."""
    routes, token = {}, ""
    for name in files:
        body = recording(name)
        routes[Route(path, tuple(sorted(asset_types)), content and CONTENT[content], token)] = [
            (200, body)
        ]
        token = body.get("nextPageToken", "")
    return routes


def org_routes(scope: str = ORG) -> dict[Route, list]:
    """The recorded organisation: every sweep the GCP collectors make."""
    v1 = f"/v1/{scope}"
    rm = "cloudresourcemanager.googleapis.com"
    return {
        **pages(
            f"{v1}:searchAllIamPolicies", ["org/iam_policies_1.json", "org/iam_policies_2.json"]
        ),
        **pages(
            f"{v1}/assets",
            ["org/holders_1.json", "org/holders_2.json"],
            [f"{rm}/Organization", f"{rm}/Folder", f"{rm}/Project"],
            "IAM_POLICY",
        ),
        **pages(
            f"{v1}/assets",
            ["org/service_account_keys.json"],
            ["iam.googleapis.com/ServiceAccountKey"],
            "RESOURCE",
        ),
        **pages(
            f"{v1}/assets", ["org/buckets.json"], ["storage.googleapis.com/Bucket"], "RESOURCE"
        ),
        **pages(
            f"{v1}/assets",
            ["org/compute_1.json", "org/compute_2.json"],
            ["compute.googleapis.com/Firewall", "compute.googleapis.com/Project"],
            "RESOURCE",
        ),
        **pages(
            f"{v1}:searchAllResources",
            ["org/networks_1.json", "org/networks_2.json"],
            ["compute.googleapis.com/Network"],
        ),
        **pages(
            f"{v1}/assets",
            ["org/sql_instances.json"],
            ["sqladmin.googleapis.com/Instance"],
            "RESOURCE",
        ),
        **pages(
            f"{v1}/assets", ["org/kms_keys.json"], ["cloudkms.googleapis.com/CryptoKey"], "RESOURCE"
        ),
        **pages(
            f"{v1}/assets",
            ["org/log_buckets_1.json", "org/log_buckets_2.json"],
            ["logging.googleapis.com/LogBucket"],
            "RESOURCE",
        ),
        **pages(
            f"/v2/{scope}/sources/-/findings",
            ["org/scc_findings_1.json", "org/scc_findings_2.json"],
        ),
        **pages(
            f"{v1}/assets",
            ["org/org_policies.json"],
            [f"{rm}/Organization", f"{rm}/Folder", f"{rm}/Project"],
            "ORG_POLICY",
        ),
    }


class _Handler(BaseHTTPRequestHandler):
    api: AssetApi

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._reply(*self.server.api.answer(self.path))  # type: ignore[attr-defined]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        self._reply(*self.server.api.answer(self.path))  # type: ignore[attr-defined]

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def serve(api: AssetApi) -> Iterator[str]:
    """Serve ``api`` on 127.0.0.1; yields the endpoint URL (``http://127.0.0.1:<port>``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.api = api  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
