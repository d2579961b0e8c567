#!/usr/bin/env python3
"""PyTorch beside nnbench on a GPU machine: the same fp32 GEMM 4096^3 and
LeNet-5 training step (batch 256, SGD momentum 0.9, lr 0.01) that
`nnbench run --large` times, through cuBLAS/cuDNN with TF32 off, so the
ratio in the bundle's gpu-report compares like with like.

Timing as nnbench's: a warm-up, then the median of timed repeats, each
ended by a device synchronization.

    python3 reference.py [--device cuda|cpu] [--repeats N] [--json FILE]
"""
import argparse
import json
import statistics
import sys
import time


def timed(fn, sync, repeats, warmup=3):
    for _ in range(warmup):
        fn()
    sync()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples), min(samples), max(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default=None, help="cuda (default when available) or cpu")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", help="write the rows as JSON to this file")
    args = parser.parse_args()
    try:
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
    except ImportError as error:
        print(f"reference.py: PyTorch is not importable here ({error}); no PyTorch rows", file=sys.stderr)
        return 2
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    # fp32 means fp32: no TF32 tensor-core shortcuts in cuBLAS or cuDNN.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    rows = []

    n = 4096
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    c = torch.empty(n, n, device=device)
    median, low, high = timed(lambda: torch.mm(a, b, out=c), sync, args.repeats)
    rows.append({"suite": "gemm", "case": f"{n}x{n}x{n}", "median_ms": median, "min_ms": low, "max_ms": high,
                 "gflops": 2 * n ** 3 / (median * 1e-3) / 1e9})

    class LeNet5(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2).flatten(1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    torch.manual_seed(53)
    model = LeNet5().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    batch = 256
    x = torch.randn(batch, 1, 28, 28, device=device)
    labels = torch.randint(0, 10, (batch,), device=device)

    def step():
        optimizer.zero_grad(set_to_none=False)
        F.cross_entropy(model(x), labels).backward()
        optimizer.step()

    median, low, high = timed(step, sync, args.repeats)
    rows.append({"suite": "train", "case": f"LeNet-5 b{batch} SGD-momentum", "median_ms": median, "min_ms": low,
                 "max_ms": high})

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"PyTorch {torch.__version__} on {device.type} ({name}), TF32 off, median of {args.repeats}")
    for row in rows:
        rate = f"  {row['gflops']:.0f} GFLOP/s" if "gflops" in row else ""
        print(f"  {row['suite']:5}  {row['case']:28}  {row['median_ms']:9.3f} ms{rate}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch": torch.__version__, "device": device.type, "device_name": name,
                       "cuda": torch.version.cuda, "tf32": False, "repeats": args.repeats, "results": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
