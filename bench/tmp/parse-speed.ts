import { parseConfig } from "../../src/targets/haproxy/server-lines.js";
const lines = ["global", "    stats socket /x level admin", "defaults", "    mode http", "backend be_web", "    balance roundrobin"];
for (let i = 0; i < 100000; i++) lines.push(`    server b127_77_${i >> 8}_${i & 255}_${10000 + (i % 50000)} 127.77.${i >> 8}.${i & 255}:${10000 + (i % 50000)} check inter 2s fastinter 500ms fall 3 rise 2`);
const text = lines.join("\n");
for (let k = 0; k < 5; k++) { const t = performance.now(); const p = parseConfig(text); console.log(`parse ${(performance.now() - t).toFixed(1)} ms, servers ${p.servers.size}`); }
