"""Peak memory of runs above the idle process (issue 11: <= 150 MB per run above the idle
app), measured in a fresh subprocess.

    python benchmarks/memory.py [--concurrent 5]

In each process: torch and the engine imported (the idle app's state), then one short
training (torch imports more on a first optimizer step: reported apart, as the app pays it
once), then one default run (train, DAS, neuron-wise search, every control), then
`--concurrent` default runs at once in threads of one process (as the app's job workers,
different seeds). Prints VmRSS/VmHWM in MB after each stage and the peaks above the warmed
process.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys
from concurrent.futures import ThreadPoolExecutor
sys.path.insert(0, {root!r})
from explorer.core import rng
rng.fix_threads()
from explorer.core.config import RunConfig
from explorer.core.train import train_model
from explorer.methods.experiment import run

def status(name):
    text = open("/proc/self/status").read()
    return int(text.split(name + ":")[1].split()[0]) // 1024

out = {{"idle": status("VmRSS")}}
train_model(RunConfig().with_values(train_steps=20))
out["warm"] = status("VmRSS")
out["warm_hwm"] = status("VmHWM")
run(RunConfig())
out["one_run_hwm"] = status("VmHWM")
with ThreadPoolExecutor({n}) as pool:
    list(pool.map(lambda s: run(RunConfig().with_values(seed=s)), range(1, {n} + 1)))
out["concurrent_hwm"] = status("VmHWM")
print(json.dumps(out))
"""


def measure(concurrent: int) -> dict:
    code = CHILD.format(root=str(ROOT), n=concurrent)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrent", type=int, default=5)
    args = parser.parse_args()
    m = measure(args.concurrent)
    print(f"idle {m['idle']} MB, after a first training step {m['warm']} MB "
          f"(+{m['warm'] - m['idle']} one-time imports); one default run peaks "
          f"+{m['one_run_hwm'] - m['warm']} MB above that; {args.concurrent} concurrent "
          f"runs +{m['concurrent_hwm'] - m['warm']} MB (+"
          f"{(m['concurrent_hwm'] - m['warm']) / args.concurrent:.0f} MB per run); "
          f"target <= 150 MB per run", flush=True)


if __name__ == "__main__":
    main()
