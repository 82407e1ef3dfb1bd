"""Reading a zip's entries in bounded memory: the central directory is parsed one entry at a
time (``zipfile.ZipFile`` would hold every entry in memory at once), and each entry's data is
streamed with its CRC checked."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

__all__ = ["ChunkReader", "Entry", "NotAZip", "entries", "read_chunks"]

_EOCD = struct.Struct("<4s4H2LH")
_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CHUNK = 64 * 1024  # compressed bytes read at once: OCSF lines inflate ~30x at level 6
_OUT = 1024 * 1024  # uncompressed bytes produced at once


class NotAZip(ValueError):
    """The file is not a (readable) zip archive."""


@dataclass(frozen=True)
class Entry:
    name: str
    method: int
    crc: int
    compressed: int
    size: int
    offset: int


def _end_record(fp: BinaryIO) -> tuple[int, int]:
    """(number of entries, offset of the central directory)."""
    fp.seek(0, 2)
    length = fp.tell()
    tail_size = min(length, 65_536 + _EOCD.size)
    fp.seek(length - tail_size)
    tail = fp.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        raise NotAZip("no zip end-of-central-directory record")
    _, _, _, _, count, _, offset, _ = _EOCD.unpack_from(tail, at)
    locator_at = at - _LOCATOR.size
    if locator_at >= 0 and tail[locator_at : locator_at + 4] == b"PK\x06\x07":
        _, _, eocd64_offset, _ = _LOCATOR.unpack_from(tail, locator_at)
        fp.seek(eocd64_offset)
        record = fp.read(_EOCD64.size)
        if len(record) < _EOCD64.size or record[:4] != b"PK\x06\x06":
            raise NotAZip("broken zip64 end record")
        fields = _EOCD64.unpack(record)
        count, offset = fields[7], fields[9]
    return count, offset


def entries(fp: BinaryIO) -> Iterator[Entry]:
    """Every entry of the central directory, in order (``fp`` is only used for the directory)."""
    count, offset = _end_record(fp)
    fp.seek(offset)
    for _ in range(count):
        head = fp.read(_CENTRAL.size)
        if len(head) < _CENTRAL.size or head[:4] != b"PK\x01\x02":
            raise NotAZip("broken zip central directory")
        f = _CENTRAL.unpack(head)
        crc, compressed, size = f[9], f[10], f[11]
        name_len, extra_len, comment_len, offset_ = f[12], f[13], f[14], f[18]
        name = fp.read(name_len).decode("utf-8" if f[5] & 0x800 else "cp437")
        extra = fp.read(extra_len)
        fp.seek(comment_len, 1)
        size, compressed, offset_ = _zip64(extra, size, compressed, offset_)
        yield Entry(name, f[6], crc, compressed, size, offset_)


def _zip64(extra: bytes, size: int, compressed: int, offset: int) -> tuple[int, int, int]:
    i = 0
    while i + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, i)
        if tag == 1:
            values = list(struct.unpack_from(f"<{length // 8}Q", extra, i + 4))
            if size == 0xFFFFFFFF:
                size = values.pop(0)
            if compressed == 0xFFFFFFFF:
                compressed = values.pop(0)
            if offset == 0xFFFFFFFF:
                offset = values.pop(0)
        i += 4 + length
    return size, compressed, offset


def read_chunks(fp: BinaryIO, entry: Entry) -> Iterator[bytes]:
    """The entry's uncompressed bytes in chunks; NotAZip on a bad header, method or CRC."""
    fp.seek(entry.offset)
    head = fp.read(_LOCAL.size)
    if len(head) < _LOCAL.size or head[:4] != b"PK\x03\x04":
        raise NotAZip(f"{entry.name}: broken local header")
    name_len, extra_len = _LOCAL.unpack(head)[-2:]
    fp.seek(name_len + extra_len, 1)
    if entry.method == 8:
        inflate = zlib.decompressobj(-15)
    elif entry.method != 0:
        raise NotAZip(f"{entry.name}: unsupported compression method {entry.method}")
    remaining, crc, size = entry.compressed, 0, 0
    while remaining > 0:
        raw = fp.read(min(_CHUNK, remaining))
        if not raw:
            raise NotAZip(f"{entry.name}: truncated")
        remaining -= len(raw)
        if entry.method != 8:
            crc, size = zlib.crc32(raw, crc), size + len(raw)
            yield raw
            continue
        # at most _OUT bytes per step: a small compressed chunk may inflate a thousandfold
        while raw:
            data = inflate.decompress(raw, _OUT)
            raw = inflate.unconsumed_tail
            crc, size = zlib.crc32(data, crc), size + len(data)
            if size > entry.size:
                raise NotAZip(f"{entry.name}: inflates past its declared size (corrupted)")
            yield data
    if entry.method == 8:
        data = inflate.flush()
        crc, size = zlib.crc32(data, crc), size + len(data)
        yield data
    if crc != entry.crc or size != entry.size:
        raise NotAZip(f"{entry.name}: CRC or size mismatch (corrupted)")


class ChunkReader(io.RawIOBase):
    """A readable stream over an iterator of byte chunks."""

    def __init__(self, chunks: object) -> None:
        self._chunks = iter(chunks)  # type: ignore[call-overload]
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray) -> int:  # type: ignore[override]
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(target), len(self._buffer))
        target[:n], self._buffer = self._buffer[:n], self._buffer[n:]
        return n
