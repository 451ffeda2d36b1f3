/**
 * `tls:` and `auth:` of an etcd connection: files named in the config, read and checked now, at load,
 * so that a bad file is one clear line at start (or a refused reload), never a handshake that fails
 * in a retry loop; and so that a SIGHUP reads rotated files again.
 *
 *   tls:  { ca: ca.crt, cert: client.crt, key: client.key }    # relative to the config file's directory
 *   auth: { username: lb, passwordFile: /etc/lbwatch/etcd-password }
 */
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { checkMapping, keyPath, type Problems, show } from "./problems.js";
import { parsePath } from "./targets.js";
import type { EtcdAuth, EtcdTls } from "./types.js";

const TLS_KEYS = ["ca", "cert", "key"] as const;
const AUTH_KEYS = ["username", "passwordFile"] as const;
const CERTIFICATE = "-----BEGIN CERTIFICATE-----";

async function readText(file: string, path: string, problems: Problems): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    problems.add(path, `cannot read ${file} (${code}): give a file this user can read`);
    return undefined;
  }
}

/** The PEM text of a certificate (or a CA bundle: its first certificate is checked), if it is one. */
async function readCertificate(file: string, path: string, problems: Problems) {
  const text = await readText(file, path, problems);
  if (text === undefined) return undefined;
  let cert: X509Certificate | undefined;
  try {
    cert = text.includes(CERTIFICATE) ? new X509Certificate(text) : undefined;
  } catch {
    cert = undefined;
  }
  if (!cert) {
    problems.add(path, `${file} is not a PEM certificate (${CERTIFICATE}): convert it with openssl x509`);
    return undefined;
  }
  if (Date.parse(cert.validTo) < Date.now()) {
    problems.add(path, `${file} expired on ${cert.validTo}: renew it`);
  }
  return { text, cert };
}

async function readKey(file: string, path: string, problems: Problems) {
  const text = await readText(file, path, problems);
  if (text === undefined) return undefined;
  try {
    return { text, key: createPrivateKey(text) };
  } catch (err) {
    // lbwatch runs unattended: nobody could type a passphrase.
    const why =
      (err as NodeJS.ErrnoException).code === "ERR_MISSING_PASSPHRASE"
        ? "is encrypted: lbwatch cannot ask for a passphrase; write it unencrypted (openssl pkey -in KEY -out KEY.plain)"
        : "is not a PEM private key (-----BEGIN PRIVATE KEY-----)";
    problems.add(path, `${file} ${why}`);
    return undefined;
  }
}

/** `tls: {ca, cert, key}`: every key optional, but cert and key go together and must be a pair. */
export async function parseEtcdTls(
  value: unknown,
  base: string,
  path: string,
  problems: Problems,
): Promise<EtcdTls | undefined> {
  const raw = checkMapping(value, TLS_KEYS, path, problems);
  if (!raw) return undefined;
  const files: Partial<Record<(typeof TLS_KEYS)[number], string>> = {};
  for (const key of TLS_KEYS) {
    if (raw[key] !== undefined) files[key] = parsePath(raw[key], base, keyPath(path, key), problems);
  }
  if ((raw.cert === undefined) !== (raw.key === undefined)) {
    const [given, missing] = raw.cert === undefined ? ["key", "cert"] : ["cert", "key"];
    problems.add(
      keyPath(path, missing),
      `is required with ${given}: a client certificate needs its private key and the key its certificate`,
    );
  }
  const ca = files.ca && (await readCertificate(files.ca, keyPath(path, "ca"), problems));
  const cert = files.cert && (await readCertificate(files.cert, keyPath(path, "cert"), problems));
  const key = files.key && (await readKey(files.key, keyPath(path, "key"), problems));
  if (cert && key && !matches(cert.cert, key.key)) {
    problems.add(keyPath(path, "key"), `${files.key} is not the private key of ${files.cert}`);
  }
  return {
    ...(ca ? { ca: ca.text } : {}),
    ...(cert && key ? { cert: cert.text, key: key.text } : {}),
  };
}

function matches(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false;
  }
}

/** `auth: {username, passwordFile}`: never an inline password, configs are often world-readable. */
export async function parseEtcdAuth(
  value: unknown,
  base: string,
  path: string,
  problems: Problems,
): Promise<EtcdAuth | undefined> {
  const raw = checkMapping(value, AUTH_KEYS, path, problems);
  if (!raw) return undefined;
  const username = typeof raw.username === "string" && raw.username !== "" ? raw.username : undefined;
  if (username === undefined) {
    const why = raw.username === undefined ? "is required" : `${show(raw.username)} is not a user name`;
    problems.add(keyPath(path, "username"), `${why}: the etcd user lbwatch logs in as`);
  }
  const passwordPath = keyPath(path, "passwordFile");
  const file = parsePath(raw.passwordFile, base, passwordPath, problems);
  const password = file === undefined ? undefined : await readPassword(file, passwordPath, problems);
  return username === undefined || password === undefined ? undefined : { username, password };
}

/** The file's content without its trailing newline; refused when others could read it, as ssh does. */
async function readPassword(file: string, path: string, problems: Problems): Promise<string | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (info && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
    problems.add(path, `${file} is open to group or others (mode ${mode}): chmod 600 it`);
    return undefined;
  }
  const text = await readText(file, path, problems);
  if (text === undefined) return undefined;
  const password = text.replace(/\r?\n$/, "");
  if (password === "") {
    problems.add(path, `${file} is empty: write the etcd user's password in it`);
    return undefined;
  }
  return password;
}
