"""Fine-tune the sentence encoder for the language cues (``models/cues/encoder_tuning.safetensors``).

all-MiniLM-L6-v2 was trained to place sentences by topic; whether a sentence talks down
to the caller or frightens them is a small part of that. Trained a little further on
the cue kinds themselves, its embeddings carry them to writers the cue model never
read: on three blind parts written from another prompt than the rest, a model trained
on the frozen encoder's embeddings found 48 % of the scary and 41 % of the patronizing
sentences at precision 0.90, one on the fine-tuned encoder's 71 % and 68 %
(``models/cues/MODEL_CARD.md``).

What is trained: the encoder's six layers (not its word-piece table: :data:`FREEZE_WORD_PIECES`)
and one logistic output per cue kind of :data:`tools.train_cues.TUNED_KINDS` on the encoder's embedding (the
layers the cue model reads, :data:`tools.train_cues.EMBEDDING_LAYERS`), from the
``dev`` sentences of ``benchmarks/data/cues.txt`` **outside** the calibration parts:
the cue model's thresholds are chosen on those parts (``tools/train_cues.py``), so the
encoder must not have seen them. The output holds only the arrays training changed,
int8 as ``tools/convert_minilm.py`` writes them (11 MB; the word-piece table, the other
half of the encoder, is the shipped one's); the product reads them over the shipped
encoder (:class:`~voicecoach.analyzers.sentence_embedding.SentenceEncoder`'s
``tuned``). The output layer is thrown away: ``tools/train_cues.py`` then trains the
cue model on the fine-tuned embeddings.

    python3 -m tools.finetune_encoder SOURCE_DIR [--out models/cues/encoder_tuning.safetensors]

SOURCE_DIR is the float sentence-transformers model folder ``tools/convert_minilm.py``
converts. Needs PyTorch (training time only, never the product: ``pip install
torch``); about 7 minutes on two cores. The same data and seed give the same weights.
"""
from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.cues import DATA, load  # noqa: E402
from tools.convert_minilm import convert, convert_weights, write_safetensors  # noqa: E402
from tools.train_cues import CALIBRATION_PARTS, EMBEDDING_LAYERS, KINDS, TUNED_KINDS, TUNING_FILE  # noqa: E402
from voicecoach.analyzers.sentence_embedding import (DIM, HEADS, LAYERS, MAX_TOKENS, TOKENIZER_FILE,  # noqa: E402
                                                     encoder_folder, read_safetensors)

FREEZE_WORD_PIECES = True
"""Training leaves the word-piece table as it is (30,522 rows, half the encoder's
weights), whose rows a few thousand sentences would move only for the words they hold.
Session 24, three blind parts from another prompt, the most recall at precision 0.90
(thresholds chosen on those parts; jargon reached only 0.84-0.85) of a cue model trained
on 7,140 dev sentences: the table kept, jargon 0.75, scary 0.71, patronizing 0.68;
everything tuned, 0.67, 0.72, 0.66 (and a file of 23 MB); only layers 4-6 tuned, 0.68,
0.65, 0.55; not tuned, 0.65, 0.48, 0.41."""
EPOCHS = 3
LEARNING_RATE = 3e-5
"""The encoder's; the output layer learns at :data:`HEAD_LEARNING_RATE`."""
HEAD_LEARNING_RATE = 1e-3
BATCH = 32
LOGIT_SCALE = 8.0
"""The unit-length embeddings are multiplied by this before the output layer, which
would otherwise need weights of that size to reach confident votes."""
SEED = 0


def build_encoder(source: Path):
    """A PyTorch copy of the encoder, the same arithmetic as the NumPy one
    (:meth:`SentenceEncoder._forward`), its weights the float ones in ``source``."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    w = {k.removeprefix("bert."): torch.tensor(np.array(v))
         for k, v in read_safetensors(source / "model.safetensors").items()}

    def linear(prefix: str) -> nn.Linear:
        weight = w[prefix + ".weight"]
        m = nn.Linear(weight.shape[1], weight.shape[0])
        m.weight.data, m.bias.data = weight, w[prefix + ".bias"]
        return m

    def norm(prefix: str) -> nn.LayerNorm:
        m = nn.LayerNorm(DIM, eps=1e-12)
        m.weight.data, m.bias.data = w[prefix + ".weight"], w[prefix + ".bias"]
        return m

    class Layer(nn.Module):
        def __init__(self, p: str):
            super().__init__()
            self.qkv = nn.Linear(DIM, 3 * DIM)
            self.qkv.weight.data = torch.cat([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")])
            self.qkv.bias.data = torch.cat([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self.attn_out, self.attn_norm = linear(p + "attention.output.dense"), norm(p + "attention.output.LayerNorm")
            self.up, self.down = linear(p + "intermediate.dense"), linear(p + "output.dense")
            self.out_norm = norm(p + "output.LayerNorm")

        def forward(self, x, hide):
            b, n, head = x.shape[0], x.shape[1], DIM // HEADS
            q, k, v = self.qkv(x).view(b, n, 3, HEADS, head).permute(2, 0, 3, 1, 4)
            a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(head) + hide, dim=-1)
            x = self.attn_norm(self.attn_out((a @ v).transpose(1, 2).reshape(b, n, DIM)) + x)
            return self.out_norm(self.down(F.gelu(self.up(x), approximate="tanh")) + x)

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.word = nn.Parameter(w["embeddings.word_embeddings.weight"])
            self.position = nn.Parameter(w["embeddings.position_embeddings.weight"][:MAX_TOKENS]
                                         + w["embeddings.token_type_embeddings.weight"][0])
            self.embed_norm = norm("embeddings.LayerNorm")
            self.layers = nn.ModuleList(Layer(f"encoder.layer.{i}.") for i in range(LAYERS))

        def forward(self, ids, mask, layers: Sequence[int]):
            """The unit-length means of ``layers``' outputs, side by side: (batch, DIM * len(layers))."""
            weight = (mask / mask.sum(1, keepdim=True)).unsqueeze(-1)
            hide = torch.where(mask.bool(), 0.0, -1e9)[:, None, None, :]
            x = self.embed_norm(self.word[ids] + self.position[:ids.shape[1]])
            out = {}
            for i, layer in enumerate(self.layers[:max(layers)]):
                x = layer(x, hide)
                if i + 1 in layers:
                    out[i + 1] = F.normalize((x * weight).sum(1), dim=-1)
            return torch.cat([out[i] for i in layers], dim=-1)

        def float_weights(self) -> dict[str, np.ndarray]:
            """The weights by Hugging Face's names, as ``convert_weights`` takes them."""
            out = {"embeddings.word_embeddings.weight": self.word,
                   "embeddings.position_embeddings.weight": self.position,
                   "embeddings.token_type_embeddings.weight": torch.zeros(2, DIM),
                   "embeddings.LayerNorm.weight": self.embed_norm.weight,
                   "embeddings.LayerNorm.bias": self.embed_norm.bias}
            for i, m in enumerate(self.layers):
                p = f"encoder.layer.{i}."
                for j, n in enumerate(("query", "key", "value")):
                    out[p + f"attention.self.{n}.weight"] = m.qkv.weight[j * DIM:(j + 1) * DIM]
                    out[p + f"attention.self.{n}.bias"] = m.qkv.bias[j * DIM:(j + 1) * DIM]
                for name, mod in (("attention.output.dense", m.attn_out), ("attention.output.LayerNorm", m.attn_norm),
                                  ("intermediate.dense", m.up), ("output.dense", m.down),
                                  ("output.LayerNorm", m.out_norm)):
                    out[p + name + ".weight"], out[p + name + ".bias"] = mod.weight, mod.bias
            return {k: v.detach().numpy().astype(np.float32) for k, v in out.items()}

    return Encoder()


def training_lines(path: Path):
    """The dev sentences outside the calibration parts, with their targets: (texts,
    targets, mask), the mask 1 where a kind belongs to the sentence's side."""
    lines = [line for line in load(path) if line.split == "dev" and line.part not in CALIBRATION_PARTS]
    kinds = list(TUNED_KINDS)
    y = np.array([[k in line.cues for k in kinds] for line in lines], dtype=np.float32)
    mask = np.array([[KINDS[k][0] == line.channel for k in kinds] for line in lines], dtype=np.float32)
    return [line.text for line in lines], y, mask


def finetune(source: Path, texts: Sequence[str], y: np.ndarray, mask: np.ndarray, log=print):
    """The encoder trained ``EPOCHS`` times over ``texts`` (sentences of like length
    batched together, the batches shuffled), and its output layer."""
    import torch
    from tokenizers import Tokenizer
    from torch.nn import functional as F

    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    tokenizer = Tokenizer.from_file(str(encoder_folder() / TOKENIZER_FILE))
    ids = [tokenizer.encode(t).ids for t in texts]
    encoder = build_encoder(source)
    encoder.word.requires_grad_(not FREEZE_WORD_PIECES)
    head = torch.nn.Linear(DIM * len(EMBEDDING_LAYERS), y.shape[1])
    positives = (y * mask).sum(0)
    weight = torch.tensor(((1 - y) * mask).sum(0) / np.maximum(positives, 1))   # each kind balanced
    opt = torch.optim.AdamW([{"params": [p for p in encoder.parameters() if p.requires_grad], "lr": LEARNING_RATE},
                             {"params": head.parameters(), "lr": HEAD_LEARNING_RATE}], weight_decay=0.01)
    order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
    batches = [order[k:k + BATCH] for k in range(0, len(order), BATCH)]
    steps, warmup = EPOCHS * len(batches), max(1, EPOCHS * len(batches) // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: s / warmup if s < warmup else max(0.0, (steps - s) / (steps - warmup)))
    start = time.monotonic()
    for epoch in range(EPOCHS):
        rng.shuffle(batches)
        total = 0.0
        for b in batches:
            n = max(len(ids[i]) for i in b)
            tokens, present = torch.zeros(len(b), n, dtype=torch.long), torch.zeros(len(b), n)
            for r, i in enumerate(b):
                tokens[r, :len(ids[i])], present[r, :len(ids[i])] = torch.tensor(ids[i]), 1
            logits = head(encoder(tokens, present, EMBEDDING_LAYERS) * LOGIT_SCALE)
            m = torch.tensor(mask[b])
            loss = (F.binary_cross_entropy_with_logits(logits, torch.tensor(y[b]), pos_weight=weight,
                                                       reduction="none") * m).sum() / m.sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
            total += float(loss.detach())
        log(f"epoch {epoch + 1}/{EPOCHS}: loss {total / len(batches):.4f} ({time.monotonic() - start:.0f} s)")
    return encoder


def tuned_arrays(encoder, source: Path) -> dict[str, np.ndarray]:
    """The arrays training changed, int8 as the shipped encoder holds them, by the names
    the NumPy encoder reads (``0.qkv.q`` ...: the first layer is 0)."""
    base = convert(source)
    return {k: v for k, v in convert_weights(encoder.float_weights()).items() if not np.array_equal(v, base[k])}


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", type=Path, help="the float sentence-transformers model folder (model.safetensors)")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=ROOT / "models" / "cues" / TUNING_FILE)
    args = ap.parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError:
        print("fine-tuning needs PyTorch: pip install torch", file=sys.stderr)
        return 2
    if not (args.source / "model.safetensors").is_file():
        print(f"{args.source}: no model.safetensors there", file=sys.stderr)
        return 2
    texts, y, mask = training_lines(args.data)
    print(f"fine-tuning the encoder ({'all but its word-piece table' if FREEZE_WORD_PIECES else 'all of it'}) on {len(texts)} dev sentences outside the "
          f"calibration parts, {EPOCHS} epochs")
    encoder = finetune(args.source, texts, y, mask)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_safetensors(args.out, tuned_arrays(encoder, args.source))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
