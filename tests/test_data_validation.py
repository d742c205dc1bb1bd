"""`make validate` (bot/validate.py): Rasa's checks with warnings as errors, and the responses actions send."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from bot.validate import validate
from tests.conftest import ROOT, VENV_BIN, base_env


def test_the_project_validates_with_no_problem() -> None:
    result = subprocess.run([str(VENV_BIN / "python"), "-m", "bot.validate"], cwd=ROOT, env=base_env(),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert "Domain, data and stories are valid." in result.stdout


def test_a_response_no_rule_story_or_action_uses_is_a_problem(tmp_path: Path) -> None:
    domain = tmp_path / "domain"
    shutil.copytree(ROOT / "bot" / "domain", domain)
    (domain / "extra.yml").write_text('version: "3.1"\nresponses:\n  utter_forgotten:\n  - text: "Nobody sends me."\n')
    problems = validate("config.yml", str(domain), "bot/data")
    assert problems == ["The utterance 'utter_forgotten' is not used in any story or rule."]


def test_a_response_an_action_sends_but_the_domain_lacks_is_a_problem(tmp_path: Path) -> None:
    actions = tmp_path / "actions"
    shutil.copytree(ROOT / "bot" / "actions", actions)
    (actions / "typo.py").write_text('def run(dispatcher, tracker):\n    say(dispatcher, tracker, "utter_handoff_wating")\n')
    problems = validate("config.yml", "bot/domain", "bot/data", [actions, ROOT / "bot" / "handoff"])
    assert problems == ["an action sends utter_handoff_wating, which no domain or response file defines"]
