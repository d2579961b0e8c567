#!/usr/bin/env python3
"""The recipe of `nntrain char-lstm` in PyTorch, to compare validation loss
and wall time with the library's program on the same machine:

    python3 Benchmarks/pytorch/char_lstm.py --data ../shared/data/tinyshakespeare/input.txt
    .build/release/nntrain char-lstm --backend cpu --data ../shared/data/tinyshakespeare/input.txt

Same as Sources/nntrain/CharLSTM.swift: the characters of the file numbered
in sorted order, the first 90% to train and the rest to validate;
Embedding(V, 64) -> LSTM(64, 256) -> Linear(256, V) on every step, time-major;
each step a batch of 32 windows of 64 characters at random offsets (the
library draws them with Philox, this script with torch's generator: same
distribution, other offsets); mean cross-entropy, gradient-norm clipping at
5, Adam lr 2e-3; 1000 steps; the training loss read every 100 steps and the
validation loss (consecutive windows of 64, batches of 256, each from a zero
state, in nats per character) every 250 steps and after the last.

Prints progress and, last, one JSON object: val_loss, train_loss, steps,
ms_per_step and seconds (training time without the evaluations, as nntrain
counts it), wall_seconds (the whole run after reading the file), torch,
threads.
"""
import argparse
import json
import math
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data/tinyshakespeare/input.txt")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=64)
    parser.add_argument("--embedding-size", type=int, default=64)
    parser.add_argument("--hidden-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--clip", type=float, default=5)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
    parser.add_argument("--json", help="also write the final JSON object to this file")
    args = parser.parse_args()

    import torch
    import torch.nn.functional as F

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    with open(args.data, encoding="utf-8") as f:
        text = f.read()
    start_wall = time.perf_counter()
    vocabulary = sorted(set(text))
    ids = {c: i for i, c in enumerate(vocabulary)}
    tokens = torch.tensor([ids[c] for c in text], dtype=torch.long)
    cut = int(len(tokens) * 0.9)
    train, validation = tokens[:cut], tokens[cut:]
    T, B, V = args.seq_len, args.batch_size, len(vocabulary)
    print(f"{args.data}: {len(tokens)} characters, vocabulary {V}; {len(train)} train / {len(validation)} validation; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)

    class CharModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(V, args.embedding_size)
            self.lstm = torch.nn.LSTM(args.embedding_size, args.hidden_size)
            self.decoder = torch.nn.Linear(args.hidden_size, V)

        def forward(self, x):  # [T, B] -> [T * B, V]
            out, _ = self.lstm(self.embedding(x))
            return self.decoder(out.reshape(-1, out.shape[-1]))

    model = CharModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    offsets = torch.arange(T + 1)

    def windows(starts):  # inputs [T, B], targets [T * B]
        rows = train_or_val[starts[:, None] + offsets]  # [B, T + 1]
        return rows[:, :T].t().contiguous(), rows[:, 1:].t().reshape(-1)

    # Validation batches, made once as nntrain makes them.
    starts = torch.arange(0, len(validation) - T, T)
    train_or_val = validation
    validation_batches = [windows(starts[i:i + 256]) for i in range(0, len(starts), 256)]

    def evaluate():
        model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for x, y in validation_batches:
                total += F.cross_entropy(model(x), y, reduction="sum").item()
                count += y.numel()
        model.train()
        return total / count

    train_or_val = train
    training_seconds, log_loss, log_steps = 0.0, torch.zeros(()), 0
    validation_loss, train_loss = math.nan, math.nan
    clock = time.perf_counter()
    for step in range(1, args.steps + 1):
        x, y = windows(torch.randint(0, len(train) - T, (B,)))
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        if args.clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        log_loss += loss.detach()
        log_steps += 1
        if step % args.log_every == 0 or step == args.steps:
            training_seconds += time.perf_counter() - clock
            train_loss = log_loss.item() / log_steps
            print(f"step {step}/{args.steps}  train loss {train_loss:.4f}  {training_seconds / step * 1000:.1f} ms/step", flush=True)
            log_loss, log_steps = torch.zeros(()), 0
            clock = time.perf_counter()
        if step % args.eval_every == 0 or step == args.steps:
            training_seconds += time.perf_counter() - clock
            validation_loss = evaluate()
            print(f"step {step}/{args.steps}  validation loss {validation_loss:.4f} nats/char", flush=True)
            clock = time.perf_counter()
    result = {"val_loss": validation_loss, "train_loss": train_loss, "steps": args.steps,
              "ms_per_step": training_seconds / args.steps * 1000, "seconds": training_seconds,
              "wall_seconds": time.perf_counter() - start_wall, "torch": torch.__version__,
              "threads": torch.get_num_threads()}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f)
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
