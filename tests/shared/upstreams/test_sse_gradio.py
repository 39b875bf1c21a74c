"""shared.upstreams.sse on the lines Gradio's /call/{api_name}/{event_id} stream sends."""

from __future__ import annotations

from shared.upstreams.sse import iter_events


def test_gradio_stream_as_uvicorn_sends_it():
    # GIVEN the bytes of a real Gradio 6.31 stream (heartbeat, then complete), split mid-event
    chunks = [b"event: heartbeat\ndata: null\n\nevent: compl", b'ete\ndata: ["olleh"]\n\n']
    # THEN two events, data kept as raw JSON text
    assert [(e.event, e.data) for e in iter_events(chunks)] == [("heartbeat", "null"), ("complete", '["olleh"]')]


def test_gradio_error_event_shapes():
    # GIVEN error events as Gradio up to 6.12 (null), from 6.13 (a dict) and for an unknown event id
    chunks = [
        b'event: error\ndata: null\n\nevent: error\ndata: {"error": "x"}\n\nevent: error\ndata: "404: Not Found"\n\n'
    ]
    assert [e.json() for e in iter_events(chunks)] == [None, {"error": "x"}, "404: Not Found"]
