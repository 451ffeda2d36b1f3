import { describe, expect, it } from "vitest";
import { parseProcStat } from "../../bench/lib/cpu-time.js";
import { parseServersState, parseShowStat } from "../../bench/lib/haproxy.js";

describe("parseProcStat", () => {
  it("counts fields after the last parenthesis, so a comm with spaces and parentheses parses, and reads reaped children's time apart", () => {
    const fields = [
      "S",
      "1",
      ...Array.from({ length: 9 }, () => "0"),
      "250",
      "50",
      "7",
      "3",
      "20",
      "0",
      "1",
      "0",
      "5",
      "1000",
      "321",
    ];
    const text = `4242 (a (b) c) ${fields.join(" ")} 0 0\n`;
    expect(parseProcStat(text)).toEqual({
      pid: 4242,
      comm: "a (b) c",
      ppid: 1,
      cpuSeconds: 3,
      reapedCpuSeconds: 0.1,
      rssPages: 321,
    });
  });
});

describe("parseShowStat", () => {
  it("keeps server rows and adds sessions, connection errors and retries into attempts", () => {
    const csv = [
      "# pxname,svname,qcur,stot,econ,wretr,status,addr",
      "fe_web,FRONTEND,0,10,,,OPEN,",
      "web,b127_0_0_1_8001,0,7,2,1,UP,127.0.0.1:8001",
      "web,b127_0_0_1_8002,0,0,,,MAINT,127.0.0.1:8002",
      "web,BACKEND,0,7,2,1,UP,",
      "",
    ].join("\n");
    expect(parseShowStat(csv)).toEqual([
      { backend: "web", server: "b127_0_0_1_8001", addr: "127.0.0.1:8001", status: "UP", attempts: 10 },
      { backend: "web", server: "b127_0_0_1_8002", addr: "127.0.0.1:8002", status: "MAINT", attempts: 0 },
    ]);
  });
});

describe("parseServersState", () => {
  it("reads the columns by the header's names and skips comment lines", () => {
    const text = [
      "1",
      "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_port",
      "3 be_web 1 b127_0_0_1_8001 127.0.0.1 2 0 1 8001",
      "3 be_web 2 b127_0_0_1_8002 127.0.0.1 0 1 1 8002",
      "",
    ].join("\n");
    expect(parseServersState(text)).toEqual([
      {
        backend: "be_web",
        server: "b127_0_0_1_8001",
        addr: "127.0.0.1",
        port: 8001,
        opState: 2,
        adminState: 0,
      },
      {
        backend: "be_web",
        server: "b127_0_0_1_8002",
        addr: "127.0.0.1",
        port: 8002,
        opState: 0,
        adminState: 1,
      },
    ]);
  });

  it("refuses an answer that is not format version 1", () => {
    expect(() => parseServersState("Unknown command.\n")).toThrow(/unexpected answer/);
  });
});
