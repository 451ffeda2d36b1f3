const { Controller } = await import("/work/main/dist/controller/controller.js");
const pino = (await import("/work/main/node_modules/pino/pino.js")).default;
const { Metrics } = await import("/work/main/dist/metrics/metrics.js");
const metrics = new Metrics();
const c = await Controller.load({
  configFile: "/tmp/lead-rss/lbwatch.yaml",
  log: pino({ level: "warn" }),
  observer: metrics.observer,
});
await c.start();
for (let t = 0; t < 10; t++) {
  await new Promise((r) => setTimeout(r, 5000));
  const m = process.memoryUsage();
  console.log(
    `t=${(t + 1) * 5}s rss=${(m.rss / 2 ** 20).toFixed(0)}MiB heap=${(m.heapUsed / 2 ** 20).toFixed(0)}MiB total=${(m.heapTotal / 2 ** 20).toFixed(0)} ext=${(m.external / 2 ** 20).toFixed(0)} ab=${(m.arrayBuffers / 2 ** 20).toFixed(0)}`,
  );
}
await c.close();
process.exit(0);
