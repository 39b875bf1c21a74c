"""A stand-in for seed 003's Llama Space: its components and function signature, no Llama.

The real-Gradio tests serve :func:`build_blocks` with the installed ``gradio`` package; the
loopback fakes in :mod:`tests.fakes.gradio_space` call :func:`respond` too, so every protocol
must turn the same browser request into the same ``generated_text``.
"""

from __future__ import annotations

MODELS = ["llama-2-7b", "llama-2-13b", "llama-2-7b-chat", "llama-2-13b-chat"]
FAILING_PROMPT = "please fail"  # the stand-in raises gr.Error (a message meant for the user)
CRASHING_PROMPT = "please crash"  # the stand-in raises a plain exception (Gradio hides it)
QUOTA_PROMPT = "please use up the gpu quota"  # the stand-in refuses as ZeroGPU's @spaces.GPU does
# ZeroGPU's wording (https://github.com/levihsu/OOTDiffusion/issues/205), raised as a gr.Error
QUOTA_MESSAGE = (
    "You have exceeded your GPU quota (46s left vs. 60s requested). "
    "Sign-up on Hugging Face to get more quotas or retry in 0:01:23."
)
INTERFACE_FUNCTION = "ask_llama"  # Gradio 6 names an Interface's endpoint after its function
SECRET_DETAIL = "secret-internal-detail /srv/app.py"


class SpaceError(Exception):
    """What ``gr.Error`` is to the fakes: a message the Space means its caller to read."""


def respond(prompt: str, model: str, max_tokens: float, temp: float) -> str:
    """The seed's ``(prompt, model, max_tokens, temp) -> str``, deterministic."""
    if prompt == FAILING_PROMPT:
        raise SpaceError("The model is overloaded, try a shorter prompt.")
    if prompt == QUOTA_PROMPT:
        raise SpaceError(QUOTA_MESSAGE)
    if prompt == CRASHING_PROMPT:
        raise RuntimeError(SECRET_DETAIL)
    return f"{model} (max {int(max_tokens)} tokens, temperature {float(temp):.1f}) read: {prompt}"


def expected(prompt: str, model: str = "llama-2-7b-chat", max_tokens: int = 500, temp: float = 0.7) -> str:
    return respond(prompt, model, max_tokens, temp)


def build_blocks(api_name: str = "predict"):
    """The seed's Blocks layout with the stand-in function, as a real Gradio app."""
    import gradio as gr

    def generate(prompt, model, max_tokens, temp):
        try:
            return respond(prompt, model, max_tokens, temp)
        except SpaceError as exc:
            raise gr.Error(str(exc)) from None

    with gr.Blocks() as demo:
        gr.Markdown("# Health Assistant AI API")
        with gr.Row():
            with gr.Column():
                model_dropdown = gr.Dropdown(choices=MODELS, value="llama-2-7b-chat", label="Model")
                temperature_slider = gr.Slider(minimum=0.1, maximum=1.5, value=0.7, step=0.1, label="Temperature")
                max_tokens_slider = gr.Slider(minimum=10, maximum=1024, value=500, step=10, label="Max New Tokens")
                input_text = gr.Textbox(lines=10, label="Input")
                submit_btn = gr.Button("Generate")
            with gr.Column():
                output_text = gr.Textbox(lines=12, label="Generated Output")
        # The seed passes a lambda, which Gradio 4+ names "/lambda"; the stand-in names it
        # "predict", what LLAMA_SPACE_API_NAME defaults to (the seed's own Space needs "lambda").
        submit_btn.click(
            fn=lambda prompt, model, max_tokens, temp: generate(prompt, model, max_tokens, temp),
            inputs=[input_text, model_dropdown, max_tokens_slider, temperature_slider],
            outputs=output_text,
            api_name=api_name,
        )
    return demo


def build_interface():
    """The stand-in as a Gradio ``Interface`` without ``api_name``: Gradio 6 names the endpoint
    after the function (``/ask_llama``), not ``/predict``."""
    import gradio as gr

    def ask_llama(prompt, model, max_tokens, temp):
        try:
            return respond(prompt, model, max_tokens, temp)
        except SpaceError as exc:
            raise gr.Error(str(exc)) from None

    assert ask_llama.__name__ == INTERFACE_FUNCTION
    return gr.Interface(
        fn=ask_llama,
        inputs=[
            gr.Textbox(label="Input"),
            gr.Dropdown(choices=MODELS, value="llama-2-7b-chat", label="Model"),
            gr.Slider(minimum=10, maximum=1024, value=500, step=10, label="Max New Tokens"),
            gr.Slider(minimum=0.1, maximum=1.5, value=0.7, step=0.1, label="Temperature"),
        ],
        outputs=gr.Textbox(label="Generated Output"),
    )
