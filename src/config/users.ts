import { readFile } from "node:fs/promises";

/** User name → uid from a passwd file; read once per config load, and only when a name is used. */
export async function readUsers(passwdFile = "/etc/passwd"): Promise<Map<string, number>> {
  const users = new Map<string, number>();
  const text = await readFile(passwdFile, "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    const [name, , uid] = line.split(":");
    if (name && uid && /^\d+$/.test(uid)) users.set(name, Number(uid));
  }
  return users;
}
