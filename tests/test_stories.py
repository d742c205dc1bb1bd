"""Rasa test stories (tests/stories/) against the trained model, failing on any wrong prediction."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, VENV_BIN, base_env


def test_every_test_story_is_predicted_exactly(model_path: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(VENV_BIN / "rasa"), "test", "core", "-m", str(model_path), "--stories",
         "tests/stories", "--out", str(tmp_path), "--fail-on-prediction-errors"],
        cwd=ROOT, env=base_env(), capture_output=True, text=True, timeout=900,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else result.stdout[-3000:] + result.stderr[-3000:]
    if result.returncode != 0:
        pytest.fail(f"test stories failed (exit {result.returncode}):\n{details}")
    assert "Failed to predict" not in result.stdout + result.stderr
