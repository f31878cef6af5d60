"""Moving the graph: export it whole, import a document in that format, ingest a further deck."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Request, UploadFile
from starlette.responses import StreamingResponse

from api.auth import WriteKeyDep
from api.deps import SessionDep
from api.queries import transfer, transfer_import, transfer_ingest
from api.responses import JSON
from api.routes.docs import errors

router = APIRouter(tags=["transfer"])

DOCUMENT_EXAMPLE = {
    "format": "paperkg-export",
    "version": 1,
    "data_version": 12,
    "labs": [{"slug": "deepseek", "name": "DeepSeek", "kind": "industry", "country": "CN",
              "homepage": None}],
    "models": [{"slug": "deepseek-v2", "name": "DeepSeek-V2", "lab": "deepseek",
                "paper": "arxiv-2405.04434", "release_date": "2024-05-06",
                "parameters": 236000000000, "active_parameters": 21000000000}],
}  # fmt: skip
EXPORT_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The document, streamed: `format`, `version`, `data_version`, then the"
        " lists `decks`, `labs`, `papers`, `models`, `techniques`, `links`, `sources`,"
        " `mentions`, each in a stable order, one record per line.",
        "content": {"application/json": {"example": DOCUMENT_EXAMPLE}},
    }
}
REPORT_EXAMPLE = {
    "data_version": 13,
    "changed": True,
    "labs": {"created": 1, "updated": 0, "unchanged": 5},
    "models": {"created": 1, "updated": 1, "unchanged": 12},
}
IMPORT_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"example": REPORT_EXAMPLE}}}
}
DECK_RESPONSE: dict[int | str, dict[str, Any]] = {201: {"description": "A new deck was stored."}}
DECK_FORM = {
    "deck": File(description="The deck: reveal.js markdown, slides split by `----` lines."),
    "overlay": File(description="Optional facts about it (YAML, the seed's overlay format)."),
}


@router.get(
    "/export",
    summary="The whole graph as one JSON document",
    response_class=StreamingResponse,
    responses=EXPORT_RESPONSE | errors(),
)
def export_graph(request: Request) -> StreamingResponse:
    """Entities, relations, sources and decks, keyed by slug, from one snapshot, streamed.

    Timestamps are kept, so importing it into an empty database and exporting again gives the
    same bytes. `paperkg export FILE` writes the same document.
    """
    return StreamingResponse(
        transfer.open_export(request.app.state.engine),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="paperkg-export.json"'},
    )


@router.post(
    "/import",
    summary="Import a document in the export format (all or nothing)",
    responses=IMPORT_RESPONSE | errors(401, 403, 413),
)
def import_graph(
    document: Annotated[
        dict[str, Any],
        Body(description="A document as `GET /export` writes it.", examples=[DOCUMENT_EXAMPLE]),
    ],
    session: SessionDep,
    key: WriteKeyDep,
) -> JSON:
    """Upsert every record by slug in one transaction; report created/updated/unchanged per kind.

    A bad record is a 422 naming it (`models[3] (slug 'x'): lab: lab 'nope' does not exist`)
    and nothing is written. Nothing is deleted. Bodies up to 10 MB; larger documents go through
    `paperkg import FILE`.
    """
    return JSON(transfer_import.import_document(session, document, key=key.name))


@router.post(
    "/decks",
    tags=["slides"],
    summary="Ingest a further deck (markdown, with an optional overlay)",
    responses=DECK_RESPONSE | errors(401, 403, 409, 413),
)
def ingest_deck(
    deck: Annotated[UploadFile, DECK_FORM["deck"]],
    session: SessionDep,
    key: WriteKeyDep,
    overlay: Annotated[UploadFile | None, DECK_FORM["overlay"]] = None,
) -> JSON:
    """`multipart/form-data`: `curl -F deck=@chapter.md -F overlay=@overlay.yaml …/decks`.

    Slides are stored; arXiv links become papers (stored ones are linked, not duplicated);
    overlay facts are checked against their quotes. 201 for a new deck, else 200; the same deck
    again changes nothing. A wrong quote is a 422 naming the fact and the slide.
    """
    parsed = transfer_ingest.read_deck(deck.file.read(), deck.filename or "deck.md")
    facts = transfer_ingest.read_overlay(overlay.file.read() if overlay else None)
    report = transfer_ingest.ingest(session, parsed, facts, key=key.name)
    status = 201 if report["created"].get("decks") else 200
    return JSON(report, status_code=status, headers={"Location": f"/decks/{report['deck']}"})
