/**
 * `make install` and `make uninstall` (packaging/install-tree.sh) into a temp DESTDIR: what lands
 * where, that the installed lbwatch runs without the checkout, and that uninstall leaves nothing it
 * put there behind (only a config the operator edited).
 */
import { appendFile, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkout, inMountNamespace, listTree, make, SHARED_FILES, version } from "../helpers/packaging.js";

let destdir: string;

beforeEach(async () => {
  destdir = await mkdtemp(join(tmpdir(), "lbwatch-destdir-"));
});
afterEach(async () => {
  await rm(destdir, { recursive: true, force: true });
});

const vars = (prefix: string) => [`DESTDIR=${destdir}`, `PREFIX=${prefix}`];

/** The compiled JS of the checkout, as installed: dist's .js files only. */
async function distJs(): Promise<string[]> {
  const files = await readdir(`${checkout}dist`, { recursive: true });
  return files.filter((f) => f.endsWith(".js")).map((f) => `usr/lib/lbwatch/dist/${f}`);
}

describe("make install and make uninstall", () => {
  it("installs a runnable lbwatch under PREFIX and uninstall removes every file and directory it made", async () => {
    await make(["install", ...vars("/usr")]);
    const files = await listTree(destdir, true);
    const outsideNodeModules = files.filter((f) => !f.startsWith("usr/lib/lbwatch/node_modules/"));
    const expectedFiles = [
      "etc/lbwatch/lbwatch.yaml",
      "usr/bin/lbwatch",
      "usr/lib/lbwatch/bin/lbwatch",
      "usr/lib/lbwatch/bpf/lbwatch.bpf.o",
      "usr/lib/lbwatch/install-manifest",
      "usr/lib/lbwatch/native/build/Release/lbwatch.node",
      "usr/lib/lbwatch/package.json",
      "usr/lib/systemd/system/lbwatch-agent.service",
      "usr/lib/systemd/system/lbwatch.service",
      ...SHARED_FILES.map((f) => `usr/share/${f}`),
      ...(await distJs()),
    ];
    expect(outsideNodeModules).toEqual(expectedFiles.sort());
    expect(files).toContain("usr/lib/lbwatch/node_modules/handlebars/package.json");
    expect(files.some((f) => f.startsWith("usr/lib/lbwatch/node_modules/vitest"))).toBe(false);

    const [cmd, args] = inMountNamespace({ hide: [checkout] }, [
      join(destdir, "usr/bin/lbwatch"),
      "--version",
    ]);
    const run = await execa(cmd, args, { cwd: "/", reject: false, timeout: 20_000 });
    expect({ exitCode: run.exitCode, stdout: run.stdout, stderr: run.stderr }).toEqual({
      exitCode: 0,
      stdout: version,
      stderr: "",
    });

    const uninstall = await make(["uninstall", ...vars("/usr")]);
    expect(uninstall.stderr).toBe("");
    expect(await listTree(destdir)).toEqual([]);
  });

  it("points the unit and the config at PREFIX, and uninstall keeps a config edited since", async () => {
    await make(["install", ...vars("/usr/local")]);
    const unit = await readFile(join(destdir, "usr/local/lib/systemd/system/lbwatch.service"), "utf8");
    expect(unit.split("\n").filter((l) => l.startsWith("ExecStart"))).toEqual([
      "ExecStartPre=/usr/local/bin/lbwatch check -c /etc/lbwatch/lbwatch.yaml",
      "ExecStart=/usr/local/bin/lbwatch run -c /etc/lbwatch/lbwatch.yaml",
    ]);
    const agentUnit = await readFile(
      join(destdir, "usr/local/lib/systemd/system/lbwatch-agent.service"),
      "utf8",
    );
    expect(agentUnit.split("\n").filter((l) => l.startsWith("ExecStart"))).toEqual([
      "ExecStart=/usr/local/bin/lbwatch agent -c /etc/lbwatch/agent.yaml",
    ]);
    const config = join(destdir, "etc/lbwatch/lbwatch.yaml");
    expect((await readFile(config, "utf8")).split("\n").filter((l) => l.includes("template:"))).toEqual([
      "  - template: /usr/local/share/lbwatch/templates/haproxy.cfg.hbs",
    ]);

    await appendFile(config, "resync: 30s\n");
    const uninstall = await make(["uninstall", ...vars("/usr/local")]);
    expect(uninstall.stderr.split("\n")).toEqual([
      `lbwatch uninstall: keeping ${config}: changed since it was installed`,
      `lbwatch uninstall: keeping ${join(destdir, "etc/lbwatch")}: it holds files lbwatch did not install`,
    ]);
    expect(await listTree(destdir)).toEqual(["etc", "etc/lbwatch", "etc/lbwatch/lbwatch.yaml"]);
  });

  it("refuses uninstall where nothing was installed, with the PREFIX it looked at", async () => {
    const r = await execa("make", ["--no-print-directory", "uninstall", ...vars("/opt/x")], {
      cwd: checkout,
      reject: false,
      timeout: 20_000,
    });
    expect({ exitCode: r.exitCode, firstLine: r.stderr.split("\n")[0] }).toEqual({
      exitCode: 2,
      firstLine: `lbwatch uninstall: nothing recorded at ${destdir}/opt/x/lib/lbwatch/install-manifest: lbwatch is not installed with PREFIX=/opt/x DESTDIR=${destdir}`,
    });
  });
});
