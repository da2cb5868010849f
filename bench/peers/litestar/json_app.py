"""The feed ceiling: a bare Litestar JSON endpoint, served exactly like Social Flow (uvicorn, uvloop, httptools)."""

from litestar import Litestar, get


@get("/json")
async def hello() -> dict[str, str]:
    return {"message": "Hello, World!"}


app = Litestar([hello])
