"""Agents: CRUD, and manifest export/import for moving agent definitions between deployments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, status
from sqlalchemy import select

from service.agents.manifests import ManifestRejected, import_manifests, keep_secrets
from service.agents.runner import AgentBusy
from service.api.crud import apply_changes, changes_of, get_or_404
from service.api.deps import QuotasDep, SessionDep
from service.api.errors import conflict, invalid
from service.api.pagination import Limit, Offset, offset_page
from service.db.models import AgentRun, SourceAgent, Store
from service.domain import AgentType
from service.schemas.agents import (
    AgentManifest,
    AgentRead,
    AgentRunRead,
    AgentUpdate,
    ImportResult,
    exported_config,
)
from service.schemas.common import DEFAULT_PAGE_SIZE, Page

router = APIRouter(prefix="/api/agents", tags=["agents"])

AgentId = Annotated[str, Path(min_length=1, max_length=64)]
MAX_IMPORT = 500


@router.get("", response_model=Page[AgentRead])
async def list_agents(
    session: SessionDep,
    store_id: Annotated[str | None, Query(max_length=64)] = None,
    type: AgentType | None = None,
    enabled: bool | None = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    offset: Offset = 0,
) -> dict[str, object]:
    stmt = select(SourceAgent).order_by(SourceAgent.id)
    if store_id is not None:
        stmt = stmt.where(SourceAgent.store_id == store_id)
    if type is not None:
        stmt = stmt.where(SourceAgent.type == type.value)
    if enabled is not None:
        stmt = stmt.where(SourceAgent.enabled == enabled)
    return await offset_page(session, stmt, limit=limit, offset=offset)


@router.post("", response_model=AgentRead, status_code=status.HTTP_201_CREATED)
async def create_agent(body: AgentManifest, session: SessionDep) -> SourceAgent:
    if await session.get(SourceAgent, body.id) is not None:
        raise conflict(f"agent {body.id!r} already exists")
    await _ensure_store(session, body.store_id, ("body", "store_id"))
    agent = SourceAgent(**body.model_dump(mode="json"))
    session.add(agent)
    await session.commit()
    return agent


@router.get(
    "/export",
    response_model=list[AgentManifest],
    response_model_exclude={"__all__": {"config": {"secret_headers"}}},
    response_model_exclude_none=True,
)
async def export_agents(session: SessionDep) -> list[dict[str, Any]]:
    """Every agent as a manifest, secrets left out (import keeps the stored ones)."""
    agents = (await session.scalars(select(SourceAgent).order_by(SourceAgent.id))).all()
    return [_manifest(agent) for agent in agents]


@router.post("/import", response_model=ImportResult)
async def import_agents(
    session: SessionDep,
    manifests: Annotated[list[AgentManifest], Body(max_length=MAX_IMPORT)],
) -> ImportResult:
    """Create or update agents from manifests, all or nothing."""
    try:
        result = await import_manifests(session, manifests)
    except ManifestRejected as exc:
        raise invalid(("body", *exc.problem.loc), exc.problem.message) from exc
    await session.commit()
    return result


@router.get("/{agent_id}", response_model=AgentRead)
async def get_agent(agent_id: AgentId, session: SessionDep, quotas: QuotasDep) -> AgentRead:
    agent = await get_or_404(session, SourceAgent, agent_id, "agent")
    read = AgentRead.model_validate(agent)
    read.pages_today = await quotas.used(agent_id)
    return read


@router.post(
    "/{agent_id}/run",
    status_code=status.HTTP_202_ACCEPTED,
    responses={409: {"description": "The agent is running already"}},
)
async def run_agent(agent_id: AgentId, session: SessionDep, request: Request) -> dict[str, str]:
    """Run the agent now, in the background (disabled agents too); follow it in ``/runs``."""
    await get_or_404(session, SourceAgent, agent_id, "agent")
    try:
        await request.app.state.agents.start_run(agent_id)
    except AgentBusy as exc:
        raise conflict(str(exc)) from exc
    return {"agent_id": agent_id, "status": "accepted"}


@router.get("/{agent_id}/runs", response_model=list[AgentRunRead])
async def list_runs(
    agent_id: AgentId,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[AgentRun]:
    """The agent's latest runs, newest first: status, reason and what each found."""
    await get_or_404(session, SourceAgent, agent_id, "agent")
    stmt = (
        select(AgentRun)
        .where(AgentRun.agent_id == agent_id)
        .order_by(AgentRun.started_at.desc(), AgentRun.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


@router.patch("/{agent_id}", response_model=AgentRead)
async def update_agent(agent_id: AgentId, body: AgentUpdate, session: SessionDep) -> SourceAgent:
    agent = await get_or_404(session, SourceAgent, agent_id, "agent")
    changes = changes_of(body)
    if changes.get("store_id") is not None:
        await _ensure_store(session, changes["store_id"], ("body", "store_id"))
    if changes.get("config") is not None:
        changes["config"] = keep_secrets(changes["config"], agent.config)
    apply_changes(agent, changes)
    await session.commit()
    return agent


@router.delete("/{agent_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_agent(agent_id: AgentId, session: SessionDep) -> None:
    """Delete an agent and its page cache; the events it found stay."""
    agent = await get_or_404(session, SourceAgent, agent_id, "agent")
    await session.delete(agent)
    await session.commit()


async def _ensure_store(session: SessionDep, store_id: str, loc: tuple[str | int, ...]) -> None:
    if await session.get(Store, store_id) is None:
        raise invalid(loc, f"unknown store {store_id!r}; create it first")


def _manifest(agent: SourceAgent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "name": agent.name,
        "type": agent.type,
        "store_id": agent.store_id,
        "schedule": agent.schedule,
        "rate_limit": agent.rate_limit,
        "config": exported_config(agent.config),
        "enabled": agent.enabled,
    }
