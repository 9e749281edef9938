"""Agent manifests in and out: the import both the API and ``bgw agents import`` use, and a
locator that turns a validation error's path into a line of the file it came from."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import SourceAgent, Store
from service.schemas.agents import SECRET_MASK, AgentManifest, ImportResult
from service.schemas.stores import StoreCreate

MANIFESTS = TypeAdapter(list[AgentManifest])


@dataclass(frozen=True)
class ManifestProblem:
    loc: tuple[str | int, ...]
    message: str


class ManifestRejected(Exception):
    def __init__(self, problem: ManifestProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


async def import_manifests(
    session: AsyncSession, manifests: Sequence[AgentManifest]
) -> ImportResult:
    """Create or update agents, all or nothing (the caller commits). Secrets that a manifest
    does not carry (exports never do) keep their stored values."""
    seen: set[str] = set()
    for index, manifest in enumerate(manifests):
        if manifest.id in seen:
            raise ManifestRejected(
                ManifestProblem((index, "id"), f"agent {manifest.id!r} appears twice")
            )
        seen.add(manifest.id)
        if await session.get(Store, manifest.store_id) is None:
            raise ManifestRejected(
                ManifestProblem(
                    (index, "store_id"), f"unknown store {manifest.store_id!r}; create it first"
                )
            )
    result = ImportResult(created=[], updated=[])
    for manifest in manifests:
        data = manifest.model_dump(mode="json")
        agent = await session.get(SourceAgent, manifest.id)
        if agent is None:
            session.add(SourceAgent(**data))
            result.created.append(manifest.id)
        else:
            data["config"] = keep_secrets(data["config"], agent.config)
            for key, value in data.items():
                setattr(agent, key, value)
            result.updated.append(manifest.id)
    return result


def keep_secrets(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """Merge secret headers: none sent keeps the stored ones (an exported manifest has none);
    a value sent back masked keeps its stored value; an empty value removes the header."""
    stored = old.get("secret_headers") or {}
    given = new.get("secret_headers") or {}
    if not given:
        merged = dict(stored)
    else:
        merged = {
            name: stored.get(name, "") if value == SECRET_MASK else value
            for name, value in given.items()
        }
    return {**new, "secret_headers": {name: value for name, value in merged.items() if value}}


BUILTIN = Path(__file__).with_name("builtin.json")


async def install_builtin(session: AsyncSession) -> tuple[list[str], list[str]]:
    """Add the built-in stores and agents that are missing, agents disabled; an agent or store
    that exists (perhaps edited by the user) is left alone. Returns (stores, agents) added."""
    document = json.loads(BUILTIN.read_text(encoding="utf-8"))
    stores_added: list[str] = []
    for store in (StoreCreate.model_validate(s) for s in document["stores"]):
        if await session.get(Store, store.id) is None:
            session.add(Store(**store.model_dump()))
            stores_added.append(store.id)
    await session.flush()
    missing = [
        manifest
        for manifest in MANIFESTS.validate_python(document["agents"])
        if await session.get(SourceAgent, manifest.id) is None
    ]
    result = await import_manifests(
        session, [m.model_copy(update={"enabled": False}) for m in missing]
    )
    return stores_added, result.created


def parse_manifest_file(text: str) -> list[AgentManifest]:
    """Parse a manifest file (a JSON list, or one manifest); raise ManifestFileError with the
    line of the first problem."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestFileError(exc.lineno, f"not valid JSON: {exc.msg}") from exc
    wrapped = not isinstance(document, list)
    try:
        return MANIFESTS.validate_python([document] if wrapped else document)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])[1:] if wrapped else tuple(error["loc"])
        raise ManifestFileError(line_of(text, loc), f"{field_path(loc)}: {error['msg']}") from exc


class ManifestFileError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def field_path(loc: Sequence[str | int]) -> str:
    """``[0].config.selectors.item``: how a person reads a path into a manifest file."""
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    return path.lstrip(".") or "manifest"


def line_of(text: str, loc: Sequence[str | int]) -> int:
    """The line where the value at ``loc`` (list indexes and object keys) starts; for a key that
    is missing, the line of the object that lacks it."""
    offset = _Locator(text).find(list(loc))
    return text.count("\n", 0, offset) + 1


class _Locator:
    """Just enough of a JSON reader to know where each value starts."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def find(self, loc: list[str | int]) -> int:
        self._space()
        start = self.pos
        if not loc:
            return start
        head, rest = loc[0], loc[1:]
        char = self.text[self.pos : self.pos + 1]
        if char == "[" and isinstance(head, int):
            self.pos += 1
            for index in range(head + 1):
                self._space()
                if self.text[self.pos : self.pos + 1] == "]":
                    return start
                if index == head:
                    return self.find(rest)
                self._skip_value()
                self._space()
                if self.text[self.pos : self.pos + 1] == ",":
                    self.pos += 1
        if char == "{":
            self.pos += 1
            while True:
                self._space()
                if self.text[self.pos : self.pos + 1] in ("}", ""):
                    return start
                key_start = self.pos
                key = json.loads(self._raw_value())
                self._space()
                self.pos += 1  # ':'
                self._space()
                if key == head:
                    found = self.find(rest)
                    return found if rest else key_start
                self._skip_value()
                self._space()
                if self.text[self.pos : self.pos + 1] == ",":
                    self.pos += 1
        return start

    def _space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def _raw_value(self) -> str:
        start = self.pos
        self._skip_value()
        return self.text[start : self.pos]

    def _skip_value(self) -> None:
        _, end = json.JSONDecoder().raw_decode(self.text, self.pos)
        self.pos = end
