"""Rules firing on new events: the pipeline's ``EventSink``.

Inside the transaction that stores the events (a transactional outbox), every enabled rule is
evaluated on every new event; a rule that fires writes one notification per channel, unless the
same listing already notified through that rule within its cooldown. Notifications created in
quiet hours are ``deferred`` until they end; the dispatcher sends the others."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AlertRule, ListingEvent, Notification
from service.domain import NotificationStatus
from service.rules.engine import evaluate
from service.rules.facts import load_facts
from service.rules.quiet import QuietHours
from telemetry.tracing import RULE_ID, current_traceparent, traced


@dataclass
class RulesSink:
    quiet_hours: QuietHours

    async def on_events(self, session: AsyncSession, events: Sequence[ListingEvent]) -> None:
        rules = (await session.scalars(select(AlertRule).where(AlertRule.enabled.is_(True)))).all()
        if not rules or not events:
            return
        now = datetime.now(UTC)
        quiet_until = self.quiet_hours.ends_at(now)
        facts = await load_facts(session, events)
        for rule in rules:
            with traced("rules.evaluate", {RULE_ID: rule.id}) as span:
                fired = 0
                for event, event_facts in zip(events, facts, strict=True):
                    if not evaluate(rule.logic, rule.conditions, event_facts).fires:
                        continue
                    if await self._cooling_down(session, rule, event.signature_hash, now):
                        continue
                    fired += 1
                    for channel in rule.channels:
                        session.add(
                            Notification(
                                rule_id=rule.id,
                                event_id=event.id,
                                channel=channel,
                                status=(
                                    NotificationStatus.DEFERRED
                                    if quiet_until
                                    else NotificationStatus.PENDING
                                ).value,
                                created_at=now,
                                next_attempt_at=quiet_until or now,
                                cooldown_key=event.signature_hash,
                                trace_parent=current_traceparent(),
                            )
                        )
                span.set_attribute("bgw.rule.fired", fired)
        await session.flush()

    @staticmethod
    async def _cooling_down(
        session: AsyncSession, rule: AlertRule, key: str, now: datetime
    ) -> bool:
        since = now - timedelta(hours=rule.cooldown_hours)
        found = await session.scalar(
            select(Notification.id)
            .where(
                Notification.rule_id == rule.id,
                Notification.cooldown_key == key,
                Notification.created_at >= since,
            )
            .limit(1)
        )
        return found is not None
