/* rate_writer.c — appends ~300-byte trail JSONL lines (the field set of
 * gen_jsonl.py, current timestamps, a unique request id per line) to a
 * file at a steady rate: every 10 ms, rate/100 lines in one write().
 *   rate_writer FILE LINES_PER_SECOND SECONDS */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 4) return fprintf(stderr, "usage: rate_writer FILE LINES_PER_SECOND SECONDS\n"), 2;
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) return perror(argv[1]), 1;
    long rate = atol(argv[2]), secs = atol(argv[3]);
    long per_tick = rate / 100 > 0 ? rate / 100 : 1;
    char *buf = malloc((size_t)per_tick * 400);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    long seq = 0;
    for (long tick = 0; tick < secs * 100; tick++) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        char ts[32];
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
        size_t len = 0;
        for (long i = 0; i < per_tick; i++, seq++)
            len += (size_t)sprintf(buf + len,
                                   "{\"timestamp\":\"%s.%03ldZ\",\"service\":\"checkout\",\"level\":\"info\","
                                   "\"message\":\"order placed for customer\",\"request_id\":\"req-%08ld\","
                                   "\"machine_id\":\"m-42\",\"container_id\":\"c-7f3a9b\",\"version\":\"1.4.2\","
                                   "\"region\":\"eu-west-1\",\"pid\":4242,\"order_id\":%ld,\"amount\":%ld.%02ld,"
                                   "\"items\":%ld,\"user\":\"u-%06ld\",\"pad\":\"xxxxxxxxxxxxxxxxxxxx\"}\n",
                                   ts, now.tv_nsec / 1000000, seq, seq, seq % 997, seq % 100, seq % 9, seq % 100000);
        if (write(fd, buf, len) != (ssize_t)len) return perror("write"), 1;
        next.tv_nsec += 10000000;
        if (next.tv_nsec >= 1000000000) next.tv_sec++, next.tv_nsec -= 1000000000;
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    printf("%ld\n", seq);
    return 0;
}
