// Browser entry for tests/browser/test_sdks_in_chromium.py: the official `openai` npm SDK and the
// Vercel AI SDK's OpenAI-compatible provider, used as an app would, changed only in baseURL.
// Bundled by the test with esbuild into a temp dir (never into public/, never deployed).
// Each function resolves with what the page could read, so the test asserts on plain JSON.
import OpenAI from "openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, streamText } from "ai";

const MODEL = "Qwen/Qwen2.5-7B-Instruct";
const API_KEY = "browser-placeholder"; // sent as Authorization; the proxy never forwards it

function openai(baseURL) {
  return new OpenAI({ baseURL, apiKey: API_KEY, dangerouslyAllowBrowser: true, maxRetries: 0 });
}

function provider(baseURL) {
  return createOpenAICompatible({ name: "hfproxy", baseURL, apiKey: API_KEY });
}

// openai: chat.completions.create({stream: true}) read chunk by chunk.
async function openaiStream(baseURL, content) {
  const stream = await openai(baseURL).chat.completions.create({
    model: MODEL,
    messages: [{ role: "user", content }],
    stream: true,
  });
  let text = "";
  let chunks = 0;
  for await (const chunk of stream) {
    chunks += 1;
    text += chunk.choices[0]?.delta?.content ?? "";
  }
  return { text, chunks };
}

// openai: a stream (chat completions or responses) that fails part-way; what arrived, what was thrown.
async function openaiStreamFailure(baseURL, api, content) {
  const client = openai(baseURL);
  const stream =
    api === "chat"
      ? await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content }], stream: true })
      : await client.responses.create({ model: MODEL, input: content, stream: true });
  let text = "";
  try {
    for await (const event of stream) {
      text += (api === "chat" ? event.choices[0]?.delta?.content : event.delta) ?? "";
    }
    return { text, thrown: false };
  } catch (e) {
    // (the bundler may rename the class, so its name is no proof: instanceof is)
    return { text, thrown: true, apiError: e instanceof OpenAI.APIError, message: e.message, code: e.code ?? null };
  }
}

// openai: a call the proxy refuses; what the SDK's APIError exposes.
async function openaiError(baseURL, model) {
  try {
    await openai(baseURL).chat.completions.create({ model, messages: [{ role: "user", content: "Hi" }] });
    return { thrown: false };
  } catch (e) {
    return {
      thrown: true,
      name: e.constructor.name,
      message: e.message,
      status: e.status,
      code: e.code,
      param: e.param,
      type: e.type,
      requestID: e.requestID ?? null,
    };
  }
}

// AI SDK: streamText's textStream; errors arrive through onError, not as a throw.
async function streamWith(model, prompt) {
  const errors = [];
  const result = streamText({
    model,
    prompt,
    maxRetries: 0,
    // a stream error is an Error, a provider's { message, code } object, or a string
    onError: ({ error }) => errors.push({ message: String(error?.message ?? error), code: error?.code ?? null }),
  });
  const parts = [];
  for await (const part of result.textStream) parts.push(part);
  return { text: parts.join(""), parts: parts.length, errors };
}

async function aiStream(baseURL, prompt) {
  return streamWith(provider(baseURL)(MODEL), prompt);
}

// AI SDK: generateText against a refusal throws an APICallError.
async function aiError(baseURL, prompt) {
  try {
    await generateText({ model: provider(baseURL)(MODEL), prompt, maxRetries: 0 });
    return { thrown: false };
  } catch (e) {
    return {
      thrown: true,
      name: e.name,
      message: e.message,
      statusCode: e.statusCode ?? null,
      isRetryable: e.isRetryable ?? null,
      retryAfter: e.responseHeaders?.["retry-after"] ?? null,
      responseBody: e.responseBody ?? null,
    };
  }
}

// AI SDK 5+: the OpenAI provider's default call, openai(model), is the Responses API.
function responsesModel(baseURL) {
  return createOpenAI({ baseURL, apiKey: API_KEY })(MODEL);
}

async function aiResponsesText(baseURL, prompt) {
  const result = await generateText({ model: responsesModel(baseURL), prompt, maxRetries: 0 });
  return { text: result.text };
}

async function aiResponsesStream(baseURL, prompt) {
  return streamWith(responsesModel(baseURL), prompt);
}

window.sdks = {
  openaiStream,
  openaiStreamFailure,
  openaiError,
  aiStream,
  aiError,
  aiResponsesText,
  aiResponsesStream,
};
