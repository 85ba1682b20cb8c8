"""The CLI beside the running app: its SQL goes to the app's process, which alone holds the file.

DuckDB lets one process open a database file and no other, not even to read. So while the app
runs, a CLI command cannot open ``estudo.duckdb``; instead the app listens on a loopback port
(``serve``) and the CLI connects (``connect_to_app``) and gets a ``RemoteStore``: the same API
as ``Store`` (execute, fetch*, transaction, cursor, ...), each statement run by the app on a
cursor of its own. Only SQL and its results cross; the command's files and computation stay in
its own process. The one-writer rule holds, and nothing is half-written:

- a transaction takes the app's write lock (the lock the app's own writes take) for its whole
  span, so the app's pages, its run supervisor and the CLI apply their writes one at a time;
- a client that goes away mid-transaction (killed, Ctrl-C, lost connection) is rolled back.

How the CLI finds the app: the app writes ``<database>.app.json`` (mode 0600: port, a random
key, its pid) beside the database and removes it when it stops. A CLI that finds the file
locked reads it, checks that its pid is the process DuckDB names as the holder, and connects;
messages are pickles over ``multiprocessing.connection`` after its HMAC challenge with that
key, so only a process that can read the file (the same user) can talk to the app. A stale
file (the app was killed) fails the pid check or the connect, and the CLI says in one sentence
that the database is in use, as it did before.

    # app process                      # CLI process, while the app runs
    store = Store(); serve(store)      store = connect_to_app(db_path(), holder_pid)
"""
from __future__ import annotations

import builtins
import contextlib
import importlib
import json
import os
import secrets
import socket
import struct
import threading
import time
import weakref
from collections.abc import Iterator
from multiprocessing.connection import AuthenticationError, Connection, answer_challenge, deliver_challenge
from pathlib import Path
from typing import Any

import duckdb

from core.errors import UserFacingError
from core.store import Store, all_migrations

STARTUP_WAIT_S = 15.0  # how long a CLI waits for a starting app to write its endpoint
HANDSHAKE_S = 5.0  # a peer that has not authenticated by then is dropped (or, client side, is not the app)
ENDPOINT_SUFFIX = ".app.json"


class AppGoneError(UserFacingError):
    """The app stopped (or the connection to it broke) while a command was using its database."""


class AppSchemaError(UserFacingError):
    """The running app's database lacks migrations this code has (the app runs older code)."""


class RemoteError(RuntimeError):
    """An error in the app's process that has no class of its own on this side."""


def endpoint_path(db: str | Path) -> Path:
    return Path(f"{db}{ENDPOINT_SUFFIX}")


def _describe(exc: BaseException) -> tuple[str, str, str]:
    return type(exc).__module__, type(exc).__qualname__, str(exc)


def _rebuild(module: str, name: str, message: str) -> Exception:
    """The app's exception as the same class here (duckdb's, ours), so callers catch what they would
    catch with a local Store; the module is imported only if it is DuckDB's or this project's."""
    cls: Any = None
    if module == "builtins":
        cls = getattr(builtins, name, None)
    elif module.split(".")[0] in ("duckdb", "_duckdb"):
        cls = getattr(duckdb, name.split(".")[-1], None)
    elif module.split(".")[0] == "core":
        with contextlib.suppress(ImportError):
            cls = getattr(importlib.import_module(module), name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        with contextlib.suppress(Exception):
            return cls(message)
    return RemoteError(f"{name}: {message}")


def _set_read_timeout(sock: socket.socket, seconds: float) -> None:
    """A receive timeout on the blocking descriptor (Connection reads the fd directly, so
    ``settimeout`` would not apply); 0 turns it off."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", int(seconds), int(seconds % 1 * 1e6)))


# -- the app's side ---------------------------------------------------------------------------------
class _Session:
    """One client connection, served by one thread of the app: its own cursor (the store's cursor
    of this thread) and at most one open transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.transaction: contextlib.AbstractContextManager[Any] | None = None

    def handle(self, op: str, args: tuple[Any, ...]) -> Any:
        store = self.store
        if op == "query":  # one round trip for the Store-level helpers
            sql, params, how = args
            cur = store.execute(sql, params)
            if how == "all":
                return cur.fetchall()
            if how == "one":
                return cur.fetchone()
            if how == "dicts":
                columns = [d[0] for d in cur.description]
                return [dict(zip(columns, row)) for row in cur.fetchall()]
            return cur.df()
        if op == "execute":  # cursor style: the result stays here until fetched
            sql, params = args
            cur = store.execute(sql, params)
            return [(d[0], str(d[1]), *d[2:]) for d in cur.description] if cur.description else None
        if op == "fetch":
            cur = store.cursor()
            return {"one": cur.fetchone, "all": cur.fetchall, "numpy": cur.fetchnumpy, "df": cur.df}[args[0]]()
        if op == "executemany":
            store.cursor().executemany(*args)
            return None
        if op == "register":
            store.cursor().register(*args)
            return None
        if op == "unregister":
            store.cursor().unregister(*args)
            return None
        if op == "begin":
            if self.transaction is not None:
                raise RuntimeError("a transaction is already open on this connection")
            transaction = store.transaction()
            transaction.__enter__()
            self.transaction = transaction
            return None
        if op in ("commit", "rollback"):
            transaction, self.transaction = self.transaction, None
            if transaction is None:
                raise RuntimeError(f"{op} without a transaction")
            if op == "commit":
                transaction.__exit__(None, None, None)
            else:
                rollback = RuntimeError("rolled back by the client")
                transaction.__exit__(type(rollback), rollback, None)
            return None
        raise RuntimeError(f"unknown request {op!r}")

    def end(self) -> None:
        """The client is gone: roll back what it left open (releasing the write lock), drop the cursor."""
        if self.transaction is not None:
            transaction, self.transaction = self.transaction, None
            gone = ConnectionAbortedError("the client went away mid-transaction")
            with contextlib.suppress(Exception):
                transaction.__exit__(type(gone), gone, None)
        self.store.close_cursor()


class AppServer:
    """The app's loopback endpoint for CLI commands (``serve`` starts one per store)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.key = secrets.token_bytes(32)
        self.endpoint = endpoint_path(store.path)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._clients: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> AppServer:
        self._write_endpoint()
        thread = threading.Thread(target=self._accept_loop, daemon=True, name="cli-endpoint")
        thread.start()
        self._threads.append(thread)
        return self

    def _write_endpoint(self) -> None:
        # 0600 from the start (os.open's mode), then renamed in place: never readable by others
        tmp = self.endpoint.with_name(f".{self.endpoint.name}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"port": self.port, "key": self.key.hex(), "pid": os.getpid(), "db": self.store.path}, handle)
        os.replace(tmp, self.endpoint)

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed by stop()
            thread = threading.Thread(target=self._serve_client, args=(sock,), daemon=True, name="cli-client")
            with self._lock:
                self._clients.add(sock)
                self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _serve_client(self, sock: socket.socket) -> None:
        conn = Connection(os.dup(sock.fileno()))
        session = _Session(self.store)
        try:
            _set_read_timeout(sock, HANDSHAKE_S)
            try:
                deliver_challenge(conn, self.key)
                answer_challenge(conn, self.key)
            except (AuthenticationError, OSError, EOFError):
                return
            _set_read_timeout(sock, 0)
            while not self._stopped.is_set():
                try:
                    op, *args = conn.recv()
                except (EOFError, OSError, ValueError, TypeError):
                    return
                try:
                    reply: tuple[Any, ...] = ("ok", session.handle(op, tuple(args)))
                except Exception as exc:  # the client re-raises it as the same class
                    reply = ("err", *_describe(exc))
                try:
                    conn.send(reply)
                except OSError:
                    return
                except Exception as exc:  # a result that cannot be pickled
                    conn.send(("err", *_describe(exc)))
        finally:
            session.end()
            conn.close()
            with self._lock:
                self._clients.discard(sock)
            sock.close()

    def stop(self, wait_s: float = 10.0) -> None:
        """Stop listening, remove the endpoint file (if it is still ours), end every client's
        connection (their open transactions roll back) and wait for their threads."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        with contextlib.suppress(OSError, ValueError):
            if json.loads(self.endpoint.read_text()).get("port") == self.port:
                self.endpoint.unlink()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            clients, threads = list(self._clients), list(self._threads)
        for sock in clients:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout=wait_s)


_SERVERS: weakref.WeakKeyDictionary[Store, AppServer] = weakref.WeakKeyDictionary()


def serve(store: Store) -> AppServer:
    """Let CLI commands reach this (the app's) store (once per store); stopped when the store
    closes or by ``stop_serving``."""
    server = _SERVERS.get(store)
    if server is None:
        server = _SERVERS[store] = AppServer(store).start()
        store._on_close.append(server.stop)
    return server


def stop_serving(store: Store) -> None:
    """Stop the store's endpoint but keep the store open (the app let go of it: another takes over)."""
    server = _SERVERS.pop(store, None)
    if server is not None:
        server.stop()


# -- the CLI's side ---------------------------------------------------------------------------------
class _Channel:
    """One authenticated connection to the app (one per thread of the CLI)."""

    def __init__(self, port: int, key: bytes) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=HANDSHAKE_S)
        self.sock.settimeout(None)
        self.conn = Connection(os.dup(self.sock.fileno()))
        try:
            _set_read_timeout(self.sock, HANDSHAKE_S)  # a process that is not our app never answers
            answer_challenge(self.conn, key)
            deliver_challenge(self.conn, key)
            _set_read_timeout(self.sock, 0)  # statements may take long (the app's write lock, big reads)
        except BaseException:
            self.close()
            raise

    def call(self, op: str, *args: Any) -> Any:
        try:
            self.conn.send((op, *args))
            reply = self.conn.recv()
        except (EOFError, OSError) as exc:
            raise AppGoneError(
                "The app holding the database stopped while this command was using it; nothing half-done "
                "was kept: run the command again.") from exc
        if reply[0] == "ok":
            return reply[1]
        raise _rebuild(*reply[1:])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()
        self.sock.close()


class RemoteCursor:
    """The part of a DuckDB cursor that the project uses, run by the app on this thread's cursor there."""

    def __init__(self, channel: _Channel) -> None:
        self._channel = channel
        self.description: list[tuple[Any, ...]] | None = None

    def execute(self, sql: str, params: Any = None) -> RemoteCursor:
        self.description = self._channel.call("execute", sql, params)
        return self

    def executemany(self, sql: str, params: Any) -> RemoteCursor:
        self._channel.call("executemany", sql, list(params))
        self.description = None
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._channel.call("fetch", "one")

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._channel.call("fetch", "all")

    def fetchnumpy(self) -> dict[str, Any]:
        return self._channel.call("fetch", "numpy")

    def df(self) -> Any:
        return self._channel.call("fetch", "df")

    fetchdf = fetch_df = df

    def register(self, name: str, table: Any) -> RemoteCursor:
        self._channel.call("register", name, table)
        return self

    def unregister(self, name: str) -> RemoteCursor:
        self._channel.call("unregister", name)
        return self

    def close(self) -> None:
        """Nothing to do: the app's cursor lives as long as this thread's connection."""


class RemoteStore(Store):
    """``Store``'s API over the running app's connection (see the module docstring)."""

    def __init__(self, path: str, port: int, key: bytes, app_pid: int) -> None:
        # no Store.__init__: this process opens no file
        self.path = path
        self.read_only = False
        self.app_pid = app_pid
        self._port = port
        self._key: bytes | None = key  # None once closed
        self._local = threading.local()
        self._channels: list[_Channel] = []
        self._channels_lock = threading.Lock()
        self._on_close = []
        self._conn = None

    def _channel(self) -> _Channel:
        channel = getattr(self._local, "channel", None)
        if channel is None:
            if self._key is None:
                raise duckdb.ConnectionException(f"The database {self.path} was closed.")
            channel = self._local.channel = _Channel(self._port, self._key)
            with self._channels_lock:
                self._channels.append(channel)
        return channel

    def cursor(self) -> RemoteCursor:  # type: ignore[override]
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = RemoteCursor(self._channel())
        return cursor

    def close_cursor(self) -> None:
        """The app's cursor of this thread's connection ends with the connection (``close``)."""

    def execute(self, sql: str, params: Any = None) -> RemoteCursor:  # type: ignore[override]
        return self.cursor().execute(sql, params)

    def fetchall(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        return self._channel().call("query", sql, params, "all")

    def fetchone(self, sql: str, params: Any = None) -> tuple[Any, ...] | None:
        return self._channel().call("query", sql, params, "one")

    def fetch_dicts(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        return self._channel().call("query", sql, params, "dicts")

    def fetch_df(self, sql: str, params: Any = None) -> Any:
        return self._channel().call("query", sql, params, "df")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[RemoteCursor]:  # type: ignore[override]
        """All-or-nothing under the app's write lock; nested calls in a thread join the outer one."""
        cursor = self.cursor()
        if getattr(self._local, "in_transaction", False):
            yield cursor
            return
        channel = self._channel()
        channel.call("begin")
        self._local.in_transaction = True
        try:
            yield cursor
        except BaseException:
            self._local.in_transaction = False
            with contextlib.suppress(AppGoneError):  # the app rolls back a client that is gone
                channel.call("rollback")
            raise
        self._local.in_transaction = False
        channel.call("commit")

    def migrate(self) -> list[str]:
        """The app migrated its database when it opened it; this code must not need more."""
        missing = sorted({name for name, _ in all_migrations()} - set(self.applied_migrations()))
        if missing:
            raise AppSchemaError(
                f"The running app (process {self.app_pid}) uses an older version of the database "
                f"{self.path} (missing {', '.join(missing)}): restart the app, then run this command again.")
        return []

    def close(self) -> None:
        self._key = None
        with self._channels_lock:
            channels, self._channels = self._channels, []
        for channel in channels:
            channel.close()


def connect_to_app(db: str | Path, holder_pid: int | None = None) -> RemoteStore | None:
    """The running app's database, or None when no app serves it (no endpoint file, a stale one,
    another user's, or a process that does not answer as our app). When the holder is a Streamlit
    process, its endpoint may not be written yet (the app opens and migrates the database first):
    wait for it up to ``STARTUP_WAIT_S``."""
    deadline = time.monotonic() + (STARTUP_WAIT_S if holder_pid is not None and _is_streamlit(holder_pid) else 0)
    while True:
        store = _connect_once(db, holder_pid)
        if store is not None or time.monotonic() >= deadline:
            return store
        time.sleep(0.2)


def _is_streamlit(pid: int) -> bool:
    import psutil

    try:
        return any("streamlit" in part for part in psutil.Process(pid).cmdline())
    except (psutil.Error, OSError):
        return False


def _connect_once(db: str | Path, holder_pid: int | None) -> RemoteStore | None:
    endpoint = endpoint_path(db)
    try:
        stat = endpoint.stat()
        info = json.loads(endpoint.read_text())
        port, key, pid = int(info["port"]), bytes.fromhex(info["key"]), int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if stat.st_uid != os.getuid() or (holder_pid is not None and pid != holder_pid):
        return None
    store = RemoteStore(str(db), port, key, pid)
    try:
        store.migrate()  # connects (one channel) and checks the app's schema
    except (OSError, EOFError, AuthenticationError, AppGoneError):
        store.close()
        return None
    except BaseException:
        store.close()
        raise
    return store
