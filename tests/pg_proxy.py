"""A TCP proxy in front of PostgreSQL that can lose one answer: the query that contains a given
text reaches the server and runs (and commits), then both sides of that connection are closed
before the answer reaches the client. The client sees what a network failure after commit looks
like: "server closed the connection unexpectedly", with no way to know the statement ran."""

import socket
import threading
import time

from tests.smtp_server import free_port


class PgProxy:
    """Listens on 127.0.0.1:`port`; `dsn` is the same DSN through the proxy."""

    def __init__(self, dsn: str) -> None:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        params = conninfo_to_dict(dsn)
        host, port = str(params.get("host") or "/tmp"), int(params.get("port") or 5432)
        # a socket directory (the embedded server) or a TCP address
        self.target = f"{host}/.s.PGSQL.{port}" if host.startswith("/") else (host, port)
        self.port = free_port()
        self.lock = threading.Lock()
        self.armed: bytes | None = None  # the next query containing this loses its answer
        self.seen: dict[bytes, int] = {}  # how often each watched text was sent
        self.watch: list[bytes] = []
        self.dropped = 0
        self._listener = socket.create_server(("127.0.0.1", self.port))
        # in clear text, so that the proxy can see which query a message carries (a server with
        # TLS, such as a Citus coordinator, would otherwise be asked over TLS)
        self.dsn = make_conninfo(dsn, host="127.0.0.1", port=str(self.port), sslmode="disable")
        self._stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def drop_answer_to(self, text: bytes) -> None:
        with self.lock:
            self.armed = text
            if text not in self.watch:
                self.watch.append(text)

    def _accept(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if isinstance(self.target, str):
                server = socket.socket(socket.AF_UNIX)
                server.connect(self.target)
            else:
                server = socket.create_connection(self.target)
            state = {"dropping": False}
            threading.Thread(target=self._upstream, args=(client, server, state), daemon=True).start()
            threading.Thread(target=self._downstream, args=(server, client, state), daemon=True).start()

    def _upstream(self, client: socket.socket, server: socket.socket, state: dict) -> None:
        try:
            while data := client.recv(65536):
                with self.lock:
                    for text in self.watch:
                        if text in data:
                            self.seen[text] = self.seen.get(text, 0) + 1
                    if self.armed is not None and self.armed in data:
                        self.armed = None
                        state["dropping"] = True
                server.sendall(data)
        except OSError:
            pass
        finally:
            _close(client, server)

    def _downstream(self, server: socket.socket, client: socket.socket, state: dict) -> None:
        try:
            while data := server.recv(65536):
                if state["dropping"]:
                    # the server has answered, so the statement ran (and an autocommit one
                    # committed): lose the answer and the connection
                    time.sleep(0.2)
                    with self.lock:
                        self.dropped += 1
                    break
                client.sendall(data)
        except OSError:
            pass
        finally:
            _close(client, server)

    def close(self) -> None:
        self._stopping = True
        self._listener.close()


def _close(*sockets: socket.socket) -> None:
    for s in sockets:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            s.close()
        except OSError:
            pass
