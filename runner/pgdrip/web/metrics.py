"""GET /metrics: Prometheus text for machines, read from drip.status and drip.sequence_report on
every scrape (nothing is counted in Python, so every `pgdrip serve` process tells the same
truth). Answered only to the addresses in PGDRIP_METRICS_ALLOW (default: loopback and private
networks), since sequence names are not for the recipients who reach this server."""

import ipaddress

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from .. import queries
from .common import fetch_all, fetch_one

COUNTERS = (("sent", "Messages sent"), ("failed", "Messages that failed for good"),
            ("clicks", "Human clicks on tracked links"), ("unsubscribes", "Unsubscribes through the sequence's mail"),
            ("skipped", "Steps skipped because their send_if was false"),
            ("cap_deferred", "Steps a frequency cap held back (each time)"),
            ("topic_unsubscribes", "Contacts who left the sequence's topic through its mail"),
            ("held_out", "Steps not sent because the enrollment is in the holdout group"))


class _Snapshot:
    """A collector over figures already read: prometheus_client formats, the database counts."""

    def __init__(self, status: dict, report: list[dict]) -> None:
        self.status = status
        self.report = report

    def collect(self):
        s = self.status
        gauges = (("due_now", "Active enrollments whose next step is due", s["due_now"]),
                  ("queued", "Outbox rows queued or being sent", s["queued"]),
                  ("sending", "Outbox rows being sent now", s["sending"]),
                  ("failed", "Outbox rows that failed for good", s["failed"]),
                  ("oldest_queued_age_seconds", "Age of the oldest queued or sending row (0 if none)",
                   s["oldest_queued_age"].total_seconds() if s["oldest_queued_age"] else 0),
                  ("bounced_contacts", "Contacts whose mailbox does not exist", s["bounced"]),
                  ("runners_seen", "Runners seen in the last 5 minutes", s["runners_recent"]),
                  ("last_sweep_timestamp_seconds", "Start of the last day the anniversary sweep ran (UTC)",
                   s["last_sweep_epoch"] or 0))
        for name, doc, value in gauges:
            yield GaugeMetricFamily(f"pgdrip_{name}", doc, value=float(value))
        for name, doc in COUNTERS:
            family = CounterMetricFamily(f"pgdrip_{name}", doc, labels=["sequence_id", "sequence"])
            for row in self.report:
                family.add_metric([str(row["sequence_id"]), row["name"]], float(row[name]))
            yield family


def _allowed(request: Request) -> bool:
    networks = request.app.state.settings.metrics_allow
    try:
        address = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    return any(address in network for network in networks)


async def metrics(request: Request) -> Response:
    if not request.app.state.settings.metrics or not _allowed(request):
        return PlainTextResponse("Not Found\n", status_code=404)
    status = await fetch_one(request, queries.METRICS_STATUS, {})
    report = await fetch_all(request, queries.ADMIN_SEQUENCE_REPORT, {})
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(status, report))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})


routes = [Route("/metrics", metrics, methods=["GET"])]
