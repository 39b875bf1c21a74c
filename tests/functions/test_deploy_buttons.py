"""The README's deploy buttons ask for the variables the code actually reads."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from functions.netlify import build as netlify_build
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _button(host: str) -> str:
    match = re.search(rf"\]\((https://{re.escape(host)}[^)\s]+)\)", README)
    assert match, f"no {host} button in README.md"
    return match.group(1)


def test_vercel_button_asks_for_variables_the_settings_read():
    query = parse_qs(urlsplit(_button("vercel.com/new/clone")).query)
    asked = query["env"][0].split(",")
    assert "HF_TOKEN" in asked
    for name in asked:
        # GIVEN each variable the button asks for, THEN Settings.from_env actually reads it
        assert Settings.from_env({}) != Settings.from_env({name: "https://app.example"}), name
    assert query["repository-url"][0].startswith("https://github.com/")
    assert query["envDescription"][0]


def test_netlify_button_and_its_template_variables_are_the_build_scripts():
    assert urlsplit(_button("app.netlify.com/start/deploy")).query.startswith("repository=https://github.com/")
    template = tomllib.loads((ROOT / "netlify.toml").read_text())["template"]["environment"]
    assert set(template) == {netlify_build.BACKEND_VARIABLE, netlify_build.SECRET_VARIABLE}
    for name in template:
        assert f"`{name}`" in README
    # the secret Netlify signs with is the one the backend's guard reads
    assert Settings.from_env({netlify_build.SECRET_VARIABLE: "x"}).proxy_signature_secret == "x"
