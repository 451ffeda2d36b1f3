// Scratch: one HAProxy, a controller fed by a fake source with N backends; cold start and change latency.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { Controller } from "../../src/controller/controller.js";
import { compileTemplate } from "../../src/render/template.js";
import { claimAt, FakeSource } from "../../test/controller/fake-source.js";
import { serversState, startHaproxy } from "../../test/helpers/haproxy.js";
import { renderContext } from "../../test/helpers/render-context.js";

const N = Number(process.argv[2] ?? 10000);
const dir = await mkdtemp(join(tmpdir(), "scale-"));
const tpl = join(dir, "t.hbs");
await writeFile(tpl, await readFile("templates/haproxy.cfg.hbs", "utf8"));
const empty = (await compileTemplate(tpl)).render(renderContext({ web: [], other: [] }));
const h = await startHaproxy(empty, { dir });
await writeFile(
  join(dir, "c.yaml"),
  `wait: { min: 20ms, max: 500ms }\nresync: 0\nservices:\n  web: { ports: [1-65535], uid: [0] }\n  other: { ports: [1-65535], uid: [0] }\ntargets:\n  - template: t.hbs\n    dest: haproxy.cfg\n    check: [haproxy, -c, -f, "{staged}"]\n    haproxy: { runtimeSocket: ${h.statsSocket}, masterSocket: ${h.masterSocket} }\n`,
);
const claims = Array.from({ length: N }, (_, i) =>
  claimAt(10000 + (i % 50000), {
    key: `k${i}`,
    service: "other",
    address: `127.77.${(i >> 8) & 255}.${i & 255}`,
  }),
);
const lines: Record<string, unknown>[] = [];
const log = pino(
  { level: "debug" },
  {
    write: (s: string) => {
      lines.push(JSON.parse(s));
    },
  },
);
const source = new FakeSource(claims);
const t0 = performance.now();
const c = await Controller.load({ configFile: join(dir, "c.yaml"), log, sources: () => [source] });
await c.start();
for (;;) {
  const s = await serversState(h.statsSocket, "be_other");
  if (s.filter((x) => (x.adminState & 0x23) === 0).length >= N) break;
  await new Promise((r) => setTimeout(r, 50));
}
console.log(
  `cold start ${N}: ${(performance.now() - t0).toFixed(0)} ms; rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
);
await new Promise((r) => setTimeout(r, 3000));
const lat: number[] = [];
for (let i = 0; i < 40; i++) {
  const before = lines.length;
  source.listen(9000 + i, { key: `w${i}` });
  for (;;) {
    const l = lines.slice(before).find((l) => l.msg === "target applied");
    if (l) {
      lat.push(l.latencyMs as number);
      break;
    }
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 50));
}
lat.sort((a, b) => a - b);
console.log(
  `listen→applied p50 ${lat[20]} p90 ${lat[36]} max ${lat[39]} ms; full reconciles: ${lines.filter((l) => String(l.msg).includes("repaired") || String(l.msg).includes("reconcil")).length}`,
);
console.log(
  lines
    .filter((l) => l.msg === "apply stages")
    .slice(0, 3)
    .map((l) => JSON.stringify(l))
    .join("\n"),
);
await c.close();
await h.stop();
