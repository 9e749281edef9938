"""Alert rules: which events notify, over which channels."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from sqlalchemy import select

from service.api.crud import apply_changes, changes_of, get_or_404
from service.api.deps import SessionDep
from service.api.pagination import Limit, Offset, offset_page
from service.db.models import AlertRule, ListingEvent
from service.rules.engine import evaluate
from service.rules.facts import load_facts
from service.schemas.common import DEFAULT_PAGE_SIZE, MAX_ID, Page
from service.schemas.history import EventRead
from service.schemas.rules import PreviewItem, RuleCreate, RulePreview, RuleRead, RuleUpdate

router = APIRouter(prefix="/api/rules", tags=["rules"])

RuleId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("", response_model=Page[RuleRead])
async def list_rules(
    session: SessionDep,
    enabled: bool | None = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    offset: Offset = 0,
) -> dict[str, object]:
    stmt = select(AlertRule).order_by(AlertRule.id)
    if enabled is not None:
        stmt = stmt.where(AlertRule.enabled == enabled)
    return await offset_page(session, stmt, limit=limit, offset=offset)


@router.post("", response_model=RuleRead, status_code=status.HTTP_201_CREATED)
async def create_rule(body: RuleCreate, session: SessionDep) -> AlertRule:
    rule = AlertRule(**body.model_dump(mode="json"))
    session.add(rule)
    await session.commit()
    return rule


@router.get("/{rule_id}", response_model=RuleRead)
async def get_rule(rule_id: RuleId, session: SessionDep) -> AlertRule:
    return await get_or_404(session, AlertRule, rule_id, "rule")


@router.post("/{rule_id}/test", response_model=RulePreview)
async def preview_rule(
    rule_id: RuleId,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500, description="Recent events to try.")] = 100,
) -> RulePreview:
    """Which of the latest events the rule fires on, and why — the same evaluator as real
    firing (cooldown and quiet hours aside: they decide when, not whether)."""
    rule = await get_or_404(session, AlertRule, rule_id, "rule")
    events = (
        await session.scalars(
            select(ListingEvent)
            .order_by(ListingEvent.first_seen_at.desc(), ListingEvent.id.desc())
            .limit(limit)
        )
    ).all()
    facts = await load_facts(session, events)
    fired = []
    for event, event_facts in zip(events, facts, strict=True):
        verdict = evaluate(rule.logic, rule.conditions, event_facts)
        if verdict.fires:
            fired.append(
                PreviewItem(event=EventRead.model_validate(event), reasons=verdict.reasons)
            )
    return RulePreview(rule_id=rule.id, evaluated=len(events), fired=len(fired), events=fired)


@router.patch("/{rule_id}", response_model=RuleRead)
async def update_rule(rule_id: RuleId, body: RuleUpdate, session: SessionDep) -> AlertRule:
    rule = await get_or_404(session, AlertRule, rule_id, "rule")
    apply_changes(rule, changes_of(body))
    await session.commit()
    return rule


@router.delete("/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_rule(rule_id: RuleId, session: SessionDep) -> None:
    """Delete a rule; the notifications it produced stay in the delivery log, unlinked."""
    rule = await get_or_404(session, AlertRule, rule_id, "rule")
    await session.delete(rule)
    await session.commit()
