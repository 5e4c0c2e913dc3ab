"""Images for the image tests: real PNG/JPEG bytes made with Pillow, and uploads as a browser sends them."""

import io
import uuid

from PIL import Image


def png(width: int = 8, height: int = 6, color=(200, 30, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def jpeg(width: int = 8, height: int = 6) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def noisy_png(width: int = 120, height: int = 120) -> bytes:
    """A PNG that does not compress away (for cutting it in half)."""
    import os

    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(out, "PNG")
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'


def multipart(files: dict) -> tuple[bytes, str]:
    """A multipart/form-data body: `files` maps a field to (file name, content type, bytes)."""
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, (filename, content_type, data) in files.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                  f"Content-Type: {content_type}\r\n\r\n".encode())
        out.write(data)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def upload(client, document_id, data: bytes, *, filename: str = "picture.png", content_type: str = "image/png",
           headers: dict | None = None):
    """POST the bytes as the `file` of /api/documents/<id>/images with an ApiClient or SessionClient."""
    body, multipart_type = multipart({"file": (filename, content_type, data)})
    return client.post(f"/api/documents/{document_id}/images", body,
                       headers={"Content-Type": multipart_type, **(headers or {})})


def image_node(src: str, alt: str = "") -> dict:
    """The ProseMirror JSON of an image node, as Tiptap's Image extension writes it."""
    return {"type": "image", "attrs": {"src": src, "alt": alt, "title": None}}


def bomb_png(side: int = 20000) -> bytes:
    """A tiny PNG that claims to be side × side pixels (a "decompression bomb"): its header only, and
    a little data. Made by hand: Pillow would take seconds to make a real one."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + \
        chunk(b"IEND", b"")
