// A small, dependency-free renderer of /openapi.json with a "try it" form per operation (no CDN needed).
"use strict";

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(child));
  return node;
};

const resolve = (doc, schema) => {
  while (schema && schema.$ref) schema = doc.components.schemas[schema.$ref.split("/").pop()];
  return schema || {};
};

// An example value for a schema: its default, else something of the right shape.
const example = (doc, schema, depth = 0) => {
  schema = resolve(doc, schema);
  if (schema.default !== undefined) return schema.default;
  if (schema.anyOf) return example(doc, schema.anyOf.find((s) => s.type !== "null") || {}, depth);
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case "object": {
      const out = {};
      for (const [name, prop] of Object.entries(schema.properties || {})) {
        if ((schema.required || []).includes(name) && depth < 4) out[name] = example(doc, prop, depth + 1);
      }
      return out;
    }
    case "array": return [];
    case "integer": return schema.minimum ?? 1;
    case "number": return 0;
    case "boolean": return false;
    default: return "";
  }
};

const fieldsTable = (doc, schema) => {
  schema = resolve(doc, schema);
  const rows = Object.entries(schema.properties || {}).map(([name, prop]) => {
    const p = resolve(doc, prop);
    const type = p.type || (p.anyOf || []).map((s) => resolve(doc, s).type || "object").join(" | ") || "object";
    const required = (schema.required || []).includes(name) ? "required" : "";
    return el("tr", {}, el("td", {}, el("code", {}, name)), el("td", {}, type), el("td", {}, required),
      el("td", {}, p.description || prop.description || ""));
  });
  return rows.length ? el("table", {}, el("tr", {}, el("th", {}, "field"), el("th", {}, "type"),
    el("th", {}, ""), el("th", {}, "description")), ...rows) : el("span");
};

const operation = (doc, path, method, op) => {
  const body = el("div", { class: "body" });
  if (op.description) body.append(el("p", {}, op.description));
  const inputs = {};
  for (const param of op.parameters || []) {
    const input = el("input", { type: "text", placeholder: param.schema?.type === "array" ? "comma-separated" : "" });
    const def = param.schema?.default;
    if (def !== undefined && def !== null && !Array.isArray(def)) input.value = def;
    inputs[param.name] = { param, input };
    body.append(el("label", {}, `${param.name} (${param.in}${param.required ? ", required" : ""}) `,
      param.description ? el("small", {}, param.description) : ""), input);
  }
  let textarea = null;
  const requestSchema = op.requestBody?.content?.["application/json"]?.schema;
  if (requestSchema) {
    body.append(el("h4", {}, "Request body"), fieldsTable(doc, requestSchema));
    textarea = el("textarea", {});
    textarea.value = JSON.stringify(example(doc, requestSchema), null, 2);
    body.append(textarea);
  }
  const types = Object.keys(op.responses?.["200"]?.content || { "application/json": {} });
  const accept = el("select", {}, ...types.map((t) => el("option", { value: t }, t)));
  const output = el("pre", {}, "");
  const status = el("span", { class: "status" });
  const button = el("button", {}, "Send");
  button.addEventListener("click", async () => {
    let url = path;
    const query = new URLSearchParams();
    for (const { param, input } of Object.values(inputs)) {
      if (!input.value) continue;
      if (param.in === "path") url = url.replace(`{${param.name}}`, encodeURIComponent(input.value));
      else if (param.schema?.type === "array") input.value.split(",").forEach((v) => query.append(param.name, v.trim()));
      else query.append(param.name, input.value);
    }
    if ([...query].length) url += `?${query}`;
    const init = { method: method.toUpperCase(), headers: { Accept: accept.value } };
    if (textarea) { init.body = textarea.value; init.headers["Content-Type"] = "application/json"; }
    const started = performance.now();
    const response = await fetch(url, init);
    const elapsed = (performance.now() - started).toFixed(1);
    status.textContent = `${response.status} · ${elapsed} ms`;
    const kind = response.headers.get("Content-Type") || "";
    if (kind.includes("json")) output.textContent = JSON.stringify(await response.json(), null, 2);
    else if (kind.startsWith("text/")) output.textContent = await response.text();
    else output.textContent = `${(await response.arrayBuffer()).byteLength} bytes of ${kind}`;
  });
  body.append(el("div", {}, "Accept ", accept), button, status, output);
  const responseSchema = op.responses?.["200"]?.content?.["application/json"]?.schema;
  if (responseSchema) body.append(el("h4", {}, "Response (200)"), fieldsTable(doc, responseSchema));
  return el("details", { class: "op" },
    el("summary", {}, el("span", { class: `method ${method}` }, method.toUpperCase()),
      el("span", { class: "path" }, path), el("span", { class: "summary" }, op.summary || "")),
    body);
};

(async () => {
  const doc = await (await fetch("/openapi.json")).json();
  document.getElementById("intro").textContent = `${doc.info.description} — version ${doc.info.version}.`;
  const byTag = {};
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      (byTag[op.tags?.[0] || "other"] ||= []).push(operation(doc, path, method, op));
    }
  }
  const main = document.getElementById("endpoints");
  for (const [tag, ops] of Object.entries(byTag)) main.append(el("h2", {}, tag), ...ops);
})();
