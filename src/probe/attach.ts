/**
 * Hook fallback: tries each requested hook in order (a fresh object per attempt, since a failed load
 * leaves the object unusable) and turns the failures into one LbwatchError: E_BPF_PERM when every
 * hook was refused for lack of privilege, else E_BPF_LOAD listing every hook and why it failed.
 */
import { LbwatchError } from "../errors.js";
import type { HookName } from "./event.js";
import type { NativeAddon, NativeError, NativeProbe } from "./native.js";

const PERMISSION_CODES = new Set(["EPERM", "EACCES"]);

function isNativeError(err: unknown): err is NativeError {
  return err instanceof Error && typeof (err as NativeError).code === "string" && "hook" in err;
}

/** One line per failure: the step, the errno text and libbpf's last specific log line about it. */
function describeFailure(err: NativeError, withLog: boolean): string {
  const last = (withLog ? (err.libbpfLog ?? "") : "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.includes("failed to load object"))
    .at(-1);
  return `${err.hook}: ${err.message} (${err.code})${last ? ` [${last}]` : ""}`;
}

export function attachFirst(
  addon: NativeAddon,
  objectPath: string,
  hooks: readonly HookName[],
  ringBytes: number,
): { probe: NativeProbe; hook: HookName } {
  const failures: NativeError[] = [];
  for (const hook of hooks) {
    try {
      return { probe: new addon.Probe({ objectPath, hook, ringBytes }), hook };
    } catch (err) {
      if (!isNativeError(err))
        throw new LbwatchError("E_ADDON", `lbwatch addon: ${String(err)}`, { cause: err });
      failures.push(err);
    }
  }
  const denied = failures.every((f) => PERMISSION_CODES.has(f.code));
  // libbpf's advice on EPERM (CONFIG_BPF_SYSCALL, RLIMIT_MEMLOCK) misleads here: leave it out.
  const tried = failures.map((f) => `  ${describeFailure(f, !denied)}`).join("\n");
  const cause = new AggregateError(failures, "every hook failed");
  if (denied) {
    throw new LbwatchError(
      "E_BPF_PERM",
      "loading the BPF probe was refused: lbwatch needs root, or CAP_BPF+CAP_PERFMON (and CAP_SYS_ADMIN " +
        "to mount tracefs for the tracepoint hook): run it as root or give its process those " +
        `capabilities. Tried:\n${tried}`,
      { cause },
    );
  }
  throw new LbwatchError(
    "E_BPF_LOAD",
    `no kernel hook could be loaded and attached from ${objectPath}. Tried:\n${tried}\n` +
      "tp_btf needs kernel BTF (/sys/kernel/btf/vmlinux), tracepoint needs tracefs and the " +
      "sock:inet_sock_set_state event, kprobe needs CONFIG_KPROBES.",
    { cause },
  );
}
