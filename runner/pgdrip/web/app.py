"""The `pgdrip serve` ASGI app: one Starlette app for the public endpoints, the admin pages and
/metrics, with a psycopg async pool opened for its lifetime."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from .. import queries
from . import admin, metrics, public
from .auth import LoginLimiter
from .common import HERE, AccessLog
from .config import ServeSettings

MAX_BODY = 1024 * 1024  # the admin forms (step bodies) are the largest bodies anyone sends
log = logging.getLogger("pgdrip.serve")


async def use_admin_role(conn: psycopg.AsyncConnection) -> None:
    """Every pooled connection works as drip_admin when its login role may (least privilege: a
    superuser DSN still cannot drop a table from here); otherwise with the login role's own
    rights, which must then cover what drip_admin is granted."""
    row = await (await conn.execute(queries.ADMIN_ROLE)).fetchone()
    if row["can"]:
        await conn.execute(queries.SET_ADMIN_ROLE)


def create_app(settings: ServeSettings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = AsyncConnectionPool(settings.dsn, min_size=1, max_size=settings.pool_size, open=False,
                                   configure=use_admin_role,
                                   kwargs={"autocommit": True, "row_factory": dict_row,
                                           "application_name": "pgdrip-serve"})
        await pool.open(wait=True, timeout=15)
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    async def server_error(request: Request, exc: Exception) -> Response:
        # never a traceback to the client; the log has the exception
        return PlainTextResponse("Something went wrong on our side. Please try again later.\n", status_code=500)

    routes = [*public.routes, *metrics.routes, *admin.routes,
              Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(AccessLog)],
                    exception_handlers={500: server_error}, max_body_size=MAX_BODY)
    app.state.settings = settings
    app.state.login_limiter = LoginLimiter()
    return app
