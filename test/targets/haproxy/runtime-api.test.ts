import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLbwatchError } from "../../../src/errors.js";
import { RuntimeApi } from "../../../src/targets/haproxy/runtime-api.js";
import { minimalConfig, type RunningHaproxy, startHaproxy } from "../../helpers/haproxy.js";
import { get, type HttpBackend, startHttpBackend } from "../../helpers/http.js";

const CONFIG = minimalConfig("default_backend be_web", "backend be_web\n    balance roundrobin\n");

let haproxy: RunningHaproxy;
let backend: HttpBackend;
let api: RuntimeApi;

beforeAll(async () => {
  haproxy = await startHaproxy(CONFIG);
  backend = await startHttpBackend();
  api = new RuntimeApi(haproxy.statsSocket);
});
afterAll(async () => {
  await backend?.close();
  await haproxy?.stop();
});

describe("RuntimeApi against a real HAProxy 2.6", () => {
  it("adds and enables a server that then receives requests, and shows it in servers state", async () => {
    await api.addServer("be_web", "s1", `127.0.0.1:${backend.port}`, ["weight", "10"]);
    await api.enableServer("be_web", "s1");
    expect(await get(haproxy.port)).toEqual({ status: 200, body: `port ${backend.port}` });
    expect(await api.serversState("be_web")).toEqual([
      { backend: "be_web", name: "s1", address: "127.0.0.1", port: backend.port, opState: 2, adminState: 0 },
    ]);
  });

  it("puts a server in maintenance and deletes it, after which the backend answers 503", async () => {
    await api.setMaintenance("be_web", "s1");
    expect(await api.deleteServer("be_web", "s1")).toBe(true);
    expect((await get(haproxy.port)).status).toBe(503);
    expect(await api.serversState("be_web")).toEqual([]);
  });

  it("rejects with E_HAPROXY_API carrying HAProxy's answer when a command fails", async () => {
    const err = await api.addServer("be_nope", "s1", "127.0.0.1:1", []).catch((e: unknown) => e);
    expect(isLbwatchError(err, "E_HAPROXY_API") && err.message).toBe(
      `${haproxy.statsSocket}: "add server be_nope/s1 127.0.0.1:1" failed: No such backend.`,
    );
  });

  it("refuses to send a command that would chain another one", async () => {
    const err = await api.enableServer("be_web", "s1;shutdown sessions").catch((e: unknown) => e);
    expect(isLbwatchError(err, "E_HAPROXY_API") && err.message).toBe(
      `refused to send "enable server be_web/s1;shutdown sessions": it contains a newline or ";"`,
    );
  });

  it("names the socket when nothing listens there", async () => {
    const err = await new RuntimeApi(`${haproxy.dir}/missing.sock`).run("show info").catch((e: unknown) => e);
    expect(isLbwatchError(err, "E_HAPROXY_API") && err.message).toBe(
      `${haproxy.dir}/missing.sock: "show info": ENOENT (is HAProxy running with this socket, at level admin?)`,
    );
  });
});
