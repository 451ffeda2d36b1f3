/**
 * A throwaway certificate authority for TLS tests, made with `openssl` (argv, no shell) in a temp dir:
 * a CA, etcd's server certificate for 127.0.0.1, a client certificate it signed, and a client
 * certificate of another CA that etcd must refuse. EC P-256 keys: fast to make on a busy machine.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";

export interface KeyPair {
  cert: string;
  key: string;
}

export interface TestPki {
  /** The CA that signed `server` and `client`. */
  ca: string;
  server: KeyPair;
  client: KeyPair;
  /** Signed by another CA: etcd's --trusted-ca-file does not vouch for it. */
  stranger: KeyPair;
}

/** No default extensions (Debian's openssl.cnf would mark every certificate a CA): only the ones given. */
const MINIMAL_CONFIG = "[req]\ndistinguished_name = dn\n[dn]\n";
const OPENSSL_TIMEOUT_MS = 30_000;

async function openssl(dir: string, args: string[]): Promise<void> {
  await execa("openssl", args, { cwd: dir, timeout: OPENSSL_TIMEOUT_MS, stdin: "ignore" });
}

function newKey(name: string, subject: string): string[] {
  return [
    "req",
    "-config",
    "openssl.cnf",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.crt`,
    "-subj",
    `/CN=${subject}`,
    "-days",
    "2",
  ];
}

async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(dir, [
    ...newKey(name, `lbwatch test ${name}`),
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}

async function makeLeaf(dir: string, ca: string, name: string, extensions: string[]): Promise<KeyPair> {
  await openssl(dir, [
    ...newKey(name, name),
    "-CA",
    `${ca}.crt`,
    "-CAkey",
    `${ca}.key`,
    "-addext",
    "basicConstraints=critical,CA:FALSE",
    ...extensions.flatMap((e) => ["-addext", e]),
  ]);
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

/** Makes the files in `dir` (which must exist). `clientName` is the client certificate's CN. */
export async function createTestPki(dir: string, clientName = "lbwatch-client"): Promise<TestPki> {
  await writeFile(join(dir, "openssl.cnf"), MINIMAL_CONFIG);
  await Promise.all([makeCa(dir, "ca"), makeCa(dir, "other-ca")]);
  const client = ["extendedKeyUsage=clientAuth"];
  const [server, signed, stranger] = await Promise.all([
    makeLeaf(dir, "ca", "server", ["subjectAltName=IP:127.0.0.1", "extendedKeyUsage=serverAuth"]),
    makeLeaf(dir, "ca", clientName, client),
    makeLeaf(dir, "other-ca", "stranger", client),
  ]);
  return { ca: join(dir, "ca.crt"), server, client: signed, stranger };
}
