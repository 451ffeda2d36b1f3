/** Starts test/helpers/publisher-process.ts as one node process (tsx as a loader, so SIGKILL hits it). */
import type { ResultPromise } from "execa";

export interface PublisherArgs {
  endpoints: string[];
  prefix: string;
  hostId: string;
  ttlSeconds: number;
  address: string;
  ports: number[];
}

export const PUBLISHER_SCRIPT = new URL("./publisher-process.ts", import.meta.url).pathname;

/** The argv; `wrap` may run it elsewhere (a SimulatedHost's spawn). */
export function publisherArgv(args: PublisherArgs): string[] {
  return [process.execPath, "--import", "tsx", PUBLISHER_SCRIPT, JSON.stringify(args)];
}

/** Resolves once the process printed that etcd holds its set; rejects if it exits first. */
export function publishedBy(child: ResultPromise): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => chunk.toString().includes("published") && resolve());
    child.on("exit", (code) => reject(new Error(`the publisher process exited with ${code}`)));
  });
}
