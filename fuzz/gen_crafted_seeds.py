#!/usr/bin/env python3
"""Writes the hand-crafted TimeStampReq seeds of fuzz/corpus/request/ (crafted-*.der).

The openssl-made seeds (*.tsq) come from `openssl ts -query` (see README.md); these cover the
request shapes that the CLI cannot produce: every rejection branch of the processing order
(conformance §1.3), BER variants OpenSSL decodes, odd nonces, and framing errors. The expected
outcome of each is decided by the oracle in request_checks.h, not here.

Usage: python3 fuzz/gen_crafted_seeds.py fuzz/corpus/request
"""
import hashlib
import os
import sys


def tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def seq(*parts: bytes) -> bytes:
    return tlv(0x30, b"".join(parts))


def integer(value: int) -> bytes:
    length = max(1, (value.bit_length() + 8) // 8)
    return tlv(0x02, value.to_bytes(length, "big", signed=True))


def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.insert(0, 0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(chunk)
    return tlv(0x06, bytes(body))


NULL = b"\x05\x00"
TRUE = b"\x01\x01\xff"
FALSE = b"\x01\x01\x00"
SHA1, SHA256, SHA512 = "1.3.14.3.2.26", "2.16.840.1.101.3.4.2.1", "2.16.840.1.101.3.4.2.3"
SHA3_256, MD5 = "2.16.840.1.101.3.4.2.8", "1.2.840.113549.2.5"
DEFAULT_POLICY = "1.3.6.1.4.1.99999.1.1"
DIGEST = hashlib.sha256(b"tsad fuzz seed data\n").digest()


def imprint(alg: str = SHA256, digest: bytes = DIGEST, params: bytes = NULL) -> bytes:
    return seq(seq(oid(alg), params), tlv(0x04, digest))


def request(version: int = 1, mi: bytes = None, policy: str = None, nonce: int = None, cert_req: bytes = TRUE,
            extensions: bytes = b"") -> bytes:
    parts = [integer(version), mi if mi is not None else imprint()]
    if policy is not None:
        parts.append(oid(policy))
    if nonce is not None:
        parts.append(integer(nonce))
    parts.append(cert_req)
    if extensions:
        parts.append(tlv(0xA0, extensions))
    return seq(*parts)


def extension(ext_oid: str, critical: bool, value: bytes) -> bytes:
    return seq(oid(ext_oid), TRUE if critical else b"", tlv(0x04, value))


def indefinite(der: bytes) -> bytes:
    """The outer SEQUENCE re-encoded with BER indefinite length."""
    assert der[0] == 0x30
    header = 2 + (der[1] & 0x7F if der[1] & 0x80 else 0)
    return b"\x30\x80" + der[header:] + b"\x00\x00"


SEEDS = {
    # Valid requests the CLI does not make.
    "crafted-valid-params-absent": request(mi=imprint(params=b""), nonce=0x1234),
    "crafted-valid-nonce-negative": request(nonce=-5),
    "crafted-valid-nonce-zero": request(nonce=0),
    "crafted-valid-nonce-160bit": request(nonce=(1 << 159) + 12345),
    "crafted-valid-certreq-false-explicit": request(nonce=7, cert_req=FALSE),
    "crafted-valid-ber-indefinite-length": indefinite(request(policy=DEFAULT_POLICY, nonce=99)),
    # One seed per rejection branch, in the order of conformance §1.3.
    "crafted-version-2": request(version=2, nonce=1),
    "crafted-version-huge": tlv(0x30, tlv(0x02, b"\x01" + b"\x00" * 9) + imprint() + TRUE),
    "crafted-md5-unknown-alg": request(mi=imprint(MD5, hashlib.md5(b"x").digest())),
    "crafted-sha3-256-not-accepted": request(mi=imprint(SHA3_256, hashlib.sha3_256(b"x").digest())),
    "crafted-sha1-not-accepted": request(mi=imprint(SHA1, hashlib.sha1(b"x").digest()), cert_req=b""),
    "crafted-params-octet-string": request(mi=imprint(params=tlv(0x04, b"\x00"))),
    "crafted-digest-31-bytes": request(mi=imprint(digest=DIGEST[:31])),
    "crafted-digest-empty": request(mi=imprint(digest=b"")),
    "crafted-policy-unaccepted-long-oid": request(policy="1.3.6.1.4.1." + ".".join(str(2**40 + i) for i in range(30))),
    "crafted-extension-noncritical": request(nonce=3, extensions=extension("1.2.3.4", False, b"\x05\x00")),
    "crafted-extension-critical-two": request(extensions=extension("1.2.3.4", True, b"") + extension("1.2.3.5", False, b"x")),
    # Framing errors: badDataFormat before anything else.
    "crafted-empty": b"",
    "crafted-truncated-last-byte": request(nonce=42)[:-1],
    "crafted-trailing-zero-byte": request(nonce=42) + b"\x00",
    "crafted-two-requests": request(nonce=1) + request(nonce=2),
    "crafted-length-overflow": b"\x30\x84\xff\xff\xff\xff" + request()[2:],
    "crafted-not-a-sequence": tlv(0x31, request()[2:]),
}


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "request")
    os.makedirs(out, exist_ok=True)
    for name, der in SEEDS.items():
        with open(os.path.join(out, name + ".der"), "wb") as f:
            f.write(der)
    print(f"wrote {len(SEEDS)} seeds to {out}")


if __name__ == "__main__":
    main()
