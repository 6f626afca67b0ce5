#!/usr/bin/env python3
"""tcp_blackhole.py: a loopback address whose connection attempts are
never answered, as a database host that has gone away (test_pg_timeouts.sh).

It listens on 127.0.0.1 with a backlog of 0 and never accepts; once a few
connections fill its accept queue the kernel drops every further SYN, so a
client's connect() waits until its own timeout.  Prints the port once the
queue is full, then waits until killed."""
import socket
import time

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
port = s.getsockname()[1]
fill = []
for _ in range(4):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    fill.append(c)
time.sleep(0.3)
# Prove it: one more attempt must not complete.
probe = socket.socket()
probe.settimeout(1.0)
try:
    probe.connect(("127.0.0.1", port))
    raise SystemExit("tcp_blackhole: a connection was accepted; the kernel did not drop SYNs")
except socket.timeout:
    pass
print(port, flush=True)
while True:
    time.sleep(3600)
