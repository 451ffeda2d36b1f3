import { describe, expect, it } from "vitest";
import { parseProcStat } from "../../bench/lib/cpu-time.js";
import { parseShowStat } from "../../bench/lib/haproxy.js";

describe("parseProcStat", () => {
  it("counts fields after the last parenthesis, so a comm with spaces and parentheses parses", () => {
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
    expect(parseProcStat(text)).toEqual({ pid: 4242, ppid: 1, cpuSeconds: 3, rssPages: 321 });
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
