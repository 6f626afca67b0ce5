#!/usr/bin/env python3
"""tcp_forward.py LISTEN_PORT HOST PORT: relays every connection made to
127.0.0.1:LISTEN_PORT to HOST:PORT, byte for byte, until killed.

A test's stand-in for a network path that comes up late (test_pg_start.sh:
the database's address answers only once this runs); the database behind
it is the real one.  Prints "listening" once bound."""
import asyncio
import sys


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def handle(client_r, client_w, host, port):
    try:
        server_r, server_w = await asyncio.open_connection(host, port)
    except OSError:
        client_w.close()
        return
    await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))


async def main():
    listen, host, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, host, port), "127.0.0.1", listen)
    print("listening", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
