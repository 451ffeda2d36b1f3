/*
 * Load generators that must not be slowed by an interpreter, for the probe benchmarks.
 *   storm <base_port> <n_ports> <duration_ms>  socket/bind/listen/close as fast as possible on
 *                                              127.0.0.1 ports base..base+n-1; prints the cycle count.
 *   connloop <duration_ms>                     loopback connect/accept/close as fast as possible;
 *                                              prints the connection count.
 *   stamps <port> <count> <gap_us>             listen on 127.0.0.1:port count times, printing
 *                                              CLOCK_MONOTONIC ns right after each listen() returns.
 *   now                                        prints CLOCK_MONOTONIC ns (to check Node's clock).
 *   churn <port> <pool> <events_s> <hold_ms> <duration_ms>
 *                                              listens on 127.79.x.y:port, the pool's addresses in
 *                                              turn, events_s/2 times per second on a fixed schedule,
 *                                              each listener closed hold_ms later (so events_s
 *                                              listen + close events per second); prints the listens
 *                                              and the ns it ran, also when stopped by SIGTERM.
 * Sockets close with SO_LINGER 0 so the loop leaves no TIME_WAIT behind to exhaust ports.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void close_hard(int fd) {
  struct linger lg = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(fd);
}

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

static int storm(int base, int n, long long duration_ms) {
  long long end = now_ms() + duration_ms, cycles = 0;
  int one = 1;
  while ((cycles & 255) != 0 || now_ms() < end) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = loopback(base + (int)(cycles % n));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0) {
      perror("storm");
      return 1;
    }
    close(fd);
    cycles++;
  }
  printf("%lld\n", cycles);
  return 0;
}

static int connloop(long long duration_ms) {
  int srv = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = loopback(0);
  socklen_t len = sizeof sa;
  if (bind(srv, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(srv, 128) != 0 ||
      getsockname(srv, (struct sockaddr *)&sa, &len) != 0) {
    perror("connloop");
    return 1;
  }
  long long end = now_ms() + duration_ms, conns = 0;
  /* The clock is read every connection (a vDSO call, ~1 % of one): rounds end on time, not on a multiple. */
  while (now_ms() < end) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&sa, sizeof sa) != 0) {
      perror("connect");
      return 1;
    }
    int a = accept(srv, NULL, NULL);
    if (a < 0) {
      perror("accept");
      return 1;
    }
    close_hard(c);
    close_hard(a);
    conns++;
  }
  close(srv);
  printf("%lld\n", conns);
  return 0;
}

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int stamps(int port, int count, int gap_us) {
  int one = 1;
  /* Let the parent finish starting this process (execa and stream set-up keep Node's loop busy for
   * several ms): the first listens would otherwise measure that, not the probe's path. */
  usleep(200000);
  for (int i = 0; i < count; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = loopback(port);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0) {
      perror("stamps");
      return 1;
    }
    long long t = now_ns();
    printf("%lld\n", t);
    fflush(stdout);
    usleep(gap_us);
    close(fd);
    usleep(gap_us);
  }
  return 0;
}

static struct sockaddr_in churn_address(int port, int slot) {
  struct sockaddr_in sa = loopback(port);
  sa.sin_addr.s_addr = htonl((127u << 24) | (79u << 16) | ((unsigned)(slot / 250) << 8) | (unsigned)(slot % 250 + 1));
  return sa;
}

static volatile sig_atomic_t stop_requested;
static void request_stop(int sig) {
  (void)sig;
  stop_requested = 1;
}

static int churn(int port, int pool, int events_s, int hold_ms, long long duration_ms) {
  signal(SIGTERM, request_stop);
  int *fds = calloc(pool, sizeof *fds);
  long long *opened = calloc(pool, sizeof *opened);
  if (!fds || !opened || events_s < 2 || pool < 1) return 2;
  for (int i = 0; i < pool; i++) fds[i] = -1;
  long long start = now_ns(), end = start + duration_ms * 1000000LL, gap = 2000000000LL / events_s;
  long long listens = 0;
  int one = 1;
  for (long long now = start; now < end && !stop_requested; now = now_ns()) {
    for (int i = 0; i < pool; i++) {
      if (fds[i] >= 0 && now >= opened[i] + hold_ms * 1000000LL) {
        close(fds[i]);
        fds[i] = -1;
      }
    }
    long long due = start + listens * gap;
    if (now < due) {
      long long wait = due - now < 500000 ? due - now : 500000;
      struct timespec ts = {0, wait};
      nanosleep(&ts, NULL);
      continue;
    }
    int slot = (int)(listens % pool);
    if (fds[slot] >= 0) close(fds[slot]); /* pool smaller than rate x hold: reuse early */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = churn_address(port, slot);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0) {
      perror("churn");
      return 1;
    }
    fds[slot] = fd;
    opened[slot] = now_ns();
    listens++;
  }
  for (int i = 0; i < pool; i++)
    if (fds[i] >= 0) close(fds[i]);
  printf("%lld %lld\n", listens, now_ns() - start);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "storm") == 0) return storm(atoi(argv[2]), atoi(argv[3]), atoll(argv[4]));
  if (argc == 3 && strcmp(argv[1], "connloop") == 0) return connloop(atoll(argv[2]));
  if (argc == 5 && strcmp(argv[1], "stamps") == 0) return stamps(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
  if (argc == 2 && strcmp(argv[1], "now") == 0) return printf("%lld\n", now_ns()) < 0;
  if (argc == 7 && strcmp(argv[1], "churn") == 0)
    return churn(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoll(argv[6]));
  fprintf(stderr, "usage: bench-helper storm BASE N MS | connloop MS | stamps PORT COUNT GAP_US | now |\n"
                  "       churn PORT POOL EVENTS_S HOLD_MS MS\n");
  return 2;
}
