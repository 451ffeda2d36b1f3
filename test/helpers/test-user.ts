/**
 * An unprivileged local user made by a test (`useradd`), for running what any user of the machine
 * could run: processes start through `setpriv` with that uid and gid and no supplementary groups.
 * remove() kills what run() started and deletes the user.
 */
import { execa, type ResultPromise } from "execa";

export interface TestUser {
  name: string;
  uid: number;
  /** Starts argv as the user; stdin stays open (fixtures live until it closes). */
  run(argv: string[]): ResultPromise<{ reject: false }>;
  remove(): Promise<void>;
}

export async function createTestUser(tag: string): Promise<TestUser> {
  const name = `lbw-${tag}-${process.pid}`.slice(0, 32);
  await execa("useradd", ["--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", name]);
  const uid = Number((await execa("id", ["-u", name])).stdout);
  const children: ResultPromise<{ reject: false }>[] = [];
  return {
    name,
    uid,
    run(argv) {
      const child = execa("setpriv", ["--reuid", name, "--regid", name, "--clear-groups", "--", ...argv], {
        reject: false,
      });
      children.push(child);
      return child;
    },
    async remove() {
      for (const child of children) child.kill("SIGKILL");
      await Promise.allSettled(children);
      await execa("userdel", [name], { reject: false });
    },
  };
}
