// Auditor page: reads the API with the bearer token (from #token=... or the form), draws tables and
// an inline SVG chart. Amounts arrive as decimal strings and are compared with BigInt, never floats
// for values; the chart scales bar heights by BigInt division to integer pixels.
"use strict";

function token() {
  const match = /token=([^&]+)/.exec(window.location.hash);
  if (match) { sessionStorage.setItem("ledger-token", decodeURIComponent(match[1])); }
  return sessionStorage.getItem("ledger-token");
}

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: "Bearer " + token() } });
  if (!response.ok) { throw new Error(path + ": HTTP " + response.status); }
  return response.json();
}

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (cls) { td.className = cls; }
  row.appendChild(td);
  return td;
}

function short(address) { return address ? address.slice(0, 8) + "…" + address.slice(-4) : ""; }

function drawChart(points) {
  const width = 1160, height = 260, left = 60, bottom = 30, top = 10;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", width); svg.setAttribute("height", height);
  svg.setAttribute("id", "chart-svg");
  let max = 1n;
  for (const p of points) { if (BigInt(p.gross) > max) { max = BigInt(p.gross); } }
  const plot = BigInt(height - bottom - top);
  const slot = Math.max(30, Math.floor((width - left) / Math.max(points.length, 1)));
  const axis = document.createElementNS(ns, "line");
  axis.setAttribute("x1", left); axis.setAttribute("x2", width); axis.setAttribute("y1", height - bottom);
  axis.setAttribute("y2", height - bottom); axis.setAttribute("stroke", "#444");
  svg.appendChild(axis);
  points.forEach((p, i) => {
    [["gross", "#2f6fb0", 0], ["net", "#e08a1e", 1]].forEach(([key, color, k]) => {
      const h = Number(BigInt(p[key]) * plot / max);
      const rect = document.createElementNS(ns, "rect");
      rect.setAttribute("x", left + i * slot + 4 + k * Math.floor(slot / 2 - 4));
      rect.setAttribute("y", height - bottom - h);
      rect.setAttribute("width", Math.max(4, Math.floor(slot / 2) - 6));
      rect.setAttribute("height", Math.max(h, 1));
      rect.setAttribute("fill", color);
      rect.setAttribute("class", "bar-" + key);
      const title = document.createElementNS(ns, "title");
      title.textContent = "cycle " + p.cycle_id + " " + key + " " + p[key] + " (saving " + p.saving + ")";
      rect.appendChild(title);
      svg.appendChild(rect);
    });
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", left + i * slot + 4); label.setAttribute("y", height - 10);
    label.setAttribute("font-size", "11"); label.textContent = "#" + p.cycle_id;
    svg.appendChild(label);
  });
  const legend = document.createElement("div");
  legend.className = "legend";
  legend.textContent = "blue: gross value settled · orange: net value moved (minor units)";
  const target = document.getElementById("chart");
  target.replaceChildren(svg, legend);
}

async function load() {
  if (!token()) {
    document.getElementById("status").textContent = "enter an API token";
    document.getElementById("login").hidden = false;
    return;
  }
  const status = await api("/api/status");
  document.getElementById("status").textContent = "chain " + status.chain_id + " · as of block " +
    status.as_of_block + " (" + status.as_of_block_hash + ") · indexer discrepancies: " + status.discrepancies;
  const cycles = await api("/api/cycles?limit=200");
  const body = document.querySelector("#cycles tbody");
  body.replaceChildren();
  let latestSettled = null;
  for (const c of cycles.items) {
    const tr = document.createElement("tr");
    tr.className = "cycle-row";
    cell(tr, c.cycle_id); cell(tr, c.status); cell(tr, c.count, "num"); cell(tr, c.carried_count, "num");
    cell(tr, c.settled_count, "num"); cell(tr, c.deferred_count, "num"); cell(tr, c.ready_block, "num");
    const check = c.status_check || (c.status === "settled" ? "pending" : "");
    cell(tr, check, check === "verified" ? "ok" : (check ? "bad" : ""));
    body.appendChild(tr);
    if (c.status === "settled" && latestSettled === null) { latestSettled = c.cycle_id; }
  }
  const chart = await api("/api/chart?currency=SGD");
  drawChart(chart.points);
  if (latestSettled !== null) {
    document.getElementById("positions-cycle").textContent = latestSettled;
    const positions = await api("/api/positions?limit=500&cycle=" + latestSettled);
    const pbody = document.querySelector("#positions tbody");
    pbody.replaceChildren();
    for (const p of positions.items) {
      const tr = document.createElement("tr");
      tr.className = "position-row";
      cell(tr, short(p.participant)); cell(tr, p.name); cell(tr, p.currency);
      cell(tr, p.net, "num " + (BigInt(p.net) < 0n ? "bad" : "ok")); cell(tr, p.balance, "num");
      pbody.appendChild(tr);
    }
  }
}

document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("ledger-token", document.getElementById("token").value);
  load().catch((e) => { document.getElementById("status").textContent = String(e); });
});
load().catch((e) => { document.getElementById("status").textContent = String(e); });
