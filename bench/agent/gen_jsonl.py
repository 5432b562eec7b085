#!/usr/bin/env python3
"""Writes N trail-JSONL lines of about 300 bytes (the seed field set) to a file.
Timestamps start ten minutes ago (1 ms apart, so a Loki-style receiver's
age and ordering rules accept them); request ids are unique."""
import sys, time
n, path = int(sys.argv[1]), sys.argv[2]
base_ms = int(time.time() * 1000) - 600_000
with open(path, "w") as f:
    for i in range(n):
        ms = base_ms + i % 600_000
        t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000))
        f.write('{"timestamp":"%s.%03dZ","service":"checkout","level":"info",'
                '"message":"order placed for customer","request_id":"req-%08d","machine_id":"m-42",'
                '"container_id":"c-7f3a9b","version":"1.4.2","region":"eu-west-1","pid":4242,'
                '"order_id":%d,"amount":%d.%02d,"items":%d,"user":"u-%06d","pad":"%s"}\n'
                % (t, ms % 1000, i, i, i % 997, i % 100, i % 9, i % 100000, "x" * 20))
