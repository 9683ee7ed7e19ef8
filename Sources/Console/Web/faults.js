// The faults page: each daemon's fault controls (faults.enable=true in its own config; docs/operations.md)
// and, in write mode, one form per fault that injects it through the console (POST /api/faults).
// Every injected fault is also an event on the Timeline.
App.route("/faults", "faults", async (ctx) => {
  const status = h("div");
  const forms = h("div");
  ctx.root.append(h("h1", {}, "Faults"),
    h("p", { class: "muted" }, "Pause or crash a daemon, cut coordd quorum links, stop a broker's replica fetches. Each fault shows on the Timeline."),
    status, forms);
  const first = await api("/api/faults");
  if (!first.length) {
    forms.append(notice("No admin.endpoints configured: the console reaches no daemon's fault controls."));
  } else if (!App.writable()) {
    forms.append(notice("Read-only console: injecting faults needs read.only=false and the admin token."));
  } else {
    for (const d of first.filter((d) => d.enabled)) forms.append(faultForms(d));
  }
  return refreshing(ctx, status, 3000, async () => {
    const ds = await api("/api/faults");
    return table(["daemon", "endpoint", "fault controls", "active faults"], ds.map((d) => [d.daemon, d.endpoint,
      !d.reachable ? "unreachable" : d.enabled ? "on" : (d.error || "off (faults.enable=false)"),
      Object.entries(d.active).map(([k, v]) => k + ": " + v).join("; ") || "-"]));
  });
});

function faultForms(d) {
  const rows = d.actions.map((a) => {
    const query = h("input", { type: "text", placeholder: a.help.split(":")[0], "data-fault": d.daemon + "/" + a.name });
    const out = h("span", { class: "result" });
    return h("form", { class: "inline", onsubmit: (e) => {
      e.preventDefault();
      if (a.name === "crash" && !confirm("kill -9 " + d.daemon + "?")) return;
      act(out, async () => {
        const r = await api("/api/faults", "POST", { endpoint: d.endpoint, fault: a.name, query: query.value.trim() });
        return r.result;
      });
    } }, h("button", { type: "submit", class: a.name === "crash" ? "danger" : "" }, a.name), query,
      h("span", { class: "muted" }, " " + a.help), out);
  });
  return h("div", {}, h("h2", {}, d.daemon + " (" + d.endpoint + ")"), ...rows);
}
