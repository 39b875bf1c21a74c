"""Deploy bundle sizes: what ``sam build`` puts in the Lambda zip, and Vercel's runtime install.

When the Makefile has SAM's makefile-build target (``build-<LogicalId>``, called by ``sam build``
with ARTIFACTS_DIR: https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/building-custom-runtimes.html)
it is run as ``sam build`` would; otherwise requirements.txt is pip-installed into a folder with the
code beside it, which is what the python3.12 pip workflow of ``sam build`` produces. Sizes are
unzipped bytes counted with os.walk; no .pyc (pip --no-compile, like Lambda's read-only /var/task).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from bench.common import ROOT

FORBIDDEN = ("moto", "pytest", "boto3", "botocore", "_pytest", "flask")
CODE = ("shared", "functions")


def _pip_target(requirements: list[str], target: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(target),
            *requirements,
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"pip install --target failed:\n{done.stderr}")


def _copy_code(target: Path) -> None:
    for name in CODE:
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def size_of(path: Path) -> int:
    total = 0
    for folder, _, files in os.walk(path):
        paths = (os.path.join(folder, f) for f in files)
        total += sum(os.path.getsize(p) for p in paths if not os.path.islink(p))
    return total


def top_level(path: Path) -> list[tuple[str, int]]:
    """Sizes per top-level entry (a package and its .dist-info counted together)."""
    sizes: dict[str, int] = {}
    for entry in path.iterdir():
        name = re.sub(r"-[^-]*\.dist-info$", "", entry.name).lower().replace("-", "_").removesuffix(".py")
        sizes[name] = sizes.get(name, 0) + (size_of(entry) if entry.is_dir() else entry.stat().st_size)
    return sorted(sizes.items(), key=lambda kv: -kv[1])


def _sam_target() -> str | None:
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"^(build-[A-Za-z0-9]+):", makefile, re.M)
    return match.group(1) if match else None


def lambda_bundle(work: Path) -> tuple[Path, str]:
    target = work / "lambda"
    target.mkdir()
    sam = _sam_target()
    if sam:
        subprocess.run(["make", "-s", sam, f"ARTIFACTS_DIR={target}"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        return target, f"make {sam} (sam build's makefile method)"
    _pip_target(["-r", str(ROOT / "requirements.txt")], target)
    _copy_code(target)
    return target, "pip install -r requirements.txt --target + code (sam build's pip workflow)"


def vercel_requirements() -> tuple[list[str], str]:
    pyproject = ROOT / "api" / "pyproject.toml"
    if pyproject.exists():
        return tomllib.loads(pyproject.read_text())["project"]["dependencies"], "api/pyproject.toml"
    legacy = ROOT / "functions" / "vercel" / "requirements.txt"
    if legacy.exists():
        return ["-r", str(legacy)], "functions/vercel/requirements.txt"
    lambda_only = ("aws-lambda-powertools", "serverless-wsgi")
    lines = [ln.strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()]
    reqs = [ln for ln in lines if ln and not ln.startswith("#") and not ln.startswith(lambda_only)]
    return reqs, "requirements.txt without the Lambda-only packages (no Vercel manifest on this branch)"


def vercel_bundle(work: Path) -> tuple[Path, str]:
    target = work / "vercel"
    reqs, source = vercel_requirements()
    _pip_target(reqs, target)
    _copy_code(target)
    return target, source


def measure() -> dict:
    with tempfile.TemporaryDirectory(prefix="hfproxy-bundle-") as tmp:
        out = {}
        for name, build in (("lambda", lambda_bundle), ("vercel", vercel_bundle)):
            path, how = build(Path(tmp))
            entries = top_level(path)
            out[name] = {
                "bytes": size_of(path),
                "how": how,
                "top": entries[:6],
                "forbidden": sorted({n for n, _ in entries if n in FORBIDDEN}),
            }
        return out


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=1))
