"""SSE parsing of the lines Gradio's /call/{api_name}/{event_id} stream sends."""

from __future__ import annotations

from shared.upstreams.sse import Event, events


def test_gradio_stream_as_uvicorn_sends_it():
    # GIVEN the lines of a real Gradio 6.31 stream (heartbeat, then complete)
    lines = ["event: heartbeat", "data: null", "", "event: complete", 'data: ["olleh"]', ""]
    # THEN two events, data kept as raw JSON text
    assert list(events(lines)) == [Event("heartbeat", "null"), Event("complete", '["olleh"]')]


def test_multi_line_data_comments_and_missing_space():
    # GIVEN data split over lines, a comment, and "data:" without the optional space
    lines = [": keep-alive", "event:generating", "data:[1,", "data: 2]", ""]
    assert list(events(lines)) == [Event("generating", "[1,\n2]")]


def test_unnamed_event_and_cut_stream():
    # GIVEN an event without a name, then a stream cut before its blank line
    lines = ["data: a", "", "event: complete", 'data: ["x"]']
    assert list(events(lines)) == [Event("message", "a"), Event("complete", '["x"]')]
