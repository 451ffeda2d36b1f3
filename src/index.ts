// lbwatch's public entry: composes and re-exports, nothing else.
export { type ErrorCode, isLbwatchError, LbwatchError } from "./errors.js";
export type { HookName, ListenEvent, ListenEventType, Listener } from "./probe/event.js";
export { formatInet, formatIPv4, formatIPv6 } from "./probe/inet.js";
export { ListenProbe, type LostInfo, type ProbeOptions, type ProbeStats } from "./probe/listen-probe.js";
export {
  type ApplyResult,
  type ListenerDiff,
  ListenerTable,
  type Listening,
  startListening,
} from "./probe/listener-table.js";
export { hostNetnsInode, netnsAddresses, netnsInodeOfPath, netnsOfPid } from "./probe/netns.js";
export { type ProcTcpEntry, parseProcNetTcp, readProcNetTcp } from "./probe/proc-net-tcp.js";
export { snapshot } from "./probe/snapshot.js";
