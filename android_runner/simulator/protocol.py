"""ADB wire protocol, device side: 24-byte headers, the CNXN/AUTH handshake and OPEN/OKAY/WRTE/CLSE streams.

Follows system/core/adb/protocol.txt as adbd implements it, so stock clients (adb, adb_shell) work:
- header = command, arg0, arg1, data_length, data_check (byte sum), magic (command ^ 0xffffffff), little endian;
- handshake: client CNXN -> device AUTH TOKEN (20 random bytes) -> client AUTH SIGNATURE (PKCS#1 v1.5 over the
  token as a SHA-1 digest) checked against the keys already trusted, else a fresh TOKEN; client AUTH
  RSAPUBLICKEY (Android's binary key, base64) -> "Allow" (trust it, send CNXN) unless refuse_auth;
- streams: one WRTE in flight per stream; the sender waits for OKAY before the next (adb's flow control).
"""
from __future__ import annotations

import base64
import hashlib
import os
import queue
import socket
import struct
import threading

A_SYNC, A_CNXN, A_OPEN, A_OKAY, A_CLSE, A_WRTE, A_AUTH = (
    int.from_bytes(c, "little") for c in (b"SYNC", b"CNXN", b"OPEN", b"OKAY", b"CLSE", b"WRTE", b"AUTH"))
AUTH_TOKEN, AUTH_SIGNATURE, AUTH_RSAPUBLICKEY = 1, 2, 3
VERSION_MIN, VERSION_SKIP_CHECKSUM = 0x01000000, 0x01000001
MAX_PAYLOAD = 1024 * 1024
HEADER = struct.Struct("<6I")
TOKEN_SIZE = 20
# DER prefix of a SHA-1 DigestInfo: what RSA_sign(NID_sha1, ...) wraps the 20-byte token in.
SHA1_DIGESTINFO = bytes.fromhex("3021300906052b0e03021a05000414")


class ProtocolError(Exception):
    pass


def pack(cmd: int, arg0: int, arg1: int, data: bytes = b"") -> bytes:
    return HEADER.pack(cmd, arg0, arg1, len(data), sum(data) & 0xFFFFFFFF, cmd ^ 0xFFFFFFFF) + data


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("peer closed the connection")
        buf += chunk
    return bytes(buf)


def read_message(sock: socket.socket, max_payload: int = MAX_PAYLOAD):
    cmd, arg0, arg1, length, check, magic = HEADER.unpack(_recv_exact(sock, HEADER.size))
    if magic != cmd ^ 0xFFFFFFFF:
        raise ProtocolError(f"bad magic {magic:#x} for command {cmd:#x}")
    if length > max_payload:
        raise ProtocolError(f"payload of {length} bytes exceeds the negotiated {max_payload}")
    data = _recv_exact(sock, length) if length else b""
    # Clients at protocol 0x01000001 may send 0 instead of the byte sum; adbd accepts that too.
    if check and check != (sum(data) & 0xFFFFFFFF):
        raise ProtocolError("data checksum mismatch")
    return cmd, arg0, arg1, data


def parse_android_pubkey(blob: bytes) -> tuple[int, int]:
    """`base64(RSAPublicKey struct)[ user@host]\\0` -> (modulus, exponent)."""
    b64 = blob.rstrip(b"\0").split(b" ")[0]
    raw = base64.b64decode(b64)
    (words,) = struct.unpack_from("<I", raw, 0)
    if words not in (64, 96, 128) or len(raw) < 12 + 8 * words:
        raise ProtocolError("malformed RSA public key")
    n = int.from_bytes(raw[8:8 + 4 * words], "little")
    (e,) = struct.unpack_from("<I", raw, 8 + 8 * words)
    return n, e


def verify_signature(key: tuple[int, int], token: bytes, signature: bytes) -> bool:
    """RSA PKCS#1 v1.5 verify of `token` used directly as a SHA-1 digest (what adbd does)."""
    n, e = key
    k = (n.bit_length() + 7) // 8
    if len(signature) != k:
        return False
    em = pow(int.from_bytes(signature, "big"), e, n).to_bytes(k, "big")
    expected_tail = SHA1_DIGESTINFO + token
    pad = k - 3 - len(expected_tail)
    return pad >= 8 and em == b"\x00\x01" + b"\xff" * pad + b"\x00" + expected_tail


class KeyStore:
    """Trusted public keys (adbd's adb_keys), shared by all connections of one simulator."""

    def __init__(self):
        self._keys: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def add(self, key: tuple[int, int]) -> None:
        with self._lock:
            self._keys[hashlib.sha256(str(key).encode()).hexdigest()] = key

    def verify(self, token: bytes, signature: bytes) -> bool:
        with self._lock:
            keys = list(self._keys.values())
        return any(verify_signature(k, token, signature) for k in keys)


class Stream:
    """One OPENed service stream: `read()` gets the client's WRTE payloads, `write()` honours OKAY flow control."""

    def __init__(self, conn: "Connection", local_id: int, remote_id: int):
        self.conn, self.local_id, self.remote_id = conn, local_id, remote_id
        self._incoming: queue.Queue = queue.Queue()
        self._okay = threading.Event()
        self.closed = False

    def _deliver(self, data: bytes) -> None:
        self._incoming.put(data)

    def _acked(self) -> None:
        self._okay.set()

    def _remote_closed(self) -> None:
        self.closed = True
        self._okay.set()
        self._incoming.put(None)

    def read(self, timeout: float = 60.0) -> bytes | None:
        """Next payload from the client; None when the stream or connection closed."""
        try:
            return self._incoming.get(timeout=timeout)
        except queue.Empty:
            return None

    def write(self, data: bytes, timeout: float = 60.0) -> None:
        step = self.conn.max_payload
        for i in range(0, len(data), step):
            if self.closed or self.conn.dead:
                raise ConnectionError("stream closed")
            self._okay.clear()
            self.conn.send(A_WRTE, self.local_id, self.remote_id, data[i:i + step])
            if not self._okay.wait(timeout) or self.conn.dead:
                raise ConnectionError("client stopped acknowledging writes")

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.conn.send(A_CLSE, self.local_id, self.remote_id)
        self.conn.forget(self.local_id)


class Connection:
    """One TCP client. `serve()` runs the handshake then dispatches packets; `open_service(stream, name)` is
    called on a new thread per OPEN and must eventually close the stream."""

    def __init__(self, sock, keys: KeyStore, banner: bytes, open_service, refuse_auth=False, on_auth=None):
        self.sock, self.keys, self.banner = sock, keys, banner
        self.open_service, self.refuse_auth, self.on_auth = open_service, refuse_auth, on_auth or (lambda e: None)
        self.max_payload = 4096
        self.dead = False
        self._send_lock = threading.Lock()
        self._streams: dict[int, Stream] = {}
        self._next_id = 1

    def send(self, cmd: int, arg0: int, arg1: int, data: bytes = b"") -> None:
        with self._send_lock:
            if self.dead:
                raise ConnectionError("connection closed")
            self.sock.sendall(pack(cmd, arg0, arg1, data))

    def forget(self, local_id: int) -> None:
        self._streams.pop(local_id, None)

    def kill(self) -> None:
        """Cut the TCP connection abruptly (fault injection, server stop)."""
        self.dead = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for s in list(self._streams.values()):
            s._remote_closed()

    def serve(self) -> None:
        try:
            if self._handshake():
                self._dispatch()
        except (ConnectionError, OSError, ProtocolError, struct.error):
            pass
        finally:
            if not self.dead:
                self.kill()

    def _handshake(self) -> bool:
        cmd, version, maxdata, _ = read_message(self.sock)
        if cmd != A_CNXN:
            raise ProtocolError("expected CNXN")
        self.version = min(max(version, VERSION_MIN), VERSION_SKIP_CHECKSUM)
        self.max_payload = max(256, min(maxdata, MAX_PAYLOAD))
        token = os.urandom(TOKEN_SIZE)
        self.send(A_AUTH, AUTH_TOKEN, 0, token)
        while True:
            cmd, kind, _, data = read_message(self.sock)
            if cmd == A_CNXN:  # a client may restart the handshake
                continue
            if cmd != A_AUTH:
                raise ProtocolError("unauthorized: only AUTH is accepted before the handshake completes")
            if kind == AUTH_SIGNATURE:
                if self.keys.verify(token, data):
                    self.on_auth("signature")
                    break
                token = os.urandom(TOKEN_SIZE)   # adbd answers a wrong signature with a new token
                self.send(A_AUTH, AUTH_TOKEN, 0, token)
            elif kind == AUTH_RSAPUBLICKEY:
                key = parse_android_pubkey(data)
                if self.refuse_auth == "pending":
                    # Nobody answers the "Allow USB debugging?" prompt: adbd keeps the link open and
                    # silent, which an adb server lists as `unauthorized`.
                    self.on_auth("pending")
                    while True:
                        read_message(self.sock)   # ignored until the client gives up and closes
                if self.refuse_auth:
                    # The user tapped "Deny": adbd stays unauthorised and the client gives up.
                    self.on_auth("refused")
                    return False
                self.keys.add(key)               # "Always allow from this computer"
                self.on_auth("new-key")
                break
            else:
                raise ProtocolError(f"unknown AUTH type {kind}")
        self.send(A_CNXN, self.version, self.max_payload, self.banner)
        return True

    def _dispatch(self) -> None:
        while not self.dead:
            cmd, arg0, arg1, data = read_message(self.sock, self.max_payload)
            if cmd == A_OPEN:
                local_id, self._next_id = self._next_id, self._next_id + 1
                stream = Stream(self, local_id, arg0)
                self._streams[local_id] = stream
                name = data.rstrip(b"\0").decode("utf-8", "replace")
                threading.Thread(target=self._run_service, args=(stream, name), daemon=True).start()
            elif cmd in (A_WRTE, A_OKAY, A_CLSE):
                stream = self._streams.get(arg1)
                if stream is None:
                    if cmd == A_WRTE:   # unknown stream: tell the client it is gone
                        self.send(A_CLSE, 0, arg0)
                    continue
                if cmd == A_WRTE:
                    stream._deliver(data)
                    self.send(A_OKAY, stream.local_id, stream.remote_id)
                elif cmd == A_OKAY:
                    stream._acked()
                else:
                    # Answer the client's CLSE with ours (adb_shell waits for it) unless we already sent one.
                    if not stream.closed:
                        stream.closed = True
                        self.send(A_CLSE, stream.local_id, stream.remote_id)
                    stream._remote_closed()
                    self.forget(arg1)
            # SYNC and anything else: ignored, as adbd does

    def _run_service(self, stream: Stream, name: str) -> None:
        try:
            # OKAY with our id tells the client the service exists; an unknown one gets CLSE instead.
            handler = self.open_service(name)
            if handler is None:
                stream.closed = True
                self.send(A_CLSE, 0, stream.remote_id)
                self.forget(stream.local_id)
                return
            self.send(A_OKAY, stream.local_id, stream.remote_id)
            handler(stream)
        except (ConnectionError, OSError):
            pass
        finally:
            try:
                stream.close()
            except (ConnectionError, OSError):
                pass
