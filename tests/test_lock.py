"""requirements.lock installs anywhere: registry pins only, and `make lock` cannot write anything else.

A line such as ``pkg @ file:///tmp/…whl``, a path, a URL or ``-e`` installs only on the machine that
froze it; on a fresh clone `make demo` and `make test` would fail before running anything.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
FROZEN = "/tmp/srdi-lock/requirements.lock"      # where the Makefile's lock target freezes to first

PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?==[A-Za-z0-9.!+_-]+(\s*;\s*[^@#]+)?$")
NOT_A_PIN = [
    ("an editable install (-e)", re.compile(r"^\s*(-e|--editable)\b")),
    ("a URL", re.compile(r"://")),
    ("a direct reference (@)", re.compile(r"\s@\s")),
    ("a file: reference", re.compile(r"file:")),
    ("a path", re.compile(r"^\s*[./~]|\\|\.(whl|zip|tar\.gz)(\s|[#;]|$)")),
]

BAD_LINES = [
    "swagger-ui-bundle-v2 @ file:///tmp/swv2/swagger_ui_bundle_v2-5.31.0-py3-none-any.whl#sha256=ad84",
    "foo @ https://example.com/foo-1.0-py3-none-any.whl",
    "bar @ git+https://github.com/x/bar@v1",
    "-e ./vendor/baz",
    "--editable git+https://github.com/x/qux#egg=qux",
    "./wheels/quux-1.0-py3-none-any.whl",
    "/tmp/corge-2.0.tar.gz",
    "file:vendor/grault",
    "~/wheels/garply-1.0.zip",
    "https://example.com/waldo-1.0.tar.gz",
]
GOOD_LINES = ["prefect==3.8.8", "swagger-ui-bundle-v2==5.31.0", "psycopg-binary==3.3.9", "ruamel.yaml.clib==0.2.15",
              "python-dateutil==2.9.0.post0", "typing_extensions==4.16.0"]


def problems(line: str) -> list[str]:
    """Why a requirements line is not a registry pin (empty when it is one)."""
    found = [why for why, pattern in NOT_A_PIN if pattern.search(line)]
    return found or ([] if PIN.match(line.strip()) else ["not of the form name==version"])


def lock_lines() -> list[tuple[int, str]]:
    return [(n, line) for n, line in enumerate(LOCK.read_text(encoding="utf-8").splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")]


def test_every_line_of_the_lock_is_a_registry_pin():
    offenders = [f"requirements.lock:{n}: {line!r}: {', '.join(problems(line))}" for n, line in lock_lines() if problems(line)]
    assert not offenders, "requirements.lock must hold registry pins only:\n" + "\n".join(offenders)
    assert len(lock_lines()) > 50 and "prefect==3.8.8" in {line for _, line in lock_lines()}


@pytest.mark.parametrize("line", BAD_LINES)
def test_the_rule_refuses_each_kind_of_local_reference(line):
    assert problems(line)


@pytest.mark.parametrize("line", GOOD_LINES)
def test_the_rule_accepts_plain_pins(line):
    assert problems(line) == []


def _lock_recipe_after_the_freeze() -> str:
    """The shell of `make lock` that follows the freeze: the check, then the copy into requirements.lock."""
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    recipe = subprocess.run(["make", "-n", "--no-print-directory", "lock"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout
    freeze = next(line for line in recipe.splitlines() if "pip freeze" in line)
    assert freeze.rstrip().endswith(f"> {FROZEN}"), "the freeze must not write requirements.lock before it is checked"
    return recipe[recipe.index(freeze) + len(freeze):]


def _run_lock_check(tmp_path: Path, lines: list[str]) -> subprocess.CompletedProcess:
    frozen = tmp_path / "frozen.txt"
    frozen.write_text("\n".join(lines) + "\n", encoding="utf-8")
    script = _lock_recipe_after_the_freeze().replace(FROZEN, str(frozen))
    return subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True)


def test_make_lock_refuses_a_freeze_with_any_local_reference_and_names_the_lines(tmp_path):
    refused = _run_lock_check(tmp_path, GOOD_LINES[:3] + BAD_LINES + GOOD_LINES[3:])
    assert refused.returncode != 0
    assert not (tmp_path / "requirements.lock").exists()
    for line in BAD_LINES:
        assert line in refused.stderr
    assert "prefect==3.8.8" not in refused.stderr and "not registry pins" in refused.stderr


def test_make_lock_writes_a_freeze_of_registry_pins(tmp_path):
    pins = [line for _, line in lock_lines()]
    accepted = _run_lock_check(tmp_path, pins)
    assert accepted.returncode == 0, accepted.stderr
    assert (tmp_path / "requirements.lock").read_text(encoding="utf-8").splitlines() == pins
