// Calls to the gateway: JSON in and out, errors as ApiError (with the API's field and suggestions), a
// progress line while anything is in flight, and one AbortController per view so leaving a view cancels it.

export class ApiError extends Error {
  constructor(status, body) {
    super(body.error || `HTTP ${status}`);
    this.status = status;
    this.field = body.field || null;
    this.value = body.value ?? null;
    this.suggestions = body.suggestions || [];
  }
}

const SHOW_PROGRESS_AFTER_MS = 250;
let inFlight = 0;
let started = 0;
let ticker = null;
let controller = new AbortController();

function progressElements() {
  return {
    box: document.getElementById("progress"),
    text: document.getElementById("progress-text"),
  };
}

function tick() {
  const { box, text } = progressElements();
  const elapsed = (performance.now() - started) / 1000;
  if (elapsed * 1000 >= SHOW_PROGRESS_AFTER_MS) {
    box.hidden = false;
    text.textContent = `Computing… ${elapsed.toFixed(1)} s`;
  }
}

function begin() {
  if (inFlight++ === 0) {
    started = performance.now();
    ticker = setInterval(tick, 100);
  }
}

function end() {
  if (--inFlight === 0) {
    clearInterval(ticker);
    progressElements().box.hidden = true;
  }
}

/** Abort whatever the previous view asked for; the next requests get a fresh signal. */
export function cancelAll() {
  controller.abort();
  controller = new AbortController();
}

export function isAbort(error) {
  return error && error.name === "AbortError";
}

/** GET (query: object of scalars or arrays, arrays as repeated keys) or POST a JSON body; the answer as `read`
 * makes it of the response (a non-2xx answer throws ApiError with its JSON error). */
async function send(path, { query = null, body = null, accept = "application/json" }, read) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    for (const item of [].concat(value)) {
      if (item !== null && item !== undefined && item !== "") url.searchParams.append(key, item);
    }
  }
  const init = { signal: controller.signal, headers: { Accept: accept } };
  if (body !== null) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  begin();
  try {
    const response = await fetch(url, init);
    if (!response.ok) throw new ApiError(response.status, await jsonOf(response));
    return await read(response);
  } finally {
    end();
  }
}

function jsonOf(response) {
  return response.json().catch(() => ({ error: `HTTP ${response.status}` }));
}

/** The JSON answer of GET `path` (with `query`) or of POST `body`. */
export function api(path, { query = null, body = null } = {}) {
  return send(path, { query, body }, jsonOf);
}

/** The answer to POST `body` as a file (a Blob) of the media type `accept`. */
export function download(path, body, accept) {
  return send(path, { body, accept }, (response) => response.blob());
}

export function wireCancelButton() {
  document.getElementById("progress-cancel").addEventListener("click", cancelAll);
}
