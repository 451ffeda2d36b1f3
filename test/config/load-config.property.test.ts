/**
 * Whatever YAML a config file holds, loadConfig either returns a config or throws one LbwatchError
 * with a documented code: never a TypeError, a RangeError or a crash in a parser.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadConfig } from "../../src/config/load-config.js";
import { type ErrorCode, LbwatchError } from "../../src/errors.js";

const CODES: ErrorCode[] = [
  "E_CONFIG",
  "E_USAGE",
  "E_TEMPLATE",
  "E_BPF_PERM",
  "E_BPF_LOAD",
  "E_ADDON",
  "E_PROC",
  "E_CHECK_FAILED",
  "E_RELOAD_FAILED",
  "E_WRITE",
  "E_HAPROXY_API",
];
const template = resolve(import.meta.dirname, "../fixtures/templates/backends.hbs");

/** Values a careless or hostile config could hold where any given key is expected. */
const scalar = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.stringMatching(/^\d{1,25}(\.\d{1,3})?(ms|s|m|h)$/),
  fc.constantFrom("0", "any", "host", "allow", "refuse", "[", "/run/netns/x", "8000-8099", "::1", template),
);
const value = fc.oneof(
  scalar,
  fc.array(scalar, { maxLength: 4 }),
  fc.dictionary(fc.string(), scalar, { maxKeys: 3 }),
);

const service = fc.record(
  {
    ports: fc.oneof(
      value,
      fc.array(fc.oneof(fc.integer({ min: -1, max: 70_000 }), fc.string()), { maxLength: 3 }),
    ),
    uid: value,
    comm: fc.oneof(value, fc.array(fc.string(), { maxLength: 3 })),
    cgroup: value,
    netns: value,
    userns: value,
    addr: value,
  },
  { requiredKeys: [] },
);

const target = fc.record(
  {
    template: fc.oneof(value, fc.constant(template)),
    dest: fc.oneof(value, fc.constant("/tmp/lbwatch-property.cfg")),
    check: value,
    reload: value,
    commandTimeout: value,
    haproxy: value,
  },
  { requiredKeys: [] },
);

const document = fc.oneof(
  fc
    .record(
      {
        hostAddress: value,
        hostAddress6: value,
        wait: fc.oneof(value, fc.record({ min: value, max: value }, { requiredKeys: [] })),
        resync: value,
        services: fc.oneof(value, fc.dictionary(fc.string({ maxLength: 8 }), service, { maxKeys: 3 })),
        targets: fc.oneof(value, fc.array(target, { maxLength: 2 })),
      },
      { requiredKeys: [] },
    )
    .map((doc) => stringify(doc)),
  value.map((doc) => stringify(doc)),
  // Text that is rarely YAML at all.
  fc.string({ unit: "binary", maxLength: 200 }),
);

describe("loadConfig on random documents", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lbwatch-config-property-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("returns a config or throws an LbwatchError with one of lbwatch's codes", async () => {
    const file = join(dir, "lbwatch.yaml");
    await fc.assert(
      fc.asyncProperty(document, async (text) => {
        await writeFile(file, text);
        const outcome = await loadConfig(file).then(
          () => "ok",
          (err: unknown) => (err instanceof LbwatchError && CODES.includes(err.code) ? "coded" : err),
        );
        expect(["ok", "coded"]).toContain(outcome);
      }),
      { numRuns: 300 },
    );
  }, 30_000);
});
