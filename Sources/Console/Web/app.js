// The console's core: DOM helpers, the API client, the client-side router and page timers.
// Pages (pages.js, timeline.js) register themselves with App.route. No framework, no markup from data:
// every value reaches the DOM through textContent, so cluster contents cannot inject anything.
"use strict";

const App = {
  info: null,
  routes: [],
  timers: [],
  renderSeq: 0,
  token: sessionStorage.getItem("consoleToken") || "",

  route(pattern, nav, render) {
    // pattern like "/topics/:name/messages"
    const names = [];
    const re = new RegExp("^" + pattern.replace(/:[a-z]+/g, (m) => { names.push(m.slice(1)); return "([^/]+)"; }) + "$");
    this.routes.push({ re, names, nav, render });
  },

  // Runs fn now and every ms while the page stays open.
  every(ms, fn) {
    this.timers.push(setInterval(fn, ms));
  },

  writable() { return this.info && !this.info.readOnly; },
};

// h("div", {class: "x", onclick: fn}, child, "text", ...) builds an element.
function h(tag, attrs, ...children) {
  const svg = ["svg", "g", "rect", "line", "text", "circle", "polyline", "title", "path"].includes(tag);
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function link(href, text) { return h("a", { href, "data-link": true }, text); }
function enc(s) { return encodeURIComponent(s); }
function fmtNum(n) { return n === null || n === undefined ? "-" : Number(n).toLocaleString("en-US"); }
function fmtTime(ms) { return ms > 0 ? new Date(ms).toISOString().replace("T", " ").replace("Z", "") : "-"; }

// A table from header names and rows; a row is an array of cells or {cells, class}.
function table(headers, rows, numeric) {
  const num = new Set(numeric || []);
  return h("table", {},
    h("thead", {}, h("tr", {}, headers.map((t, i) => h("th", { class: num.has(i) ? "num" : null }, t)))),
    h("tbody", {}, rows.length === 0
      ? h("tr", {}, h("td", { colspan: headers.length, class: "muted" }, "none"))
      : rows.map((r) => {
        const cells = Array.isArray(r) ? r : r.cells;
        return h("tr", { class: Array.isArray(r) ? null : r.class },
          cells.map((c, i) => h("td", { class: [num.has(i) ? "num" : "", c && c.cls ? c.cls : ""].join(" ").trim() || null },
            c && c.cls ? c.v : c)));
      })));
}

function card(label, value, bad) {
  return h("div", { class: bad ? "card bad" : "card" }, h("div", { class: "n" }, value), h("div", { class: "l" }, label));
}

function notice(text) { return h("div", { class: "notice" }, text); }

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// JSON API call; throws ApiError with the server's message on a non-2xx answer.
async function api(path, method, body) {
  const opts = { method: method || "GET", headers: {} };
  if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
  if (App.token && opts.method !== "GET") opts.headers["X-Console-Token"] = App.token;
  const r = await fetch(path, opts);
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (!r.ok) throw new ApiError(r.status, (data && data.error) || ("HTTP " + r.status));
  return data;
}

function showBanner(text) {
  const b = document.getElementById("banner");
  b.textContent = text || "";
  b.classList.toggle("hidden", !text);
}

// Runs a write action and reports its outcome next to the form.
async function act(out, fn) {
  out.textContent = "working…";
  out.className = "result muted";
  try {
    const msg = await fn();
    out.textContent = msg || "done";
    out.className = "result ok";
  } catch (e) {
    out.textContent = e.message;
    out.className = "result error";
  }
}

function navigate(url) {
  history.pushState(null, "", url);
  render();
}

async function render() {
  App.timers.forEach(clearInterval);
  App.timers = [];
  const seq = ++App.renderSeq;
  const path = location.pathname;
  const query = new URLSearchParams(location.search);
  const page = document.getElementById("page");
  showBanner("");
  for (const r of App.routes) {
    const m = r.re.exec(path);
    if (!m) continue;
    const params = {};
    r.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
    document.querySelectorAll("#nav a").forEach((a) => a.classList.toggle("active", a.dataset.nav === r.nav));
    const root = h("div", {});
    page.replaceChildren(root);
    // A page's render may be called again by its timer; a stale one (after navigating away) is dropped.
    const live = () => seq === App.renderSeq;
    try {
      await r.render({ root, params, query, live });
    } catch (e) {
      if (live()) root.replaceChildren(h("h1", {}, "Error"), h("p", { class: "error" }, e.message));
    }
    return;
  }
  page.replaceChildren(h("h1", {}, "Not found"), h("p", {}, "No page at " + path + ". "), link("/", "Overview"));
}

// Fills `box` with paint()'s node now and every ms (forms live outside `box`, so they keep their state).
function refreshing(ctx, box, ms, paint) {
  const run = async (first) => {
    try {
      const node = await paint();
      if (ctx.live()) { box.replaceChildren(node); showBanner(""); }
    } catch (e) {
      if (first) throw e;  // the first load's error is the page's
      if (ctx.live()) showBanner("refresh failed: " + e.message);
    }
  };
  App.every(ms, () => run(false));
  return run(true);
}

function setupToken() {
  const btn = document.getElementById("token-btn");
  btn.classList.toggle("hidden", App.info.readOnly);
  btn.textContent = App.token ? "Token set" : "Set token";
  btn.addEventListener("click", () => {
    const t = prompt("admin.token for write actions (kept for this tab only)", App.token);
    if (t === null) return;
    App.token = t;
    sessionStorage.setItem("consoleToken", t);
    btn.textContent = t ? "Token set" : "Set token";
  });
}

async function boot() {
  document.addEventListener("click", (e) => {
    const a = e.target.closest("a[data-link]");
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(a.getAttribute("href"));
  });
  window.addEventListener("popstate", render);
  try {
    App.info = await api("/api/info");
  } catch (e) {
    showBanner("console API unreachable: " + e.message);
    return;
  }
  const mode = document.getElementById("mode");
  mode.textContent = App.info.readOnly ? "read-only" : "read-write";
  mode.classList.add(App.info.readOnly ? "ro" : "rw");
  setupToken();
  render();
}

document.addEventListener("DOMContentLoaded", boot);
