"""`rasa data validate` must report no problems with the domain, data and stories."""
from __future__ import annotations

import re
import subprocess

from tests.conftest import ROOT, VENV_BIN, base_env

# Rasa 3.6 merges the retrieval intents it finds in the NLU data into the domain that
# already declares them (the story reader needs them declared) and reports that merge as a
# duplicate. It is emitted for every project with retrieval intents and is not a data problem.
KNOWN_RASA_FALSE_ALARM = re.compile(
    r"duplicated intents have been found across multiple domain files: faq$")
# A response that only a custom action sends (`response="utter_..."` under bot/actions/) is
# used, though no story or rule names it; any other unused response is a real warning.
UNUSED_RESPONSE = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule\.$")
ACTIONS_SOURCE = "\n".join(path.read_text() for path in (ROOT / "bot" / "actions").glob("*.py"))


def expected(line: str) -> bool:
    """Whether a warning is one of the known ones that are not data problems."""
    if KNOWN_RASA_FALSE_ALARM.search(line):
        return True
    unused = UNUSED_RESPONSE.search(line)
    return bool(unused) and f'response="{unused.group(1)}"' in ACTIONS_SOURCE


def test_validate_reports_no_warnings() -> None:
    result = subprocess.run(
        [str(VENV_BIN / "rasa"), "data", "validate", "--fail-on-warnings", "-c", "config.yml",
         "-d", "bot/domain", "--data", "bot/data"],
        cwd=ROOT, env=base_env(), capture_output=True, text=True, timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    warnings = [line for line in output.splitlines() if "UserWarning" in line]
    unexpected = [line for line in warnings if not expected(line.strip())]
    assert unexpected == [], "\n".join(unexpected)
    assert "No story structure conflicts found" in output
