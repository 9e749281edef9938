"""The demo shop site: three layouts shaped like real sources (a Hobby Games-like catalog, a
Лавка игр-like shop, a JSON shop API), whose catalogue moves on every ``phase_seconds`` so that
every kind of event appears: an announce, a preorder that becomes a release, a discount, and a
plain price change. It also keeps an inbox (``/inbox``) where the demo's webhook
notifications land, so a delivery can be seen end to end."""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.routing import Route


@dataclass(frozen=True)
class Item:
    title: str
    slug: str
    price: int
    old_price: int | None = None
    badge: str = ""
    in_stock: bool = True


def hobby_items(phase: int) -> list[Item]:
    landmarks = (
        Item("Каскадия: Ландшафты", "cascadia-landmarks", 2490, badge="Предзаказ", in_stock=False)
        if phase == 0
        else Item("Каскадия: Ландшафты", "cascadia-landmarks", 2490, badge="Новинка")
    )
    return [landmarks, Item("Каскадия", "cascadia", 2990, badge="Хит")]


def lavka_items(phase: int) -> list[Item]:
    azul = (
        Item("Азул", "azul", 3490)
        if phase == 0
        else Item("Азул", "azul", 2790, old_price=3490, badge="Скидка")
    )
    ticket = Item("Билет на поезд: Европа", "ticket-to-ride-europe", 3990 if phase == 0 else 3690)
    return [azul, ticket]


def nastol_items(phase: int) -> list[Item]:
    asia = (
        Item("Крылья: Азия", "wingspan-asia", 2590, badge="Скоро в продаже", in_stock=False)
        if phase < 2
        else Item("Крылья: Азия", "wingspan-asia", 2590, badge="Предзаказ", in_stock=False)
    )
    return [asia, Item("Крылья", "wingspan", 4490, badge="В продаже")]


def _money(value: int) -> str:
    return f"{value:,}".replace(",", "\u00a0") + "\u00a0₽"


def _hobby_page(items: list[Item]) -> str:
    cards = "".join(
        f"""<div class="product-card">
  <div class="product-card__labels"><span class="label">{html.escape(i.badge)}</span></div>
  <a class="product-card__title" href="/hobby/catalog/{i.slug}">{html.escape(i.title)}</a>
  <div class="product-card__price"><span class="price">{_money(i.price)}</span>
  {f'<span class="price-old">{_money(i.old_price)}</span>' if i.old_price else ""}</div>
  <div class="product-card__stock">{"В наличии" if i.in_stock else "Под заказ"}</div>
</div>"""
        for i in items
    )
    return f"<!doctype html><html lang='ru'><body><div class='catalog'>{cards}</div></body></html>"


def _lavka_page(items: list[Item]) -> str:
    def buy(item: Item) -> str:
        return "В корзину" if item.in_stock else "Нет в наличии"

    def old(item: Item) -> str:
        return f"<del>{_money(item.old_price)}</del> " if item.old_price else ""

    rows = "".join(
        f"""<li class="product">
  <h3 class="product__name"><a href="/lavka/shop/{i.slug}/">{html.escape(i.title)}</a></h3>
  <p class="product__price">{old(i)}<ins>{_money(i.price)}</ins></p>
  <span class="product__badge">{html.escape(i.badge)}</span>
  <button class="product__buy">{buy(i)}</button>
</li>"""
        for i in items
    )
    return f"<!doctype html><html lang='ru'><body><ul class='products'>{rows}</ul></body></html>"


def _nastol_document(items: list[Item]) -> dict[str, object]:
    products = [
        {
            "name": i.title,
            "url": f"/nastol/p/{i.slug}",
            "price": {"current": i.price, "old": i.old_price},
            "status": i.badge,
            "available": i.in_stock,
        }
        for i in items
    ]
    return {"data": {"products": products}, "links": {"next": None}}


def create_site(
    phase_seconds: float = 15.0, clock: Callable[[], float] = time.monotonic
) -> Starlette:
    started = clock()

    def phase() -> int:
        return min(3, int((clock() - started) / phase_seconds))

    async def robots(_: Request) -> PlainTextResponse:
        return PlainTextResponse("User-agent: *\nAllow: /\n")

    async def hobby(_: Request) -> HTMLResponse:
        return HTMLResponse(_hobby_page(hobby_items(phase())))

    async def lavka(_: Request) -> HTMLResponse:
        return HTMLResponse(_lavka_page(lavka_items(phase())))

    async def nastol(_: Request) -> JSONResponse:
        return JSONResponse(_nastol_document(nastol_items(phase())))

    inbox: list[object] = []

    async def receive(request: Request) -> JSONResponse:
        inbox.append(await request.json())
        return JSONResponse({"ok": True})

    async def read_inbox(_: Request) -> JSONResponse:
        return JSONResponse({"notifications": inbox})

    async def index(_: Request) -> HTMLResponse:
        return HTMLResponse(
            "<h1>BGW demo shops</h1><ul>"
            "<li><a href='/hobby/catalog/new'>Хобби (HTML)</a></li>"
            "<li><a href='/lavka/shop/'>Лавка (HTML)</a></li>"
            "<li><a href='/nastol/api/new'>Настол (JSON)</a></li>"
            "<li><a href='/inbox'>Входящие уведомления (webhook)</a></li></ul>"
            f"<p>phase {phase()} of 3, one every {phase_seconds:g} s</p>"
        )

    return Starlette(
        routes=[
            Route("/", index),
            Route("/robots.txt", robots),
            Route("/hobby/catalog/new", hobby),
            Route("/lavka/shop/", lavka),
            Route("/nastol/api/new", nastol),
            Route("/inbox", receive, methods=["POST"]),
            Route("/inbox", read_inbox, methods=["GET"]),
        ]
    )
