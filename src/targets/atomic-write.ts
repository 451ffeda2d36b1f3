/**
 * Atomic replacement of a destination file: the new content is staged beside dest (same directory, so the
 * same filesystem and rename(2) is atomic), fsynced, checked by the caller, then renamed over dest. A
 * reader of dest (the load balancer, a reload) sees either the whole old or the whole new file.
 */
import { randomBytes } from "node:crypto";
import { chown, type FileHandle, open, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { LbwatchError } from "../errors.js";

/** Mode for a dest that did not exist yet (config files are readable, not secret by default). */
const NEW_FILE_MODE = 0o644;

export interface StagedFile {
  /** Path of the staged file: what `{staged}` in a check argv becomes. */
  readonly path: string;
  /**
   * Replace dest with the staged file. "rename" is the atomic path; "in-place" means rename was refused
   * with EBUSY (dest is a bind mount, as with a file mounted into a container) and dest was rewritten.
   */
  commit(): Promise<"rename" | "in-place">;
  /** Remove the staged file (after a failed check); never throws. */
  discard(): Promise<void>;
}

/** Read dest as text, or undefined when it does not exist yet. */
export async function readDest(dest: string): Promise<string | undefined> {
  try {
    const file = await open(dest, "r");
    try {
      return await file.readFile("utf8");
    } finally {
      await file.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw writeError(dest, "read", err);
  }
}

/** Write `content` to a new staged file beside dest with dest's mode and owner. */
export async function stage(dest: string, content: string): Promise<StagedFile> {
  const previous = await statOrUndefined(dest);
  const path = join(
    dirname(dest),
    `.${basename(dest)}.lbwatch-${process.pid}-${randomBytes(4).toString("hex")}`,
  );
  try {
    await writeSynced(path, content, "wx", previous?.mode ?? NEW_FILE_MODE);
    // Keep the owner of the file being replaced: a config owned by haproxy:haproxy stays so after rename.
    if (previous && (previous.uid !== process.getuid?.() || previous.gid !== process.getgid?.())) {
      await chown(path, previous.uid, previous.gid);
    }
  } catch (err) {
    await rm(path, { force: true });
    throw writeError(dest, "stage", err);
  }
  return {
    path,
    async commit() {
      try {
        await rename(path, dest);
        await fsyncDir(dirname(dest));
        return "rename";
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EBUSY") {
          await rm(path, { force: true });
          throw writeError(dest, "rename", err);
        }
      }
      try {
        await writeSynced(dest, content, "r+");
        return "in-place";
      } catch (err) {
        throw writeError(dest, "write in place", err);
      } finally {
        await rm(path, { force: true });
      }
    },
    async discard() {
      await rm(path, { force: true }).catch(() => undefined);
    },
  };
}

/** Stage and commit in one step: for content that needs no check (restoring the previous dest). */
export async function writeAtomic(dest: string, content: string): Promise<"rename" | "in-place"> {
  return (await stage(dest, content)).commit();
}

async function writeSynced(path: string, content: string, flags: "wx" | "r+", mode?: number): Promise<void> {
  const file: FileHandle = await open(path, flags, mode);
  try {
    if (flags === "r+") await file.truncate(0);
    await file.writeFile(content, "utf8");
    // open()'s mode is filtered by the umask; dest's exact mode is what we promised to keep.
    if (mode !== undefined) await file.chmod(mode & 0o7777);
    await file.sync();
  } finally {
    await file.close();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw writeError(path, "stat", err);
  }
}

function writeError(dest: string, step: string, err: unknown): LbwatchError {
  const reason = err instanceof Error ? err.message : String(err);
  return new LbwatchError(
    "E_WRITE",
    `${dest}: ${step} failed (${reason}); check that its directory exists and is writable by lbwatch`,
    { cause: err },
  );
}
