"""A throwaway test CA and a server certificate signed by it, written as PEM files.

The server certificate covers the loopback names the fake upstream listens on and the
Clockify host names a client may ask for, so one fake can stand in for any of them.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_DNS_NAMES = (
    "localhost",
    "api.clockify.me",
    "reports.api.clockify.me",
    "*.clockify.me",
    "*.api.clockify.me",
)
SERVER_IPS = ("127.0.0.1",)


@dataclass(frozen=True)
class CertFiles:
    directory: Path
    ca_cert: Path  # the test CA certificate (what a client or mitmproxy trusts)
    ca_key: Path
    server_cert: Path  # leaf certificate only
    server_key: Path
    server_chain: Path  # leaf + CA, for servers that send the chain
    ca_fingerprint_sha256: bytes
    server_fingerprint_sha256: bytes


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def generate(directory: Path | str) -> CertFiles:
    """Create the CA and the server certificate in `directory` (created if needed)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    not_before = now - datetime.timedelta(days=1)
    not_after = now + datetime.timedelta(days=30)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "clockify-proxy tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, "clockify-proxy test CA"),
        ]
    )
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    server_key = ec.generate_private_key(ec.SECP256R1())
    san = x509.SubjectAlternativeName(
        [x509.DNSName(name) for name in SERVER_DNS_NAMES]
        + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVER_IPS]
    )
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "clockify-proxy tests"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "fake clockify upstream"),
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(san, critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    paths = {
        "ca_cert": directory / "test-ca.pem",
        "ca_key": directory / "test-ca-key.pem",
        "server_cert": directory / "server.pem",
        "server_key": directory / "server-key.pem",
        "server_chain": directory / "server-chain.pem",
    }
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    server_pem = server_cert.public_bytes(serialization.Encoding.PEM)
    paths["ca_cert"].write_bytes(ca_pem)
    paths["ca_key"].write_bytes(_key_pem(ca_key))
    paths["server_cert"].write_bytes(server_pem)
    paths["server_key"].write_bytes(_key_pem(server_key))
    paths["server_chain"].write_bytes(server_pem + ca_pem)
    return CertFiles(
        directory=directory,
        ca_fingerprint_sha256=ca_cert.fingerprint(hashes.SHA256()),
        server_fingerprint_sha256=server_cert.fingerprint(hashes.SHA256()),
        **paths,
    )
