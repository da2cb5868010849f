"""The ceiling: bare websockets with broadcast(), no Redis. A frame sent on /publish goes to every /ws socket."""

import os

import uvloop
from websockets.asyncio.server import broadcast, serve

CLIENTS = set()


async def handler(ws):
    if ws.request.path == "/publish":
        async for message in ws:
            broadcast(CLIENTS, message)
        return
    CLIENTS.add(ws)
    try:
        await ws.wait_closed()
    finally:
        CLIENTS.discard(ws)


async def main():
    port = int(os.environ["PORT"])
    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None, max_queue=None) as server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main())
