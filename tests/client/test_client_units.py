"""The client's small pieces on their own: backoff, URL parsing, cookies, handler calls."""

from __future__ import annotations

import ssl
import time
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

import siox
from siox.client.backoff import Backoff
from siox.client.endpoint import CookieJar, make_ssl_context, parse_endpoint
from siox.client.listeners import Listener


def test_backoff_doubles_up_to_the_cap_without_jitter() -> None:
    backoff = Backoff(1.0, 5.0, 0.0)
    assert [backoff.duration() for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert backoff.attempts == 5
    backoff.reset()
    assert backoff.duration() == 1.0


def test_backoff_jitter_moves_down_or_up_like_backo2() -> None:
    down = Backoff(1.0, 10.0, 0.5, rand=lambda: 0.4)  # int(4) even: down by 0.4 * 0.5
    assert down.duration() == pytest.approx(0.8)
    up = Backoff(1.0, 10.0, 0.5, rand=lambda: 0.1 * 3 + 0.05)  # int(3.5) odd: up
    assert up.duration() == pytest.approx(1.175)


@settings(max_examples=50)
@given(
    st.floats(0.001, 10),
    st.floats(0, 1),
    st.lists(st.floats(0, 0.999), min_size=1, max_size=80),
)
def test_backoff_stays_within_jitter_and_cap(
    minimum: float, jitter: float, draws: list[float]
) -> None:
    maximum = minimum * 7
    values = iter(draws)
    backoff = Backoff(minimum, maximum, jitter, rand=lambda: next(values))
    for attempt in range(len(draws)):
        delay = backoff.duration()
        base = minimum * 2 ** min(attempt, 64)
        assert delay <= maximum
        assert delay >= min(base * (1 - jitter), maximum) - 1e-9


def test_backoff_rejects_bad_settings() -> None:
    with pytest.raises(ValueError):
        Backoff(2.0, 1.0, 0.5)
    with pytest.raises(ValueError):
        Backoff(1.0, 2.0, 1.5)


def test_parse_endpoint_schemes_ports_paths_and_query() -> None:
    plain = parse_endpoint("ws://example.com/chat?x=1", path="engine")
    assert (plain.secure, plain.host, plain.port, plain.path) == (
        False,
        "example.com",
        80,
        "/engine/",
    )
    assert plain.url_path == "/chat"
    assert plain.target((("EIO", "4"), ("transport", "polling"))) == (
        "/engine/?EIO=4&transport=polling&x=1"
    )
    secure = parse_endpoint("https://[::1]:8443", query={"a": "b c"})
    assert (secure.secure, secure.host, secure.port) == (True, "::1", 8443)
    assert secure.host_header == "[::1]:8443"
    assert secure.origin == "https://[::1]:8443"
    assert secure.target((("EIO", "4"),)) == "/socket.io/?EIO=4&a=b+c"
    assert secure.ssl is not None and secure.ssl.verify_mode is ssl.CERT_REQUIRED
    assert parse_endpoint("https://h").host_header == "h"


@pytest.mark.parametrize(
    "url", ["ftp://h", "http://", "http://h:99999", "http://h?EIO=3", "http://h?sid=x"]
)
def test_parse_endpoint_refuses(url: str) -> None:
    with pytest.raises(ValueError):
        parse_endpoint(url)


def test_ssl_context_options() -> None:
    assert make_ssl_context(None, False) is None
    strict = make_ssl_context(None, True)
    assert strict is not None and strict.check_hostname
    loose = make_ssl_context(False, True)
    assert loose is not None and loose.verify_mode is ssl.CERT_NONE and not loose.check_hostname
    mine = ssl.create_default_context()
    assert make_ssl_context(mine, True) is mine


def test_cookie_jar_keeps_updates_and_expires() -> None:
    jar = CookieJar()
    assert jar.header() is None
    jar.store(
        [
            (b"set-cookie", b"io=abc; Path=/; HttpOnly"),
            (b"set-cookie", b"lb=node1; Expires=Wed, 21 Oct 2099 07:28:00 GMT"),
            (b"content-type", b"text/plain"),
            (b"set-cookie", b"broken"),
        ]
    )
    assert jar.header() == "io=abc; lb=node1"
    jar.store([(b"set-cookie", b"io=def")])
    assert jar.header() == "io=def; lb=node1"
    jar.store([(b"set-cookie", b"lb=gone; Max-Age=0")])
    jar.store([(b"set-cookie", b"io=old; Expires=Thu, 01 Jan 1970 00:00:00 GMT")])
    assert jar.header() is None and len(jar) == 0
    jar.store([(b"set-cookie", b"short=1; Max-Age=1")])
    jar._cookies["short"] = ("1", time.time() - 1)
    assert jar.header() is None


def test_listener_drops_surplus_arguments_like_javascript() -> None:
    def one(a: Any) -> Any:
        return a

    def many(*args: Any) -> Any:
        return args

    def with_default(a: Any, b: Any = 2) -> Any:
        return a, b

    assert Listener(one)([1, 2, 3]) == 1
    assert Listener(many)([1, 2, 3]) == (1, 2, 3)
    assert Listener(with_default)([1, 5, 9]) == (1, 5)
    assert Listener(lambda: "none")(["reason", "description"]) == "none"
    with pytest.raises(TypeError):
        Listener(3)  # type: ignore[arg-type]


def test_client_option_validation() -> None:
    with pytest.raises(ValueError):
        siox.Client("http://h", protocol=3)
    with pytest.raises(ValueError):
        siox.Client("http://h", transports=("carrier-pigeon",))
    with pytest.raises(ValueError):
        siox.Client("http://h", timeout=0)
    with pytest.raises(ValueError):
        siox.Client("http://h", parser="msgpack", protocol=4)
    with pytest.raises(ValueError):
        siox.Client("http://h").on("nonsense")
    with pytest.raises(TypeError):
        siox.Client("http://h").socket("/", auth="token")


def test_socket_is_shared_per_namespace() -> None:
    client = siox.Client("http://h")
    assert client.socket("chat") is client.socket("/chat")
    assert client.socket("/").nsp == "/"
