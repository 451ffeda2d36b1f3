// A backend that is not ready at once, for bench/ready.ts: node ready-backend.mjs <port> <readyAfterMs>
// Listens on 127.0.0.1:<port> and prints {"listening": true}; GET /healthz answers 503 until
// <readyAfterMs> after listen() returned, then 200. The first other GET (a client request a load
// balancer routed here) prints {"listenToServedMs": ...}, timed from listen() on this process's
// CLOCK_MONOTONIC, so no clock is compared across processes. Other requests (health checks) count not.
import { createServer } from "node:http";

const [port, readyAfter] = process.argv.slice(2).map(Number);
let listenedAt = 0n;
let served = false;
const sinceListen = () => Number(process.hrtime.bigint() - listenedAt) / 1e6;
const server = createServer((req, res) => {
  if (req.url === "/healthz") {
    res.statusCode = sinceListen() >= readyAfter ? 200 : 503;
  } else if (req.method === "GET" && !served) {
    served = true;
    console.log(JSON.stringify({ listenToServedMs: sinceListen() }));
  }
  res.end("ok");
});
server.listen(port, "127.0.0.1", () => {
  listenedAt = process.hrtime.bigint();
  console.log(JSON.stringify({ listening: true }));
});
