/** The message of the LbwatchError a test expects, so that assertions compare whole messages. */
import { type ErrorCode, isLbwatchError } from "../../src/errors.js";

/** Runs `run` and returns the message of the LbwatchError with `code` it throws; fails otherwise. */
export function thrownMessage(code: ErrorCode, run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (isLbwatchError(err, code)) return err.message;
    throw err;
  }
  throw new Error(`expected ${code}, but nothing was thrown`);
}

/** The message of the LbwatchError with `code` that `promise` rejects with; fails otherwise. */
export async function rejectedMessage(code: ErrorCode, promise: Promise<unknown>): Promise<string> {
  const outcome = await promise.then(
    () => new Error(`expected ${code}, but the promise resolved`),
    (err: unknown) => err,
  );
  if (isLbwatchError(outcome, code)) return outcome.message;
  throw outcome;
}
