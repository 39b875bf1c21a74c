"""The baseline a user would otherwise deploy (seed 000's shape): Flask, one ``requests.post`` per call.

Written for the benchmark, not copied: the token and URL come from the environment, the JSON
answer is passed through, a network failure becomes a 500. No pooled session, so every request
opens a new TCP (and, against the real host, TLS) connection. Served on Lambda through the same
serverless-wsgi front door as ours, so the comparison is about the app, not the adapter.
"""

from __future__ import annotations

import os

import requests
import serverless_wsgi
from flask import Flask, jsonify, request

URL = os.environ.get("HF_INFERENCE_URL", "https://router.huggingface.co/hf-inference/models/openai-community/gpt2")
TOKEN = os.environ.get("HF_TOKEN", "")

app = Flask(__name__)


@app.post("/api/generate")
def generate():
    try:
        upstream = requests.post(URL, headers={"Authorization": f"Bearer {TOKEN}"}, json=request.get_json(), timeout=30)
        return jsonify(upstream.json()), upstream.status_code
    except (requests.RequestException, ValueError) as exc:
        return jsonify({"error": str(exc)}), 500


def lambda_handler(event: dict, context) -> dict:
    return serverless_wsgi.handle_request(app, event, context)
