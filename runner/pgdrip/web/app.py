"""The `pgdrip serve` ASGI app: one Starlette app for the public endpoints and the admin pages,
with a psycopg async pool opened for its lifetime."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from . import public
from .common import AccessLog
from .config import ServeSettings

MAX_BODY = 1024 * 1024  # the admin forms (step bodies) are the largest bodies anyone sends


def create_app(settings: ServeSettings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = AsyncConnectionPool(settings.dsn, min_size=1, max_size=settings.pool_size, open=False,
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

    app = Starlette(routes=public.routes, lifespan=lifespan, middleware=[Middleware(AccessLog)],
                    exception_handlers={500: server_error}, max_body_size=MAX_BODY)
    app.state.settings = settings
    return app
