"""One router per resource; ``api_router`` mounts them all under /api."""

from fastapi import APIRouter

from service.api.routes import agents, events, games, notifications, prices, rules, stores

api_router = APIRouter(prefix="/api")
for module in (games, stores, agents, rules, events, prices, notifications):
    api_router.include_router(module.router)
