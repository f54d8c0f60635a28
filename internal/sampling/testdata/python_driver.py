"""Python X-Ray SDK (aws-xray-sdk) with its default centralized sampling,
pointed at the daemon address in argv[1]. Begins argv[3] segments per
second named argv[2] for argv[4] seconds and prints one line per segment:
"<second> <sampled 0|1> <rule name or ->". SDK logs go to stderr."""
import logging
import sys
import time

from aws_xray_sdk.core import xray_recorder

logging.basicConfig(stream=sys.stderr, level=logging.DEBUG)
address, name, rate, duration = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
xray_recorder.configure(daemon_address=address, context_missing="LOG_ERROR")

start = time.time()
while time.time() - start < duration:
    seg = xray_recorder.begin_segment(name)
    rule = seg.aws.get("xray", {}).get("sampling_rule_name") or "-"
    print(int(time.time() - start), int(seg.sampled), rule, flush=True)
    xray_recorder.end_segment()
    time.sleep(1.0 / rate)
