"""Dependency aliases for routes."""

from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from api.db import get_session

# scope="function": the commit runs before the response is sent, so a failed commit is an error
# response, not a 200 followed by a silent rollback.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
