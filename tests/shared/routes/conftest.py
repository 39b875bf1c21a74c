"""Fixtures the route tests share."""

from __future__ import annotations

import pytest
from werkzeug.test import Client

from shared.app import ProxyApp


@pytest.fixture
def chat(chat_settings, telemetry):
    """A client of the app with the chat settings (tests/conftest.py), its telemetry recorded."""
    return Client(ProxyApp(chat_settings, telemetry=telemetry))
