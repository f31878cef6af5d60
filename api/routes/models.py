"""Language models."""

from fastapi import APIRouter

from api.deps import SessionDep
from api.queries import models as model_queries
from api.responses import JSON
from api.routes.docs import errors
from models.language_model import LanguageModelDetail

router = APIRouter(prefix="/models", tags=["models"])


@router.get(
    "/{slug}",
    response_model=LanguageModelDetail,
    summary="One model, with its lab, paper, lineage and techniques",
    responses=errors(404),
)
def read_model(slug: str, session: SessionDep) -> JSON:
    """A model and what it introduced or uses, every fact with its slide quote or reference."""
    return JSON(model_queries.get_model(session, slug))
