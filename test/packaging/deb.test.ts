/**
 * `make deb`, built once for this file, then read back the way dpkg sees it (control fields,
 * conffiles, contents, md5sums) and extracted with `dpkg -x` into a temp root. The installed lbwatch
 * runs from there with the checkout hidden; commands whose config names /usr/share and /etc paths
 * run in a private mount namespace where the temp root is overlaid on those directories.
 */
import { lstat, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, execaSync } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collect, listenUntilSeen, loopbackListenerEvents } from "../helpers/cli.js";
import { describeEbpf } from "../helpers/ebpf.js";
import { startListenerProcess } from "../helpers/listener-process.js";
import { checkout, inMountNamespace, listTree, make, SHARED_FILES, version } from "../helpers/packaging.js";

const arch = execaSync("dpkg", ["--print-architecture"]).stdout;
const deb = `${checkout}build/lbwatch_${version}_${arch}.deb`;

interface Entry {
  mode: string;
  owner: string;
  path: string;
  link?: string;
}

/** `dpkg-deb --contents` lines: mode owner/group size date time ./path [-> target]. */
function parseContents(listing: string): Entry[] {
  return listing.split("\n").map((line) => {
    const m = /^(\S+) (\S+)\s+\d+ \S+ \S+ \.\/(.*?)(?: -> (.*))?$/.exec(line);
    if (!m) throw new Error(`unexpected dpkg-deb --contents line: ${line}`);
    const entry: Entry = {
      mode: m[1] as string,
      owner: m[2] as string,
      path: (m[3] as string).replace(/\/$/, ""),
    };
    if (m[4] !== undefined) entry.link = m[4];
    return entry;
  });
}

/** The package directories package-lock.json installs without dev dependencies. */
async function productionPackages(): Promise<string[]> {
  const lock = JSON.parse(await readFile(`${checkout}package-lock.json`, "utf8")) as {
    packages: Record<string, { dev?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([path, p]) => path !== "" && !p.dev)
    .map(([path]) => path)
    .sort();
}

let root: string;
let entries: Entry[];
const pkg = (path: string) => join(root, path);

beforeAll(async () => {
  await make(["deb"]);
  root = await mkdtemp(join(tmpdir(), "lbwatch-deb-"));
  await execa("dpkg", ["-x", deb, root]);
  entries = parseContents((await execa("dpkg-deb", ["--contents", deb])).stdout);
}, 180_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe("make deb", () => {
  it("names the version, architecture and dependencies, and /etc/lbwatch/lbwatch.yaml as a conffile", async () => {
    const fields = await execa("dpkg-deb", [
      "--field",
      deb,
      "Package",
      "Version",
      "Architecture",
      "Depends",
      "Suggests",
    ]);
    expect(fields.stdout.split("\n")).toEqual([
      "Package: lbwatch",
      `Version: ${version}`,
      `Architecture: ${arch}`,
      "Depends: nodejs (>= 20), libbpf1, libelf1, libc6, libstdc++6, iproute2",
      "Suggests: haproxy | nginx",
    ]);
    expect((await execa("dpkg-deb", ["--info", deb, "conffiles"])).stdout).toBe("/etc/lbwatch/lbwatch.yaml");
  });

  it("gives Installed-Size as the KiB its files take, one per directory and link", async () => {
    let kib = 0;
    for (const path of await listTree(root)) {
      const st = await lstat(pkg(path));
      kib += st.isFile() ? Math.ceil(st.size / 1024) : 1;
    }
    expect((await execa("dpkg-deb", ["--field", deb, "Installed-Size"])).stdout).toBe(String(kib));
  });

  it("holds root-owned files with the unit in /lib/systemd/system and /usr/bin/lbwatch linked to the program", () => {
    expect(new Set(entries.map((e) => e.owner))).toEqual(new Set(["root/root"]));
    expect(new Set(entries.map((e) => e.mode))).toEqual(
      new Set(["drwxr-xr-x", "-rw-r--r--", "-rwxr-xr-x", "lrwxrwxrwx"]),
    );
    const executableOrLink = entries.filter((e) => e.mode === "-rwxr-xr-x" || e.link).map((e) => e.path);
    expect(executableOrLink.sort()).toEqual(["usr/bin/lbwatch", "usr/lib/lbwatch/bin/lbwatch"]);
    expect(entries.find((e) => e.path === "usr/bin/lbwatch")?.link).toBe("../lib/lbwatch/bin/lbwatch");
    const outsideLibDir = entries
      .filter((e) => e.mode.startsWith("-") && !e.path.startsWith("usr/lib/lbwatch/"))
      .map((e) => e.path)
      .sort();
    expect(outsideLibDir).toEqual([
      "etc/lbwatch/lbwatch.yaml",
      "lib/systemd/system/lbwatch-agent.service",
      "lib/systemd/system/lbwatch.service",
      "usr/share/doc/lbwatch/README.md.gz",
      "usr/share/doc/lbwatch/changelog.gz",
      "usr/share/doc/lbwatch/copyright",
      ...SHARED_FILES.map((f) => `usr/share/${f}`),
    ]);
  });

  it("ships exactly the production node_modules of package-lock.json", async () => {
    const installed = entries
      .map(
        (e) =>
          /^usr\/lib\/lbwatch\/((?:node_modules\/(?:@[^/]+\/)?[^/]+\/)+)package\.json$/.exec(e.path)?.[1],
      )
      .filter((p) => p !== undefined)
      .map((p) => p.replace(/\/$/, ""))
      .sort();
    expect(installed).toEqual(await productionPackages());
  });

  it("lists every file in md5sums with its checksum", async () => {
    const control = await mkdtemp(join(tmpdir(), "lbwatch-deb-control-"));
    try {
      await execa("dpkg-deb", ["--control", deb, control]);
      const listed = (await readFile(join(control, "md5sums"), "utf8"))
        .trimEnd()
        .split("\n")
        .map((l) => l.slice(34))
        .sort();
      expect(listed).toEqual(
        entries
          .filter((e) => e.mode.startsWith("-"))
          .map((e) => e.path)
          .sort(),
      );
      const check = await execa("md5sum", ["--check", "--quiet", "--strict", join(control, "md5sums")], {
        cwd: root,
        reject: false,
      });
      expect({ exitCode: check.exitCode, stdout: check.stdout }).toEqual({ exitCode: 0, stdout: "" });
    } finally {
      await rm(control, { recursive: true, force: true });
    }
  });
});

describe("lbwatch installed from the package", () => {
  const hideCheckout = { hide: [checkout] };

  it("prints package.json's version from / with the checkout hidden", async () => {
    const [cmd, args] = inMountNamespace(hideCheckout, [pkg("usr/bin/lbwatch"), "--version"]);
    const r = await execa(cmd, args, { cwd: "/", reject: false, timeout: 20_000 });
    expect({ exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr }).toEqual({
      exitCode: 0,
      stdout: version,
      stderr: "",
    });
  });

  it("accepts the installed /etc/lbwatch/lbwatch.yaml, whose template is the installed one", async () => {
    const view = {
      overlays: [
        [pkg("usr/share"), "/usr/share"],
        [pkg("etc"), "/etc"],
      ] as [string, string][],
      ...hideCheckout,
    };
    const [cmd, args] = inMountNamespace(view, [
      pkg("usr/bin/lbwatch"),
      "check",
      "-c",
      "/etc/lbwatch/lbwatch.yaml",
    ]);
    const r = await execa(cmd, args, { cwd: "/", reject: false, timeout: 20_000 });
    expect({ exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr }).toEqual({
      exitCode: 0,
      stdout: "/etc/lbwatch/lbwatch.yaml: ok (1 services, 1 targets)",
      stderr: "",
    });
  });

  /** systemd-analyze verify of an installed unit, with the package's /usr and /etc in place. */
  const verifyUnit = async (unit: string) => {
    const view = {
      overlays: [
        [pkg("usr"), "/usr"],
        [pkg("etc"), "/etc"],
      ] as [string, string][],
    };
    const [cmd, args] = inMountNamespace(view, [
      "systemd-analyze",
      "verify",
      pkg(`lib/systemd/system/${unit}`),
    ]);
    const r = await execa(cmd, args, { reject: false, timeout: 20_000 });
    return { exitCode: r.exitCode, output: r.stdout + r.stderr };
  };

  it("has a unit that systemd-analyze verifies, running /usr/bin/lbwatch on /etc/lbwatch/lbwatch.yaml", async () => {
    const unit = await readFile(pkg("lib/systemd/system/lbwatch.service"), "utf8");
    expect(unit.split("\n").filter((l) => l.startsWith("Exec"))).toEqual([
      "ExecStartPre=/usr/bin/lbwatch check -c /etc/lbwatch/lbwatch.yaml",
      "ExecStart=/usr/bin/lbwatch run -c /etc/lbwatch/lbwatch.yaml",
      "ExecReload=/bin/kill -HUP $MAINPID",
    ]);
    expect(await verifyUnit("lbwatch.service")).toEqual({ exitCode: 0, output: "" });
  });

  it("has an agent unit that systemd-analyze verifies, run only once /etc/lbwatch/agent.yaml exists", async () => {
    const unit = await readFile(pkg("lib/systemd/system/lbwatch-agent.service"), "utf8");
    expect(unit.split("\n").filter((l) => /^(Exec|Condition)/.test(l))).toEqual([
      "ConditionPathExists=/etc/lbwatch/agent.yaml",
      "ExecStart=/usr/bin/lbwatch agent -c /etc/lbwatch/agent.yaml",
      "ExecReload=/bin/kill -HUP $MAINPID",
    ]);
    expect(await verifyUnit("lbwatch-agent.service")).toEqual({ exitCode: 0, output: "" });
  });
});

describeEbpf("lbwatch events installed from the package", () => {
  it("attaches the probe, reports a listener's listen and close for 2 s, and exits 0 on SIGINT", async () => {
    const started = Date.now();
    const port = 30_000 + (process.pid % 10_000);
    const [cmd, args] = inMountNamespace({ hide: [checkout] }, [
      pkg("usr/bin/lbwatch"),
      "events",
      "--json",
      "--port",
      String(port),
    ]);
    const cli = execa(cmd, args, { cwd: "/", reject: false, timeout: 20_000 });
    const output = collect(cli);
    const { seen, lines } = await listenUntilSeen(output, () =>
      startListenerProcess({ addr: "127.0.0.1", port, backlog: 5 }),
    );
    await new Promise((r) => setTimeout(r, Math.max(0, started + 2_000 - Date.now())));
    cli.kill("SIGINT");
    const r = await cli;
    const events = lines.map((l) => JSON.parse(l) as { sock: number });
    expect(events.filter((e) => e.sock === seen.sock)).toEqual(await loopbackListenerEvents(seen, 5));
    expect({ exitCode: r.exitCode, stderr: r.stderr, ranMs: Date.now() - started >= 2_000 }).toEqual({
      exitCode: 0,
      stderr: "",
      ranMs: true,
    });
  });
});
