"""Schemathesis against a real server's OpenAPI document: no generated request may get a 5xx.

Covers the public operations (the curator API needs a key and writes the KB);
the rate limit is off so that every generated request reaches the handlers.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.live_server import build_kb, serve

pytestmark = [pytest.mark.slow, pytest.mark.model]

#: Examples per operation and phase; bounded so the run takes about a minute.
MAX_EXAMPLES = 50


def test_no_generated_request_gets_a_server_error(tmp_path: Path) -> None:
    pytest.importorskip("schemathesis", reason="schemathesis is in the [test] extra")
    kb = build_kb(tmp_path / "kb.sqlite")
    with serve(kb, tmp_path, rate_limit="0", log_questions="true") as server:
        run = subprocess.run(
            [
                sys.executable,
                "-c",
                "from schemathesis.cli import schemathesis; schemathesis()",
                "run",
                f"{server.url}/openapi.json",
                "--checks",
                "not_a_server_error",
                "--exclude-path-regex",
                "^/v1/admin",
                "--max-examples",
                str(MAX_EXAMPLES),
                "--seed",
                "20261124",
                "--generation-database",
                "none",
                "--request-timeout",
                "30",
                "--report-dir",
                str(tmp_path / "schemathesis"),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
        )
        assert server.process.poll() is None, "the server died under schemathesis"
    summary = run.stdout[run.stdout.find("SUMMARY") :]
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "Tested: " in summary and "passed" in summary, summary
