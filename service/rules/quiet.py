"""Quiet hours: a daily window (possibly across midnight) in BGW's time zone during which
notifications wait instead of going out."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


class QuietHours:
    def __init__(self, spec: str | None, zone: ZoneInfo) -> None:
        self.zone = zone
        self.window: tuple[time, time] | None = None
        if spec:
            start, end = (time.fromisoformat(part) for part in spec.split("-"))
            self.window = (start, end)

    def ends_at(self, now: datetime) -> datetime | None:
        """When the quiet hours around ``now`` end (UTC), or None when ``now`` is not in them."""
        if self.window is None:
            return None
        start, end = self.window
        local = now.astimezone(self.zone)
        clock = local.time()
        inside = start <= clock < end if start < end else (clock >= start or clock < end)
        if not inside:
            return None
        end_day = local.date() if clock < end else local.date() + timedelta(days=1)
        return datetime.combine(end_day, end, tzinfo=self.zone).astimezone(UTC)
