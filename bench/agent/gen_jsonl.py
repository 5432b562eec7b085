#!/usr/bin/env python3
"""Writes N trail-JSONL lines of about 300 bytes (the seed field set) to a file."""
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    for i in range(n):
        f.write('{"timestamp":"2026-11-24T10:00:%02d.%03dZ","service":"checkout","level":"info",'
                '"message":"order placed for customer","request_id":"req-%08d","machine_id":"m-42",'
                '"container_id":"c-7f3a9b","version":"1.4.2","region":"eu-west-1","pid":4242,'
                '"order_id":%d,"amount":%d.%02d,"items":%d,"user":"u-%06d","pad":"%s"}\n'
                % (i // 1000 % 60, i % 1000, i, i, i % 997, i % 100, i % 9, i % 100000, "x" * 20))
