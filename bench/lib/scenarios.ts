/**
 * The situations lb-contenders measures every contender in (issue 13): quiet; churn (matching
 * listen/close events per second on another service while the trials run); scale (other backends
 * already routed, in services of 1,000). Which run and how many trials depends on the mode:
 * `--quick` (bench-quick), the default (make bench, within 10 minutes) and `--full` (the 100,000
 * sizes, more trials: about 25 minutes).
 */
import { CONTENDERS } from "./contenders.js";

export type Mode = "quick" | "default" | "full";

export interface Scenario {
  name: string;
  family: "quiet" | "churn" | "scale";
  contenders: string[];
  trials: number;
  /** Matching listen + close events per second on the churn service during the trials. */
  churnPerSec?: number;
  /** Other backends routed before the contender starts (idle listeners). */
  otherBackends: number;
  /** Rolling restart of the web backends under load (quiet only: it measures failed requests). */
  restart: boolean;
  /** Idle CPU window before the trials, ms. */
  idleWindowMs?: number;
}

/** The contenders of the churn and scale families. */
const FAMILY = ["lbwatch-api", "hc-aggressive", "poll-100ms"];

export function scenarios(mode: Mode): Scenario[] {
  const trials = { quick: 10, default: 25, full: 50 }[mode];
  const window = mode === "quick" ? 2000 : 5000;
  const quiet: Scenario = {
    name: "quiet",
    family: "quiet",
    contenders: CONTENDERS.map((c) => c.name),
    trials: { quick: 10, default: 25, full: 50 }[mode],
    otherBackends: 0,
    restart: true,
    idleWindowMs: window,
  };
  const churn = (perSec: number): Scenario => ({
    name: `churn-${perSec}`,
    family: "churn",
    contenders: FAMILY,
    trials,
    churnPerSec: perSec,
    otherBackends: 0,
    restart: false,
  });
  const scale = (n: number): Scenario => ({
    name: `scale-${n / 1000}k`,
    family: "scale",
    contenders: FAMILY,
    trials,
    otherBackends: n,
    restart: false,
    idleWindowMs: window,
  });
  if (mode === "quick") return [quiet, churn(1000), scale(10_000)];
  const all = [quiet, churn(200), churn(1000), scale(1000), scale(10_000)];
  return mode === "full" ? [...all, scale(100_000)] : all;
}
