"""The PyTorch side of bench:peers: the three reference nets of bench/nets.ts, trained on one thread.

Started by bench/peers.ts with the path of a file of training batches (float32 images [n, 64, 28, 28] then int32
labels [n, 64], little-endian). Reads one JSON request per line on stdin, {"net": NAME, "steps": N, "warm": W},
and answers one JSON line on stdout: {"net", "params", "msPerStep", "loss"}. Same layers, 'same' padding,
batch 64, Adam (lr 1e-3, tfjs's epsilon 1e-7), softmax cross-entropy and batch-norm settings (eps 1e-3,
momentum 0.99 in Keras terms) as the tfjs side; NCHW, PyTorch's own layout.
"""

import json
import sys
import time

import torch
from torch import nn

torch.set_num_threads(1)
torch.set_num_interop_threads(1)
BATCH = 64


def conv(cin, cout):
    return nn.Conv2d(cin, cout, 3, padding=1)


def bn(c):
    # Keras' momentum 0.99 is PyTorch's 0.01 (the weight of the new batch)
    return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)


def build(name):
    if name == "cnn-small":
        return nn.Sequential(
            conv(1, 16), nn.ReLU(), nn.MaxPool2d(2),
            conv(16, 32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(7 * 7 * 32, 10),
        )
    if name == "cnn-bn":
        return nn.Sequential(
            conv(1, 32), bn(32), nn.ReLU(),
            conv(32, 32), bn(32), nn.ReLU(), nn.MaxPool2d(2),
            conv(32, 64), bn(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10),
        )
    if name == "mlp":
        return nn.Sequential(
            nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10),
        )
    raise ValueError(f"unknown net {name}")


def load(path):
    raw = open(path, "rb").read()
    n = len(raw) // (BATCH * 784 * 4 + BATCH * 4)
    split = n * BATCH * 784 * 4
    x = torch.frombuffer(bytearray(raw[:split]), dtype=torch.float32).reshape(n, BATCH, 1, 28, 28)
    y = torch.frombuffer(bytearray(raw[split:]), dtype=torch.int32).reshape(n, BATCH).long()
    return x, y


def run(name, steps, warm, x, y):
    torch.manual_seed(0)
    model = build(name)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    # softmax + categorical cross-entropy, as tfjs's softmax output with categoricalCrossentropy
    loss_fn = nn.CrossEntropyLoss()
    n = x.shape[0]

    def step(i):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[i % n]), y[i % n])
        loss.backward()
        opt.step()
        # tfjs's trainOnBatch reads the loss back every step; so does this side
        return loss.item()

    for i in range(warm):
        step(i)
    t0 = time.perf_counter()
    c0 = time.process_time()
    loss = 0.0
    for i in range(steps):
        loss = step(i)
    ms = (time.perf_counter() - t0) * 1000 / steps
    cpu_ms = (time.process_time() - c0) * 1000 / steps
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"net": name, "params": params, "msPerStep": ms, "cpuMsPerStep": cpu_ms, "loss": loss}


def blas_libraries():
    """The BLAS libraries this process loaded: Debian's torch uses whichever libblas.so.3 the system selects."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
        return sorted(paths)
    except OSError:
        return []


def main():
    x, y = load(sys.argv[1])
    torch.ones(2, 2) @ torch.ones(2, 2)  # loads the BLAS library
    ready = {"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_libraries()}
    print(json.dumps(ready), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        print(json.dumps(run(req["net"], int(req["steps"]), int(req["warm"]), x, y)), flush=True)


if __name__ == "__main__":
    main()
