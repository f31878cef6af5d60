"""SQLModel tables and API schemas. Importing this package registers every table on the metadata."""

from models.audit import ApiKey, Change
from models.base import metadata
from models.deck import Deck, Slide, SlideItem
from models.lab import Lab
from models.language_model import LanguageModel
from models.links import DataVersion, ModelTechnique, SlideMention, Source
from models.paper import Paper
from models.search import SearchDocument
from models.technique import Technique

__all__ = [
    "ApiKey",
    "Change",
    "DataVersion",
    "Deck",
    "Lab",
    "LanguageModel",
    "ModelTechnique",
    "Paper",
    "SearchDocument",
    "Slide",
    "SlideItem",
    "SlideMention",
    "Source",
    "Technique",
    "metadata",
]
