#!/usr/bin/env python3
"""A network link with delay and loss, for kernels without sch_netem (tc netem).

usage: delay-line.py TUN_A TUN_B DELAY_MS LOSS_PERCENT

Creates two TUN devices in the current network namespace, prints "ready", then copies every IP packet that
arrives on one to the other after DELAY_MS, dropping LOSS_PERCENT of them at random: a point-to-point link whose two
ends the caller moves into the namespaces it connects. Ends with its devices when killed.
Python because opening a TUN device needs ioctl(TUNSETIFF), which Node cannot call without a native addon.
"""
import fcntl
import heapq
import os
import random
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    a, b = open_tun(sys.argv[1]), open_tun(sys.argv[2])
    delay = float(sys.argv[3]) / 1000.0
    loss = float(sys.argv[4]) / 100.0
    other = {a: b, b: a}
    queue = []
    seq = 0
    print("ready", flush=True)
    while True:
        now = time.monotonic()
        timeout = max(0.0, queue[0][0] - now) if queue else 1.0
        readable, _, _ = select.select([a, b], [], [], timeout)
        now = time.monotonic()
        for fd in readable:
            packet = os.read(fd, 65535)
            if random.random() < loss:
                continue
            seq += 1
            heapq.heappush(queue, (now + delay, seq, other[fd], packet))
        while queue and queue[0][0] <= now:
            _, _, out, packet = heapq.heappop(queue)
            try:
                os.write(out, packet)
            except OSError:
                pass  # the far end is down for a moment (link moved or not up yet): the packet is lost, as on a wire


if __name__ == "__main__":
    main()
