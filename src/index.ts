// lbwatch's public entry: composes and re-exports, nothing else.
export { Controller, type ControllerOptions, type ControllerSnapshot } from "./controller/controller.js";
export type { Observer } from "./controller/observer.js";
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
export { hostNetnsInode, netnsInodeOfPath, netnsOfPid } from "./probe/netns.js";
export { type ProcTcpEntry, parseProcNetTcp, readProcNetTcp } from "./probe/proc-net-tcp.js";
export { snapshot } from "./probe/snapshot.js";
export type { Backend } from "./registry/backend.js";
export type { RegistryChange } from "./registry/registry.js";
export type { BackendView, RenderContext } from "./render/context.js";
export { createSources } from "./sources/index.js";
export type {
  BackendClaim,
  ReplaceInfo,
  Source,
  SourceContext,
  SourceSink,
  SourceStatus,
} from "./sources/source.js";
export type { Target, TargetObserver, TargetStatus } from "./targets/target.js";
