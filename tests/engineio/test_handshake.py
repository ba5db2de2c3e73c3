"""Engine.IO request validation, error documents, session ids and the OPEN packet (both sides)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, strategies as st

from siox.engineio.handshake import (
    ERROR_MESSAGES,
    EngineErrorCode,
    ExistingSession,
    HandshakeInfo,
    NewSession,
    Transport,
    build_open_data,
    error_document,
    forbidden,
    new_sid,
    parse_open_data,
    validate_request,
)
from siox.engineio.session import EngineSession
from siox.errors import HandshakeError, InvalidPacket

NOW = 50.0


def polling_session(eio: int = 4) -> EngineSession:
    return EngineSession("abc", transport=Transport.POLLING, now=NOW, eio=eio)


def check(
    method: str = "GET",
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    *,
    upgrade: bool = False,
    sessions: dict[str, EngineSession] | None = None,
    **options: Any,
) -> NewSession | ExistingSession[EngineSession]:
    return validate_request(
        method,
        {"EIO": "4", "transport": "polling"} if query is None else query,
        headers or {},
        is_websocket_upgrade=upgrade,
        sessions=sessions or {},
        **options,
    )


def refusal(code: EngineErrorCode, *args: Any, **kwargs: Any) -> HandshakeError:
    with pytest.raises(HandshakeError) as info:
        check(*args, **kwargs)
    assert info.value.eio_error == code
    assert info.value.message == ERROR_MESSAGES[code]
    assert info.value.http_status == (403 if code == EngineErrorCode.FORBIDDEN else 400)
    return info.value


def test_error_messages_are_the_reference_ones() -> None:
    assert [(int(c), m) for c, m in ERROR_MESSAGES.items()] == [
        (0, "Transport unknown"),
        (1, "Session ID unknown"),
        (2, "Bad handshake method"),
        (3, "Bad request"),
        (4, "Forbidden"),
        (5, "Unsupported protocol version"),
    ]


def test_error_document_is_the_reference_json() -> None:
    error = refusal(
        EngineErrorCode.UNKNOWN_SID, query={"EIO": "4", "transport": "polling", "sid": "x"}
    )
    assert error_document(error) == '{"code":1,"message":"Session ID unknown"}'
    assert error_document(InvalidPacket("no code")) is None


def test_polling_handshake_opens_a_new_session() -> None:
    assert check() == NewSession(Transport.POLLING, 4, False, None)


def test_websocket_handshake_needs_an_upgrade_request() -> None:
    query = {"EIO": "4", "transport": "websocket"}
    assert check(query=query, upgrade=True) == NewSession(Transport.WEBSOCKET, 4, False, None)
    refusal(EngineErrorCode.BAD_REQUEST, query=query)


@pytest.mark.parametrize(
    "transport",
    [
        "__proto__",
        "constructor",
        "toString",
        "__class__",
        "__init__",
        "_upgrade_",
        "webtransport",
        "abc",
        "",
        "POLLING",
        "polling ",
        "hasOwnProperty",
    ],
)
@pytest.mark.parametrize("upgrade", [False, True])
def test_unknown_transports_are_refused_without_attribute_lookups(
    transport: str, upgrade: bool
) -> None:
    # H01: a query value is only ever a dict key or compared with constants.
    refusal(
        EngineErrorCode.UNKNOWN_TRANSPORT,
        query={"EIO": "4", "transport": transport},
        upgrade=upgrade,
    )


def test_missing_transport_is_code_0_not_a_default() -> None:
    refusal(EngineErrorCode.UNKNOWN_TRANSPORT, query={"EIO": "4"})


def test_disabled_transport_is_unknown() -> None:
    query = {"EIO": "4", "transport": "websocket"}
    refusal(EngineErrorCode.UNKNOWN_TRANSPORT, query=query, upgrade=True, transports=["polling"])
    with pytest.raises(ValueError, match="carrier"):
        check(transports=["carrier"])


@pytest.mark.parametrize("eio", [None, "abc", "5", "3", "", "04", "4 "])
@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_unsupported_protocol_versions_are_code_5(eio: str | None, transport: str) -> None:
    # H03
    query = {"transport": transport} if eio is None else {"EIO": eio, "transport": transport}
    refusal(
        EngineErrorCode.UNSUPPORTED_PROTOCOL_VERSION, query=query, upgrade=transport == "websocket"
    )


def test_eio3_handshake_when_allowed_reads_any_other_value_as_3() -> None:
    # The reference reads every EIO value but "4" as revision 3.
    for eio in ("3", "abc"):
        decision = check(query={"EIO": eio, "transport": "polling"}, allow_eio3=True)
        assert decision == NewSession(Transport.POLLING, 3, False, None)


def test_b64_and_jsonp_index_are_read() -> None:
    query = {"EIO": "3", "transport": "polling", "b64": "1", "j": "7", "t": "Nx3"}
    assert check(query=query, allow_eio3=True) == NewSession(Transport.POLLING, 3, True, 7)


@pytest.mark.parametrize("j", ["alert(1)", "1e9", "-1", "", "0x1", "1 ", "9" * 10])
def test_jsonp_index_must_be_digits(j: str) -> None:
    # H14, deliberately stricter: the reference strips the non-digits.
    query = {"EIO": "3", "transport": "polling", "j": j}
    refusal(EngineErrorCode.BAD_REQUEST, query=query, allow_eio3=True)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "POST", "OPTIONS", "get"])
def test_handshake_methods_other_than_get_are_code_2(method: str) -> None:
    # H05
    refusal(EngineErrorCode.BAD_HANDSHAKE_METHOD, method)


def test_polling_query_with_upgrade_headers_is_refused() -> None:
    # U09, deliberately stricter: the reference accepts, then closes.
    refusal(EngineErrorCode.BAD_REQUEST, upgrade=True)
    sessions = {"abc": polling_session()}
    query = {"EIO": "4", "transport": "polling", "sid": "abc"}
    refusal(EngineErrorCode.BAD_REQUEST, query=query, upgrade=True, sessions=sessions)


@pytest.mark.parametrize("origin", ["https://a.example\r\nX: y", "\x00", "a\x7f", "é\u0100"])
def test_origin_with_invalid_header_characters_is_code_3(origin: str) -> None:
    refusal(EngineErrorCode.BAD_REQUEST, headers={"Origin": origin})
    assert isinstance(check(headers={"ORIGIN": "https://ok.example\tx\xe9"}), NewSession)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_sid_is_code_1(method: str) -> None:
    # H04, U01
    sessions = {"abc": polling_session()}
    for sid in ("doesnotexist", "__proto__", "ABC"):
        query = {"EIO": "4", "transport": "polling", "sid": sid}
        refusal(EngineErrorCode.UNKNOWN_SID, method, query=query, sessions=sessions)
    query = {"EIO": "4", "transport": "websocket", "sid": "doesnotexist"}
    refusal(EngineErrorCode.UNKNOWN_SID, query=query, upgrade=True, sessions=sessions)


def test_closed_session_is_unknown() -> None:
    session = polling_session()
    session.close(now=NOW + 1)
    session.polling_get(NOW + 1)  # carries the close packet
    assert session.closed
    query = {"EIO": "4", "transport": "polling", "sid": "abc"}
    refusal(EngineErrorCode.UNKNOWN_SID, query=query, sessions={"abc": session})


def test_existing_polling_session_requests() -> None:
    session = polling_session()
    sessions = {"abc": session}
    query = {"EIO": "4", "transport": "polling", "sid": "abc"}
    for method in ("GET", "POST"):
        assert check(method, query, sessions=sessions) == ExistingSession(
            "abc", session, Transport.POLLING, False, None
        )
    refusal(EngineErrorCode.BAD_REQUEST, "PUT", query=query, sessions=sessions)
    ws_query = {"EIO": "4", "transport": "websocket", "sid": "abc"}
    decision = check(query=ws_query, upgrade=True, sessions=sessions)
    assert decision == ExistingSession("abc", session, Transport.WEBSOCKET, True, None)
    # a plain GET saying transport=websocket for a polling session: transport mismatch
    refusal(EngineErrorCode.BAD_REQUEST, query=ws_query, sessions=sessions)


def test_protocol_mismatch_on_an_existing_session_is_code_3() -> None:
    sessions = {"abc": polling_session(eio=4)}
    for eio in ("3", "5", "abc"):
        query = {"EIO": eio, "transport": "polling", "sid": "abc"}
        refusal(EngineErrorCode.BAD_REQUEST, query=query, sessions=sessions)
    v3 = {"abc": polling_session(eio=3)}
    refusal(
        EngineErrorCode.BAD_REQUEST,
        query={"EIO": "4", "transport": "polling", "sid": "abc"},
        sessions=v3,
    )


def upgraded_session() -> EngineSession:
    session = polling_session()
    session.attach_websocket(NOW)
    session.receive_ws_frame("2probe", NOW)
    session.receive_ws_frame("5", NOW)
    assert session.transport is Transport.WEBSOCKET
    return session


def test_polling_after_upgrade_is_refused() -> None:
    # H16
    sessions = {"abc": upgraded_session()}
    for method in ("GET", "POST"):
        query = {"EIO": "4", "transport": "polling", "sid": "abc"}
        refusal(EngineErrorCode.BAD_REQUEST, method, query=query, sessions=sessions)


def test_second_websocket_is_refused_while_probing_and_after_upgrade() -> None:
    # U02: refused at the HTTP level; the first WebSocket is not touched.
    query = {"EIO": "4", "transport": "websocket", "sid": "abc"}
    probing = polling_session()
    probing.attach_websocket(NOW)
    for session in (probing, upgraded_session()):
        session.data_to_send()
        refusal(EngineErrorCode.BAD_REQUEST, query=query, upgrade=True, sessions={"abc": session})
        assert session.data_to_send() == []
        assert not session.closed


def test_websocket_only_session_cannot_be_upgraded_again() -> None:
    session = EngineSession("abc", transport=Transport.WEBSOCKET, now=NOW)
    query = {"EIO": "4", "transport": "websocket", "sid": "abc"}
    refusal(EngineErrorCode.BAD_REQUEST, query=query, upgrade=True, sessions={"abc": session})


def test_forbidden_is_403_with_an_optional_message() -> None:
    assert (forbidden().http_status, forbidden().eio_error, forbidden().message) == (
        403,
        4,
        "Forbidden",
    )
    assert error_document(forbidden("go away")) == '{"code":4,"message":"go away"}'


queries = st.dictionaries(
    st.sampled_from(["EIO", "transport", "sid", "b64", "j", "t", "x"]),
    st.sampled_from(["4", "3", "polling", "websocket", "abc", "", "__proto__", "1", "-1"]),
)


@given(
    method=st.sampled_from(["GET", "POST", "PUT", "OPTIONS", ""]),
    query=queries,
    origin=st.none() | st.text(max_size=5),
    upgrade=st.booleans(),
    allow_eio3=st.booleans(),
)
def test_validate_request_only_ever_refuses_with_handshake_error(
    method: str, query: dict[str, str], origin: str | None, upgrade: bool, allow_eio3: bool
) -> None:
    sessions = {"abc": polling_session(), "1": upgraded_session()}
    headers = {} if origin is None else {"origin": origin}
    try:
        decision = validate_request(
            method,
            query,
            headers,
            is_websocket_upgrade=upgrade,
            sessions=sessions,
            allow_eio3=allow_eio3,
        )
    except HandshakeError as exc:
        error = exc
    else:
        if isinstance(decision, NewSession):
            assert method == "GET"
            assert not query.get("sid")
            assert decision.transport.value == query["transport"]
        else:
            assert decision.session is sessions[decision.sid]
        return
    assert error.eio_error is not None
    assert error.message == ERROR_MESSAGES[EngineErrorCode(error.eio_error)]


# -- session ids and the OPEN packet ------------------------------------------------------------


def test_new_sid_is_20_url_safe_random_characters() -> None:
    sids = {new_sid() for _ in range(1000)}
    assert len(sids) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{20}", sid) for sid in sids)


def test_open_data_has_exactly_the_reference_keys_in_milliseconds() -> None:
    data = build_open_data(
        "s1d", upgrades=["websocket"], ping_interval=0.3, ping_timeout=0.2, max_payload=1_000_000
    )
    assert data == (
        '{"sid":"s1d","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,'
        '"maxPayload":1000000}'
    )
    assert list(json.loads(data)) == [
        "sid",
        "upgrades",
        "pingInterval",
        "pingTimeout",
        "maxPayload",
    ]


def test_parse_open_data_reads_a_reference_handshake() -> None:
    data = (
        '{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,'
        '"pingTimeout":20000,"maxPayload":1000000,"extra":1}'
    )
    assert parse_open_data(data) == HandshakeInfo(
        "lv_VI97HAXpY6yYWAAAC", ("websocket",), 25.0, 20.0, 1_000_000
    )
    v3 = '{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":5000}'
    assert parse_open_data(v3).max_payload is None


GOOD: dict[str, Any] = {
    "sid": "abc",
    "upgrades": ["websocket"],
    "pingInterval": 25000,
    "pingTimeout": 20000,
    "maxPayload": 1000000,
}


@pytest.mark.parametrize(
    "change",
    [
        {"sid": None},
        {"sid": ""},
        {"sid": 12},
        {"sid": "a b"},
        {"sid": "é"},
        {"sid": "x" * 257},
        {"upgrades": "websocket"},
        {"upgrades": [1]},
        {"upgrades": ["w"] * 17},
        {"upgrades": None},
        {"pingInterval": None},
        {"pingInterval": "25000"},
        {"pingInterval": 25000.5},
        {"pingInterval": 25000.0},
        {"pingInterval": True},
        {"pingInterval": 0},
        {"pingInterval": -1},
        {"pingInterval": 2**31},
        {"pingInterval": 10**400},
        {"pingTimeout": -1},
        {"pingTimeout": False},
        {"maxPayload": 0},
        {"maxPayload": "big"},
        {"maxPayload": 2**53},
    ],
)
def test_parse_open_data_refuses_wrong_types_and_ranges(change: dict[str, Any]) -> None:
    document = {**GOOD, **change}
    document = {k: v for k, v in document.items() if v is not None}
    with pytest.raises(InvalidPacket):
        parse_open_data(json.dumps(document))


@pytest.mark.parametrize(
    "data",
    ["", "{", "[]", '"x"', "null", "NaN", "[" * 100_000, '{"a":' * 5000, "{}", "x" * 70_000, b"{}"],
)
def test_parse_open_data_refuses_non_objects_cleanly(data: str | bytes) -> None:
    with pytest.raises(InvalidPacket):
        parse_open_data(data)


@given(st.text(max_size=60) | st.binary(max_size=20))
def test_parse_open_data_only_raises_invalid_packet(data: str | bytes) -> None:
    try:
        parse_open_data(data)
    except InvalidPacket:
        pass
