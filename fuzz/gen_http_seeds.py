#!/usr/bin/env python3
"""Writes the seed corpus of http_request_fuzzer: python3 fuzz/gen_http_seeds.py fuzz/corpus/http_request

Each file is one input: byte 0 chooses the read splits (bits 0-6, 0 = maximal reads) and the body
limits (bit 7: 64 B query / 256 B data), the rest is what a client sends on one connection. The
names say what each one is; tests/regress/http_fuzz_replay_test.cc pins what tsad reads of them."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DER = open(os.path.join(HERE, "corpus", "request", "openssl-sha256-cert-nonce.der"), "rb").read()


def post(path, body, ctype=b"application/timestamp-query", extra=b""):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: tsa\r\nContent-Type: " + ctype + b"\r\nContent-Length: " +
            str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)


def chunked(body, pieces):
    out, at = b"", 0
    for n in pieces:
        out += b"%x\r\n" % n + body[at:at + n] + b"\r\n"
        at += n
    return out + b"0\r\n\r\n"


SEEDS = {
    # Good requests.
    "der-query-post": (0, post(b"/tsa", DER)),
    "der-query-post-split": (0x13, post(b"/tsa", DER)),
    "raw-data-post": (0, post(b"/tsa?hash=sha384", b"hello world", b"application/octet-stream")),
    "raw-data-bad-hash": (0, post(b"/?hash=md5", b"hello world", b"text/plain")),
    "chunked-query": (0x05, b"POST /tsa HTTP/1.1\r\nHost: tsa\r\nContent-Type: application/timestamp-query\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n" + chunked(DER, [7, 1, len(DER) - 8])),
    "chunked-ext-trailer": (0x02, b"POST /tsa HTTP/1.1\r\nHost: tsa\r\nTransfer-Encoding: chunked\r\n\r\n"
                            b"5;name=\"v\"\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n"),
    "pipelined-gets": (0x03, b"GET /health HTTP/1.1\r\nHost: tsa\r\n\r\nGET /certs/tsa.pem HTTP/1.1\r\nHost: tsa\r\n\r\n"
                       b"HEAD /certs/chain.pem HTTP/1.1\r\nHost: tsa\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n"),
    "pipelined-post-then-get": (0x01, post(b"/tsa", b"hello", b"text/plain") + b"GET /healthz?x=%41+b HTTP/1.1\r\n\r\n"),
    "http10-no-host": (0, b"POST /tsa HTTP/1.0\r\nContent-Type: application/timestamp-query\r\nContent-Length: " +
                       str(len(DER)).encode() + b"\r\n\r\n" + DER),
    "expect-100-continue": (0x04, post(b"/tsa", DER, extra=b"Expect: 100-continue\r\n")),
    "get-with-body": (0, b"GET /health HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n"),
    "body-over-limit": (0x80, post(b"/tsa", DER)),
    "chunked-over-limit": (0x81, b"POST /tsa HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(b"x" * 300, [100, 100, 100])),
    # Framing that must be refused (request smuggling shapes).
    "smuggle-cl-te": (0, b"POST /tsa HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n"),
    "smuggle-te-cl": (0, b"POST /tsa HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"),
    "smuggle-cl-list": (0, b"POST /tsa HTTP/1.1\r\nContent-Length: 11, 11\r\n\r\nhello world"),
    "smuggle-cl-twice": (0, b"POST /tsa HTTP/1.1\r\nContent-Length: 11\r\nContent-Length: 11\r\n\r\nhello world"),
    "smuggle-cl-plus": (0, b"POST /tsa HTTP/1.1\r\nContent-Length: +11\r\n\r\nhello world"),
    "smuggle-te-gzip-chunked": (0, b"POST /tsa HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
    "smuggle-te-chunked-gzip": (0, b"POST /tsa HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"),
    "smuggle-te-twice": (0, b"POST /tsa HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    "te-obs-fold": (0, b"POST /tsa HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n"),
    "smuggle-chunk-too-long": (0, b"POST /tsa HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n"),
    "smuggle-chunk-size-overflow": (0, b"POST /tsa HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nx\r\n"),
    "long-uri": (0, b"GET /" + b"a" * 4100 + b" HTTP/1.1\r\n\r\n"),
    "many-headers": (0, b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(101)) + b"\r\n"),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus", "http_request")
    os.makedirs(out, exist_ok=True)
    for name, (seed, data) in SEEDS.items():
        with open(os.path.join(out, name + ".http"), "wb") as f:
            f.write(bytes([seed]) + data)


if __name__ == "__main__":
    main()
