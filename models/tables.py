"""The tables as SQLAlchemy Core objects, for queries that select columns, not objects.

`from models import tables as t` then `select(t.model.c.slug).join(t.lab, ...)`: the SQL stays
visible and typed, without ORM objects on the hot read paths.
"""

from typing import cast

from sqlalchemy import Table

from models.audit import ApiKey, Change
from models.deck import Deck, Slide, SlideItem
from models.lab import Lab
from models.language_model import LanguageModel
from models.links import DataVersion, ModelTechnique, SlideMention, Source
from models.paper import Paper
from models.technique import Technique


def _table(model: type) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


lab = _table(Lab)
paper = _table(Paper)
model = _table(LanguageModel)
technique = _table(Technique)
model_technique = _table(ModelTechnique)
deck = _table(Deck)
slide = _table(Slide)
slide_item = _table(SlideItem)
slide_mention = _table(SlideMention)
source = _table(Source)
data_version = _table(DataVersion)
api_key = _table(ApiKey)
change = _table(Change)
