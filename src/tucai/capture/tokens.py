"""Compact token payloads (capture codes, desk tokens): unsigned LEB128 varints."""

from __future__ import annotations


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def varints_read(data: bytes, count: int) -> tuple[list[int], int]:
    values, pos = [], 0
    for _ in range(count):
        value, shift = 0, 0
        while True:
            if pos >= len(data) or shift > 56:
                raise ValueError("truncated")
            b = data[pos]
            pos += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        values.append(value)
    return values, pos
