"""A minimal QMP (QEMU Machine Protocol) client over a unix socket."""

import json
import socket
import time


class QMPError(RuntimeError):
    pass


class QMP:
    """One QMP connection: `connect()` does the greeting and capabilities handshake,
    `command(name, **args)` returns the `return` value or raises QMPError. Events
    that arrive meanwhile are kept in `.events`."""

    def __init__(self, path: str):
        self.path = path
        self.sock = None
        self._buf = b""
        self.events = []
        self.greeting = None

    def connect(self, timeout: float = 10.0, alive=lambda: True) -> "QMP":
        """Connects, retrying until QEMU has created the socket, for at most TIMEOUT
        seconds or until alive() turns false (QEMU died)."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.settimeout(max(0.1, deadline - time.monotonic()))
                s.connect(self.path)
                self.sock = s
                break
            except OSError as e:
                s.close()
                last = e
            if time.monotonic() >= deadline or not alive():
                raise QMPError(f"cannot connect to QMP socket {self.path}: {last}")
            time.sleep(0.05)
        try:
            self.sock.settimeout(max(0.5, deadline - time.monotonic()))
            # An event (e.g. RESUME) can come first, seen on a busy host: keep it.
            message = self._read_message()
            while "event" in message:
                self.events.append(message)
                message = self._read_message()
            if "QMP" not in message:
                raise QMPError(f"unexpected QMP greeting: {message}")
            self.greeting = message
            self.command("qmp_capabilities")
        except (OSError, ValueError) as e:
            self.close()
            raise QMPError(f"QMP handshake on {self.path} failed: {e!r}") from None
        return self

    def _read_message(self) -> dict:
        while b"\n" not in self._buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise QMPError("QMP connection closed")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def command(self, name: str, args: dict = None, timeout: float = 10.0, **kwargs):
        """Runs NAME; keyword arguments get '_' spelled '-' (hold_time -> hold-time),
        ARGS (a dict) is sent verbatim for names that really have underscores."""
        if self.sock is None:
            raise QMPError("QMP not connected")
        msg = {"execute": name}
        arguments = dict(args or {})
        arguments.update({k.replace("_", "-"): v for k, v in kwargs.items()})
        if arguments:
            msg["arguments"] = arguments
        self.sock.settimeout(timeout)
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read_message()
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                err = reply["error"]
                raise QMPError(f"{name}: {err.get('class')}: {err.get('desc')}")
            return reply.get("return")

    def drain_events(self, timeout: float = 1.0) -> list:
        """Reads what QEMU sent and nobody asked for (events, e.g. SHUTDOWN with its
        reason), until the connection ends or TIMEOUT passes; returns all events."""
        if self.sock is not None:
            deadline = time.monotonic() + timeout
            try:
                while time.monotonic() < deadline:
                    self.sock.settimeout(max(0.05, deadline - time.monotonic()))
                    message = self._read_message()
                    if "event" in message:
                        self.events.append(message)
            except (OSError, ValueError, QMPError):
                pass
        return self.events

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None
