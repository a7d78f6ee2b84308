"""Sample media the emulator serves itself (the console's image and file buttons use them).

Drawn in code rather than shipped as binaries: a receipt PNG, an invoice PDF, an agent avatar.
"""

import struct
import zlib
from functools import lru_cache
from typing import Callable, Dict, List, Tuple

Color = Tuple[int, int, int]


def _png(width: int, height: int, pixel: Callable[[int, int], Color]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = bytearray()
    for y in range(height):
        rows.append(0)  # no filter
        for x in range(width):
            rows.extend(pixel(x, y))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def _receipt_pixel(x: int, y: int) -> Color:
    if x < 8 or x >= 152 or y < 8 or y >= 232:
        return (226, 232, 240)  # background around the paper
    if 20 <= y < 34 and 24 <= x < 136:
        return (30, 64, 175)  # header bar
    for row, length in ((56, 100), (76, 80), (96, 110), (116, 70), (136, 95)):
        if row <= y < row + 6 and 24 <= x < 24 + length:
            return (148, 163, 184)  # item lines
    if 176 <= y < 186 and 80 <= x < 136:
        return (15, 23, 42)  # total
    if y in (160, 161) and 24 <= x < 136:
        return (203, 213, 225)  # separator
    return (255, 255, 255)


def _avatar_pixel(x: int, y: int) -> Color:
    dx, dy = x - 32, y - 32
    if dx * dx + dy * dy > 31 * 31:
        return (255, 255, 255)
    head = dx * dx + (y - 24) ** 2 <= 11 * 11
    body = y > 40 and dx * dx + (y - 62) ** 2 <= 22 * 22
    return (255, 255, 255) if head or body else (3, 105, 161)


def _pdf(lines: List[str]) -> bytes:
    text = "BT /F1 18 Tf 72 760 Td " + " 0 -28 Td ".join(
        "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj"
        for line in lines
    )
    stream = text + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out.extend(f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1"))
    xref = len(out)
    out.extend(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.extend(f"{offset:010d} 00000 n \n".encode())
    out.extend(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


@lru_cache(maxsize=None)
def samples() -> Dict[str, Tuple[str, bytes]]:
    """File name -> (media type, bytes)."""
    return {
        "receipt.png": ("image/png", _png(160, 240, _receipt_pixel)),
        "agent-avatar.png": ("image/png", _png(64, 64, _avatar_pixel)),
        "invoice.pdf": (
            "application/pdf",
            _pdf(["Invoice #1001", "Acme Support Ltd.", "1 x Premium plan: 49.00 EUR", "Paid"]),
        ),
    }
