// hfproxy demo: one form, two routes, plain fetch to this site's own /api/* (no framework, no CDN).
// Answers and errors are written with textContent only: nothing from the network becomes HTML.
"use strict";

const ROUTES = {
  generate: (prompt) => ({ url: "api/generate", body: { inputs: prompt } }),
  predict: (prompt, model) => ({ url: "api/predict", body: { inputs: prompt, parameters: { model } } }),
};
const TIMEOUT_MS = 30000; // a little above the proxy's own 25 s deadline: the proxy answers first

const $ = (id) => document.getElementById(id);

function answerText(data) {
  // gpt2 (/api/generate): [{"generated_text": "..."}]; Llama (/api/predict): {"generated_text": "..."}
  const items = Array.isArray(data) ? data : [data];
  const texts = items.map((item) => (item && typeof item.generated_text === "string" ? item.generated_text : null));
  return texts.every((t) => t !== null) ? texts.join("\n\n") : JSON.stringify(data, null, 2);
}

function show({ status = "", answer = "", error = "", demo = false }) {
  $("status").textContent = status;
  $("answer").textContent = answer;
  $("error").textContent = error;
  $("error").hidden = !error;
  $("mode").hidden = !demo;
}

async function ask(event) {
  event.preventDefault();
  const prompt = $("prompt").value.trim();
  if (!prompt) {
    show({ error: "Type a prompt first." });
    $("prompt").focus();
    return;
  }
  const route = document.querySelector('input[name="route"]:checked').value;
  const { url, body } = ROUTES[route](prompt, $("llama-model").value);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  $("send").disabled = true;
  show({ status: "Asking the model…" });
  try {
    const resp = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    const demo = resp.headers.get("X-HFProxy-Mode") === "demo";
    let data = null;
    try {
      data = await resp.json();
    } catch {
      data = null;
    }
    if (resp.ok && data !== null) {
      show({ status: `Answered (HTTP ${resp.status}).`, answer: answerText(data), demo });
    } else {
      const sentence = data && typeof data.error === "string" ? data.error : `The proxy answered HTTP ${resp.status}.`;
      show({ status: `Failed (HTTP ${resp.status}${data && data.code ? `, ${data.code}` : ""}).`, error: sentence, demo });
    }
  } catch (err) {
    const timedOut = err && err.name === "AbortError";
    show({ status: "Failed.", error: timedOut ? "No answer within 30 s; try again." : "Could not reach the proxy; check your connection." });
  } finally {
    clearTimeout(timer);
    $("send").disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("ask").addEventListener("submit", ask);
  for (const radio of document.querySelectorAll('input[name="route"]')) {
    radio.addEventListener("change", () => {
      $("llama-model").disabled = document.querySelector('input[name="route"]:checked').value !== "predict";
    });
  }
});
