"""``GET /models`` and ``GET /models/{id}`` through the real ``openai`` SDK, and ``MODEL_ALIASES``
on every chat route: against the local server, the Lambda handler and the Vercel entry."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.clients.conftest import serving
from tests.fakes import hf_responses

MODEL = "Qwen/Qwen2.5-7B-Instruct"
ALIASES = (("qwen", MODEL), ("llama", "meta-llama/Llama-3.1-8B-Instruct"))


@pytest.fixture(params=["live", "lambda", "vercel"])
def aliased(request, responses_settings, monkeypatch) -> Iterator[openai.OpenAI]:
    """GIVEN the proxy, run each way, with short names for two allowed models."""
    with serving(request.param, responses_settings.with_changes(model_aliases=ALIASES), monkeypatch) as url:
        yield openai.OpenAI(base_url=url, api_key="sk-client", max_retries=0)


def test_models_lists_the_allowlist_and_the_short_names(aliased):
    listed = {m.id: m for m in aliased.models.list()}
    assert {MODEL, "qwen", "llama"} <= set(listed)
    assert listed["qwen"].model_extra["root"] == MODEL  # what the short name stands for


@pytest.mark.parametrize("model", [MODEL, "qwen"])
def test_one_model_by_id_slash_and_all(aliased, model):
    # WHEN the SDK retrieves a model whose id holds a slash (it sends it percent-encoded: %2F)
    found = aliased.models.retrieve(model)
    # THEN the proxy answers the OpenAI model object for it
    assert (found.id, found.object, found.owned_by) == (model, "model", "huggingface")


def test_an_unknown_model_is_an_openai_404_model_not_found(aliased):
    with pytest.raises(openai.NotFoundError) as missing:
        aliased.models.retrieve("x/not-here")
    assert missing.value.code == "model_not_found" and "'x/not-here' is not served here" in missing.value.message


def test_a_short_name_is_accepted_by_both_apis_and_the_router_sees_the_full_id(aliased, upstream):
    chat = aliased.chat.completions.create(model="llama", messages=[{"role": "user", "content": "Hi"}])
    response = aliased.responses.create(model="qwen", input="Hi")
    assert chat.choices[0].message.content == "echo: Hi" and response.output_text == "echo: Hi"
    sent = {r.path: r.json()["model"] for r in upstream.received}
    assert sent == {"/v1/chat/completions": "meta-llama/Llama-3.1-8B-Instruct", hf_responses.RESPONSES_PATH: MODEL}
