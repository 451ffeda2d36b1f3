/**
 * A client for HAProxy's stats socket at level admin: the server-level commands lbwatch needs for
 * hitless updates. HAProxy answers errors as free text on success-looking connections, so each command
 * states what a successful answer looks like and anything else becomes an E_HAPROXY_API error.
 */
import { LbwatchError } from "../../errors.js";
import { sendCommand } from "./cli-socket.js";

const DEFAULT_TIMEOUT_MS = 2000;

/** One row of `show servers state`. */
export interface ServerState {
  backend: string;
  name: string;
  address: string;
  port: number;
  /** 0 stopped, 1 starting, 2 running, 3 stopping. */
  opState: number;
  /** Bit field; 0x01 forced maintenance (`set server ... state maint`), 0 when ready. */
  adminState: number;
}

export class RuntimeApi {
  readonly socketPath: string;
  readonly #timeoutMs: number;

  constructor(socketPath: string, options: { timeoutMs?: number } = {}) {
    this.socketPath = socketPath;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Sends one command and returns HAProxy's answer as is. */
  run(command: string): Promise<string> {
    return sendCommand(this.socketPath, command, { timeoutMs: this.#timeoutMs });
  }

  /** `add server b/s addr:port [options]`: the server starts in maintenance until enabled. */
  async addServer(
    backend: string,
    name: string,
    endpoint: string,
    options: readonly string[],
  ): Promise<void> {
    const command = ["add server", `${backend}/${name}`, endpoint, ...options].join(" ");
    await this.#expect(command, (answer) => answer.startsWith("New server registered."));
  }

  enableServer(backend: string, name: string): Promise<void> {
    return this.#expectSilence(`enable server ${backend}/${name}`);
  }

  /** Dynamic servers start with their checks off even when added with `check`. */
  enableHealth(backend: string, name: string): Promise<void> {
    return this.#expectSilence(`enable health ${backend}/${name}`);
  }

  enableAgent(backend: string, name: string): Promise<void> {
    return this.#expectSilence(`enable agent ${backend}/${name}`);
  }

  setMaintenance(backend: string, name: string): Promise<void> {
    return this.#expectSilence(`set server ${backend}/${name} state maint`);
  }

  /**
   * `del server`: HAProxy refuses while the server is out of maintenance or still has connections;
   * resolves false for the latter so the caller can wait and try again.
   */
  async deleteServer(backend: string, name: string): Promise<boolean> {
    const command = `del server ${backend}/${name}`;
    const answer = (await this.run(command)).trim();
    if (answer === "Server deleted.") return true;
    if (/connection|queue/i.test(answer)) return false;
    throw apiError(this.socketPath, command, answer);
  }

  async serversState(backend?: string): Promise<ServerState[]> {
    const answer = await this.run(backend ? `show servers state ${backend}` : "show servers state");
    const rows = dataRows(answer).filter((fields) => fields.length >= 19);
    if (rows.length === 0 && !/^\d+\n#/.test(answer)) {
      throw apiError(this.socketPath, "show servers state", answer);
    }
    // Columns (HAProxy 2.6, format version 1): be_id be_name srv_id srv_name srv_addr srv_op_state
    // srv_admin_state ... srv_port is the 19th.
    return rows.map((f) => ({
      backend: f[1] as string,
      name: f[3] as string,
      address: f[4] as string,
      opState: Number(f[5]),
      adminState: Number(f[6]),
      port: Number(f[18]),
    }));
  }

  async #expect(command: string, ok: (answer: string) => boolean): Promise<void> {
    const answer = await this.run(command);
    if (!ok(answer)) throw apiError(this.socketPath, command, answer);
  }

  /** State-changing commands answer nothing (an empty line) when they succeed. */
  #expectSilence(command: string): Promise<void> {
    return this.#expect(command, (answer) => answer.trim() === "");
  }
}

function dataRows(answer: string): string[][] {
  return answer
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => line.trim().split(/\s+/));
}

function apiError(socketPath: string, command: string, answer: string): LbwatchError {
  const said = answer.trim() || "(nothing)";
  return new LbwatchError("E_HAPROXY_API", `${socketPath}: "${command}" failed: ${said}`);
}
