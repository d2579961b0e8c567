#!/usr/bin/env python3
"""Writes lbfgs_rosenbrock.json: the iterates of torch.optim.LBFGS on the
Rosenbrock function f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 from (-1.5, 2), in
float64, for the LBFGS tests. Needs PyTorch (run once; the tests read only
the JSON):

    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch
    /tmp/torchenv/bin/python Tests/NNTests/Fixtures/make_lbfgs_fixture.py
"""
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def run(steps, **options):
    p = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([p], **options)

    def closure():
        optimizer.zero_grad()
        loss = rosenbrock(p)
        loss.backward()
        return loss

    iterates, losses = [], []
    for _ in range(steps):
        losses.append(float(optimizer.step(closure).detach()))
        iterates.append(p.detach().tolist())
    state = optimizer.state[p]
    return {"options": options, "iterates": iterates, "losses": losses,
            "func_evals": state["func_evals"], "n_iter": state["n_iter"]}


cases = {
    # max_eval defaults to max_iter * 5 // 4 = 1: the line search may not
    # iterate (PyTorch passes max_ls = max_eval - evaluations so far), so it
    # evaluates one trial point and keeps it only if it is lower; here it
    # is not, and every step stays put. The tests check that quirk too.
    "strong_wolfe_no_budget": run(3, lr=1, max_iter=1, history_size=10, line_search_fn="strong_wolfe"),
    "strong_wolfe_one_iteration": run(8, lr=1, max_iter=1, max_eval=20, history_size=10, line_search_fn="strong_wolfe"),
    "strong_wolfe": run(4, lr=1, max_iter=20, history_size=10, line_search_fn="strong_wolfe"),
    "fixed_step": run(6, lr=0.05, max_iter=3, history_size=4),
}
with open(os.path.join(HERE, "lbfgs_rosenbrock.json"), "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, indent=1)
    f.write("\n")
