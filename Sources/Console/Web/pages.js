// The state pages: overview, topics, topic, messages, groups, group, znodes (faults: faults.js).
"use strict";

App.route("/", "overview", async (ctx) => {
  const box = h("div", {});
  ctx.root.append(h("h1", {}, "Overview"), box);
  await refreshing(ctx, box, 5000, async () => {
    const o = await api("/api/overview");
    const online = o.brokers.filter((b) => b.online).length;
    return h("div", {},
      h("div", { class: "cards" },
        card("controller", o.controller >= 0 ? "broker " + o.controller : "none", o.controller < 0),
        card("brokers online", online + " / " + o.brokers.length, online < o.brokers.length),
        card("topics", fmtNum(o.topics)),
        card("partitions", fmtNum(o.partitions)),
        card("under-replicated", fmtNum(o.underReplicated), o.underReplicated > 0),
        card("offline", fmtNum(o.offline), o.offline > 0)),
      h("p", { class: "muted" }, "cluster id " + (o.clusterId || "-")),
      h("h2", {}, "Brokers"),
      table(["id", "address", "rack", "status", "role", "leader of"], o.brokers.map((b) => ({
        class: b.online ? null : "bad",
        cells: [b.id, b.online ? b.host + ":" + b.port : "-", b.rack || "-",
          b.online ? { v: "online", cls: "ok" } : { v: "down (named by replicas, not registered)", cls: "flag" },
          b.isController ? "controller" : "", fmtNum(b.leaderOf)],
      })), [5]),
      h("h2", {}, "Coordination servers (coordd / ZooKeeper)"),
      App.info.zookeeper
        ? table(["server", "mode", "epoch", "zxid", "connections", "znodes", "error"], o.coordServers.map((s) => ({
          class: s.error ? "bad" : null,
          cells: [s.address, s.mode || "-", s.epoch === null || s.epoch === undefined ? "-" : s.epoch, s.zxid || "-",
            fmtNum(s.connections), fmtNum(s.znodes), s.error ? { v: s.error, cls: "flag" } : ""],
        })), [4, 5])
        : notice("zookeeper.connect is not configured: coordination servers are not shown."));
  });
});

App.route("/topics", "topics", async (ctx) => {
  const box = h("div", {});
  ctx.root.append(h("h1", {}, "Topics"));
  if (App.writable()) ctx.root.append(createTopicForm());
  else ctx.root.append(notice("Read-only console: creating and deleting topics is disabled."));
  ctx.root.append(box);
  await refreshing(ctx, box, 5000, async () => {
    const ts = await api("/api/topics");
    return table(["topic", "partitions", "replication", "under-replicated", "offline", ""], ts.map((t) => ({
      class: t.underReplicated > 0 || t.offline > 0 ? "bad" : null,
      cells: [link("/topics/" + enc(t.name), t.name), t.partitions, t.replicationFactor,
        t.underReplicated > 0 ? { v: t.underReplicated, cls: "flag" } : 0,
        t.offline > 0 ? { v: t.offline, cls: "flag" } : 0, t.internal ? "internal" : ""],
    })), [1, 2, 3, 4]);
  });
});

function createTopicForm() {
  const name = h("input", { name: "name", placeholder: "name", required: true });
  const parts = h("input", { name: "partitions", type: "number", min: 1, value: 3 });
  const rf = h("input", { name: "rf", type: "number", min: 1, value: 1 });
  const out = h("span", { class: "result" });
  const form = h("form", { class: "inline", onsubmit: (e) => {
    e.preventDefault();
    act(out, async () => {
      await api("/api/topics", "POST", { name: name.value, partitions: Number(parts.value), replicationFactor: Number(rf.value) });
      return "created " + name.value;
    });
  } }, h("label", {}, "new topic", name), h("label", {}, "partitions", parts), h("label", {}, "replication factor", rf),
  h("button", { type: "submit" }, "Create topic"), out);
  return form;
}

App.route("/topics/:name", "topics", async (ctx) => {
  const name = ctx.params.name;
  const box = h("div", {});
  ctx.root.append(h("h1", {}, "Topic ", h("span", { class: "mono" }, name)),
    h("p", {}, link("/topics/" + enc(name) + "/messages", "Browse messages →")));
  if (App.writable()) ctx.root.append(topicWriteForms(name));
  ctx.root.append(box);
  await refreshing(ctx, box, 5000, async () => {
    const t = await api("/api/topics/" + enc(name));
    const ur = t.partitions.filter((p) => p.underReplicated).length;
    const off = t.partitions.filter((p) => p.leader < 0).length;
    return h("div", {},
      h("div", { class: "cards" }, card("partitions", t.partitions.length), card("under-replicated", ur, ur > 0), card("offline", off, off > 0)),
      h("h2", {}, "Partitions"),
      table(["partition", "leader", "epoch", "replicas", "ISR", "offline replicas", "start offset", "HW (log end)", "status"],
        t.partitions.map((p) => ({
          class: p.underReplicated || p.leader < 0 ? "bad" : null,
          cells: [p.partition, p.leader >= 0 ? p.leader : { v: "none", cls: "flag" }, p.leaderEpoch, p.replicas.join(","), p.isr.join(","),
            p.offlineReplicas.join(",") || "-", fmtNum(p.startOffset), fmtNum(p.highWatermark),
            p.leader < 0 ? { v: "offline", cls: "flag" } : p.underReplicated ? { v: "under-replicated", cls: "flag" } : { v: "ok", cls: "ok" }],
        })), [0, 2, 6, 7]),
      h("h2", {}, "Configs"),
      t.configError ? h("p", { class: "error" }, t.configError)
        : table(["name", "value", "source"], t.configs.map((c) => [c.name, c.sensitive ? "(sensitive)" : (c.value || ""),
          (c.isDefault ? "default" : "topic") + (c.readOnly ? ", read-only" : "")])));
  });
});

function topicWriteForms(name) {
  const count = h("input", { type: "number", min: 1, placeholder: "new total" });
  const out = h("span", { class: "result" });
  return h("div", {},
    h("form", { class: "inline", onsubmit: (e) => {
      e.preventDefault();
      act(out, async () => { await api("/api/topics/" + enc(name) + "/partitions", "POST", { count: Number(count.value) }); return "partitions: " + count.value; });
    } }, h("label", {}, "partitions", count), h("button", { type: "submit" }, "Add partitions"),
    h("button", { type: "button", class: "danger", onclick: () => {
      if (!confirm("Delete topic " + name + "? Its data is gone for good.")) return;
      act(out, async () => { await api("/api/topics/" + enc(name), "DELETE"); return "deleted " + name; });
    } }, "Delete topic"), out));
}

App.route("/topics/:name/messages", "topics", async (ctx) => {
  const name = ctx.params.name;
  const q = ctx.query;
  const t = await api("/api/topics/" + enc(name));
  const part = h("select", { name: "partition" }, t.partitions.map((p) => h("option", { value: p.partition, selected: String(p.partition) === (q.get("partition") || "0") }, String(p.partition))));
  const offset = h("input", { name: "offset", type: "number", placeholder: "start", value: q.get("offset") || "" });
  const ts = h("input", { name: "timestamp", placeholder: "or time (ms / ISO)", value: q.get("timestamp") || "" });
  const needle = h("input", { name: "q", placeholder: "key, value or header contains", value: q.get("q") || "" });
  const limit = h("input", { name: "limit", type: "number", min: 1, max: 500, value: q.get("limit") || 50 });
  const box = h("div", {});
  const form = h("form", { class: "inline", onsubmit: (e) => {
    e.preventDefault();
    const p = new URLSearchParams({ partition: part.value, limit: limit.value });
    if (offset.value !== "") p.set("offset", offset.value);
    if (ts.value !== "") p.set("timestamp", /^\d+$/.test(ts.value) ? ts.value : String(Date.parse(ts.value)));
    if (needle.value !== "") p.set("q", needle.value);
    navigate(location.pathname + "?" + p.toString());
  } }, h("label", {}, "partition", part), h("label", {}, "offset", offset), h("label", {}, "timestamp", ts),
  h("label", {}, "search", needle), h("label", {}, "limit", limit), h("button", { type: "submit" }, "Show"));
  ctx.root.append(h("h1", {}, "Messages of ", link("/topics/" + enc(name), name)), form);
  if (App.writable()) ctx.root.append(produceForm(name));
  ctx.root.append(box);
  const params = new URLSearchParams(q);
  if (!params.has("partition")) params.set("partition", "0");
  const page = await api("/api/topics/" + enc(name) + "/messages?" + params.toString());
  const next = new URLSearchParams(params);
  next.set("offset", page.nextOffset);
  next.delete("timestamp");
  const exportBtn = h("button", { type: "button", class: "secondary", onclick: () => {
    const blob = new Blob(page.records.map((r) => JSON.stringify(r) + "\n"), { type: "application/x-ndjson" });
    const a = h("a", { href: URL.createObjectURL(blob), download: name + "-" + page.partition + "-" + page.from + ".jsonl" });
    a.click();
    URL.revokeObjectURL(a.href);
  } }, "Export JSON lines");
  box.append(
    h("p", { class: "muted" }, "partition " + page.partition + ": offsets " + page.startOffset + " … " + page.highWatermark +
      " (HW); from " + page.from + ", scanned " + page.scanned + ", " + page.records.length + " shown. ",
    page.nextOffset < page.highWatermark ? link(location.pathname + "?" + next.toString(), "next →") : "end of log", " ", exportBtn),
    table(["offset", "timestamp", "key", "value", "headers"], page.records.map((r) => [
      r.offset, fmtTime(r.timestamp), h("span", { class: "mono" }, showBytes(r.key, r.encoding)),
      valueCell(r.value, r.encoding), r.headers.map((hd) => hd[0] + "=" + hd[1]).join(", ")]), [0]));
});

function showBytes(s, encoding) {
  if (s === null || s === undefined) return "null";
  return encoding === "base64" ? hexOf(atob(s)) : s;
}

function valueCell(s, encoding) {
  if (encoding === "text" && s && (s[0] === "{" || s[0] === "[")) {
    try {
      const v = JSON.parse(s);
      const flat = JSON.stringify(v);
      return flat.length <= 100 ? h("span", { class: "mono" }, flat) : h("pre", {}, JSON.stringify(v, null, 2));
    } catch (e) { /* not JSON: plain text */ }
  }
  return h("span", { class: "mono" }, showBytes(s, encoding));
}

function hexOf(bin) {
  const out = [];
  for (let i = 0; i < bin.length; i++) out.push(bin.charCodeAt(i).toString(16).padStart(2, "0"));
  return out.join(" ");
}

function produceForm(name) {
  const part = h("input", { type: "number", min: 0, placeholder: "partition (auto)" });
  const key = h("input", { placeholder: "key" });
  const value = h("input", { placeholder: "value", required: true });
  const out = h("span", { class: "result" });
  return h("form", { class: "inline", onsubmit: (e) => {
    e.preventDefault();
    act(out, async () => {
      const body = { key: key.value || null, value: value.value };
      if (part.value !== "") body.partition = Number(part.value);
      const r = await api("/api/topics/" + enc(name) + "/messages", "POST", body);
      return "produced at partition " + r.partition + " offset " + r.offset;
    });
  } }, h("label", {}, "partition", part), h("label", {}, "key", key), h("label", {}, "value", value), h("button", { type: "submit" }, "Produce"), out);
}

App.route("/groups", "groups", async (ctx) => {
  const box = h("div", {});
  ctx.root.append(h("h1", {}, "Consumer groups"), box);
  await refreshing(ctx, box, 5000, async () => {
    const gs = await api("/api/groups");
    return table(["group", "state", "protocol type"], gs.map((g) => [link("/groups/" + enc(g.groupId), g.groupId), g.state || "-", g.protocolType || "-"]));
  });
});

App.route("/groups/:id", "groups", async (ctx) => {
  const id = ctx.params.id;
  const box = h("div", {});
  const samples = [];
  ctx.root.append(h("h1", {}, "Group ", h("span", { class: "mono" }, id)), box, h("h2", {}, "Reset offsets"), resetForm(id));
  await refreshing(ctx, box, 5000, async () => {
    const g = await api("/api/groups/" + enc(id));
    samples.push({ t: Date.now(), lag: g.totalLag });
    if (samples.length > 120) samples.shift();
    return h("div", {},
      h("div", { class: "cards" }, card("state", g.state), card("members", g.members.length), card("total lag", fmtNum(g.totalLag), g.totalLag > 0)),
      h("p", { class: "muted" }, "protocol " + (g.protocolType || "-") + " / " + (g.protocol || "-")),
      h("h2", {}, "Offsets"),
      table(["topic", "partition", "current-offset", "log-end-offset", "lag", "consumer-id", "host", "client-id"], g.offsets.map((o) => [
        link("/topics/" + enc(o.topic), o.topic), o.partition, fmtNum(o.currentOffset), fmtNum(o.logEndOffset), fmtNum(o.lag),
        o.consumerId || "-", o.host || "-", o.clientId || "-"]), [1, 2, 3, 4]),
      h("h2", {}, "Lag while this page is open"), lagChart(samples),
      h("h2", {}, "Members"),
      table(["member", "client", "host", "assignment"], g.members.map((m) => [m.memberId, m.clientId, m.host, m.assignment.join(", ")])));
  });
});

function lagChart(samples) {
  const w = 600, ht = 120, pad = 30;
  const max = Math.max(1, ...samples.map((s) => s.lag));
  const t0 = samples.length ? samples[0].t : 0, t1 = samples.length ? samples[samples.length - 1].t : 1;
  const x = (t) => pad + (t1 > t0 ? (t - t0) / (t1 - t0) : 1) * (w - pad - 10);
  const y = (v) => ht - 20 - (v / max) * (ht - 35);
  return h("svg", { class: "chart", width: w, height: ht, viewBox: "0 0 " + w + " " + ht },
    h("line", { x1: pad, y1: ht - 20, x2: w - 10, y2: ht - 20, stroke: "#cbd5e0" }),
    h("text", { x: 2, y: y(max) + 4 }, fmtNum(max)), h("text", { x: 2, y: ht - 16 }, "0"),
    h("polyline", { fill: "none", stroke: "#2b6cb0", "stroke-width": 2, points: samples.map((s) => x(s.t) + "," + y(s.lag)).join(" ") }),
    samples.map((s) => h("circle", { cx: x(s.t), cy: y(s.lag), r: 3, fill: "#2b6cb0" }, h("title", {}, fmtTime(s.t) + ": lag " + fmtNum(s.lag)))));
}

function resetForm(id) {
  const topic = h("input", { placeholder: "topic", required: true });
  const to = h("select", {}, h("option", { value: "earliest" }, "earliest"), h("option", { value: "latest" }, "latest"));
  const out = h("span", { class: "result" });
  const preview = h("div", {});
  const run = (execute) => act(out, async () => {
    const r = await api("/api/groups/" + enc(id) + "/reset", "POST", { topic: topic.value, to: to.value, execute });
    preview.replaceChildren(table(["partition", "committed now", "new offset"], r.offsets.map((o) => [o.partition, fmtNum(o.currentOffset), fmtNum(o.logEndOffset)]), [0, 1, 2]));
    return execute ? "offsets reset to " + r.to : "dry run: nothing changed";
  });
  return h("div", {},
    h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); run(false); } },
      h("label", {}, "topic", topic), h("label", {}, "to", to), h("button", { type: "submit", class: "secondary" }, "Preview (dry run)"),
      App.writable() ? h("button", { type: "button", class: "danger", onclick: () => run(true) }, "Execute") : h("span", { class: "muted" }, "read-only: preview only"),
      out), preview);
}

App.route("/znodes", "znodes", async (ctx) => {
  if (!App.info.zookeeper) { ctx.root.append(h("h1", {}, "Znodes"), notice("zookeeper.connect is not configured.")); return; }
  const path = ctx.query.get("path") || "/";
  const z = await api("/api/znodes?path=" + enc(path));
  const crumbs = [link("/znodes?path=/", "/")];
  let acc = "";
  path.split("/").filter(Boolean).forEach((part, i) => {
    acc += "/" + part;
    if (i > 0) crumbs.push("/");
    crumbs.push(acc === path ? h("span", {}, part) : link("/znodes?path=" + enc(acc), part));
  });
  const childPath = (c) => (path === "/" ? "" : path) + "/" + c;
  const raw = atob(z.data);
  const bytes = Uint8Array.from(raw, (c) => c.charCodeAt(0));
  const text = new TextDecoder().decode(bytes);
  let json = null;
  try { json = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { json = null; }
  const view = h("pre", {});
  const tabs = h("div", { class: "tabs" });
  const modes = { json: () => json, text: () => text, hex: () => hexOf(raw) };
  const show = (m) => {
    view.textContent = bytes.length === 0 ? "(no data)" : modes[m]();
    tabs.querySelectorAll("button").forEach((b) => b.classList.toggle("on", b.dataset.mode === m));
  };
  for (const m of Object.keys(modes)) {
    if (m === "json" && json === null) continue;
    tabs.append(h("button", { type: "button", class: "small", "data-mode": m, onclick: () => show(m) }, m.toUpperCase()));
  }
  show(json !== null ? "json" : "text");
  const s = z.stat;
  ctx.root.append(h("h1", {}, "Znodes"), h("p", { class: "crumbs" }, crumbs),
    h("div", { class: "split" },
      h("div", {}, h("h2", {}, "Children (" + z.children.length + ")"),
        h("div", { class: "children" }, z.children.length ? z.children.map((c) => link("/znodes?path=" + enc(childPath(c)), c)) : h("span", { class: "muted" }, " none"))),
      h("div", {}, h("h2", {}, "Data (" + bytes.length + " bytes)"), tabs, view,
        h("h2", {}, "Stat"),
        table(["field", "value"], [["czxid", s.czxid], ["mzxid", s.mzxid], ["pzxid", s.pzxid], ["ctime", fmtTime(s.ctime)], ["mtime", fmtTime(s.mtime)],
          ["version", s.version], ["cversion", s.cversion], ["aversion", s.aversion],
          ["ephemeralOwner", s.ephemeralOwner === "0x0" ? "0x0 (persistent)" : s.ephemeralOwner + " (ephemeral)"],
          ["dataLength", s.dataLength], ["numChildren", s.numChildren]]),
        h("h2", {}, "ACL"), table(["scheme", "id", "perms"], z.acl.map((a) => [a.scheme, a.id, a.perms])))));
});
