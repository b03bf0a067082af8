"""The README starts with the two set-up commands, and CI runs the second one verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```bash\n(.*?)```", readme, re.S)
    assert first_block, "README has no bash block"
    assert readme.index(first_block.group(0)) < readme.index("\n## "), "the commands come first"
    return [line for line in first_block.group(1).splitlines() if line.strip()]


def test_two_commands_demo_then_tests():
    demo, tests = setup_commands()
    assert demo.endswith("o2c demo") and "&& .venv/bin/pytest" in tests
    assert "-c constraints.txt" in demo and "-c constraints.txt" in tests


def test_ci_runs_the_readme_test_command():
    _, tests = setup_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert tests in ci
