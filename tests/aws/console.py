"""The installed ``annexa`` console script, run as a subprocess against an AWS endpoint."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def annexa_env(endpoint: str, data_dir: Path, **annexa: str) -> dict[str, str]:
    """This environment minus AWS_*/ANNEXA_*, pointed at ``endpoint`` with fake credentials;
    ``annexa`` adds ``ANNEXA_<NAME>`` variables (``AWS__MAX_ATTEMPTS="2"``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ANNEXA_"))}
    env |= {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "ANNEXA_DATA_DIR": str(data_dir),
        "HOME": str(data_dir),
    }
    annexa = {"AWS__REGIONS": "session"} | annexa  # one region: the endpoint's (tests stay fast)
    return env | {f"ANNEXA_{name}": value for name, value in annexa.items()}


def annexa(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("annexa", path=str(Path(sys.executable).parent)) or "annexa"
    return subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=180)
