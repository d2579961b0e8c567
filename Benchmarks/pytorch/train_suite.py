#!/usr/bin/env python3
"""One case of nnbench's train suite through PyTorch, timed the way nnbench
times it: `warmups` untimed steps, then timed steps until at least
`min-repeats` of them and `min-seconds` of measured time (or `max-repeats`).
nnbench runs this between its own cases (`nnbench run`, the train suite)
and prints the ratios; it can also be run by hand:

    python3 train_suite.py --model mlp --sizes 784,512,256,10 --batch 128
    python3 train_suite.py --model lenet --batch 64
    python3 train_suite.py --model charlstm --vocab 96 --embedding 64 --hidden 256 --batch 32 --steps 64

The models are the ones in Benchmarks/NNBenchKit/TrainingModels.swift: the
MLP and LeNet-5 with weights [fanIn, fanOut] (convolutions [out, in, kh,
kw]) uniform in +-1/sqrt(fanIn), softmax cross-entropy (mean), SGD with
momentum 0.9 and lr 0.01; the character LSTM as torch.nn modules
(Embedding, LSTM, Linear), time-major, gradient norm clipped at 5, Adam lr
2e-3. Inputs and labels are random and fixed. Prints one JSON object:
{"samples_ms": [...], "torch": version, "threads": n}.
"""
import argparse
import json
import math
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=["mlp", "lenet", "charlstm"], required=True)
    parser.add_argument("--sizes", default="784,512,256,10")
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--vocab", type=int, default=96)
    parser.add_argument("--embedding", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
    parser.add_argument("--warmups", type=int, default=1)
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--min-repeats", type=int, default=5)
    parser.add_argument("--max-repeats", type=int, default=2000)
    args = parser.parse_args()

    import torch
    import torch.nn.functional as F

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    def uniform(shape, fan_in):
        bound = 1 / math.sqrt(fan_in)
        return (torch.rand(shape) * 2 * bound - bound).requires_grad_()

    def dense(sizes):
        return [(uniform((i, o), i), uniform((o,), i)) for i, o in zip(sizes, sizes[1:])]

    def run_dense(layers, h):
        for k, (w, b) in enumerate(layers):
            h = h @ w + b
            if k < len(layers) - 1:
                h = torch.relu(h)
        return h

    if args.model == "mlp":
        sizes = [int(s) for s in args.sizes.split(",")]
        layers = dense(sizes)
        params = [t for layer in layers for t in layer]
        x = torch.randn(args.batch, sizes[0])
        labels = torch.randint(0, sizes[-1], (args.batch,))
        optimizer = torch.optim.SGD(params, lr=0.01, momentum=0.9)

        def step():
            loss = F.cross_entropy(run_dense(layers, x), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    elif args.model == "lenet":
        w1, b1 = uniform((6, 1, 5, 5), 25), uniform((6,), 25)
        w2, b2 = uniform((16, 6, 5, 5), 150), uniform((16,), 150)
        layers = dense([400, 120, 84, 10])
        params = [w1, b1, w2, b2] + [t for layer in layers for t in layer]
        x = torch.randn(args.batch, 1, 28, 28)
        labels = torch.randint(0, 10, (args.batch,))
        optimizer = torch.optim.SGD(params, lr=0.01, momentum=0.9)

        def step():
            c1 = F.max_pool2d(torch.relu(F.conv2d(x, w1, b1, padding=2)), 2)
            c2 = F.max_pool2d(torch.relu(F.conv2d(c1, w2, b2)), 2)
            loss = F.cross_entropy(run_dense(layers, c2.reshape(args.batch, 400)), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    else:
        embedding = torch.nn.Embedding(args.vocab, args.embedding)
        lstm = torch.nn.LSTM(args.embedding, args.hidden)
        decoder = torch.nn.Linear(args.hidden, args.vocab)
        params = list(embedding.parameters()) + list(lstm.parameters()) + list(decoder.parameters())
        tokens = torch.randint(0, args.vocab, (args.steps, args.batch))
        targets = torch.randint(0, args.vocab, (args.steps * args.batch,))
        optimizer = torch.optim.Adam(params, lr=2e-3)

        def step():
            out, _ = lstm(embedding(tokens))
            loss = F.cross_entropy(decoder(out.reshape(-1, args.hidden)), targets)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5)
            optimizer.step()

    for _ in range(args.warmups):
        step()
    samples, total = [], 0.0
    while len(samples) < args.max_repeats and (len(samples) < args.min_repeats or total < args.min_seconds):
        start = time.perf_counter()
        step()
        elapsed = time.perf_counter() - start
        samples.append(elapsed * 1e3)
        total += elapsed
    json.dump({"samples_ms": samples, "torch": torch.__version__, "threads": torch.get_num_threads()}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
