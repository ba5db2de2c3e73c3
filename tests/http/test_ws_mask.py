from __future__ import annotations

from hypothesis import given, strategies as st

from siox.http._mask import apply_mask


def reference_mask(data: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


def test_mask_of_empty_payload_is_empty() -> None:
    assert apply_mask(b"", b"abcd") == b""


def test_mask_matches_rfc_example() -> None:
    # RFC 6455 section 5.7: "Hello" masked with 37 fa 21 3d.
    assert apply_mask(b"Hello", b"\x37\xfa\x21\x3d") == bytes.fromhex("7f9f4d5158")


def test_mask_handles_every_length_modulo_four() -> None:
    key = b"\x01\x80\xff\x00"
    for size in range(40):
        data = bytes(range(size))
        assert apply_mask(data, key) == reference_mask(data, key)


def test_mask_keeps_leading_and_trailing_zero_bytes() -> None:
    data = b"\x00" * 10
    assert apply_mask(data, b"\x00\x00\x00\x00") == data
    assert apply_mask(b"\x00\x00\x00\x01", b"\x00\x00\x00\x01") == b"\x00" * 4


def test_mask_accepts_memoryview_and_bytearray() -> None:
    data = bytearray(b"payload!")
    assert apply_mask(memoryview(data)[2:], b"abcd") == reference_mask(b"yload!", b"abcd")
    assert apply_mask(data, b"abcd") == reference_mask(bytes(data), b"abcd")


@given(st.binary(max_size=300), st.binary(min_size=4, max_size=4))
def test_mask_matches_the_bytewise_reference(data: bytes, key: bytes) -> None:
    assert apply_mask(data, key) == reference_mask(data, key)
    assert apply_mask(apply_mask(data, key), key) == data


def test_compiled_mask_matches_the_pure_one_when_built() -> None:
    import os

    from hypothesis import given, strategies as st

    from siox.http import _mask

    if _mask.apply_mask is _mask.pure_apply_mask:
        import pytest

        pytest.skip("the optional compiled speedups are not built here")

    @given(st.binary(max_size=300), st.binary(min_size=4, max_size=4))
    def same(data: bytes, key: bytes) -> None:
        assert _mask.apply_mask(data, key) == _mask.pure_apply_mask(data, key)
        assert _mask.apply_mask(memoryview(bytearray(data)), key) == _mask.pure_apply_mask(
            data, key
        )

    same()
    big = os.urandom(100_003)
    assert _mask.apply_mask(big, b"\x01\x02\x03\x04") == _mask.pure_apply_mask(
        big, b"\x01\x02\x03\x04"
    )


@given(st.lists(st.binary(max_size=40), max_size=6), st.binary(min_size=4, max_size=4))
def test_mask_join_masks_the_parts_as_one_payload(parts: list[bytes], key: bytes) -> None:
    from siox.http import _mask

    whole = reference_mask(b"".join(parts), key)
    views: list[bytes | memoryview] = [memoryview(bytearray(p)) for p in parts]
    for join in (_mask.mask_join, _mask.pure_mask_join):
        assert join(list(parts), key) == whole
        assert join(views, key) == whole


def test_compiled_mask_join_refuses_a_key_that_is_not_four_bytes() -> None:
    import pytest

    from siox.http import _mask

    if _mask.mask_join is _mask.pure_mask_join:
        pytest.skip("the optional compiled speedups are not built here")
    with pytest.raises(ValueError):
        _mask.mask_join([b"abcdefgh"], b"abc")


@given(
    st.binary(max_size=5),
    st.binary(min_size=4, max_size=4),
    st.binary(max_size=1200),
    st.binary(max_size=5),
)
def test_unmask_reads_a_payload_and_the_key_before_it_in_place(
    before: bytes, key: bytes, payload: bytes, after: bytes
) -> None:
    from siox.http import _mask

    data = before + key + reference_mask(payload, key) + after
    start = len(before) + 4
    end = start + len(payload)
    for unmask in (_mask.unmask, _mask.pure_unmask):
        assert unmask(data, start, end) == payload


@given(st.text(max_size=700), st.binary(min_size=4, max_size=4))
def test_unmask_text_decodes_utf8_like_bytes_decode(text: str, key: bytes) -> None:
    import pytest

    from siox.http import _mask

    try:
        encoded = text.encode()
    except UnicodeEncodeError:  # lone surrogates: never valid UTF-8 on the wire
        return
    data = key + reference_mask(encoded, key)
    for unmask_text in (_mask.unmask_text, _mask.pure_unmask_text):
        assert unmask_text(data, 4, len(data)) == text
        broken = key + reference_mask(encoded + b"\xff", key)
        with pytest.raises(UnicodeDecodeError):
            unmask_text(broken, 4, len(broken))


def test_unmask_refuses_a_range_that_holds_no_masked_payload() -> None:
    import pytest

    from siox.http import _mask

    for unmask in (_mask.unmask, _mask.unmask_text, _mask.pure_unmask, _mask.pure_unmask_text):
        for start, end in ((3, 4), (6, 5), (4, 9)):
            with pytest.raises(ValueError, match="no masked payload"):
                unmask(b"12345678", start, end)
