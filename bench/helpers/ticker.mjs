// Prints process.hrtime.bigint() (CLOCK_MONOTONIC ns, the clock of kernel event timestamps) every
// INTERVAL ms, one line each, COUNT times: the bench's stand-in for kernel events, arriving on a pipe
// as the probe's ring buffer arrives on an fd.
//   node ticker.mjs INTERVAL_MS COUNT
const [interval, count] = process.argv.slice(2).map(Number);
let sent = 0;
const timer = setInterval(() => {
  process.stdout.write(`${process.hrtime.bigint()}\n`);
  if (++sent === count) clearInterval(timer);
}, interval);
