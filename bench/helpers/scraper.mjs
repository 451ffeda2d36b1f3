// GET /metrics then (with "status") GET /status, back to back, until SIGTERM; then prints one JSON
// line: their durations (ms) and the /status body size. The worst case of a scraper: no pause.
// A first line {"started":true} says the first round is done.
//   node scraper.mjs PORT metrics|status
import { get } from "node:http";

const port = Number(process.argv[2]);
const withStatus = process.argv[3] === "status";
const runs = { metrics: [], status: [] };
let statusBytes = 0;
let stopping = false;

function fetch(path) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let bytes = 0;
      res.on("data", (chunk) => {
        bytes += chunk.length;
      });
      res.on("end", () => resolve({ ms: performance.now() - started, bytes, code: res.statusCode }));
      res.on("error", reject);
    }).on("error", reject);
  });
}

process.on("SIGTERM", () => {
  stopping = true;
});
while (!stopping) {
  const metrics = await fetch("/metrics");
  runs.metrics.push(metrics.ms);
  if (withStatus) {
    const status = await fetch("/status");
    if (status.code !== 200) throw new Error(`/status answered ${status.code}`);
    runs.status.push(status.ms);
    statusBytes = status.bytes;
  }
  if (runs.metrics.length === 1) console.log(JSON.stringify({ started: true }));
}
console.log(JSON.stringify({ ...runs, statusBytes }));
