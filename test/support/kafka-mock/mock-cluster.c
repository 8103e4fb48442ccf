/*
 * An in-memory Kafka cluster for tests, from librdkafka's mock broker.
 *
 *   mock-cluster [--brokers=N] topic:partitions...   (N defaults to 3)
 *
 * Prints the bootstrap server list as one line on stdout, then serves until
 * stdin closes or SIGTERM/SIGINT arrives. Watching stdin means the cluster
 * dies with its parent even when the parent is killed without cleaning up.
 *
 * Build: cc -o mock-cluster mock-cluster.c -lrdkafka
 */
#define _GNU_SOURCE /* for signalfd() under a strict -std */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static int parse_positive(const char *text, int *out) {
  char *end = NULL;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 1 || value > INT_MAX) return -1;
  *out = (int)value;
  return 0;
}

static int create_topic(rd_kafka_mock_cluster_t *cluster, const char *spec, int brokers) {
  const char *colon = strrchr(spec, ':');
  int partitions = 0;
  if (colon == NULL || colon == spec || parse_positive(colon + 1, &partitions) != 0) {
    fprintf(stderr, "mock-cluster: topic must be name:partitions, got '%s'\n", spec);
    return -1;
  }
  char name[256];
  size_t len = (size_t)(colon - spec);
  if (len >= sizeof name) {
    fprintf(stderr, "mock-cluster: topic name too long: '%s'\n", spec);
    return -1;
  }
  memcpy(name, spec, len);
  name[len] = '\0';

  /* Replicate to every broker so acks=all waits on a real ISR of that size. */
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster, name, partitions, brokers);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    fprintf(stderr, "mock-cluster: creating topic '%s': %s\n", name, rd_kafka_err2str(err));
    return -1;
  }
  return 0;
}

/* Blocks until stdin reaches EOF or a termination signal is delivered. */
static void wait_for_shutdown(int signal_fd) {
  struct pollfd fds[2] = {
      {.fd = STDIN_FILENO, .events = POLLIN},
      {.fd = signal_fd, .events = POLLIN},
  };
  char buf[256];
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if (fds[0].revents != 0) {
      /* Input is ignored; only its end matters. */
      ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
      if (n <= 0 && !(n < 0 && errno == EINTR)) return;
    }
  }
}

int main(int argc, char **argv) {
  int brokers = 3;
  int first_topic = 1;
  if (argc > 1 && strncmp(argv[1], "--brokers=", 10) == 0) {
    if (parse_positive(argv[1] + 10, &brokers) != 0) {
      fprintf(stderr, "mock-cluster: bad broker count '%s'\n", argv[1] + 10);
      return 2;
    }
    first_topic = 2;
  }

  /*
   * Block the signals before librdkafka starts its threads, which inherit the
   * mask, so they are only ever consumed through the signalfd below.
   */
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  sigprocmask(SIG_BLOCK, &stop_signals, NULL);
  int signal_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC);
  if (signal_fd < 0) {
    perror("mock-cluster: signalfd");
    return 1;
  }
  /* A parent that stops reading stdout must not kill the cluster mid-test. */
  signal(SIGPIPE, SIG_IGN);

  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  /* The handle only hosts the mock; its own client chatter is noise. */
  if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    fprintf(stderr, "mock-cluster: %s\n", errstr);
    return 1;
  }
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == NULL) {
    fprintf(stderr, "mock-cluster: rd_kafka_new: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t *cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (cluster == NULL) {
    fprintf(stderr, "mock-cluster: rd_kafka_mock_cluster_new failed\n");
    rd_kafka_destroy(rk);
    return 1;
  }

  int status = 0;
  for (int i = first_topic; i < argc && status == 0; i++) {
    if (create_topic(cluster, argv[i], brokers) != 0) status = 2;
  }

  if (status == 0) {
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
    fflush(stdout);
    wait_for_shutdown(signal_fd);
  }

  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  close(signal_fd);
  return status;
}
