/* selfhost-gate-exec: etcd's handover gate, inside etcd's own container.
 *
 * Why not an init container (as the apiserver's gate is): on a single control-plane node, the
 * moment the static etcd stops, the kubelet's housekeeping deletes its mirror pod through an
 * apiserver that is up but has no etcd. That request hangs for its full timeout (~34 s, then again),
 * and housekeeping runs in the kubelet's sync loop, which also has to notice an init container's
 * exit before it starts the pod's main container. The new etcd would wait for the kubelet, the
 * kubelet for the apiserver, the apiserver for etcd: measured at 100 s. Waiting inside the main
 * container, started while everything is still healthy, needs no kubelet at the moment of the
 * handover: etcd is exec'd as soon as the static one is gone.
 *
 * Usage (the etcd image has no shell and the selfhost image no etcd, so this is a static binary an
 * init container copies into a shared emptyDir):
 *   selfhost-gate-exec install DEST
 *       copy this binary to DEST (written to DEST.tmp, then renamed), mode 0755
 *   selfhost-gate-exec wait [--absent=FILE]... [--port=PORT]... [--interval-ms=N]
 *                           [--proc-net=PATH]... -- COMMAND [ARG]...
 *       wait until every FILE is absent and no socket LISTENs on any PORT (in /proc/net/tcp and
 *       /proc/net/tcp6 of the pod's network namespace: the host's, with hostNetwork), then
 *       execvp COMMAND with its arguments (same PID, environment and signals). Anything that
 *       cannot be checked counts as a reason to wait: opening wrongly would start a second etcd on
 *       the data directory. SIGTERM/SIGINT while waiting exit 143/130.
 *   selfhost-gate-exec checkpoint --standby=FILE [--port=PORT]... [--state=FILE] [--grace-ms=N]
 *                           [--fresh-ms=N] [--stop-timeout-ms=N] [--interval-ms=N]
 *                           [--proc-net=PATH]... -- COMMAND [ARG]...
 *       the supervisor of a checkpoint: a static pod the node agent keeps of the last known good
 *       self-hosted pod, dormant while the real pod runs. It runs COMMAND as its child only while
 *       the real instance is absent, and stops it when the real one is back:
 *        - dormant → active: FILE (the standby marker) is absent or older than --fresh-ms (default
 *          20000), and no socket LISTENs on any PORT, both for --grace-ms (default 3000) in a row;
 *        - active → dormant: a fresh FILE appears (the operator saw the real pod run and the agent
 *          refreshes the marker while the API answers): SIGTERM, then SIGKILL after
 *          --stop-timeout-ms (default 25000), so etcd never runs twice on one data directory;
 *        - a child that exits by itself is started again after grace, doubling to 30 s;
 *        - --state=FILE exists (its text "active") exactly while the child runs, for the agent's report;
 *        - SIGTERM/SIGINT stop the child the same way, then exit 128+signal.
 *       Why a marker that goes stale: the real pod can come back only through the API. While the
 *       API answers, the operator decides; when it does not (a cold boot, etcd or the apiserver
 *       gone), the marker ages out and the checkpoint brings the component up from the node's disk.
 * Exit codes: 2 usage, 1 install failed, 127 exec failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ITEMS 16
#define TCP_LISTEN 0x0A

static const char *absent[MAX_ITEMS];
static int n_absent;
static long ports[MAX_ITEMS];
static int n_ports;
static const char *proc_net[MAX_ITEMS];
static int n_proc_net;

static void on_signal(int sig) { _exit(128 + sig); }

static volatile sig_atomic_t stop_signal;
static void on_stop(int sig) { stop_signal = sig; }

static int usage(const char *why) {
  fprintf(stderr,
          "selfhost-gate-exec: %s\n"
          "usage: selfhost-gate-exec install DEST\n"
          "       selfhost-gate-exec wait [--absent=FILE]... [--port=PORT]... [--interval-ms=N] "
          "[--proc-net=PATH]... -- COMMAND [ARG]...\n"
          "       selfhost-gate-exec checkpoint --standby=FILE [--port=PORT]... [--state=FILE] [--grace-ms=N] "
          "[--fresh-ms=N] [--stop-timeout-ms=N] [--interval-ms=N] [--proc-net=PATH]... -- COMMAND [ARG]...\n",
          why);
  return 2;
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int install(const char *dest) {
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", dest) >= (int)sizeof tmp) return usage("DEST is too long");
  int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    perror("selfhost-gate-exec: open /proc/self/exe");
    return 1;
  }
  int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  if (out < 0) {
    fprintf(stderr, "selfhost-gate-exec: open %s: %s\n", tmp, strerror(errno));
    return 1;
  }
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0) {
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(out, buf + off, (size_t)(n - off));
      if (w < 0) {
        fprintf(stderr, "selfhost-gate-exec: write %s: %s\n", tmp, strerror(errno));
        return 1;
      }
      off += w;
    }
  }
  if (n < 0 || fchmod(out, 0755) < 0 || fsync(out) < 0 || close(out) < 0 || rename(tmp, dest) < 0) {
    fprintf(stderr, "selfhost-gate-exec: installing %s: %s\n", dest, strerror(errno));
    return 1;
  }
  close(in);
  return 0;
}

/* Parses a --port value into ports[]; 0 when it is not a number from 1 to 65535. */
static int add_port(const char *value) {
  char *end;
  long p = strtol(value, &end, 10);
  if (*end != '\0' || p < 1 || p > 65535) return 0;
  ports[n_ports++] = p;
  return 1;
}

/* Without --proc-net: the pod network namespace's TCP tables (the host's, with hostNetwork). */
static void default_proc_net(void) {
  if (n_proc_net > 0) return;
  proc_net[n_proc_net++] = "/proc/net/tcp";
  proc_net[n_proc_net++] = "/proc/net/tcp6";
}

/* Appends "; text" to the blockers. */
static void block(char *out, size_t size, const char *text) {
  size_t len = strlen(out);
  snprintf(out + len, size - len, "%s%s", len > 0 ? "; " : "", text);
}

/* What the gate still waits for, as text; empty when it may open. */
static void blockers(char *out, size_t size) {
  out[0] = '\0';
  for (int i = 0; i < n_absent; i++) {
    struct stat st;
    char text[4200];
    if (lstat(absent[i], &st) == 0) {
      snprintf(text, sizeof text, "%s exists", absent[i]);
      block(out, size, text);
    } else if (errno != ENOENT) {
      snprintf(text, sizeof text, "cannot tell whether %s exists: %s", absent[i], strerror(errno));
      block(out, size, text);
    }
  }
  if (n_ports == 0) return;
  int listening[MAX_ITEMS] = {0};
  int readable = 0;
  for (int i = 0; i < n_proc_net; i++) {
    FILE *f = fopen(proc_net[i], "re");
    if (f == NULL) {
      if (errno != ENOENT) {
        char text[4200];
        snprintf(text, sizeof text, "cannot read %s: %s", proc_net[i], strerror(errno));
        block(out, size, text);
      }
      continue;
    }
    readable++;
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
      /* "  sl  local_address rem_address   st ..." then "0: 0100007F:094B 00000000:0000 0A ..." */
      char local[128];
      unsigned int st;
      if (sscanf(line, " %*[0-9]: %127s %*s %x", local, &st) != 2 || st != TCP_LISTEN) continue;
      char *colon = strrchr(local, ':');
      if (colon == NULL) continue;
      long port = strtol(colon + 1, NULL, 16);
      for (int p = 0; p < n_ports; p++)
        if (ports[p] == port) listening[p] = 1;
    }
    fclose(f);
  }
  if (readable == 0) block(out, size, "none of the /proc/net/tcp files exists, so ports cannot be checked");
  for (int p = 0; p < n_ports; p++) {
    if (!listening[p]) continue;
    char text[64];
    snprintf(text, sizeof text, "port %ld is in LISTEN state", ports[p]);
    block(out, size, text);
  }
}

static int wait_then_exec(int argc, char **argv) {
  long interval_ms = 100;
  int i = 0;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--absent=", 9) == 0 && a[9] == '/' && n_absent < MAX_ITEMS) {
      absent[n_absent++] = a + 9;
    } else if (strncmp(a, "--port=", 7) == 0 && n_ports < MAX_ITEMS) {
      if (!add_port(a + 7)) return usage("--port: must be a number from 1 to 65535");
    } else if (strncmp(a, "--interval-ms=", 14) == 0) {
      char *end;
      interval_ms = strtol(a + 14, &end, 10);
      if (*end != '\0' || interval_ms < 1 || interval_ms > 60000) return usage("--interval-ms: must be 1..60000");
    } else if (strncmp(a, "--proc-net=", 11) == 0 && n_proc_net < MAX_ITEMS) {
      proc_net[n_proc_net++] = a + 11;
    } else {
      fprintf(stderr, "selfhost-gate-exec: unknown or invalid option %s\n", a);
      return usage("--absent needs an absolute path; at most 16 of each option");
    }
  }
  if (i >= argc - 1) return usage("no command after --");
  if (n_absent == 0 && n_ports == 0) return usage("give at least one --absent or --port");
  default_proc_net();
  char **command = argv + i + 1;

  struct sigaction stop = {.sa_handler = on_signal};
  sigaction(SIGTERM, &stop, NULL);
  sigaction(SIGINT, &stop, NULL);
  long started = now_ms(), last_log = -1;
  char why[2048];
  for (;;) {
    blockers(why, sizeof why);
    long waited = now_ms() - started;
    if (why[0] == '\0') {
      fprintf(stderr, "selfhost-gate-exec: gate open after %ld ms, exec %s\n", waited, command[0]);
      break;
    }
    if (last_log < 0 || now_ms() - last_log >= 10000) {
      last_log = now_ms();
      fprintf(stderr, "selfhost-gate-exec: waiting (%ld ms): %s\n", waited, why);
    }
    struct timespec ts = {.tv_sec = interval_ms / 1000, .tv_nsec = (interval_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  /* execvp resets the caught signals to their defaults; the command gets a clean slate. */
  execvp(command[0], command);
  fprintf(stderr, "selfhost-gate-exec: exec %s: %s\n", command[0], strerror(errno));
  return 127;
}

/* Parses a number option "--name=N" within [lo, hi]; 0 when the option is not this one. */
static int number_opt(const char *a, const char *name, long lo, long hi, long *out, int *bad) {
  size_t n = strlen(name);
  if (strncmp(a, name, n) != 0 || a[n] != '=') return 0;
  char *end;
  long v = strtol(a + n + 1, &end, 10);
  if (*end != '\0' || v < lo || v > hi) *bad = 1;
  else *out = v;
  return 1;
}

static void sleep_ms(long ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* The standby marker exists and was written less than fresh_ms ago. */
static int standby_fresh(const char *path, long fresh_ms) {
  struct stat st;
  if (stat(path, &st) != 0) return 0;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  long age = (long)(now.tv_sec - st.st_mtim.tv_sec) * 1000L + (now.tv_nsec - st.st_mtim.tv_nsec) / 1000000L;
  return age < fresh_ms;
}

static void set_state(const char *path, int active) {
  if (path == NULL) return;
  if (!active) {
    if (unlink(path) != 0 && errno != ENOENT) fprintf(stderr, "selfhost-gate-exec: removing %s: %s\n", path, strerror(errno));
    return;
  }
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, "active\n", 7) != 7 || close(fd) != 0 || rename(tmp, path) != 0)
    fprintf(stderr, "selfhost-gate-exec: writing %s: %s\n", path, strerror(errno));
}

/* Reaps every exited child (orphans are re-parented to PID 1); 1 when `child` was among them. */
static int reap(pid_t child, int *status) {
  int found = 0, st;
  pid_t r;
  while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
    if (r == child) {
      found = 1;
      *status = st;
    }
  }
  return found;
}

/* SIGTERM, then SIGKILL after timeout_ms; returns once the child is gone. */
static void stop_child(pid_t child, long timeout_ms) {
  int status;
  kill(child, SIGTERM);
  long deadline = now_ms() + timeout_ms;
  while (now_ms() < deadline) {
    if (reap(child, &status)) return;
    sleep_ms(50);
  }
  fprintf(stderr, "selfhost-gate-exec: the checkpoint's command did not stop within %ld ms: SIGKILL\n", timeout_ms);
  kill(child, SIGKILL);
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
}

static pid_t start_child(char **command) {
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    execvp(command[0], command);
    fprintf(stderr, "selfhost-gate-exec: exec %s: %s\n", command[0], strerror(errno));
    _exit(127);
  }
  if (pid < 0) fprintf(stderr, "selfhost-gate-exec: fork: %s\n", strerror(errno));
  return pid;
}

static int checkpoint(int argc, char **argv) {
  const char *standby = NULL, *state = NULL;
  long grace_ms = 3000, fresh_ms = 20000, stop_ms = 25000, interval_ms = 200;
  int i = 0, bad = 0;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--standby=", 10) == 0 && a[10] == '/') {
      standby = a + 10;
    } else if (strncmp(a, "--state=", 8) == 0 && a[8] == '/') {
      state = a + 8;
    } else if (strncmp(a, "--port=", 7) == 0 && n_ports < MAX_ITEMS) {
      if (!add_port(a + 7)) return usage("--port: must be a number from 1 to 65535");
    } else if (strncmp(a, "--proc-net=", 11) == 0 && n_proc_net < MAX_ITEMS) {
      proc_net[n_proc_net++] = a + 11;
    } else if (number_opt(a, "--grace-ms", 0, 600000, &grace_ms, &bad) || number_opt(a, "--fresh-ms", 1, 3600000, &fresh_ms, &bad) ||
               number_opt(a, "--stop-timeout-ms", 1, 600000, &stop_ms, &bad) || number_opt(a, "--interval-ms", 1, 60000, &interval_ms, &bad)) {
      if (bad) {
        fprintf(stderr, "selfhost-gate-exec: invalid value in %s\n", a);
        return usage("--grace-ms 0..600000, --fresh-ms 1..3600000, --stop-timeout-ms 1..600000, --interval-ms 1..60000");
      }
    } else {
      fprintf(stderr, "selfhost-gate-exec: unknown or invalid option %s\n", a);
      return usage("--standby and --state need absolute paths; at most 16 of each option");
    }
  }
  if (i >= argc - 1) return usage("no command after --");
  if (standby == NULL) return usage("checkpoint needs --standby=FILE");
  default_proc_net();
  char **command = argv + i + 1;
  struct sigaction stop = {.sa_handler = on_stop};
  sigaction(SIGTERM, &stop, NULL);
  sigaction(SIGINT, &stop, NULL);
  set_state(state, 0);

  pid_t child = 0;
  long free_since = -1, not_before = 0, started_at = 0, backoff_ms = grace_ms, last_log = -1;
  char why[2048], last_why[2048] = "";
  fprintf(stderr, "selfhost-gate-exec: checkpoint of %s dormant until %s is stale (%ld ms) and its ports are free (%ld ms)\n",
          command[0], standby, fresh_ms, grace_ms);
  while (!stop_signal) {
    int fresh = standby_fresh(standby, fresh_ms);
    int status;
    if (child > 0) {
      if (reap(child, &status)) {
        long ran = now_ms() - started_at;
        fprintf(stderr, "selfhost-gate-exec: the checkpoint's %s exited (%s %d) after %ld ms\n", command[0],
                WIFEXITED(status) ? "code" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), ran);
        child = 0;
        set_state(state, 0);
        backoff_ms = ran > 60000 ? grace_ms : (backoff_ms * 2 > 30000 ? 30000 : (backoff_ms * 2 < 1000 ? 1000 : backoff_ms * 2));
        not_before = now_ms() + backoff_ms;
        free_since = -1;
      } else if (fresh) {
        fprintf(stderr, "selfhost-gate-exec: %s is fresh (the real pod runs): stopping the checkpoint's %s\n", standby, command[0]);
        stop_child(child, stop_ms);
        child = 0;
        set_state(state, 0);
        backoff_ms = grace_ms;
        free_since = -1;
        fprintf(stderr, "selfhost-gate-exec: checkpoint dormant\n");
      }
    } else {
      int status_ignored;
      reap(0, &status_ignored);
      why[0] = '\0';
      if (fresh) snprintf(why, sizeof why, "%s is fresh", standby);
      else blockers(why, sizeof why);
      long t = now_ms();
      if (why[0] != '\0') {
        free_since = -1;
        if (strcmp(why, last_why) != 0 || last_log < 0 || t - last_log >= 300000) {
          fprintf(stderr, "selfhost-gate-exec: checkpoint dormant: %s\n", why);
          snprintf(last_why, sizeof last_why, "%s", why);
          last_log = t;
        }
      } else if (free_since < 0) {
        free_since = t;
      } else if (t - free_since >= grace_ms && t >= not_before) {
        fprintf(stderr, "selfhost-gate-exec: no real instance for %ld ms (%s absent or stale, ports free): starting the checkpoint's %s\n",
                t - free_since, standby, command[0]);
        child = start_child(command);
        if (child > 0) {
          started_at = t;
          set_state(state, 1);
        } else {
          child = 0;
          not_before = t + 1000;
        }
        last_why[0] = '\0';
      }
    }
    sleep_ms(interval_ms);
  }
  int sig = stop_signal;
  if (child > 0) {
    fprintf(stderr, "selfhost-gate-exec: signal %d: stopping the checkpoint's %s\n", sig, command[0]);
    stop_child(child, stop_ms);
    set_state(state, 0);
  }
  return 128 + sig;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "install") == 0) return install(argv[2]);
  if (argc >= 2 && strcmp(argv[1], "wait") == 0) return wait_then_exec(argc - 2, argv + 2);
  if (argc >= 2 && strcmp(argv[1], "checkpoint") == 0) return checkpoint(argc - 2, argv + 2);
  return usage("expected `install DEST`, `wait ... -- COMMAND` or `checkpoint ... -- COMMAND`");
}
