import { describe, expect, it } from "vitest";
import {
  ADMIN_STATE,
  adminStateOf,
  isRoutable,
  parseServersState,
  parseShowInfo,
  type ServerState,
} from "../../../src/targets/haproxy/runtime-answers.js";
import { thrownMessage } from "../../helpers/errors.js";

const HEADER =
  "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight " +
  "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state " +
  "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl " +
  "srv_check_port srv_check_addr srv_agent_addr srv_agent_port";

/** As HAProxy 2.6 answered: a ready server, one freshly added, one `disabled`, one draining. */
const STATE = [
  "1",
  HEADER,
  "3 be 1 s1 127.0.0.1 2 0 1 1 132 1 0 2 0 0 0 0 - 9 - 0 0 - - 0",
  "3 be 2 b 127.0.0.1 0 1 1 1 0 1 0 0 0 0 0 0 - 1 - 0 0 - - 0",
  "3 be 4 d ::1 0 5 1 1 0 1 0 0 8 0 0 0 - 3 - 0 0 - - 0",
  "4 other 1000001 a 10.0.0.1 2 8 7 7 0 1 0 0 2 18 0 1 - 5 - 0 0 - - 9",
].join("\n");

const server = (fields: Partial<ServerState>): ServerState => ({
  backend: "be",
  name: "s",
  id: 1,
  address: "127.0.0.1",
  port: 1,
  opState: 2,
  adminState: 0,
  weight: 1,
  ...fields,
});

const message = (run: () => unknown) => thrownMessage("E_HAPROXY_API", run);

describe("parseServersState", () => {
  it("reads each row by the header's column names", () => {
    expect(parseServersState(STATE, "/run/admin.sock")).toEqual([
      server({ name: "s1", id: 1, port: 9 }),
      server({ name: "b", id: 2, opState: 0, adminState: 1 }),
      server({ name: "d", id: 4, address: "::1", port: 3, opState: 0, adminState: 5 }),
      server({
        backend: "other",
        name: "a",
        id: 1000001,
        address: "10.0.0.1",
        port: 5,
        adminState: 8,
        weight: 7,
      }),
    ]);
  });

  it("reads an empty backend as no servers", () => {
    expect(parseServersState(`1\n${HEADER}`, "/run/admin.sock")).toEqual([]);
  });

  it("rejects an error answer or another format version, naming the socket and quoting HAProxy", () => {
    expect(message(() => parseServersState("Can't find backend.", "/run/admin.sock"))).toBe(
      '/run/admin.sock: "show servers state" did not answer in format version 1; HAProxy answered: "Can\'t find backend."',
    );
    expect(message(() => parseServersState("2\n# be_id be_name", "/run/admin.sock"))).toBe(
      '/run/admin.sock: "show servers state" did not answer in format version 1; HAProxy answered: "2\\n# be_id be_name"',
    );
  });

  it("rejects a row cut short", () => {
    expect(message(() => parseServersState(`1\n${HEADER}\n3 be 1 s1 127.0.0.1`, "/run/admin.sock"))).toBe(
      '/run/admin.sock: row 3 has too few columns; HAProxy answered: "3 be 1 s1 127.0.0.1"',
    );
  });

  it("reads 100,000 rows", () => {
    const row = (i: number) =>
      `3 be_web ${i} web-${i} 127.0.0.1 2 0 1 1 12 6 3 4 6 0 0 0 - ${i % 60000} - 0 0 - - 0`;
    const answer = ["1", HEADER, ...Array.from({ length: 100_000 }, (_, i) => row(i + 1))].join("\n");
    const servers = parseServersState(answer, "/run/admin.sock");
    expect([servers.length, servers[99_999]]).toEqual([
      100_000,
      server({ backend: "be_web", name: "web-100000", id: 100_000, port: 40_000 }),
    ]);
  });
});

describe("adminStateOf and isRoutable", () => {
  it("derive maint, drain and ready from the admin bits as HAProxy does", () => {
    const { FMAINT, IMAINT, CMAINT, FDRAIN, IDRAIN, RMAINT, HMAINT } = ADMIN_STATE;
    const bits = [0, FMAINT, IMAINT, FMAINT | CMAINT, FDRAIN, IDRAIN, RMAINT, HMAINT, FMAINT | FDRAIN];
    expect(bits.map((adminState) => adminStateOf({ adminState }))).toEqual([
      "ready",
      "maint",
      "maint",
      "maint",
      "drain",
      "drain",
      "maint",
      "ready",
      "maint",
    ]);
  });

  it("count a server routable only while it is up and ready", () => {
    const servers = [
      server({}),
      server({ opState: 1 }),
      server({ opState: 0 }),
      server({ opState: 3 }),
      server({ adminState: ADMIN_STATE.FDRAIN }),
      server({ adminState: ADMIN_STATE.FMAINT }),
    ];
    expect(servers.map(isRoutable)).toEqual([true, true, false, false, false, false]);
  });
});

describe("parseShowInfo", () => {
  it("reads the process's identity and whether it is an old worker", () => {
    const answer = [
      "Name: HAProxy",
      "Version: 2.6.12-1+deb12u4",
      "Nbthread: 2",
      "Process_num: 1",
      "Pid: 11474",
      "Uptime: 0d 0h00m12s",
      "Uptime_sec: 12",
      "Stopping: 1",
      "Start_time_sec: 1796154904",
    ].join("\n");
    expect(parseShowInfo(answer, "/run/admin.sock")).toEqual({
      pid: 11474,
      processNum: 1,
      uptimeSec: 12,
      startTimeSec: 1796154904,
      stopping: true,
      version: "2.6.12-1+deb12u4",
    });
  });

  it("rejects an answer without a Pid, such as the master CLI's", () => {
    expect(
      message(() => parseShowInfo("Unknown command. Please enter one of the following", "/m.sock")),
    ).toBe(
      '/m.sock: "show info" has no Pid (is this the stats socket, not the master CLI?); HAProxy answered: "Unknown command. Please enter one of the following"',
    );
  });
});
