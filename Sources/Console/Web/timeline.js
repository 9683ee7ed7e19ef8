// The timeline page: events merged from the daemons' admin endpoints, as a filtered list and a
// swim-lane picture (one lane per daemon). Events are binned per pixel column, so 100,000 of them
// draw as at most a few thousand rectangles.
"use strict";

const KIND_COLORS = ["#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#2c7a7b", "#975a16", "#c53030"];

// Colours go to kinds in sorted order, so the kinds on one page rarely share one.
const kindColors = new Map();
function kindColor(kind) {
  if (!kindColors.has(kind)) {
    const all = [...kindColors.keys(), kind].sort();
    kindColors.clear();
    all.forEach((k, i) => kindColors.set(k, KIND_COLORS[i % KIND_COLORS.length]));
  }
  return kindColors.get(kind);
}

App.route("/timeline", "timeline", async (ctx) => {
  ctx.root.append(h("h1", {}, "Timeline"));
  if (!App.info.adminEndpoints.length) {
    ctx.root.append(notice("No admin.endpoints configured: set admin.endpoints=host:port,... in console.properties to the daemons' admin listeners to see their merged timeline."));
    return;
  }
  const q = ctx.query;
  const daemon = h("select", { name: "daemon" }, h("option", { value: "" }, "all daemons"));
  const kind = h("input", { name: "kind", placeholder: "kind contains", value: q.get("kind") || "" });
  const minutes = h("select", { name: "window" }, [5, 15, 60, 360, 1440].map((m) =>
    h("option", { value: m, selected: String(m) === (q.get("window") || "15") }, m < 60 ? m + " min" : m / 60 + " h")));
  const apply = () => {
    const p = new URLSearchParams();
    if (daemon.value) p.set("daemon", daemon.value);
    if (kind.value) p.set("kind", kind.value);
    p.set("window", minutes.value);
    history.replaceState(null, "", "/timeline?" + p.toString());
    paint();
  };
  const form = h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); apply(); } },
    h("label", {}, "daemon", daemon), h("label", {}, "kind", kind), h("label", {}, "window", minutes), h("button", { type: "submit" }, "Filter"));
  const status = h("p", { class: "muted" });
  const lanes = h("div", {});
  const list = h("div", {});
  // Scrubbing: the cluster as the events up to a moment describe it (null: now, following live).
  let asOf = null;
  const scrub = h("input", { type: "range", id: "asof", class: "scrub", min: 0, max: 1000, value: 1000 });
  const scrubLabel = h("span", { class: "mono" });
  const live = h("button", { type: "button", class: "small", onclick: () => { asOf = null; paint(); } }, "Live");
  const asofBox = h("div", { id: "asof-state" });
  ctx.root.append(form, status, lanes, h("h2", {}, "The cluster as of a moment"),
    h("p", { class: "inline" }, scrub, " ", scrubLabel, " ", live), asofBox, h("h2", {}, "Events (newest first)"), list);

  let data = { endpoints: [], errors: {}, events: [] };
  const paint = () => {
    const windowMs = Number(minutes.value) * 60000;
    const now = Date.now();
    const from = now - windowMs;
    const known = new Set(data.events.map((e) => e.daemon));
    const wanted = q.get("daemon") || daemon.value;
    daemon.replaceChildren(h("option", { value: "" }, "all daemons"),
      [...known].sort().map((d) => h("option", { value: d, selected: d === wanted }, d)));
    const evs = data.events.filter((e) => e.ts >= from && (!daemon.value || e.daemon === daemon.value) &&
      (!kind.value || e.kind.includes(kind.value)));
    const errs = Object.entries(data.errors).map(([k, v]) => k + ": " + v);
    status.textContent = evs.length + " events from " + data.endpoints.length + " endpoints in the window" +
      (errs.length ? "; unreachable: " + errs.join("; ") : "");
    const kinds = [...new Set(evs.map((e) => e.kind))].sort();
    kinds.forEach(kindColor);
    const at = asOf === null ? now : Math.max(from, Math.min(now, asOf));
    scrub.oninput = () => { asOf = from + (Number(scrub.value) / 1000) * windowMs; paint(); };
    scrub.value = String(Math.round(((at - from) / windowMs) * 1000));
    scrubLabel.textContent = (asOf === null ? "now (live) " : "") + fmtTime(at);
    asofBox.replaceChildren(clusterAt(stateAt(data.events, at)));
    lanes.replaceChildren(swimLanes(evs, [...known].sort().filter((d) => !daemon.value || d === daemon.value), from, now, at),
      h("p", { class: "legend" }, kinds.map((k) => h("span", {}, h("span", { class: "swatch", "data-kind": k }), k))));
    lanes.querySelectorAll(".swatch").forEach((s) => { s.style.background = kindColor(s.dataset.kind); });
    const shown = evs.slice(-500).reverse();
    list.replaceChildren(table(["time", "daemon", "kind", "detail"], shown.map((e) => [
      { v: fmtTime(e.ts), cls: "nowrap" }, e.daemon, h("span", { class: "kind" }, e.kind), h("span", { class: "mono" }, describe(e.detail))])));
  };
  // The first load takes up to 100,000 events; later ones only what is new since the last event seen.
  const seen = new Set();
  const keyOf = (e) => e.daemon + "|" + e.ts + "|" + e.kind + "|" + e.detail;
  const load = async () => {
    const last = data.events.length ? data.events[data.events.length - 1].ts : null;
    const page = await api("/api/timeline?limit=100000" + (last === null ? "" : "&since=" + last));
    const fresh = page.events.filter((e) => !seen.has(keyOf(e)));
    fresh.forEach((e) => seen.add(keyOf(e)));
    const events = data.events.concat(fresh);
    if (fresh.length && last !== null) events.sort((a, b) => a.ts - b.ts);
    data = { endpoints: page.endpoints, errors: page.errors, events: events.slice(-100000) };
    if (ctx.live()) paint();
  };
  await load();
  // Once a second: each load asks only for what is new, and an election or failover should be on
  // the page within a couple of seconds even on a busy machine.
  let loading = false;  // a slow load (a big first answer, a busy console) is not stacked on
  App.every(1000, () => {
    if (loading) return;
    loading = true;
    load().catch((e) => showBanner("timeline refresh failed: " + e.message)).finally(() => { loading = false; });
  });
});

// The daemons' events carry {fields, clocks, seq}: shown as "k=v ... · clock=n ...", else as they came.
function describe(detail) {
  let o;
  try { o = JSON.parse(detail); } catch (e) { return detail; }
  if (!o || typeof o !== "object" || (!o.fields && !o.clocks)) return detail;
  const kv = (m) => Object.entries(m || {}).map(([k, v]) => k + "=" + (typeof v === "object" ? JSON.stringify(v) : v)).join(" ");
  const f = kv(o.fields), c = kv(o.clocks);
  return f + (f && c ? " · " : "") + c;
}

// The cluster as the timeline tells it at `t`: each coordd server's last known role and epoch, the
// controller, and each partition's leader and ISR — from the events up to `t`.
function stateAt(events, t) {
  const coordd = new Map(), parts = new Map();
  let controller = null;
  for (const e of events) {
    if (e.ts > t) continue;
    let o;
    try { o = JSON.parse(e.detail); } catch (err) { continue; }
    const f = (o && o.fields) || {}, c = (o && o.clocks) || {};
    const part = () => {
      const k = f.topic + "-" + f.partition;
      if (!parts.has(k)) parts.set(k, { topic: f.topic, partition: f.partition, leader: "?", isr: "?" });
      return parts.get(k);
    };
    switch (e.kind) {
      case "server.started": coordd.set(e.daemon, { mode: f.mode, epoch: c.epoch }); break;
      case "election.started": coordd.set(e.daemon, { mode: "looking", epoch: c.epoch }); break;
      case "election.leader_elected": coordd.set(e.daemon, { mode: "syncing", epoch: c.epoch }); break;
      case "quorum.serving": case "quorum.regained": coordd.set(e.daemon, { mode: f.role || "serving", epoch: c.epoch }); break;
      case "quorum.lost": coordd.set(e.daemon, { mode: "not serving", epoch: c.epoch }); break;
      case "controller.elected": controller = { broker: f.broker, epoch: c.controller_epoch }; break;
      case "controller.changed": if (f.new !== undefined) controller = { broker: f.new, epoch: c.controller_epoch }; break;
      case "partition.leader_changed": { const p = part(); p.leader = f.new; p.epoch = c.leader_epoch; break; }
      case "isr.shrink": case "isr.expand": { const p = part(); p.isr = Array.isArray(f.isr) ? f.isr.join(",") : String(f.isr); break; }
    }
  }
  return { coordd, controller, parts };
}

function clusterAt(st) {
  const parts = [...st.parts.values()].sort((a, b) => a.topic === b.topic ? a.partition - b.partition : (a.topic < b.topic ? -1 : 1));
  return h("div", { class: "split" },
    h("div", {},
      table(["coordd server", "mode", "epoch"], [...st.coordd.entries()].sort().map(([d, v]) => [d, v.mode || "?", v.epoch ?? "-"])),
      h("p", {}, "controller: " + (st.controller ? "broker " + st.controller.broker + " (epoch " + st.controller.epoch + ")" : "not seen yet"))),
    h("div", {}, table(["partition", "leader", "leader epoch", "ISR"],
      parts.slice(0, 200).map((p) => [p.topic + "-" + p.partition, String(p.leader), p.epoch ?? "-", p.isr]))));
}

function swimLanes(events, daemons, from, to, at) {
  const width = 1200, laneH = 28, left = 170, top = 20;
  const height = top + Math.max(1, daemons.length) * laneH + 20;
  const svg = h("svg", { class: "lanes", viewBox: "0 0 " + width + " " + height, width: "100%", height });
  const span = Math.max(1, to - from);
  const x = (t) => left + ((t - from) / span) * (width - left - 10);
  // Ticks: five evenly spaced times across the window.
  for (let i = 0; i <= 4; i++) {
    const t = from + (span * i) / 4;
    svg.append(h("line", { x1: x(t), y1: top - 4, x2: x(t), y2: height - 18, stroke: "#edf2f7" }),
      h("text", { x: x(t) - 24, y: height - 4 }, new Date(t).toISOString().slice(11, 19)));
  }
  daemons.forEach((d, i) => {
    const y = top + i * laneH;
    svg.append(h("rect", { x: 0, y, width, height: laneH, fill: i % 2 ? "#fff" : "#f7fafc" }),
      h("text", { x: 6, y: y + laneH / 2 + 4 }, d.length > 26 ? d.slice(0, 25) + "…" : d));
  });
  // Bin per (lane, pixel column, kind): one rectangle each, its title listing the count and a sample.
  const bins = new Map();
  const laneOf = new Map(daemons.map((d, i) => [d, i]));
  for (const e of events) {
    const lane = laneOf.get(e.daemon);
    if (lane === undefined) continue;
    const col = Math.floor(x(e.ts) / 3);
    const key = lane + ":" + col + ":" + e.kind;
    const b = bins.get(key);
    if (b) b.n++; else bins.set(key, { lane, col, kind: e.kind, n: 1, sample: e });
  }
  for (const b of bins.values()) {
    const y = top + b.lane * laneH + 5;
    svg.append(h("rect", { x: b.col * 3, y, width: 3, height: laneH - 10, fill: kindColor(b.kind) },
      h("title", {}, b.n + "× " + b.kind + " — " + fmtTime(b.sample.ts) + " " + b.sample.detail)));
  }
  if (at !== undefined && at < to) {
    svg.append(h("line", { x1: x(at), y1: top - 6, x2: x(at), y2: height - 18, stroke: "#c53030", "stroke-width": 2, class: "asof" }));
  }
  return svg;
}
