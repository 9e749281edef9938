from __future__ import annotations

from datetime import datetime

from pydantic import Field

from service.schemas.common import MAX_BGG_ID, InputModel, Name, ReadModel, Tag, Title


class GameCreate(InputModel):
    title: Title
    synonyms: list[Title] = Field(default_factory=list, max_length=50)
    publisher: Name | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    bgg_id: int | None = Field(None, ge=1, le=MAX_BGG_ID)


class GameUpdate(InputModel):
    title: Title | None = None
    synonyms: list[Title] | None = Field(None, max_length=50)
    publisher: Name | None = None
    tags: list[Tag] | None = Field(None, max_length=50)
    bgg_id: int | None = Field(None, ge=1, le=MAX_BGG_ID)


class GameRead(ReadModel):
    id: int
    title: str
    synonyms: list[str]
    publisher: str | None
    tags: list[str]
    bgg_id: int | None
    created_at: datetime
    updated_at: datetime
