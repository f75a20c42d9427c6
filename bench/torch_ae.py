#!/usr/bin/env python3
"""PyTorch reference for bench/train-speed.bench.ts: the same autoencoder as lib/model.ts, timed on the CPU.

Architecture mirrored (filters f1, f2, f3 = --filters, c = --channels, input c x H x W):
  Conv2d(c, f1, 3, stride 2, padding 1) + ReLU
  Conv2d(f1, f2, 3, 2, 1) + ReLU
  Conv2d(f2, f3, 3, 2, 1) + ReLU
  ConvTranspose2d(f3, f3, 3, 2, padding 1, output_padding 1) + ReLU
  ConvTranspose2d(f3, f2, 3, 2, 1, output_padding 1) + ReLU
  ConvTranspose2d(f2, f1, 3, 2, 1, output_padding 1) + ReLU
  Conv2d(f1, c, 3, 1, 1) + Sigmoid
  loss MSE, optimizer Adam(lr 1e-3)
(TensorFlow's "same" padding puts the odd pixel at the bottom/right where PyTorch pads both sides: the shapes and
the multiply-adds are identical, which is what a speed comparison needs.)

Usage: /usr/bin/python3 bench/torch_ae.py --height 32 --width 48 --channels 3 --filters 32,64,128 --batch 64
Prints one JSON object: train and inference images per wall second and per CPU second (all threads), peak RSS,
and which BLAS PyTorch loaded. Debian's python3-torch links the generic libblas.so.3, which is the slow reference
BLAS unless OpenBLAS is installed (apt-get install -y libopenblas0-pthread): ConvTranspose2d goes through it.
OMP_WAIT_POLICY defaults to PASSIVE here: with the default spinning, two OpenMP threads on a machine whose other
core is busy stall each other (measured: 21 img/s instead of 360).
"""
import argparse
import json
import os
import resource
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # must be set before torch starts OpenMP
import torch  # noqa: E402
from torch import nn


def build(channels, filters):
    layers, c = [], channels
    for f in filters:
        layers += [nn.Conv2d(c, f, 3, stride=2, padding=1), nn.ReLU()]
        c = f
    for f in reversed(filters):
        layers += [nn.ConvTranspose2d(c, f, 3, stride=2, padding=1, output_padding=1), nn.ReLU()]
        c = f
    layers += [nn.Conv2d(c, channels, 3, stride=1, padding=1), nn.Sigmoid()]
    return nn.Sequential(*layers)


def loaded_blas():
    """The BLAS library mapped into this process: "openblas", "reference" (netlib libblas) or a path."""
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
    if any("openblas" in p for p in paths):
        return "openblas"
    if any(p.endswith("/blas/libblas.so.3") or "libblas.so" in p for p in paths):
        return "reference"
    return ",".join(sorted(paths)) or "none"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--height", type=int, default=32)
    p.add_argument("--width", type=int, default=48)
    p.add_argument("--channels", type=int, default=3)
    p.add_argument("--filters", default="32,64,128")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=10, help="timed training steps")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--infer-batch", type=int, default=256)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    filters = [int(f) for f in a.filters.split(",")]
    factor = 2 ** len(filters)
    if a.height % factor or a.width % factor:
        raise SystemExit(f"torch_ae.py: input {a.height}x{a.width} must be divisible by 2^{len(filters)} = {factor}")

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = build(a.channels, filters)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    x = torch.rand(a.batch, a.channels, a.height, a.width)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), x)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(a.steps):
        loss = step()
    train_s, train_cpu = time.perf_counter() - t0, time.process_time() - c0

    model.eval()
    xi = torch.rand(a.infer_batch, a.channels, a.height, a.width)
    with torch.no_grad():
        model(xi)
        reps = 3
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(reps):
            model(xi)
        infer_s, infer_cpu = time.perf_counter() - t0, time.process_time() - c0

    print(json.dumps({
        "framework": f"pytorch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "input": [a.height, a.width, a.channels],
        "filters": filters,
        "batch": a.batch,
        "train_img_s": a.batch * a.steps / train_s,
        "train_img_cpu_s": a.batch * a.steps / train_cpu,
        "infer_img_s": a.infer_batch * reps / infer_s,
        "infer_img_cpu_s": a.infer_batch * reps / infer_cpu,
        "last_loss": loss,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "blas": loaded_blas(),
    }))


if __name__ == "__main__":
    main()
