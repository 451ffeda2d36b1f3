import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceRule } from "../../src/config/types.js";
import { netnsInodeOfPath, netnsOfPid } from "../../src/probe/netns.js";
import { systemInspector } from "../../src/probe/netns-inspector.js";
import { BackendAddresses } from "../../src/registry/backend-address.js";
import { portInto } from "../../src/registry/reachability.js";
import { createRoutedNetns, type RoutedNetns, untilInOtherNetns } from "../helpers/netns.js";
import { createTestUser, type TestUser } from "../helpers/test-user.js";
import { HOST_NETNS, listener } from "../registry/fakes.js";

/** Two subnets of 10.213.0.0/16 no other test file uses at the same time. */
const SUBNET = 100 + 2 * (process.pid % 70);
const web: ServiceRule = { name: "web", ports: [{ from: 1, to: 65535 }], netns: { kind: "any" } };

describe("systemInspector", () => {
  const inspector = systemInspector();
  let direct: RoutedNetns;
  let bridged: RoutedNetns;
  let user: TestUser;
  const inside: Record<string, { pid: number; netns: number }> = {};

  beforeAll(async () => {
    [direct, bridged, user] = await Promise.all([
      createRoutedNetns("ins-v", SUBNET),
      createRoutedNetns("ins-b", SUBNET + 1, { bridge: true }),
      createTestUser("ins"),
    ]);
    // An address the host does not route into the namespace, as an attacker would add it to lo.
    await direct.ip("addr", "add", "10.9.9.9/32", "dev", "lo");
    const processes = { direct: direct.spawn(["sleep", "30"]), bridged: bridged.spawn(["sleep", "30"]) };
    const unprivileged = user.run(["unshare", "-U", "-r", "-n", "sleep", "30"]);
    for (const [name, child] of Object.entries({ ...processes, unprivileged })) {
      const pid = child.pid ?? 0;
      await untilInOtherNetns(pid);
      inside[name] = { pid, netns: await netnsOfPid(pid) };
    }
  }, 30_000);

  afterAll(async () => {
    await Promise.allSettled([direct?.destroy(), bridged?.destroy(), user?.remove()]);
  });

  it("tells a namespace root made from one an unprivileged user made in its own user namespace", async () => {
    const { direct: root, unprivileged } = inside as Record<string, { pid: number; netns: number }>;
    expect([
      await inspector.ownedByInitialUserns(root?.pid ?? 0, root?.netns ?? 0),
      await inspector.ownedByInitialUserns(unprivileged?.pid ?? 0, unprivileged?.netns ?? 0),
    ]).toEqual([true, false]);
  });

  it("refuses to answer for a process that is not in the namespace asked about", async () => {
    const root = inside.direct ?? { pid: 0, netns: 0 };
    await expect(inspector.ownedByInitialUserns(root.pid, HOST_NETNS)).rejects.toMatchObject({
      code: "E_PROC",
      message: `/proc/${root.pid}/ns/net: now network namespace ${root.netns}, not ${HOST_NETNS} (the process moved)`,
    });
    await expect(inspector.facts(root.pid, HOST_NETNS)).rejects.toThrow(
      `process ${root.pid} moved to network namespace ${root.netns} while being read`,
    );
  });

  it.each(["direct", "bridged"] as const)(
    "finds the host's route into a %s veth namespace, and no other",
    async (name) => {
      const ns = name === "direct" ? direct : bridged;
      const { pid, netns } = inside[name] ?? { pid: 0, netns: 0 };
      expect(netns).toBe(await netnsInodeOfPath(ns.path));
      const facts = await inspector.facts(pid, netns);
      expect(facts.addresses.v4).toContain(ns.address);
      const path = await inspector.hostPath({ family: 4, address: ns.address });
      if (!("ports" in path)) throw new Error(`no host path: ${path.none}`);
      expect([path.dev, portInto(path, facts.links)?.kind]).toEqual([ns.hostDevice, "veth"]);
      // The other namespace's veth does not lead here.
      const other = inside[name === "direct" ? "bridged" : "direct"] ?? { pid: 0, netns: 0 };
      expect(portInto(path, (await inspector.facts(other.pid, other.netns)).links)).toBeUndefined();
    },
  );

  it("places listeners on the address the host reaches, and refuses what it does not", async () => {
    const addresses = new BackendAddresses({
      hostNetns: await netnsOfPid("self"),
      hostAddress: "127.0.0.1",
      hostAddress6: "::1",
      inspector,
    });
    const at = (name: string, addr: string) =>
      listener({ pid: inside[name]?.pid ?? 0, netns: inside[name]?.netns ?? 0, addr });
    expect([
      await addresses.resolve(at("direct", "0.0.0.0"), web),
      await addresses.resolve(at("bridged", bridged.address), web),
      await addresses.resolve(at("direct", "10.9.9.9"), web),
      await addresses.resolve(at("unprivileged", "0.0.0.0"), web),
    ]).toEqual([
      { ip: { family: 4, address: direct.address } },
      { ip: { family: 4, address: bridged.address } },
      {
        refused: expect.stringMatching(
          /^the host reaches 10\.9\.9\.9 through \S+, which does not lead into its network namespace$/,
        ),
      },
      {
        refused:
          "its network namespace belongs to a user namespace other than the initial one (any user can make " +
          "such a namespace, with any address); set userns: allow on the service to accept it",
      },
    ]);
  });
});
