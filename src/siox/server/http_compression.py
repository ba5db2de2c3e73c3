"""Content coding of long-polling responses (gzip or deflate, as the client accepts)."""

from __future__ import annotations

import gzip
import zlib

__all__ = ["MIN_COMPRESSED_SIZE", "compress_body"]

#: Bodies smaller than this are sent as they are (engine.io's ``httpCompression.threshold``).
MIN_COMPRESSED_SIZE = 1024


def compress_body(data: bytes, accept_encoding: str) -> tuple[bytes, str | None]:
    """``data`` coded with the first of gzip, deflate that ``accept_encoding`` names.

    Returns the body and its ``Content-Encoding`` (None: left as it is, too small or nothing
    accepted).
    """
    if len(data) < MIN_COMPRESSED_SIZE:
        return data, None
    if "gzip" in accept_encoding:
        return gzip.compress(data, compresslevel=5), "gzip"
    if "deflate" in accept_encoding:
        return zlib.compress(data, 5), "deflate"
    return data, None
