"""The socket several web processes share answers without Nagle's delay.

asyncio turns Nagle's algorithm off (TCP_NODELAY) only on connections whose socket says
it is TCP. uvicorn's shared socket is made with protocol 0, so every connection accepted
on it kept Nagle on: an answer written as a head and then a body waited for the client's
delayed acknowledgement, 44 ms for each request on a kept-alive connection with
``borderpass serve --workers 2``. The socket ``serve`` makes says TCP.
"""

from __future__ import annotations

import asyncio
import socket

import uvicorn

from borderpass.cli import _listening_socket


async def _nodelay_of_accepted(listening: socket.socket) -> int:
    seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def accepted(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    listening.listen()
    server = await asyncio.start_server(accepted, sock=listening)
    port = listening.getsockname()[1]
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        return await asyncio.wait_for(seen, 10)
    finally:
        writer.close()
        server.close()
        await server.wait_closed()


def test_connections_on_the_shared_socket_have_nagle_off() -> None:
    listening = _listening_socket("127.0.0.1", 0)
    assert listening.proto == socket.IPPROTO_TCP
    assert asyncio.run(_nodelay_of_accepted(listening)) == 1


def test_uvicorns_own_shared_socket_would_keep_nagle_on() -> None:
    # The reason for making the socket ourselves: if uvicorn's starts saying TCP, this
    # test fails and ``_listening_socket`` may go.
    listening = uvicorn.Config("borderpass.web.app:create_app", host="127.0.0.1",
                               port=0).bind_socket()
    assert asyncio.run(_nodelay_of_accepted(listening)) == 0
