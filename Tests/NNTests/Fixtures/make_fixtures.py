#!/usr/bin/env python3
"""Regenerates the test fixtures in this folder.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install safetensors numpy
    /tmp/venv/bin/python Tests/NNTests/Fixtures/make_fixtures.py

The safetensors files are written by the reference (Rust) safetensors
library through its numpy front end, which produces the same bytes as
`safetensors.torch.save_file` does for the same tensors (torch is not needed).
The gzip files come from Python's zlib, one per block type and header
feature; gzip_vectors.json records each one's decompressed size and CRC-32.

Values are multiples of powers of two, so the Swift tests can write them
down exactly.
"""
import json
import os
import struct
import zlib

import numpy as np
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


# --- safetensors -------------------------------------------------------------

def mlp_state():
    """Sequential(Linear(4, 3), ReLU(), Linear(3, 2)).state_dict()"""
    return {
        "0.weight": ((np.arange(12, dtype=np.float32) - 5) / 8).reshape(3, 4),
        "0.bias": np.array([0.5, -0.25, 0.125], dtype=np.float32),
        "2.weight": ((np.arange(6, dtype=np.float32) - 3) / 4).reshape(2, 3),
        "2.bias": np.array([0.0625, -0.5], dtype=np.float32),
    }


def mlp_forward(state, x):
    h = np.maximum(x @ state["0.weight"].T + state["0.bias"], 0)
    return (h @ state["2.weight"].T + state["2.bias"]).astype(np.float32)


state = mlp_state()
save_file(state, path("mlp.safetensors"), metadata={"format": "pt"})
x = np.array([[1, -2, 0.5, 3], [-1, 0.25, 2, -0.5]], dtype=np.float32)
save_file({"input": x, "output": mlp_forward(state, x)}, path("mlp_io.safetensors"))

# BatchNorm1d(3).state_dict() after some training: num_batches_tracked is int64.
save_file({
    "weight": np.array([1, 0.5, 2], dtype=np.float32),
    "bias": np.array([0, 0.25, -1], dtype=np.float32),
    "running_mean": np.array([0.125, -0.375, 1.5], dtype=np.float32),
    "running_var": np.array([1.5, 0.75, 2], dtype=np.float32),
    "num_batches_tracked": np.array(7, dtype=np.int64),
}, path("batchnorm1d.safetensors"))

# Every dtype the reader handles, plus an empty and a 0-d tensor.
save_file({
    "f64": np.array([[1.5, -2.25], [1e-300, 3.0]], dtype=np.float64),
    "i32": np.array([-7, 0, 2147483647], dtype=np.int32),
    "i64": np.array([-2147483648, 5], dtype=np.int64),
    "f16": np.array([1.5, -0.0009765625, 65504], dtype=np.float16),
    "empty": np.zeros((0, 3), dtype=np.float32),
    "scalar": np.array(0.75, dtype=np.float32),
}, path("dtypes.safetensors"), metadata={"note": "tab\there, quote \" and é"})

# --- gzip --------------------------------------------------------------------

def lcg(seed):
    while True:
        seed = (seed * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        yield seed >> 33


def text(n):
    words = ["tensor", "gradient", "layer", "the", "of", "backward", "softmax", "a", "batch", "epoch"]
    g = lcg(1)
    out = []
    while sum(len(w) + 1 for w in out) < n:
        out.append(words[next(g) % len(words)])
    return " ".join(out).encode()[:n]


def skewed(n):
    # Byte k with probability ~ 2^(-k/12): Huffman codes up to 15 bits, and
    # matches that reach far back.
    g = lcg(2)
    weights = [2 ** (-k / 12) for k in range(256)]
    total = sum(weights)
    cumulative, acc = [], 0.0
    for w in weights:
        acc += w / total
        cumulative.append(acc)
    block = bytearray()
    for _ in range(n // 2):
        u = next(g) / (1 << 31)
        block.append(next((k for k, c in enumerate(cumulative) if c >= u), 255))
    return bytes(block) + bytes(block[: n - len(block)])  # second half repeats the first, 20 KB back


def deflate(data, level=9, strategy=zlib.Z_DEFAULT_STRATEGY, pieces=1):
    c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy)
    out = b""
    step = max(1, len(data) // pieces)
    for i in range(pieces):
        chunk = data[i * step:(i + 1) * step] if i < pieces - 1 else data[i * step:]
        out += c.compress(chunk)
        if i < pieces - 1:
            out += c.flush(zlib.Z_FULL_FLUSH)
    return out + c.flush()


def gzip_member(data, body, flags=0, extra=b"", name=b"", comment=b"", mtime=1234567890):
    header = b"\x1f\x8b\x08" + bytes([flags]) + struct.pack("<I", mtime) + b"\x02\x03"
    if flags & 4:
        header += struct.pack("<H", len(extra)) + extra
    if flags & 8:
        header += name + b"\0"
    if flags & 16:
        header += comment + b"\0"
    if flags & 2:
        header += struct.pack("<H", zlib.crc32(header) & 0xFFFF)
    return header + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def first_block_type(body):
    return (body[0] >> 1) & 3


vectors = {}


def write_gzip(name, data, blob, block_type=None):
    if block_type is not None:
        assert first_block_type(blob[10:]) == block_type, name
    assert zlib.decompress(blob, 47) == data or name == "gzip_multimember.gz"
    with open(path(name), "wb") as f:
        f.write(blob)
    vectors[name] = {"size": len(data), "crc32": zlib.crc32(data)}


hello = b"Hello, gzip! " * 3 + b"\n"
body = deflate(text(3000), level=0, pieces=3)
write_gzip("gzip_stored.gz", text(3000), gzip_member(text(3000), body), block_type=0)
body = deflate(text(2000), strategy=zlib.Z_FIXED)
write_gzip("gzip_fixed.gz", text(2000), gzip_member(text(2000), body), block_type=1)
body = deflate(text(6000))
write_gzip("gzip_dynamic.gz", text(6000), gzip_member(text(6000), body), block_type=2)
data = skewed(40000)
write_gzip("gzip_long_codes.gz", data, gzip_member(data, deflate(data)), block_type=2)
write_gzip("gzip_empty.gz", b"", gzip_member(b"", deflate(b"")))
body = deflate(hello)
write_gzip("gzip_header_fields.gz", hello,
           gzip_member(hello, body, flags=2 | 4 | 8 | 16, extra=b"AB\x02\x00xy", name=b"hello.txt", comment=b"a comment"))
two = gzip_member(hello, deflate(hello)) + gzip_member(text(500), deflate(text(500), strategy=zlib.Z_FIXED))
write_gzip("gzip_multimember.gz", hello + text(500), two)
assert zlib.decompressobj(47).decompress(two) == hello

# --- recurrent layers in PyTorch's layout ---------------------------------------
# nn.LSTM(3, 4, num_layers=2) and nn.GRU(3, 4) state dicts (PyTorch's names,
# shapes and gate order: LSTM i, f, g, o; GRU r, z, n) and, in *_io files,
# an input [T=5, B=2, 3], initial states and the outputs of PyTorch's
# equations evaluated here in float64 (torch is not needed).

def grid_values(shape, seed):
    """Multiples of 1/64 in [-0.5, 0.5): exact in float32."""
    g = lcg(seed)
    n = int(np.prod(shape))
    return np.array([(next(g) % 64 - 32) / 64 for _ in range(n)], dtype=np.float32).reshape(shape)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def rnn_reference(kind, state, x, h0, c0, layers):
    h_n, c_n, inp = [], [], x.astype(np.float64)
    for k in range(layers):
        w_ih, w_hh = state[f"weight_ih_l{k}"].astype(np.float64), state[f"weight_hh_l{k}"].astype(np.float64)
        b_ih, b_hh = state[f"bias_ih_l{k}"].astype(np.float64), state[f"bias_hh_l{k}"].astype(np.float64)
        h, c, outs = h0[k].astype(np.float64), (c0[k].astype(np.float64) if c0 is not None else None), []
        for t in range(inp.shape[0]):
            gi, gh = inp[t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
            if kind == "lstm":
                i, f, g, o = np.split(gi + gh, 4, axis=1)
                c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
                h = sigmoid(o) * np.tanh(c)
            else:
                r = sigmoid(np.split(gi, 3, axis=1)[0] + np.split(gh, 3, axis=1)[0])
                z = sigmoid(np.split(gi, 3, axis=1)[1] + np.split(gh, 3, axis=1)[1])
                n = np.tanh(np.split(gi, 3, axis=1)[2] + r * np.split(gh, 3, axis=1)[2])
                h = (1 - z) * n + z * h
            outs.append(h)
        inp = np.stack(outs)
        h_n.append(h)
        c_n.append(c)
    result = {"output": inp.astype(np.float32), "h_n": np.stack(h_n).astype(np.float32)}
    if kind == "lstm":
        result["c_n"] = np.stack(c_n).astype(np.float32)
    return result


for kind, gates, layers, seed in [("lstm", 4, 2, 10), ("gru", 3, 1, 20)]:
    state = {}
    for k in range(layers):
        state[f"weight_ih_l{k}"] = grid_values((gates * 4, 3 if k == 0 else 4), seed + 4 * k)
        state[f"weight_hh_l{k}"] = grid_values((gates * 4, 4), seed + 4 * k + 1)
        state[f"bias_ih_l{k}"] = grid_values((gates * 4,), seed + 4 * k + 2)
        state[f"bias_hh_l{k}"] = grid_values((gates * 4,), seed + 4 * k + 3)
    save_file(state, path(f"{kind}.safetensors"), metadata={"format": "pt"})
    x = grid_values((5, 2, 3), seed + 50) * 4
    h0 = grid_values((layers, 2, 4), seed + 51)
    c0 = grid_values((layers, 2, 4), seed + 52) if kind == "lstm" else None
    io = {"input": x, "h0": h0, **rnn_reference(kind, state, x, h0, c0, layers)}
    if c0 is not None:
        io["c0"] = c0
    save_file(io, path(f"{kind}_io.safetensors"))

for name in os.listdir(HERE):
    if name.endswith(".safetensors"):
        os.chmod(path(name), 0o644)  # the Rust writer creates them 0600

with open(path("gzip_vectors.json"), "w") as f:
    json.dump(vectors, f, indent=2, sort_keys=True)
    f.write("\n")
print("wrote", ", ".join(sorted(os.listdir(HERE))))
