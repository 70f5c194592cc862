"""Fixtures that start mock-api once per session and reset it before every test.

Point MOCK_API_BIN at the binary (default: target/debug/mock-api, as `cargo build` leaves it).
"""

import os
import pathlib
import subprocess

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("MOCK_API_BIN", str(ROOT / "target" / "debug" / "mock-api"))


@pytest.fixture(scope="session")
def mock_api():
    """The base URL of a mock-api on a free port, with repeatable ids and a frozen clock."""
    process = subprocess.Popen(
        [BINARY, "--port", "0", "--seed", "42", "--clock", "2026-01-01T00:00:00Z"],
        stdout=subprocess.PIPE,
        text=True,
    )
    # The first line is printed once the socket accepts connections.
    line = process.stdout.readline()
    assert line.startswith("mock-api listening on "), line
    yield line.split()[-1]
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(autouse=True)
def fresh(mock_api):
    """Every test starts from the seed data, with no stubs, faults or journal."""
    requests.post(f"{mock_api}/__admin/reset", timeout=5).raise_for_status()
