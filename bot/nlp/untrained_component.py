"""What every untrained Rasa component of this project shares: being built from its config alone.

Rasa asks each graph component for a `create` class method; for components with nothing to
train (the splitter, term extractor, routers, guards and crisis detector) it is always the same,
so it lives here once, with the variant that reads the spaCy pipeline.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.utils.spacy_utils import SpacyNLP


class UntrainedComponent(GraphComponent):
    """A Rasa graph component with nothing to train or persist, built from its config."""

    def __init__(self, config: Optional[Dict[Text, Any]] = None) -> None:
        """Keep the component's config (subclasses read what they need from it)."""
        self.config = config or {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        """Create the component (nothing to train)."""
        return cls(config)


class UntrainedSpacyComponent(UntrainedComponent):
    """An untrained component that reads each message's spaCy document (the pipeline must run first)."""

    @classmethod
    def required_components(cls) -> List[Type]:
        """Needs the project's spaCy pipeline (`SpacyNLP`)."""
        return [SpacyNLP]
