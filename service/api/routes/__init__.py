"""One router per resource, each with its full prefix (``/api/games``).

Routers are included without a prefix of their own: the route object that handles a request then
carries the whole template (``/api/games/{game_id}``), which is what the API metrics label
``endpoint`` uses.
"""

from fastapi import APIRouter

from service.api.routes import (
    agents,
    events,
    games,
    metrics,
    notifications,
    prices,
    rules,
    stores,
)

routers: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (games, stores, agents, rules, events, prices, notifications, metrics)
)
