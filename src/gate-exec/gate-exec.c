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
 * Exit codes: 2 usage, 1 install failed, 127 exec failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static int usage(const char *why) {
  fprintf(stderr,
          "selfhost-gate-exec: %s\n"
          "usage: selfhost-gate-exec install DEST\n"
          "       selfhost-gate-exec wait [--absent=FILE]... [--port=PORT]... [--interval-ms=N] "
          "[--proc-net=PATH]... -- COMMAND [ARG]...\n",
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
      char *end;
      long p = strtol(a + 7, &end, 10);
      if (*end != '\0' || p < 1 || p > 65535) return usage("--port: must be a number from 1 to 65535");
      ports[n_ports++] = p;
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
  if (n_proc_net == 0) {
    proc_net[n_proc_net++] = "/proc/net/tcp";
    proc_net[n_proc_net++] = "/proc/net/tcp6";
  }
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

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "install") == 0) return install(argv[2]);
  if (argc >= 2 && strcmp(argv[1], "wait") == 0) return wait_then_exec(argc - 2, argv + 2);
  return usage("expected `install DEST` or `wait ... -- COMMAND`");
}
