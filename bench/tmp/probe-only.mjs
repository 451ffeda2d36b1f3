const { ListenProbe } = await import("/work/main/dist/probe/listen-probe.js");
const mode = process.argv[2];
const probe = ListenProbe.open();
let n = 0,
  lost = 0;
if (mode === "probe")
  probe.on("event", () => {
    n++;
  });
if (mode === "local") {
  const { LocalSource } = await import("/work/main/dist/sources/local-source.js");
  const { loadConfig } = await import("/work/main/dist/config/load-config.js");
  const pino = (await import("/work/main/node_modules/pino/pino.js")).default;
  probe.close();
  const config = await loadConfig("/tmp/lead-rss/lbwatch.yaml");
  const src = new LocalSource({
    config,
    log: pino({ level: "warn" }),
    hostId: "h",
    once: false,
    onKernelEvent: () => n++,
  });
  await src.start({ replace() {}, update() {} });
}
probe.on("lost", (l) => {
  lost += l.drops;
});
for (let t = 0; t < 6; t++) {
  await new Promise((r) => setTimeout(r, 5000));
  console.log(
    mode,
    `t=${(t + 1) * 5}s events=${n} lost=${lost} rss=${(process.memoryUsage().rss / 2 ** 20).toFixed(0)}MiB heap=${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)}MiB`,
  );
}
process.exit(0);
