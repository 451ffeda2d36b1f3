"""Benchmark backends and idle listeners.

listeners.py [--http] [--hold-ms N] [--spread-ms N] ADDR:PORT...   (as many as the descriptor limit allows)

--spread-ms spaces the listens evenly over that many ms (a burst of backends coming up).
--armed prints {"ev":"armed"} and listens only on SIGUSR1, so interpreter start-up (seconds on a
busy machine) stays out of timed trials.

Listens on every ADDR:PORT and prints JSON lines on stdout, times from CLOCK_MONOTONIC in ns (the clock
of bpf_ktime_get_ns and of Node's process.hrtime):
  {"ev":"listening","addr":..,"port":..,"t":..}  right after listen() returned
  {"ev":"ready"}                                 all sockets listen
  {"ev":"first","port":..,"t":..}                first GET received on that port (--http; every request is answered)
  {"ev":"closed","t":..}                         after SIGTERM closed the listeners
Without --http a connection is accepted and closed at once (what a TCP health check needs).
On SIGTERM the listeners close first, then established connections get --hold-ms to finish.
"""
import selectors
import signal
import socket
import sys
import time

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"


def now():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def emit(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv):
    http = "--http" in argv
    armed = "--armed" in argv
    hold_ms = 100
    spread_ms = 0
    binds = []
    it = iter(a for a in argv if a not in ("--http", "--armed"))
    for arg in it:
        if arg == "--hold-ms":
            hold_ms = int(next(it))
        elif arg == "--spread-ms":
            spread_ms = int(next(it))
        else:
            addr, port = arg.rsplit(":", 1)
            binds.append((addr.strip("[]"), int(port)))
    if armed:
        # Blocked before "armed" is printed, so a SIGUSR1 sent right after it waits for sigwait.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        emit('{"ev":"armed"}')
        signal.sigwait({signal.SIGUSR1})
    sel = selectors.DefaultSelector()
    listeners = []
    start = now()
    for n, (addr, port) in enumerate(binds):
        # Listen n is due at start + n/len of the spread: a schedule, so slow iterations catch up.
        due = start + spread_ms * 1_000_000 * n // len(binds)
        if due > now():
            time.sleep((due - now()) / 1e9)
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(128)
        t = now()
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, ("listen", port))
        listeners.append(s)
        emit('{"ev":"listening","addr":"%s","port":%d,"t":%d}' % (addr, port, t))
    emit('{"ev":"ready"}')

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(now()))
    seen = set()
    deadline = None
    while deadline is None or now() < deadline:
        if stopping and deadline is None:
            for s in listeners:
                sel.unregister(s)
                s.close()
            emit('{"ev":"closed","t":%d}' % now())
            deadline = now() + hold_ms * 1_000_000
        for key, _ in sel.select(timeout=0.05):
            kind, port = key.data
            if kind == "listen":
                try:
                    conn, _ = key.fileobj.accept()
                except BlockingIOError:
                    continue
                if not http:
                    conn.close()
                    continue
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ, ("conn", port))
                continue
            try:
                data = key.fileobj.recv(4096)
            except (BlockingIOError, ConnectionError):
                data = b""
            if data.startswith(b"GET") and port not in seen:
                seen.add(port)
                emit('{"ev":"first","port":%d,"t":%d}' % (port, now()))
            # Any request is answered (HAProxy's HTTP health check sends OPTIONS); only a GET is a client's.
            if data:
                body = b"%d\n" % port
                try:
                    key.fileobj.sendall(RESPONSE % (len(body), body))
                except OSError:
                    pass
            sel.unregister(key.fileobj)
            key.fileobj.close()


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        pass
