"""The watchlist: games BGW looks for."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from sqlalchemy import select

from service.api.crud import apply_changes, changes_of, get_or_404
from service.api.deps import SessionDep
from service.api.errors import conflict
from service.api.pagination import Limit, Offset, offset_page
from service.db.models import Game
from service.schemas.common import DEFAULT_PAGE_SIZE, MAX_ID, Page
from service.schemas.games import GameCreate, GameRead, GameUpdate
from service.text import fold

router = APIRouter(prefix="/api/games", tags=["games"])

GameId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("", response_model=Page[GameRead])
async def list_games(
    session: SessionDep,
    q: Annotated[
        str | None, Query(max_length=200, description="Title or a synonym contains (any case).")
    ] = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    offset: Offset = 0,
) -> dict[str, object]:
    stmt = select(Game).order_by(Game.id)
    if q:
        stmt = stmt.where(Game.search_text.contains(fold(q), autoescape=True))
    return await offset_page(session, stmt, limit=limit, offset=offset)


@router.post("", response_model=GameRead, status_code=status.HTTP_201_CREATED)
async def create_game(body: GameCreate, session: SessionDep) -> Game:
    await _ensure_bgg_id_free(session, body.bgg_id)
    game = Game(**body.model_dump())
    session.add(game)
    await session.commit()
    return game


@router.get("/{game_id}", response_model=GameRead)
async def get_game(game_id: GameId, session: SessionDep) -> Game:
    return await get_or_404(session, Game, game_id, "game")


@router.patch("/{game_id}", response_model=GameRead)
async def update_game(game_id: GameId, body: GameUpdate, session: SessionDep) -> Game:
    game = await get_or_404(session, Game, game_id, "game")
    changes = changes_of(body)
    if changes.get("bgg_id") not in (None, game.bgg_id):
        await _ensure_bgg_id_free(session, changes["bgg_id"])
    apply_changes(game, changes)
    await session.commit()
    return game


@router.delete("/{game_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_game(game_id: GameId, session: SessionDep) -> None:
    """Remove a game from the watchlist; its events and price history stay, unlinked."""
    game = await get_or_404(session, Game, game_id, "game")
    await session.delete(game)
    await session.commit()


async def _ensure_bgg_id_free(session: SessionDep, bgg_id: int | None) -> None:
    if bgg_id is not None:
        taken = await session.scalar(select(Game.id).where(Game.bgg_id == bgg_id))
        if taken is not None:
            raise conflict(f"bgg_id {bgg_id} is already used by game {taken}")
