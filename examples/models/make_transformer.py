"""A small transformer language model: trained with PyTorch, exported to ONNX.

2 layers, d_model 64, 4 heads, feed-forward 128, a context of 16 tokens and a vocabulary of
1,024 word-level tokens (1,023 words and `<unk>`). It reads a window of 16 tokens and gives the
logits of the next one. The text is the Python documentation that ships with CPython
(`pydoc_data.topics`: about 120,000 tokens), so the corpus needs no download; the last tenth is
held out as the evaluation text.

The attention is written out (Linear, Reshape, Transpose, MatMul, Softmax), as most exported
transformers are, rather than as one fused op. Every position attends to the whole window (the
model is trained to predict the token after the window, from the last position), so there is no
causal mask; the last layer computes its attention query and feed-forward for the last position
only, which is all the next-token logits read.

Writes, next to this script:
  transformer.onnx              the model (float32), input `tokens` [1, 16] int64, output `logits` [1, 1024]
  transformer_calib.npy         64 training windows (int64), the calibration data
  transformer_eval.npy          500 windows of the held-out text (int64)
  transformer_eval_float.npy    the float model's next-token pick for each (int64), by onnxruntime
  transformer_vocab.txt         the vocabulary, one token per line (line i is token i)

Usage: python make_transformer.py   (needs torch, onnx, onnxruntime, numpy; about a minute)
"""

import collections
import os
import re

import numpy as np
import onnx
import onnxruntime as ort
import pydoc_data.topics
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB, CONTEXT, D_MODEL, HEADS, FF, LAYERS = 1024, 16, 64, 4, 128, 2
STEPS, BATCH = 4000, 64


def corpus():
    text = "\n".join(pydoc_data.topics.topics[k] for k in sorted(pydoc_data.topics.topics))
    words = re.findall(r"[a-z]+|[0-9]+|[^\sa-z0-9]", text.lower())
    counts = collections.Counter(words)
    vocab = ["<unk>"] + [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: VOCAB - 1]]
    index = {w: i for i, w in enumerate(vocab)}
    ids = np.array([index.get(w, 0) for w in words], dtype=np.int64)
    return vocab, ids


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(D_MODEL, D_MODEL) for _ in range(4))

    def forward(self, x, last_only):
        b, t, d = x.shape
        h, hd = HEADS, D_MODEL // HEADS
        xq = x[:, -1:, :] if last_only else x
        q = self.q(xq).reshape(b, xq.shape[1], h, hd).transpose(1, 2)
        k = self.k(x).reshape(b, t, h, hd).transpose(1, 2)
        v = self.v(x).reshape(b, t, h, hd).transpose(1, 2)
        att = torch.softmax(q @ k.transpose(2, 3) * (hd**-0.5), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, xq.shape[1], d)
        return self.o(y)


class Block(nn.Module):
    def __init__(self, last):
        super().__init__()
        self.last = last
        self.ln1, self.ln2 = nn.LayerNorm(D_MODEL), nn.LayerNorm(D_MODEL)
        self.att = Attention()
        self.ff = nn.Sequential(nn.Linear(D_MODEL, FF), nn.ReLU(), nn.Linear(FF, D_MODEL))

    def forward(self, x):
        h = self.ln1(x)
        x = (x[:, -1:, :] if self.last else x) + self.att(h, self.last)
        return x + self.ff(self.ln2(x))


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, D_MODEL)
        self.pos = nn.Parameter(torch.randn(CONTEXT, D_MODEL) * 0.02)
        self.blocks = nn.Sequential(*(Block(i == LAYERS - 1) for i in range(LAYERS)))
        self.ln = nn.LayerNorm(D_MODEL)
        self.head = nn.Linear(D_MODEL, VOCAB)

    def forward(self, tokens):
        x = self.blocks(self.tok(tokens) + self.pos)
        return self.head(self.ln(x[:, -1, :]))


def windows(ids, starts):
    return np.stack([ids[s : s + CONTEXT] for s in starts]), ids[np.asarray(starts) + CONTEXT]


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    vocab, ids = corpus()
    split = len(ids) * 9 // 10
    train, held = ids[:split], ids[split:]
    model = TinyLM()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, STEPS)
    for step in range(STEPS):
        x, y = windows(train, rng.integers(0, len(train) - CONTEXT - 1, BATCH))
        loss = nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 500 == 0 or step == STEPS - 1:
            print(f"step {step}: loss {loss.item():.3f}")
    model.eval()

    path = os.path.join(HERE, "transformer.onnx")
    example = torch.zeros(1, CONTEXT, dtype=torch.int64)
    torch.onnx.export(model, (example,), path, input_names=["tokens"], output_names=["logits"], opset_version=18, dynamo=False)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    onnx.save(m, path)

    calib, _ = windows(train, rng.integers(0, len(train) - CONTEXT - 1, 64))
    eval_x, eval_y = windows(held, np.linspace(0, len(held) - CONTEXT - 1, 500).astype(np.int64))
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    picks = np.array([sess.run(None, {"tokens": w[None]})[0].argmax() for w in eval_x], dtype=np.int64)
    with torch.no_grad():
        torch_picks = model(torch.from_numpy(eval_x)).argmax(-1).numpy()
    assert (picks == torch_picks).all(), "onnxruntime and torch disagree"
    print(f"float model: next-token accuracy on the held-out text {np.mean(picks == eval_y):.3f}")
    np.save(os.path.join(HERE, "transformer_calib.npy"), calib.astype(np.int64))
    np.save(os.path.join(HERE, "transformer_eval.npy"), eval_x.astype(np.int64))
    np.save(os.path.join(HERE, "transformer_eval_float.npy"), picks)
    with open(os.path.join(HERE, "transformer_vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
