#!/usr/bin/env python3
"""Cold-start baseline: `docker start CONTAINER`, then connect to SOCKET every 0.5 ms in this one
process (no process start-up per attempt) until it accepts. Prints the milliseconds from just
before `docker start` to the first accepted connection."""
import socket
import subprocess
import sys
import time

container, path = sys.argv[1], sys.argv[2]
t0 = time.monotonic()
starter = subprocess.Popen(["docker", "start", container], stdout=subprocess.DEVNULL)
while True:
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        break
    except OSError:
        time.sleep(0.0005)
    finally:
        s.close()
elapsed = (time.monotonic() - t0) * 1000
starter.wait()
print(f"{elapsed:.0f}")
