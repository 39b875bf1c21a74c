// hfproxy demo: one form, three routes, plain fetch to this site's own /api/* (no framework, no CDN).
// Answers and errors are written with textContent / text nodes only: nothing from the network becomes HTML.
"use strict";

const ROUTES = {
  generate: (prompt) => ({ url: "api/generate", body: { inputs: prompt } }),
  predict: (prompt, model) => ({ url: "api/predict", body: { inputs: prompt, parameters: { model } } }),
};
const TIMEOUT_MS = 30000; // a little above the proxy's own 25 s deadline: the proxy answers first
const conversation = []; // finished chat turns ({role, content}), sent back with each new question
// The human check (docs/limits.md): when the proxy names a Turnstile site key, the widget's token is
// exchanged at api/clearance for a clearance, sent as X-Clearance on every model call.
const TURNSTILE_SCRIPT = "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit";
const humanCheck = { needed: false, clearance: null, widget: null };

const $ = (id) => document.getElementById(id);

function answerText(data) {
  // chat (/api/chat, buffered): OpenAI {"choices": [{"message": {"content": "..."}}]}
  const message = data && Array.isArray(data.choices) && data.choices[0] && data.choices[0].message;
  if (message && typeof message.content === "string") return message.content;
  // gpt2 (/api/generate): [{"generated_text": "..."}]; Llama (/api/predict): {"generated_text": "..."}
  const items = Array.isArray(data) ? data : [data];
  const texts = items.map((item) => (item && typeof item.generated_text === "string" ? item.generated_text : null));
  return texts.every((t) => t !== null) ? texts.join("\n\n") : JSON.stringify(data, null, 2);
}

function show({ status = "", answer = "", error = "", demo = false }) {
  $("status").textContent = status;
  $("answer").textContent = answer;
  $("answer").setAttribute("aria-busy", "false");
  $("error").textContent = error;
  $("error").hidden = !error;
  $("mode").hidden = !demo;
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// Server-sent events read as the WHATWG spec says
// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
// lines end in LF, CRLF or CR; ":" starts a comment; one space after "field:" is dropped;
// "data" lines join with "\n"; a blank line dispatches the event. push() returns complete events.
class EventParser {
  constructor() {
    this.buffer = "";
    this.data = [];
    this.type = "";
  }

  push(text) {
    this.buffer += text;
    const events = [];
    for (;;) {
      const lf = this.buffer.indexOf("\n");
      const cr = this.buffer.indexOf("\r");
      let end;
      let skip = 1;
      if (cr === -1 || (lf !== -1 && lf < cr)) {
        if (lf === -1) break;
        end = lf;
      } else if (cr === this.buffer.length - 1) {
        break; // maybe the first half of a CRLF split across two reads: wait for more
      } else {
        end = cr;
        skip = this.buffer[cr + 1] === "\n" ? 2 : 1;
      }
      const event = this.line(this.buffer.slice(0, end));
      if (event) events.push(event);
      this.buffer = this.buffer.slice(end + skip);
    }
    return events;
  }

  line(text) {
    if (text === "") {
      const event = this.data.length ? { type: this.type || "message", data: this.data.join("\n") } : null;
      this.data = [];
      this.type = "";
      return event;
    }
    if (text.startsWith(":")) return null;
    const colon = text.indexOf(":");
    const name = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "data") this.data.push(value);
    else if (name === "event") this.type = value;
    return null;
  }
}

async function* serverEvents(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new EventParser();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
  } finally {
    reader.cancel().catch(() => {}); // stopped early ([DONE] or an error event): hang up
  }
}

// Append each chat.completion.chunk's text to the page as it arrives. Resolves to the whole text,
// or to an error: the proxy's final `event: error` (its usual {"error", "code"} envelope), an
// in-band {"error": ...} chunk, or a stream that ended without [DONE].
async function streamInto(answer, body) {
  let text = "";
  for await (const event of serverEvents(body)) {
    if (event.data.trim() === "[DONE]") return { text };
    const chunk = parseJson(event.data);
    // The Responses API names each event in its data's "type" too; the router writes no `event:`
    // line (huggingface/responses.js), OpenAI and the demo do.
    const type = event.type === "message" && chunk && typeof chunk.type === "string" ? chunk.type : event.type;
    if (type === "error") {
      // our envelope {"error": "<sentence>", "code"} on /api/chat; OpenAI's error event elsewhere
      return { text, error: errorSentence(chunk) || "The model failed while answering.", code: chunk && chunk.code };
    }
    // the Responses API's last event (incomplete: the length cap was reached; the text stands)
    if (type === "response.completed" || type === "response.incomplete") return { text };
    if (type === "response.output_text.delta") {
      if (chunk && typeof chunk.delta === "string") {
        text += chunk.delta;
        answer.append(chunk.delta);
      }
      continue;
    }
    if (chunk && chunk.error) {
      const sentence = typeof chunk.error === "string" ? chunk.error : chunk.error.message;
      return { text, error: typeof sentence === "string" ? sentence : "The model failed while answering." };
    }
    const choice = chunk && Array.isArray(chunk.choices) ? chunk.choices[0] : null;
    const piece = choice && choice.delta ? choice.delta.content : null;
    if (typeof piece === "string" && piece) {
      text += piece;
      answer.append(piece); // a text node: never parsed as HTML
    }
  }
  return { text, error: "The answer stopped before it was complete.", code: "stream_ended_early" };
}

function rememberTurn(question, reply) {
  conversation.push({ role: "user", content: question }, { role: "assistant", content: reply });
  const list = $("conversation");
  for (const turn of conversation.slice(-2)) {
    const item = document.createElement("li");
    const who = document.createElement("strong");
    who.textContent = turn.role === "user" ? "You: " : "Model: ";
    item.append(who, turn.content);
    list.append(item);
  }
  $("conversation-section").hidden = false;
  $("new-chat").disabled = false;
  $("prompt").value = ""; // ready for the next question
}

function forget() {
  conversation.length = 0;
  $("conversation").replaceChildren();
  $("conversation-section").hidden = true;
  $("new-chat").disabled = true;
  show({});
  $("prompt").focus();
}

// The sentence of an error body or event: ours ({"error": "..."}) or OpenAI's ({"error": {"message"}}, {"message"}).
function errorSentence(data) {
  if (!data) return null;
  if (typeof data.error === "string") return data.error;
  if (data.error && typeof data.error.message === "string") return data.error.message;
  return typeof data.message === "string" ? data.message : null;
}

function request(route, prompt) {
  if (route === "responses") {
    // OpenAI's Responses API (docs/openai-compatibility.md): the conversation as input items
    const body = { input: [...conversation, { role: "user", content: prompt }], stream: true };
    if ($("chat-model").value) body.model = $("chat-model").value;
    return { url: "api/v1/responses", body };
  }
  if (route !== "chat") return ROUTES[route](prompt, $("llama-model").value);
  const body = { messages: [...conversation, { role: "user", content: prompt }], stream: true };
  if ($("chat-model").value) body.model = $("chat-model").value; // else the server's default
  return { url: "api/chat", body };
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
  const { url, body } = request(route, prompt);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  $("send").disabled = true;
  show({ status: "Asking the model…" });
  try {
    if (humanCheck.needed && !humanCheck.clearance) {
      show({ error: "Complete the human check first (above the Send button)." });
      return;
    }
    const headers = { "Content-Type": "application/json", Accept: "text/event-stream, application/json" };
    if (humanCheck.clearance) headers["X-Clearance"] = humanCheck.clearance;
    const resp = await fetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    const demo = resp.headers.get("X-HFProxy-Mode") === "demo";
    const type = (resp.headers.get("Content-Type") || "").split(";")[0].trim().toLowerCase();
    if (resp.ok && type === "text/event-stream") {
      const answer = $("answer");
      show({ status: "The model is answering…", demo });
      answer.setAttribute("aria-busy", "true"); // announce once, when complete
      const result = await streamInto(answer, resp.body);
      answer.setAttribute("aria-busy", "false");
      if (result.error) {
        $("status").textContent = `Failed part-way${result.code ? ` (${result.code})` : ""}.`;
        $("error").textContent = result.error;
        $("error").hidden = false;
      } else {
        // X-HFProxy-Streaming: unavailable = this platform (AWS Lambda) cannot stream: every event at once
        const buffered = resp.headers.get("X-HFProxy-Streaming") === "unavailable";
        const how = buffered ? "; this platform sends the whole answer at once" : ", streamed";
        $("status").textContent = `Answered (HTTP ${resp.status}${how}).`;
        if (route === "chat" || route === "responses") rememberTurn(prompt, result.text);
      }
      return;
    }
    let data = null;
    try {
      data = await resp.json();
    } catch {
      data = null;
    }
    if (resp.ok && data !== null) {
      // X-HFProxy-Streaming: unavailable = this platform (AWS Lambda) cannot stream: the whole answer at once
      const buffered = resp.headers.get("X-HFProxy-Streaming") === "unavailable";
      const how = buffered ? "; this platform sends the whole answer at once" : "";
      const text = answerText(data);
      show({ status: `Answered (HTTP ${resp.status}${how}).`, answer: text, demo });
      if (route === "chat") rememberTurn(prompt, text);
    } else {
      const sentence = errorSentence(data) || `The proxy answered HTTP ${resp.status}.`;
      // Retry-After (exposed through CORS): seconds until a limit's window ends, or the upstream is back
      const wait = Number.parseInt(resp.headers.get("Retry-After") || "", 10);
      const retry = Number.isFinite(wait) && wait > 0 ? ` Try again in ${wait} s.` : "";
      const code = data && (data.code || (data.error && data.error.code));
      if (code === "clearance_required" || code === "clearance_invalid") askHumanAgain();
      show({
        status: `Failed (HTTP ${resp.status}${code ? `, ${code}` : ""}).${retry}`,
        error: sentence,
        demo,
      });
    }
  } catch (err) {
    const timedOut = err && err.name === "AbortError";
    show({
      status: "Failed.",
      answer: $("answer").textContent, // keep what a stream already showed
      error: timedOut ? "No answer within 30 s; try again." : "Could not reach the proxy; check your connection.",
    });
  } finally {
    clearTimeout(timer);
    $("send").disabled = false;
  }
}

// Turnstile, rendered explicitly once its script has loaded
// (https://developers.cloudflare.com/turnstile/get-started/client-side-rendering/).
function startHumanCheck(siteKey) {
  humanCheck.needed = true;
  $("human-check").hidden = false;
  const script = document.createElement("script");
  script.src = TURNSTILE_SCRIPT;
  script.async = true;
  script.addEventListener("load", () => {
    humanCheck.widget = window.turnstile.render("#turnstile-widget", {
      sitekey: siteKey,
      callback: getClearance,
      "expired-callback": () => setHumanStatus("The check expired; confirm again."),
      "error-callback": () => setHumanStatus("The check could not run; reload the page to try again."),
    });
  });
  script.addEventListener("error", () => setHumanStatus("The human check could not load; check your connection."));
  document.head.append(script);
}

function setHumanStatus(text) {
  $("human-check-status").textContent = text;
}

async function getClearance(token) {
  setHumanStatus("Checking…");
  try {
    const resp = await fetch("api/clearance", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ token }),
    });
    const data = await resp.json().catch(() => null);
    if (resp.ok && data && typeof data.clearance === "string") {
      humanCheck.clearance = data.clearance;
      setHumanStatus("Confirmed: you can ask the models.");
      return;
    }
    setHumanStatus(errorSentence(data) || `The check failed (HTTP ${resp.status}).`);
  } catch {
    setHumanStatus("Could not reach the proxy; check your connection.");
  }
  if (window.turnstile && humanCheck.widget !== null) window.turnstile.reset(humanCheck.widget);
}

// The proxy refused the clearance (expired, or this device's address changed): check again.
function askHumanAgain() {
  humanCheck.clearance = null;
  setHumanStatus("Confirm you are a person again to continue.");
  if (window.turnstile && humanCheck.widget !== null) window.turnstile.reset(humanCheck.widget);
}

async function getHealth(query) {
  const resp = await fetch(`api/health${query}`, { headers: { Accept: "application/json" } });
  return resp.ok ? resp.json() : null;
}

// The chat model list is the server's allowlist (GET /api/health); until it arrives, or if it
// cannot be read, "Server default" sends no model and the server uses its default.
function showChatModels(health) {
  const chat = health && health.upstreams ? health.upstreams.chat : null;
  if (!chat || !Array.isArray(chat.models) || !chat.models.length) return;
  const options = chat.models
    .filter((model) => typeof model === "string")
    .map((model) => new Option(model, model, model === chat.default_model, model === chat.default_model));
  $("chat-model").replaceChildren(...options);
}

const MODES = {
  demo: "Demo mode: answers are canned text made by the proxy; no model is called.",
  live: "Live mode: answers come from Hugging Face.",
  misconfigured: "Misconfigured: the server has no Hugging Face token (HF_TOKEN), so every model call fails.",
};
const ROUTE_NAMES = { chat: "Chat /api/chat", generate: "gpt2 /api/generate", predict: "Llama /api/predict" };
const STATES = {
  live: "live",
  demo: "demo, answered locally",
  not_served: "not served: the operator must change its setting",
  gated: "gated: the server's token may not use it yet",
  unknown: "unknown",
};

function showMode(health) {
  const mode = !health ? "unreachable" : health.status === "misconfigured" ? "misconfigured" : health.mode;
  $("deploy-mode").dataset.mode = mode;
  $("deploy-mode").textContent = MODES[mode] || "The proxy's health check did not answer.";
}

// One line per route from GET /api/health?deep=1, so a misconfigured deploy shows before anyone types.
function showRouteStates(deep) {
  const routes = deep && deep.routes ? deep.routes : null;
  if (!routes) return;
  const items = Object.keys(ROUTE_NAMES)
    .filter((name) => routes[name] && typeof routes[name].state === "string")
    .map((name) => {
      const route = routes[name];
      const item = document.createElement("li");
      item.dataset.route = name;
      item.dataset.state = route.state;
      const providers = Array.isArray(route.providers) && route.providers.length ? ` (${route.providers.join(", ")})` : "";
      const reason = route.reason && route.state !== "live" ? `; ${route.reason}` : "";
      item.textContent = `${ROUTE_NAMES[name]}: ${STATES[route.state] || route.state}${providers}${reason}`;
      return item;
    });
  $("route-states").replaceChildren(...items);
}

async function loadDeployment() {
  let health = null;
  try {
    health = await getHealth("");
  } catch {
    health = null;
  }
  showMode(health);
  showChatModels(health);
  if (!health) return;
  const siteKey = health.access && health.access.turnstile_site_key;
  if (typeof siteKey === "string" && siteKey) startHumanCheck(siteKey);
  try {
    const deep = await getHealth("?deep=1");
    showRouteStates(deep && deep.deep);
  } catch {
    // the mode line stays; the route states are a bonus
  }
}

function syncRoute() {
  const route = document.querySelector('input[name="route"]:checked').value;
  $("llama-model").disabled = route !== "predict";
  $("chat-model").disabled = route !== "chat" && route !== "responses";
}

document.addEventListener("DOMContentLoaded", () => {
  $("ask").addEventListener("submit", ask);
  $("new-chat").addEventListener("click", forget);
  for (const radio of document.querySelectorAll('input[name="route"]')) {
    radio.addEventListener("change", syncRoute);
  }
  syncRoute();
  loadDeployment();
});
