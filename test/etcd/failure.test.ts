import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { EtcdAuthenticationFailedError } from "etcd3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { explainEtcdError } from "../../src/etcd/failure.js";
import { freePort } from "../helpers/haproxy.js";

const UNAVAILABLE = new Error("14 UNAVAILABLE: No connection established. Last error: null.");
const UNREACHABLE_CHECK =
  "that etcd runs and listens on these endpoints (its --listen-client-urls), with no firewall between";

describe("explainEtcdError", () => {
  let plain: Server;
  let plainPort = 0;
  beforeAll(async () => {
    plain = createServer((_req, res) => res.end("not etcd"));
    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
    plainPort = (plain.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => plain.close(() => resolve())));

  it("keeps gRPC's words for a plain http:// endpoint that does not answer", async () => {
    expect(
      await explainEtcdError(UNAVAILABLE, { endpoints: ["http://127.0.0.1:1"], prefix: "/x" }, "read"),
    ).toEqual({
      kind: "unreachable",
      error: "14 UNAVAILABLE: No connection established. Last error: null.",
      check: UNREACHABLE_CHECK,
    });
  });

  it("finds out by a handshake of its own that nothing listens at an https:// endpoint", async () => {
    const port = await freePort("127.0.0.1");
    const endpoint = `https://127.0.0.1:${port}`;
    expect(await explainEtcdError(UNAVAILABLE, { endpoints: [endpoint], prefix: "/x" }, "read")).toEqual({
      kind: "unreachable",
      error: `${endpoint}: connect ECONNREFUSED 127.0.0.1:${port}`,
      check: UNREACHABLE_CHECK,
    });
  });

  it("says when an https:// endpoint does not speak TLS", async () => {
    const endpoint = `https://127.0.0.1:${plainPort}`;
    expect(await explainEtcdError(UNAVAILABLE, { endpoints: [endpoint], prefix: "/x" }, "read")).toEqual({
      kind: "tls",
      error: `${endpoint}: wrong version number`,
      check:
        "the endpoint: it does not speak TLS (etcd serves https:// only with --cert-file and --key-file)",
    });
  });

  it("tells a refused password from authentication that etcd has not enabled", async () => {
    const connection = { endpoints: ["https://10.0.0.1:2379"], prefix: "/x" };
    const refused = new EtcdAuthenticationFailedError(
      "3 INVALID_ARGUMENT: etcdserver: authentication failed, invalid user ID or password",
    );
    expect((await explainEtcdError(refused, connection, "read")).check).toBe(
      "auth.username and auth.passwordFile: etcd has no user with that name and password",
    );
    const off = new Error("9 FAILED_PRECONDITION: etcdserver: authentication is not enabled");
    expect(await explainEtcdError(off, connection, "read")).toEqual({
      kind: "auth",
      error: "9 FAILED_PRECONDITION: etcdserver: authentication is not enabled",
      check:
        "auth: etcd has authentication disabled; remove auth, or enable it in etcd (etcdctl auth enable)",
    });
  });
});
