"""BGW's Grafana dashboards, built with grafana-foundation-sdk and written as JSON.

    .venv/bin/python deploy/grafana/generate.py           # rewrite deploy/grafana/dashboards/*.json
    .venv/bin/python deploy/grafana/generate.py --check   # exit 1 when a committed file differs

Grafana provisions the committed JSON files; this script is the only way they are written
(tests/deploy/test_grafana.py checks that the files equal its output). Edit the dashboards here.

Query conventions (the same as deploy/bgw_rules.yml): a metric can arrive from several processes
(the API's own exposition and the workers through the collector), so no query selects a job.
Counters are summed across processes (``sum by (...) (rate(...))``); gauges of shared state,
which every process derives from the database, are taken with ``max``; health gauges with ``min``
(one process that cannot reach a component is already a problem); pool gauges, one pool per
process, are summed. Rates of recording rules (``bgw:*``) are 5-minute rates.

Titles are Russian: the dashboards are read by the people the Russian monitoring guide is for.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import bargauge, common, dashboard, gauge, prometheus, stat
from grafana_foundation_sdk.builders import timeseries as ts
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models.prometheus import QueryEditorMode

DASHBOARDS_DIR = Path(__file__).resolve().parent / "dashboards"

# Fixed uids from provisioning/datasources/datasources.yml.
PROMETHEUS = dm.DataSourceRef(type_val="prometheus", uid="prometheus")

TAGS = ["bgw"]
REFRESH = "30s"
PER_MINUTE = "suffix: /мин"
PER_HOUR = "suffix: /ч"

GREEN, ORANGE, RED = "green", "orange", "red"
STATUS_COLORS = {"success": GREEN, "error": RED, "skipped": "yellow", "started": "blue"}


# --- Queries ----------------------------------------------------------------------------------


def query(
    expr: str, legend: str = "", *, instant: bool = False, exemplar: bool = False
) -> prometheus.Dataquery:
    """One PromQL target; the caller's panel sets its refId."""
    target = (
        prometheus.Dataquery()
        .expr(expr)
        .datasource(PROMETHEUS)
        .editor_mode(QueryEditorMode.CODE)
        .legend_format(legend or "__auto")
    )
    target = target.instant() if instant else target.range()
    if exemplar:
        target = target.exemplar(True)
    return target


def _with_targets(panel: Any, targets: Sequence[prometheus.Dataquery]) -> Any:
    for index, target in enumerate(targets):
        panel = panel.with_target(target.ref_id(chr(ord("A") + index)))
    return panel


def _thresholds(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    return (
        dashboard.ThresholdsConfig()
        .mode(dm.ThresholdsMode.ABSOLUTE)
        .steps([dm.Threshold(value=value, color=color) for value, color in steps])
    )


def _health_mappings() -> list[dm.ValueMapping]:
    return [
        dm.ValueMap(
            options={
                "1": dm.ValueMappingResult(text="в норме", color=GREEN, index=0),
                "0": dm.ValueMappingResult(text="сбой", color=RED, index=1),
            }
        )
    ]


def _fixed_color(color: str) -> list[dm.DynamicConfigValue]:
    return [dm.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": color})]


# --- Panels -----------------------------------------------------------------------------------


def timeseries(
    title: str,
    description: str,
    targets: Sequence[prometheus.Dataquery],
    *,
    unit: str,
    width: int = 12,
    height: int = 8,
    min_value: float | None = 0,
    max_value: float | None = None,
    colors: dict[str, str] | None = None,
    threshold_line: float | None = None,
) -> ts.Panel:
    panel = (
        ts.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .unit(unit)
        .span(width)
        .height(height)
        .fill_opacity(10)
        .line_width(1)
        .show_points(cm.VisibilityMode.NEVER)
        .legend(
            common.VizLegendOptions()
            .display_mode(cm.LegendDisplayMode.LIST)
            .placement(cm.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
        .tooltip(
            common.VizTooltipOptions()
            .mode(cm.TooltipDisplayMode.MULTI)
            .sort(cm.SortOrder.DESCENDING)
        )
    )
    if min_value is not None:
        panel = panel.min(min_value)
    if max_value is not None:
        panel = panel.max(max_value)
    for name, color in (colors or {}).items():
        panel = panel.override_by_name(name, _fixed_color(color))
    if threshold_line is not None:
        panel = panel.thresholds(
            _thresholds((None, GREEN), (threshold_line, RED))
        ).thresholds_style(
            common.GraphThresholdsStyleConfig().mode(cm.GraphThresholdsStyleMode.DASHED)
        )
    return _with_targets(panel, targets)


def stat_panel(
    title: str,
    description: str,
    targets: Sequence[prometheus.Dataquery],
    *,
    unit: str = "none",
    width: int = 4,
    height: int = 4,
    mappings: list[dm.ValueMapping] | None = None,
    thresholds: dashboard.ThresholdsConfig | None = None,
    decimals: int | None = None,
) -> stat.Panel:
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .unit(unit)
        .span(width)
        .height(height)
        .graph_mode(cm.BigValueGraphMode.NONE)
        .color_mode(cm.BigValueColorMode.VALUE)
        .text_mode(cm.BigValueTextMode.AUTO)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .thresholds(thresholds or _thresholds((None, "text")))
    )
    if mappings:
        panel = panel.mappings(mappings)
    if decimals is not None:
        panel = panel.decimals(decimals)
    return _with_targets(panel, targets)


def gauge_panel(
    title: str,
    description: str,
    targets: Sequence[prometheus.Dataquery],
    *,
    unit: str,
    max_value: float,
    thresholds: dashboard.ThresholdsConfig,
    width: int = 6,
    height: int = 6,
) -> gauge.Panel:
    panel = (
        gauge.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .unit(unit)
        .min(0)
        .max(max_value)
        .decimals(1)
        .span(width)
        .height(height)
        .thresholds(thresholds)
        .show_threshold_markers(True)
        .show_threshold_labels(False)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )
    return _with_targets(panel, targets)


def bargauge_panel(
    title: str,
    description: str,
    targets: Sequence[prometheus.Dataquery],
    *,
    unit: str,
    width: int = 12,
    height: int = 8,
    max_value: float | None = None,
    thresholds: dashboard.ThresholdsConfig | None = None,
) -> bargauge.Panel:
    panel = (
        bargauge.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .unit(unit)
        .min(0)
        .span(width)
        .height(height)
        .orientation(cm.VizOrientation.HORIZONTAL)
        .display_mode(cm.BarGaugeDisplayMode.GRADIENT)
        .show_unfilled(True)
        .thresholds(thresholds or _thresholds((None, "blue")))
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )
    if max_value is not None:
        panel = panel.max(max_value)
    return _with_targets(panel, targets)


# --- Dashboards -------------------------------------------------------------------------------


def _dashboard(uid: str, title: str, description: str, tags: Iterable[str]) -> dashboard.Dashboard:
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags([*TAGS, *tags])
        .refresh(REFRESH)
        .time("now-6h", "now")
        .timezone("browser")
        .tooltip(dm.DashboardCursorSync.CROSSHAIR)
        .editable()
        .link(
            dashboard.DashboardLink("Дашборды BGW")
            .type(dm.DashboardLinkType.DASHBOARDS)
            .tags(TAGS)
            .as_dropdown(True)
            .include_vars(False)
            .keep_time(True)
            .target_blank(False)
            .icon("external link")
            .tooltip("")
        )
    )


def _variable(name: str, label: str, metric: str) -> dashboard.QueryVariable:
    """A multi-value variable of one label's values; "All" is the regex ``.*``."""
    return (
        dashboard.QueryVariable(name)
        .label(label)
        .query(f"label_values({metric}, {name})")
        .datasource(PROMETHEUS)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(dm.VariableOption(selected=True, text=["All"], value=["$__all"]))
        .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dm.VariableSort.ALPHABETICAL_ASC)
    )


def overview() -> dashboard.Dashboard:
    health = _health_mappings()
    return (
        _dashboard(
            "bgw-overview",
            "BGW — обзор",
            "Здоровье системы, агенты, события, уведомления, API и качество данных.",
            ["overview"],
        )
        .with_row(dashboard.Row("Состояние системы"))
        .with_panel(
            stat_panel(
                "Система",
                "system_health: 1 — в норме, 0 — недоступен критичный компонент (БД или Redis). "
                "Худшее значение среди процессов.",
                [query("min(system_health)", "система", instant=True)],
                mappings=health,
            )
        )
        .with_panel(
            stat_panel(
                "Компоненты",
                "component_health по компонентам: database, redis, ollama, otlp_export, "
                "scheduler (те, что настроены). Худшее значение среди процессов.",
                [query("min by (component) (component_health)", "{{component}}", instant=True)],
                mappings=health,
                width=12,
            )
        )
        .with_panel(
            stat_panel(
                "Активные агенты",
                "Включённые агенты (active_agents).",
                [query("max(active_agents)", "агенты", instant=True)],
            )
        )
        .with_panel(
            stat_panel(
                "Активные правила",
                "Включённые правила уведомлений (rules_active).",
                [query("max(rules_active)", "правила", instant=True)],
            )
        )
        .with_row(dashboard.Row("Агенты"))
        .with_panel(
            timeseries(
                "Запуски агентов по статусу",
                "Запуски в минуту (среднее за 5 минут) по статусу: started, success, error, "
                "skipped.",
                [query("sum by (status) (bgw:agent_runs:rate5m) * 60", "{{status}}")],
                unit=PER_MINUTE,
                width=8,
                colors=STATUS_COLORS,
            )
        )
        .with_panel(
            timeseries(
                "Загружено страниц",
                "Страницы, загруженные всеми агентами, в минуту.",
                [
                    query(
                        "sum(rate(agent_pages_fetched_total[$__rate_interval])) * 60",
                        "страницы",
                    )
                ],
                unit=PER_MINUTE,
                width=6,
            )
        )
        .with_panel(
            timeseries(
                "Дневная квота страниц",
                "Страницы, загруженные за сегодня всеми агентами, и общий дневной лимит.",
                [
                    query("max(daily_pages_used)", "использовано"),
                    query("max(daily_pages_cap)", "лимит"),
                ],
                unit="short",
                width=6,
                colors={"лимит": RED},
            )
        )
        .with_panel(
            gauge_panel(
                "Квота использована",
                "Доля дневного лимита страниц, израсходованная сегодня.",
                [
                    query(
                        "max(daily_pages_used) / (max(daily_pages_cap) > 0)",
                        "квота",
                        instant=True,
                    )
                ],
                unit="percentunit",
                max_value=1,
                thresholds=_thresholds((None, GREEN), (0.8, ORANGE), (1, RED)),
                width=4,
                height=8,
            )
        )
        .with_row(dashboard.Row("События и уведомления"))
        .with_panel(
            timeseries(
                "Новые события по типу",
                "Новые события (повторы, слитые с существующим событием, не считаются) в час.",
                [
                    query(
                        "sum by (event_type) (rate(events_created_total[$__rate_interval])) * 3600",
                        "{{event_type}}",
                    )
                ],
                unit=PER_HOUR,
                width=8,
            )
        )
        .with_panel(
            bargauge_panel(
                "События по магазинам за период",
                "Новые события за выбранный период по магазинам (20 самых активных).",
                [
                    query(
                        "topk(20, sum by (store_id) (increase(events_created_total[$__range])))",
                        "{{store_id}}",
                        instant=True,
                    )
                ],
                unit="short",
                width=8,
            )
        )
        .with_panel(
            timeseries(
                "Уведомления по каналам",
                "В час, среднее за 5 минут: отправлено успешно, доставка подтверждена "
                "провайдером, ошибки отправки.",
                [
                    query(
                        'sum by (channel) (bgw:notifications_sent:rate5m{status="success"}) * 3600',
                        "{{channel}}: отправлено",
                    ),
                    query(
                        "sum by (channel) (rate(notifications_delivered_total[5m])) * 3600",
                        "{{channel}}: доставлено",
                    ),
                    query(
                        'sum by (channel) (bgw:notifications_sent:rate5m{status="error"}) * 3600',
                        "{{channel}}: ошибки",
                    ),
                ],
                unit=PER_HOUR,
                width=8,
            )
        )
        .with_row(dashboard.Row("API"))
        .with_panel(
            timeseries(
                "Запросы к API",
                "Запросы в секунду по HTTP-статусу (среднее за 5 минут). Маршруты /api/metrics/* "
                "не считаются.",
                [query("sum by (status) (bgw:api_requests:rate5m)", "{{status}}")],
                unit="reqps",
                width=8,
            )
        )
        .with_panel(
            timeseries(
                "Доля ошибок API (5xx)",
                "Доля ответов 5xx среди всех запросов за 5 минут. Пунктир — бюджет ошибок SLO "
                "(99,5 % запросов без 5xx).",
                [query("bgw:api_errors:ratio_rate5m", "5xx")],
                unit="percentunit",
                width=8,
                threshold_line=0.005,
            )
        )
        .with_panel(
            timeseries(
                "Время ответа API",
                "p50 и p95 по гистограмме api_response_time_seconds. Точки на p95 — экземпляры "
                "(exemplars): щелчок открывает трассу запроса в Tempo. Они есть, когда метрики "
                "API идут через коллектор (прямой мост Python их не отдаёт).",
                [
                    query(
                        "histogram_quantile(0.95, sum by (le) "
                        "(rate(api_response_time_seconds_bucket[$__rate_interval])))",
                        "p95",
                        exemplar=True,
                    ),
                    query(
                        "histogram_quantile(0.5, sum by (le) "
                        "(rate(api_response_time_seconds_bucket[$__rate_interval])))",
                        "p50",
                    ),
                ],
                unit="s",
                width=8,
                threshold_line=2,
            )
        )
        .with_row(dashboard.Row("Инфраструктура и качество данных"))
        .with_panel(
            timeseries(
                "Подключения к БД и Redis",
                "Подключения, занятые в пулах всех процессов: SQLAlchemy "
                "(database_connections_active) и Redis (redis_connections_active).",
                [
                    query("sum(database_connections_active)", "база данных"),
                    query("sum(redis_connections_active)", "Redis"),
                ],
                unit="short",
                width=6,
                height=6,
            )
        )
        .with_panel(
            gauge_panel(
                "Успешность загрузки страниц",
                "Процент успешных загрузок страниц за 24 часа (scraping_success_rate, 0–100). "
                "Нет значения — за сутки ничего не загружалось.",
                [query("max(scraping_success_rate)", "успешно", instant=True)],
                unit="percent",
                max_value=100,
                thresholds=_thresholds((None, RED), (90, ORANGE), (98, GREEN)),
            )
        )
        .with_panel(
            gauge_panel(
                "Качество данных",
                "Доля разобранных черновиков с корректными названием, ценой и ссылкой за 24 часа "
                "(data_quality_score).",
                [query("max(data_quality_score)", "качество", instant=True)],
                unit="percentunit",
                max_value=1,
                thresholds=_thresholds((None, RED), (0.8, ORANGE), (0.95, GREEN)),
            )
        )
        .with_panel(
            gauge_panel(
                "Покрытие магазинов",
                "Доля магазинов, чей включённый агент успешно отработал за 24 часа "
                "(store_coverage).",
                [query("max(store_coverage)", "покрытие", instant=True)],
                unit="percentunit",
                max_value=1,
                thresholds=_thresholds((None, RED), (0.8, ORANGE), (1, GREEN)),
            )
        )
    )


AGENT = 'agent_id=~"$agent_id"'


def agents() -> dashboard.Dashboard:
    return (
        _dashboard(
            "bgw-agents",
            "BGW — агенты",
            "Запуски, длительность, страницы и квоты по агентам; конвейер событий.",
            ["agents"],
        )
        .with_variable(_variable("agent_id", "Агент", "agent_runs_total"))
        .with_row(dashboard.Row("Запуски"))
        .with_panel(
            stat_panel(
                "Активные агенты",
                "Включённые агенты (все, без фильтра).",
                [query("max(active_agents)", "агенты", instant=True)],
            )
        )
        .with_panel(
            stat_panel(
                "Запусков за период",
                "Начатые запуски выбранных агентов за выбранный период.",
                [
                    query(
                        f'sum(increase(agent_runs_total{{{AGENT}, status="started"}}[$__range]))',
                        "запуски",
                        instant=True,
                    )
                ],
                decimals=0,
            )
        )
        .with_panel(
            stat_panel(
                "Неудачные запуски",
                "Доля запусков со статусом error среди завершённых (success и error) за период.",
                [
                    query(
                        f'(sum(increase(agent_runs_total{{{AGENT}, status="error"}}[$__range]))'
                        " or vector(0))"
                        f' / (sum(increase(agent_runs_total{{{AGENT}, status=~"success|error"}}'
                        "[$__range])) > 0)",
                        "ошибки",
                        instant=True,
                    )
                ],
                unit="percentunit",
                thresholds=_thresholds((None, GREEN), (0.05, ORANGE), (0.2, RED)),
            )
        )
        .with_panel(
            bargauge_panel(
                "Итоги запусков за период",
                "Завершённые запуски по агентам и статусам за выбранный период.",
                [
                    query(
                        f"sum by (agent_id, status) (increase(agent_runs_total"
                        f'{{{AGENT}, status!="started"}}[$__range]))',
                        "{{agent_id}} · {{status}}",
                        instant=True,
                    )
                ],
                unit="short",
                height=8,
            )
        )
        .with_panel(
            timeseries(
                "Запуски по агентам и статусам",
                "Завершённые запуски в минуту (среднее за 5 минут).",
                [
                    query(
                        "sum by (agent_id, status) "
                        f'(bgw:agent_runs:rate5m{{{AGENT}, status!="started"}}) * 60',
                        "{{agent_id}} · {{status}}",
                    )
                ],
                unit=PER_MINUTE,
                width=24,
            )
        )
        .with_row(dashboard.Row("Длительность"))
        .with_panel(
            timeseries(
                "Длительность запуска, p95",
                "95-й перцентиль длительности запуска за предыдущий час по агентам. Точки — "
                "экземпляры со ссылкой на трассу agent.run.",
                [
                    query(
                        "histogram_quantile(0.95, sum by (agent_id, le) "
                        f"(rate(agent_duration_seconds_bucket{{{AGENT}}}[1h])))",
                        "{{agent_id}}",
                        exemplar=True,
                    )
                ],
                unit="s",
            )
        )
        .with_panel(
            timeseries(
                "Средняя длительность запуска",
                "Средняя длительность запуска за предыдущий час по агентам.",
                [
                    query(
                        f"sum by (agent_id) (rate(agent_duration_seconds_sum{{{AGENT}}}[1h]))"
                        f" / (sum by (agent_id) (rate(agent_duration_seconds_count{{{AGENT}}}[1h]))"
                        " > 0)",
                        "{{agent_id}}",
                    )
                ],
                unit="s",
            )
        )
        .with_row(dashboard.Row("Страницы и квоты"))
        .with_panel(
            timeseries(
                "Загружено страниц по агентам",
                "Страницы в минуту по агентам.",
                [
                    query(
                        "sum by (agent_id) "
                        f"(rate(agent_pages_fetched_total{{{AGENT}}}[$__rate_interval])) * 60",
                        "{{agent_id}}",
                    )
                ],
                unit=PER_MINUTE,
                width=8,
            )
        )
        .with_panel(
            bargauge_panel(
                "Дневная квота по агентам",
                "Доля своего дневного лимита, израсходованная агентом сегодня.",
                [
                    query(
                        f"max by (agent_id) (agent_daily_pages_used{{{AGENT}}})"
                        f" / (max by (agent_id) (agent_daily_pages_cap{{{AGENT}}}) > 0)",
                        "{{agent_id}}",
                        instant=True,
                    )
                ],
                unit="percentunit",
                max_value=1,
                thresholds=_thresholds((None, GREEN), (0.8, ORANGE), (1, RED)),
                width=8,
            )
        )
        .with_panel(
            timeseries(
                "Общая дневная квота",
                "Страницы за сегодня всеми агентами и общий дневной лимит.",
                [
                    query("max(daily_pages_used)", "использовано"),
                    query("max(daily_pages_cap)", "лимит"),
                ],
                unit="short",
                width=8,
                colors={"лимит": RED},
            )
        )
        .with_row(dashboard.Row("Конвейер событий"))
        .with_panel(
            timeseries(
                "Новые события по магазинам",
                "Новые события в час по магазинам (все агенты: у событий нет метки агента).",
                [
                    query(
                        "sum by (store_id) (rate(events_created_total[$__rate_interval])) * 3600",
                        "{{store_id}}",
                    )
                ],
                unit=PER_HOUR,
                width=8,
            )
        )
        .with_panel(
            timeseries(
                "Вызовы LLM (Ollama)",
                "Вызовы извлечения в минуту: ok — извлечено; fail — по причине (timeout, "
                "connection, http_status, bad_response).",
                [
                    query(
                        "sum by (result, reason) (rate(llm_calls_total[$__rate_interval])) * 60",
                        "{{result}} · {{reason}}",
                    )
                ],
                unit=PER_MINUTE,
                width=8,
            )
        )
        .with_panel(
            gauge_panel(
                "Доля слитых дублей",
                "Доля черновиков, слитых с уже существующим событием, за 24 часа "
                "(event_dedup_ratio).",
                [query("max(event_dedup_ratio)", "дубли", instant=True)],
                unit="percentunit",
                max_value=1,
                thresholds=_thresholds((None, "blue")),
                width=4,
                height=8,
            )
        )
        .with_panel(
            gauge_panel(
                "Успешность загрузки страниц",
                "Процент успешных загрузок страниц за 24 часа (scraping_success_rate, 0–100).",
                [query("max(scraping_success_rate)", "успешно", instant=True)],
                unit="percent",
                max_value=100,
                thresholds=_thresholds((None, RED), (90, ORANGE), (98, GREEN)),
                width=4,
                height=8,
            )
        )
    )


ENDPOINT = 'endpoint=~"$endpoint"'
REQUESTS = f"bgw:api_requests:rate5m{{{ENDPOINT}}}"
ERRORS_5XX = f'bgw:api_requests:rate5m{{{ENDPOINT}, status=~"5.."}}'
BUCKETS = f"api_response_time_seconds_bucket{{{ENDPOINT}}}"


def api() -> dashboard.Dashboard:
    return (
        _dashboard(
            "bgw-api",
            "BGW — API",
            "RED по маршрутам API: запросы, ошибки, время ответа; окна SLO доступности.",
            ["api"],
        )
        .with_variable(_variable("endpoint", "Маршрут", "api_requests_total"))
        .with_row(dashboard.Row("Сводка"))
        .with_panel(
            stat_panel(
                "Запросов в секунду",
                "Все запросы к выбранным маршрутам (среднее за 5 минут).",
                [query(f"sum({REQUESTS})", "запросы", instant=True)],
                unit="reqps",
                width=6,
            )
        )
        .with_panel(
            stat_panel(
                "Доля ошибок 5xx",
                "Доля ответов 5xx на выбранных маршрутах за 5 минут.",
                [
                    query(
                        f"(sum({ERRORS_5XX}) or vector(0)) / (sum({REQUESTS}) > 0)",
                        "5xx",
                        instant=True,
                    )
                ],
                unit="percentunit",
                thresholds=_thresholds((None, GREEN), (0.005, ORANGE), (0.05, RED)),
                width=6,
            )
        )
        .with_panel(
            stat_panel(
                "p95, все маршруты",
                "95-й перцентиль времени ответа по всем маршрутам за 5 минут.",
                [query("bgw:api_response_time_seconds:p95_5m", "p95", instant=True)],
                unit="s",
                thresholds=_thresholds((None, GREEN), (1, ORANGE), (2, RED)),
                width=6,
            )
        )
        .with_panel(
            timeseries(
                "Доля ошибок по окнам SLO",
                "Доля 5xx по всем маршрутам за 5 минут, 30 минут, 1 и 6 часов — окна "
                "burn-rate-алертов. Пунктир — бюджет ошибок SLO (99,5 %).",
                [
                    query("bgw:api_errors:ratio_rate5m", "5 мин"),
                    query("bgw:api_errors:ratio_rate30m", "30 мин"),
                    query("bgw:api_errors:ratio_rate1h", "1 ч"),
                    query("bgw:api_errors:ratio_rate6h", "6 ч"),
                ],
                unit="percentunit",
                width=6,
                height=4,
                threshold_line=0.005,
            )
        )
        .with_row(dashboard.Row("Запросы и ошибки"))
        .with_panel(
            timeseries(
                "Запросы по маршрутам",
                "Запросы в секунду по шаблону маршрута (среднее за 5 минут).",
                [query(f"sum by (endpoint) ({REQUESTS})", "{{endpoint}}")],
                unit="reqps",
            )
        )
        .with_panel(
            timeseries(
                "Запросы по статусам",
                "Запросы в секунду к выбранным маршрутам по HTTP-статусу.",
                [query(f"sum by (status) ({REQUESTS})", "{{status}}")],
                unit="reqps",
            )
        )
        .with_panel(
            timeseries(
                "Доля ошибок 5xx по маршрутам",
                "Доля ответов 5xx по маршрутам за 5 минут; 0 — трафик без ошибок.",
                [
                    query(
                        f"(sum by (endpoint) ({ERRORS_5XX}) or sum by (endpoint) ({REQUESTS}) * 0)"
                        f" / (sum by (endpoint) ({REQUESTS}) > 0)",
                        "{{endpoint}}",
                    )
                ],
                unit="percentunit",
                width=24,
                threshold_line=0.005,
            )
        )
        .with_row(dashboard.Row("Время ответа"))
        .with_panel(
            timeseries(
                "Время ответа p95 по маршрутам",
                "95-й перцентиль по маршрутам. Точки — экземпляры (exemplars) со ссылкой на "
                "трассу запроса в Tempo, когда метрики API идут через коллектор.",
                [
                    query(
                        f"histogram_quantile(0.95, sum by (endpoint, le) "
                        f"(rate({BUCKETS}[$__rate_interval])))",
                        "{{endpoint}}",
                        exemplar=True,
                    )
                ],
                unit="s",
                threshold_line=2,
            )
        )
        .with_panel(
            timeseries(
                "Время ответа p50, p95, p99",
                "Перцентили по всем выбранным маршрутам вместе.",
                [
                    query(
                        f"histogram_quantile({quantile}, sum by (le) "
                        f"(rate({BUCKETS}[$__rate_interval])))",
                        f"p{round(quantile * 100)}",
                        exemplar=quantile == 0.95,
                    )
                    for quantile in (0.5, 0.95, 0.99)
                ],
                unit="s",
            )
        )
        .with_panel(
            bargauge_panel(
                "p95 по маршрутам за 5 минут",
                "Самые медленные маршруты сейчас (recording rule "
                "endpoint:api_response_time_seconds:p95_5m).",
                [
                    query(
                        f"sort_desc(endpoint:api_response_time_seconds:p95_5m{{{ENDPOINT}}})",
                        "{{endpoint}}",
                        instant=True,
                    )
                ],
                unit="s",
                thresholds=_thresholds((None, GREEN), (1, ORANGE), (2, RED)),
                width=24,
            )
        )
    )


CHANNEL = 'channel=~"$channel"'


def notifications() -> dashboard.Dashboard:
    sent = f"bgw:notifications_sent:rate5m{{{CHANNEL}}}"
    return (
        _dashboard(
            "bgw-notifications",
            "BGW — уведомления",
            "Отправка и доставка уведомлений по каналам: telegram, slack, email, webhook.",
            ["notifications"],
        )
        .with_variable(_variable("channel", "Канал", "notifications_sent_total"))
        .with_row(dashboard.Row("За выбранный период"))
        .with_panel(
            stat_panel(
                "Отправлено",
                "Успешные попытки отправки за период.",
                [
                    query(
                        f'sum(increase(notifications_sent_total{{{CHANNEL}, status="success"}}'
                        "[$__range]))",
                        "отправлено",
                        instant=True,
                    )
                ],
                decimals=0,
                width=6,
            )
        )
        .with_panel(
            stat_panel(
                "Доставлено",
                "Доставки, подтверждённые провайдером, за период.",
                [
                    query(
                        f"sum(increase(notifications_delivered_total{{{CHANNEL}}}[$__range]))",
                        "доставлено",
                        instant=True,
                    )
                ],
                decimals=0,
                width=6,
            )
        )
        .with_panel(
            stat_panel(
                "Ошибки отправки",
                "Неудачные попытки отправки за период.",
                [
                    query(
                        f'sum(increase(notifications_sent_total{{{CHANNEL}, status="error"}}'
                        "[$__range]))",
                        "ошибки",
                        instant=True,
                    )
                ],
                decimals=0,
                thresholds=_thresholds((None, GREEN), (1, RED)),
                width=6,
            )
        )
        .with_panel(
            stat_panel(
                "Активные правила",
                "Включённые правила уведомлений.",
                [query("max(rules_active)", "правила", instant=True)],
                width=6,
            )
        )
        .with_row(dashboard.Row("По каналам"))
        .with_panel(
            timeseries(
                "Попытки отправки",
                "Попытки отправки в час по каналу и результату (среднее за 5 минут).",
                [query(f"sum by (channel, status) ({sent}) * 3600", "{{channel}} · {{status}}")],
                unit=PER_HOUR,
            )
        )
        .with_panel(
            timeseries(
                "Подтверждённые доставки",
                "Доставки, подтверждённые провайдером, в час (среднее за 5 минут).",
                [
                    query(
                        f"sum by (channel) (rate(notifications_delivered_total{{{CHANNEL}}}[5m]))"
                        " * 3600",
                        "{{channel}}",
                    )
                ],
                unit=PER_HOUR,
            )
        )
        .with_panel(
            timeseries(
                "Доля ошибок отправки",
                "Доля неудачных попыток по каналам за 5 минут; пусто — попыток не было.",
                [
                    query(
                        "sum by (channel) "
                        f'(bgw:notifications_sent:rate5m{{{CHANNEL}, status="error"}})'
                        f" / (sum by (channel) ({sent}) > 0)",
                        "{{channel}}",
                    )
                ],
                unit="percentunit",
                max_value=1,
            )
        )
        .with_panel(
            timeseries(
                "Доля подтверждённых доставок",
                "Подтверждённые доставки к успешным отправкам за предыдущий час. Подтверждение "
                "дают не все каналы.",
                [
                    query(
                        f"sum by (channel) (rate(notifications_delivered_total{{{CHANNEL}}}[1h]))"
                        " / (sum by (channel) (rate(notifications_sent_total"
                        f'{{{CHANNEL}, status="success"}}[1h])) > 0)',
                        "{{channel}}",
                    )
                ],
                unit="percentunit",
                max_value=1,
            )
        )
        .with_panel(
            bargauge_panel(
                "Итоги по каналам за период",
                "Попытки отправки по каналу и результату за выбранный период.",
                [
                    query(
                        "sum by (channel, status) "
                        f"(increase(notifications_sent_total{{{CHANNEL}}}[$__range]))",
                        "{{channel}} · {{status}}",
                        instant=True,
                    )
                ],
                unit="short",
            )
        )
        .with_panel(
            timeseries(
                "Новые события",
                "Новые события в час: из них правила делают уведомления.",
                [
                    query(
                        "sum(rate(events_created_total[$__rate_interval])) * 3600",
                        "события",
                    )
                ],
                unit=PER_HOUR,
            )
        )
    )


BUILDERS = {
    "bgw-overview": overview,
    "bgw-agents": agents,
    "bgw-api": api,
    "bgw-notifications": notifications,
}


def build(uid: str) -> dict[str, Any]:
    """The dashboard as the JSON object Grafana reads, panels numbered from 1."""
    model = BUILDERS[uid]().build()
    for number, panel in enumerate(model.panels or [], start=1):
        panel.id_val = number
    return json.loads(json.dumps(model, cls=JSONEncoder))


def render(uid: str) -> str:
    return json.dumps(build(uid), indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for uid in BUILDERS:
        path = DASHBOARDS_DIR / f"{uid}.json"
        text = render(uid)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"out of date (run {Path(__file__).name}): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
