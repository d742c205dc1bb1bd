"""`make validate`: Rasa's `rasa data validate --fail-on-warnings`, knowing which responses actions send.

Rasa counts a domain response as used only when a story or rule names it, but this project's
actions send their wording by name (`dispatcher.utter_message(response="utter_...")`, see
bot/actions/responses.py). This runs the same checks as `rasa data validate`, counts those
responses as used, and adds the check Rasa cannot make: every response an action names exists
in the domain. Any warning fails the run, as `--fail-on-warnings` does.
"""
from __future__ import annotations

import argparse
import ast
import re
import sys
import warnings
from pathlib import Path
from typing import Any, Iterable, List, Set, Tuple

from rasa.shared.core.events import ActionExecuted

from bot.settings import PROJECT_ROOT

ACTION_SOURCES = ("bot/actions", "bot/handoff")
# Rasa 3.6 merges the retrieval intents it finds in the NLU data into the domain that already
# declares them and reports the merge as a duplicate; it is not a data problem.
RESPONSE_NAME = re.compile(r"utter_[a-z0-9_]+(?:/[a-z0-9_]+)?")
KNOWN_FALSE_ALARM = "duplicated intents have been found across multiple domain files: faq"


def response_literals(folders: Iterable[Path]) -> Tuple[Set[str], Set[str]]:
    """Response names in the source of the actions and the staff desk: every `utter_...` string, and those surely sent.

    Surely sent: passed as `response=` or as `say()`'s response; those must exist. Any other
    `utter_...` string (a form question in a class attribute, an intro chosen from a mapping)
    counts as used.
    """
    mentioned: Set[str] = set()
    sent: Set[str] = set()
    for folder in folders:
        for path in sorted(folder.glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and RESPONSE_NAME.fullmatch(node.value):
                    mentioned.add(node.value)
                if isinstance(node, ast.Call):
                    named = [kw.value for kw in node.keywords if kw.arg == "response"]
                    if isinstance(node.func, ast.Name) and node.func.id == "say":
                        named += node.args[2:3]
                    sent |= {n.value for n in named if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return mentioned, sent


def story_actions(validator: Any) -> Set[str]:
    """The action names that stories and rules use."""
    return {event.action_name for step in validator.story_graph.story_steps for event in step.events
            if isinstance(event, ActionExecuted) and event.action_name}


def validate(config: str, domain: str, data: str, action_folders: Iterable[Path] = ()) -> List[str]:
    """The problems found: Rasa's warnings and errors, and responses actions name but the domain lacks."""
    from rasa.cli.utils import _validate_domain, _validate_nlu, _validate_story_structure
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.validator import Validator

    mentioned, sent = response_literals(action_folders or [PROJECT_ROOT / folder for folder in ACTION_SOURCES])
    importer = TrainingDataImporter.load_from_config(config, domain, [data])
    validator = Validator.from_importer(importer)
    defined = set(validator.domain.responses) | set(validator.intents.responses)
    problems = [f"an action sends {name}, which no domain or response file defines"
                for name in sorted(sent - defined)]

    gather = validator._gather_utterance_actions
    only_from_actions = mentioned - story_actions(validator)
    validator._gather_utterance_actions = lambda: gather() - only_from_actions
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fine = all([_validate_domain(validator), _validate_nlu(validator, True),
                    _validate_story_structure(validator, None, True)])
    problems += [str(w.message) for w in caught
                 if issubclass(w.category, UserWarning) and KNOWN_FALSE_ALARM not in str(w.message)]
    if not fine and not problems:
        problems.append("Rasa's validator reported errors (see above)")
    return problems


def main(argv: List[str] | None = None) -> int:
    """Validate and print each problem; exit 1 if there is any."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", default="config.yml")
    parser.add_argument("-d", "--domain", default="bot/domain")
    parser.add_argument("--data", default="bot/data")
    args = parser.parse_args(argv)
    problems = validate(args.config, args.domain, args.data)
    for problem in problems:
        print(f"validate: {problem}", file=sys.stderr)
    print("Domain, data and stories are valid." if not problems else f"{len(problems)} problem(s) found.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
