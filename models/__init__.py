"""SQLModel tables and API schemas. Importing this package registers every table on the metadata."""

from models.base import metadata
from models.deck import Deck, Slide, SlideItem
from models.lab import Lab
from models.language_model import LanguageModel
from models.links import DataVersion, ModelTechnique, SlideMention, Source
from models.paper import Paper
from models.technique import Technique

__all__ = [
    "DataVersion",
    "Deck",
    "Lab",
    "LanguageModel",
    "ModelTechnique",
    "Paper",
    "Slide",
    "SlideItem",
    "SlideMention",
    "Source",
    "Technique",
    "metadata",
]
