"""The SSE reader and writer: incremental, tolerant of every line ending and of `data:{`."""

from __future__ import annotations

import pytest

from shared import errors
from shared.upstreams import sse


def events(*chunks: bytes) -> list[sse.Event]:
    return list(sse.iter_events(chunks))


@pytest.mark.parametrize("prefix", [b"data:", b"data: "])
@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_both_data_styles_and_every_line_ending(prefix, newline):
    # GIVEN TGI's `data:{` or OpenAI's `data: {`, with LF, CRLF or CR line endings
    raw = prefix + b'{"a":1}' + newline + newline + prefix + b"[DONE]" + newline + newline
    # THEN both events come out with the same data
    assert [e.data for e in events(raw)] == ['{"a":1}', "[DONE]"]
    assert events(raw)[0].json() == {"a": 1}


def test_only_one_leading_space_is_removed():
    assert events(b"data:  two spaces\n\n")[0].data == " two spaces"


def test_events_split_anywhere_across_chunks_including_inside_crlf():
    raw = b'data: {"x": "h\xc3\xa9llo"}\r\n\r\ndata: [DONE]\r\n\r\n'
    # GIVEN the same bytes cut at every possible position (also inside CRLF and inside a UTF-8 char)
    for cut in range(1, len(raw)):
        got = events(raw[:cut], raw[cut:])
        # THEN the parse never changes
        assert [e.data for e in got] == ['{"x": "héllo"}', "[DONE]"], cut


def test_comments_other_fields_and_multiline_data():
    raw = b": keep-alive\n\nevent: error\nid: 7\ndata: line one\ndata: line two\nretry: 10\n\n"
    (only,) = events(raw)
    assert (only.event, only.id, only.data) == ("error", "7", "line one\nline two")


def test_a_blank_line_without_data_dispatches_nothing():
    assert events(b"\n\n: ping\n\n") == []


def test_an_event_cut_off_by_the_end_of_the_stream_is_still_delivered():
    assert [e.data for e in events(b"data: last")] == ["last"]


def test_events_are_yielded_before_the_stream_ends():
    # GIVEN a source that fails if read past its first chunk
    def source():
        yield b"data: first\n\n"
        raise AssertionError("read too far")

    # THEN the first event is available after reading only the first chunk
    assert next(sse.iter_events(source())).data == "first"


def test_an_endless_line_is_refused():
    with pytest.raises(errors.ProxyError) as exc:
        list(sse.iter_events(iter([b"data: " + b"x" * (1024 * 1024 + 10)])))
    assert exc.value.code == "upstream_bad_response"


def test_encode_writes_one_data_line_per_line_and_json_compactly():
    assert sse.encode({"a": "é"}) == 'data: {"a":"é"}\n\n'.encode()
    assert sse.encode("one\ntwo", event="error") == b"event: error\ndata: one\ndata: two\n\n"
    # AND what we write reads back the same
    assert events(sse.encode("one\ntwo"))[0].data == "one\ntwo"


def test_encode_error_is_our_envelope_as_an_error_event():
    raw = sse.encode_error(errors.upstream_timeout())
    (event,) = events(raw)
    assert event.event == "error"
    assert event.json() == {"error": errors.upstream_timeout().message, "code": "upstream_timeout"}
