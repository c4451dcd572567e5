"""The sentence encoder (all-MiniLM-L6-v2 in NumPy, int8 weights) against the model it
was converted from, and the sentence model's need of it."""
import json
from pathlib import Path

import numpy as np
import pytest

from voicecoach.analyzers import sentence_embedding, sentence_model
from voicecoach.analyzers.sentence_embedding import DIM, SentenceEncoder
from voicecoach.analyzers.sentence_model import SentenceModel, model_file_path

from voicecoach.events import AGENT, Word

REFERENCE = Path(__file__).parent / "data" / "minilm_reference.json"
"""Embeddings of seven sentences by the original float32 model through Hugging Face
transformers on PyTorch (``source`` in the file): an implementation this one shares
no code with."""


def _words(text: str) -> list[Word]:
    return [Word(AGENT, i * 0.3, i * 0.3 + 0.25, " " + w) for i, w in enumerate(text.split())]


@pytest.fixture(scope="module")
def encoder():
    enc = SentenceEncoder.shipped()
    assert enc is not None, "models/minilm is missing: python3 -m tools.convert_minilm"
    return enc


def test_the_encoder_gives_the_original_models_embeddings(encoder):
    ref = json.loads(REFERENCE.read_text(encoding="utf-8"))
    for text, want in zip(ref["sentences"], ref["embeddings"]):
        got = encoder.encode(text)
        assert got.shape == (DIM,) and got.dtype == np.float32
        assert abs(float(np.linalg.norm(got)) - 1.0) < 1e-5
        assert float(got @ np.asarray(want)) > 0.995, text    # int8 weights: 0.9955 at worst on 469 dev lines


def test_sentences_run_together_get_the_embeddings_each_gets_alone(encoder):
    """Padding a short sentence to the longest of its batch must not change it."""
    texts = ["Mm-hm.", "Okay, I've reset it from our side, so give it two minutes and try again.",
             "Can you read me the number on the back of the router, please?", "Thanks."]
    together = encoder.encode_many(texts, batch=4)
    alone = np.array([encoder.encode(t) for t in texts])
    assert together.shape == (4, DIM)
    assert np.abs(together - alone).max() < 1e-5


def test_a_middle_layer_is_pooled_beside_the_last(encoder):
    """``layers`` gives each named layer's unit-length mean, one after another; the last
    layer's is the sentence embedding itself, and a middle layer's differs from it."""
    texts = ["Your refund will arrive by Friday.", "Okay.", "We'll escalate it to tier two."]
    both = encoder.encode_many(texts, layers=(6, 3))
    assert both.shape == (3, 2 * DIM) and both.dtype == np.float32
    assert np.abs(both[:, :DIM] - encoder.encode_many(texts)).max() < 1e-5
    assert np.allclose(np.linalg.norm(both[:, DIM:], axis=1), 1.0, atol=1e-5)
    assert (np.sum(both[:, :DIM] * both[:, DIM:], axis=1) < 0.95).all()
    assert np.abs(encoder.encode(texts[1], layers=(3,)) - both[1, DIM:]).max() < 1e-5
    assert np.abs(encoder.encode_many(texts, layers=(0, 6))[:, DIM:] - both[:, :DIM]).max() < 1e-5
    for bad in [(), (7,), (-1,)]:
        with pytest.raises(ValueError):
            encoder.encode("Hello.", layers=bad)


def test_a_model_file_whose_weights_do_not_fit_its_layers_is_refused(tmp_path):
    data = json.loads(model_file_path().read_text(encoding="utf-8"))
    data["features"]["embedding_layers"] = [6]
    bad = tmp_path / "model.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="embedding weights"):
        SentenceModel.load(bad)


@pytest.mark.parametrize("text", ["", "   ", "word " * 2000, "Café – naïve 😀 ¿qué?"])
def test_any_text_gives_a_unit_vector(encoder, text):
    e = encoder.encode(text)
    assert e.shape == (DIM,) and np.isfinite(e).all()
    assert abs(float(np.linalg.norm(e)) - 1.0) < 1e-5


def test_without_the_encoder_the_lists_work_alone(monkeypatch, tmp_path):
    """A model file that reads embeddings is refused when no encoder is installed, and
    the language cues then run on the phrase lists alone instead of failing."""
    monkeypatch.setattr(sentence_embedding, "encoder_folder", lambda: tmp_path)
    sentence_embedding._shipped.cache_clear()
    sentence_model._shipped.cache_clear()
    try:
        assert SentenceEncoder.shipped() is None
        with pytest.raises(FileNotFoundError):
            SentenceModel.load(model_file_path())
        with pytest.warns(UserWarning, match="no sentence encoder is shipped.*phrase lists alone"):
            assert SentenceModel.shipped() is None
        from voicecoach.analyzers.language import LanguageCues
        assert LanguageCues().model is None
    finally:
        monkeypatch.undo()
        sentence_embedding._shipped.cache_clear()
        sentence_model._shipped.cache_clear()
    assert SentenceModel.shipped() is not None


def test_the_shipped_files_are_the_converted_model():
    folder = sentence_embedding.encoder_folder()
    f = sentence_embedding.read_safetensors(folder / sentence_embedding.ENCODER_FILE)
    assert f["word.q"].dtype == np.int8 and f["word.q"].shape == (30522, DIM)
    assert f["position"].shape == (sentence_embedding.MAX_TOKENS, DIM)
    assert (folder / "LICENSE").is_file() and (folder / "MODEL_CARD.md").is_file()


def test_fine_tuned_arrays_take_the_place_of_the_encoders_own(encoder, tmp_path):
    """``tuned`` (tools/finetune_encoder.py's file) replaces only the arrays it holds: a
    change to the last layer moves the sentence embedding and leaves the third layer's."""
    from tools.convert_minilm import write_safetensors

    base = sentence_embedding.read_safetensors(sentence_embedding.encoder_folder() / sentence_embedding.ENCODER_FILE)
    tuned = tmp_path / "tuning.safetensors"
    scale = np.linspace(0.0, 2.0, DIM, dtype=np.float32)
    write_safetensors(tuned, {"5.out_norm.w": np.asarray(base["5.out_norm.w"]) * scale})
    text = "Your refund will arrive by Friday."
    got = SentenceEncoder(sentence_embedding.encoder_folder(), tuned).encode(text, layers=(6, 3))
    want = encoder.encode(text, layers=(6, 3))
    assert float(got[:DIM] @ want[:DIM]) < 0.999
    assert np.abs(got[DIM:] - want[DIM:]).max() < 1e-6
    for bad in ({"5.down.x": np.zeros(DIM, np.float32)}, {"5.down.b": np.zeros(DIM + 1, np.float32)},
                {"5.down.b": np.zeros(DIM, np.float16)}):
        write_safetensors(tuned, bad)
        with pytest.raises(ValueError, match="does not fit the encoder"):
            SentenceEncoder(sentence_embedding.encoder_folder(), tuned)


def test_a_model_file_naming_missing_tuned_arrays_is_refused(tmp_path):
    data = json.loads(model_file_path().read_text(encoding="utf-8"))
    data["features"]["encoder_tuning"] = "nowhere.safetensors"
    bad = tmp_path / "model.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(FileNotFoundError, match="nowhere.safetensors"):
        SentenceModel.load(bad)


def test_fine_tuned_arrays_other_than_those_trained_with_are_refused(tmp_path):
    """model.json records its tuned arrays' sha256: tools/finetune_encoder.py run again
    without tools/train_cues.py would otherwise pair weights with the wrong embeddings."""
    import shutil

    data = json.loads(model_file_path().read_text(encoding="utf-8"))
    tuning = model_file_path().parent / data["features"]["encoder_tuning"]
    shutil.copy(tuning, tmp_path / tuning.name)
    (tmp_path / "model.json").write_text(json.dumps(data), encoding="utf-8")
    assert SentenceModel.load(tmp_path / "model.json").encoder is not None
    with open(tmp_path / tuning.name, "r+b") as f:      # one byte of one array changed
        f.seek(-1, 2)
        last = f.read(1)
        f.seek(-1, 2)
        f.write(bytes([last[0] ^ 1]))
    with pytest.raises(ValueError, match="damaged or not the file.*another sha256.*reinstall"):
        SentenceModel.load(tmp_path / "model.json")


def test_an_unusable_shipped_model_leaves_the_lists_working_with_one_warning(monkeypatch, tmp_path):
    """A damaged install (a tuned-arrays file cut short) costs the sentence model, not
    the call: one warning naming the file, and the phrase lists still fire."""
    import shutil

    from voicecoach.analyzers.language import LanguageCues

    data = json.loads(model_file_path().read_text(encoding="utf-8"))
    del data["features"]["encoder_tuning_sha256"]     # the damage is past the checksum
    (tmp_path / "model.json").write_text(json.dumps(data), encoding="utf-8")
    tuning = model_file_path().parent / data["features"]["encoder_tuning"]
    (tmp_path / tuning.name).write_bytes(tuning.read_bytes()[:1000])
    monkeypatch.setattr(sentence_model, "model_file_path", lambda: tmp_path / "model.json")
    sentence_model._shipped.cache_clear()
    try:
        with pytest.warns(UserWarning, match=f"{tuning.name}.*phrase lists alone") as caught:
            cues = LanguageCues()
            events = cues.feed(_words("You could lose all your data.")) + cues.flush()
            LanguageCues().model
        assert len(caught) == 1
        assert cues.model is None
        assert "scary" in [e.data["cue"] for e in events]
    finally:
        monkeypatch.undo()
        sentence_model._shipped.cache_clear()
    shutil.rmtree(tmp_path)


def test_the_command_says_in_one_line_that_a_damaged_model_is_not_used(monkeypatch, tmp_path, capsys):
    """The warning reaches the agent at the start of a shift (the command shows only its
    own warnings, one line each), and the shift runs on the lists."""
    from voicecoach import cli

    (tmp_path / "model.json").write_text('{"kinds": {"jargon": {"bias": 0.0}}}', encoding="utf-8")
    monkeypatch.setattr(sentence_model, "model_file_path", lambda: tmp_path / "model.json")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    sentence_model._shipped.cache_clear()
    try:
        code = cli.main(["live", "--replay", "demo", "--console", "--no-transcript", "--stop-after", "1"])
    finally:
        monkeypatch.undo()
        sentence_model._shipped.cache_clear()
    err = capsys.readouterr().err
    assert code == 0, err
    said = [line for line in err.splitlines() if "sentence model" in line]
    assert said == [f"voicecoach: warning: the sentence model is not used ({tmp_path / 'model.json'}: "
                    "no 'threshold'); the language cues use the phrase lists alone"], err


def test_the_cue_model_reads_the_encoder_fine_tuned_for_it(encoder):
    """The shipped cue model names its fine-tuned arrays (models/cues, by
    tools/finetune_encoder.py): every layer, not the word-piece table, read over the
    shipped encoder, which itself stays the converted all-MiniLM-L6-v2."""
    data = json.loads(model_file_path().read_text(encoding="utf-8"))
    tuned = sentence_embedding.read_safetensors(model_file_path().parent / data["features"]["encoder_tuning"])
    assert "word.q" not in tuned and {f"{i}.qkv.q" for i in range(6)} <= set(tuned)
    model = SentenceModel.shipped()
    text = "Honestly, it's not rocket science, you just read the label."
    assert float(model.encoder.encode(text) @ encoder.encode(text)) < 0.99
