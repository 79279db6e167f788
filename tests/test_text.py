"""scratchlstm.data.text: vocabularies, reserved ids, determinism, config, Keras parity."""

import json

import numpy as np
import pytest

from scratchlstm.data import NotFittedError, Vocabulary, standardize_text
from scratchlstm.data.text import OOV_ID, OOV_TOKEN, PAD_ID, PAD_TOKEN
from scratchlstm.utils import pad_sequences

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Don't stop-believing, U.S.A.!  Tabs\tand\nnewlines",
    "Hello, World! It's 9:30 (maybe) -- [really] {yes} ~ok~ @home #tag $5 %50 ^_^",
    "  leading and trailing spaces   ",
    "",
]


def test_reserved_ids_and_keras_layout():
    assert (PAD_ID, OOV_ID, PAD_TOKEN, OOV_TOKEN) == (0, 1, "", "[UNK]")
    vocab = Vocabulary("word").fit(["b a b", "c a b"])
    assert vocab.get_vocabulary() == ["", "[UNK]", "b", "a", "c"]
    assert len(vocab) == vocab.vocabulary_size() == 5
    assert vocab.encode("a zebra b").tolist() == [3, OOV_ID, 2]
    assert vocab.decode([3, 1, 2, 0, 0]) == "a [UNK] b"
    assert vocab.decode([0, 3], skip_padding=False) == " a"


def test_char_round_trip_and_padding():
    names = ["Khoury", "Nahas", "O'Neal", "Müller", "Śliwa"]
    vocab = Vocabulary("char").fit(names)
    assert vocab.standardize is None and "M" in vocab.get_vocabulary()  # case kept
    encoded = vocab.encode(names)
    assert isinstance(encoded, list) and [len(ids) for ids in encoded] == [len(n) for n in names]
    assert all(ids.dtype == np.int32 and ids.min() >= 2 for ids in encoded)
    assert vocab.decode(encoded) == names

    padded = vocab.encode(names, maxlen=7, padding="post")
    assert padded.shape == (5, 7) and padded.dtype == np.int32
    np.testing.assert_array_equal(padded, pad_sequences(encoded, maxlen=7, padding="post"))
    assert vocab.decode(padded) == names  # padding dropped
    truncated = vocab.encode(names, maxlen=3, truncating="post")  # padding "pre" by default
    assert vocab.decode(truncated) == [n[:3] for n in names]
    assert vocab.encode(names, pad=True).shape == (5, 6)
    assert vocab.encode("Nahas", maxlen=7).tolist() == [0, 0, *vocab.encode("Nahas").tolist()]

    assert vocab.encode("Zoë").tolist()[0] == OOV_ID  # 'Z' never seen
    assert vocab.decode(vocab.encode("Zoë")) == "[UNK]o[UNK]"


def test_pad_arguments_match_keras():
    keras = pytest.importorskip("keras")
    vocab = Vocabulary("word").fit(SENTENCES)
    encoded = vocab.encode(SENTENCES)
    for kwargs in ({}, {"maxlen": 4}, {"maxlen": 12, "padding": "post", "truncating": "post"}):
        np.testing.assert_array_equal(
            vocab.encode(SENTENCES, pad=True, **kwargs),
            keras.utils.pad_sequences([ids.tolist() for ids in encoded], value=0, **kwargs),
        )


def test_word_round_trip_is_standardized_text():
    vocab = Vocabulary("word").fit(SENTENCES)
    for sentence, decoded in zip(SENTENCES, vocab.decode(vocab.encode(SENTENCES))):
        assert decoded == " ".join(standardize_text(sentence).split())


def test_keras_standardization_by_hand():
    # What TextVectorization's default standardize + whitespace split gives (its regex,
    # applied after lowercasing): ASCII punctuation disappears, words are not split on it.
    vocab = Vocabulary("word")
    assert vocab.tokenize(SENTENCES[1]) == ["dont", "stopbelieving", "usa", "tabs", "and", "newlines"]
    assert vocab.tokenize(SENTENCES[2]) == ["hello", "world", "its", "930", "maybe", "really", "yes",
                                            "ok", "home", "tag", "5", "50"]
    assert vocab.tokenize(SENTENCES[3]) == ["leading", "and", "trailing", "spaces"]
    assert standardize_text("A-B", "lower") == "a-b"
    assert standardize_text("A-B", "strip_punctuation") == "AB"
    assert standardize_text("A-B", None) == "A-B"


def test_word_ids_match_keras_text_vectorization():
    keras = pytest.importorskip("keras")
    pytest.importorskip("tensorflow")  # Keras' TextVectorization runs on tf.strings
    vocab = Vocabulary("word").fit(SENTENCES[:3])
    layer = keras.layers.TextVectorization(vocabulary=vocab.get_vocabulary()[2:], output_mode="int")
    assert layer.get_vocabulary() == vocab.get_vocabulary()
    expected = np.asarray(layer(SENTENCES))  # 0-padded at the end to the longest
    np.testing.assert_array_equal(vocab.encode(SENTENCES, pad=True, padding="post"), expected)


def test_order_by_count_then_first_appearance():
    vocab = Vocabulary("char").fit(["cbca", "dab"])  # counts: c2 b2 a2 d1
    assert vocab.get_vocabulary()[2:] == ["c", "b", "a", "d"]
    same = Vocabulary("char").fit(["cbca", "dab"])
    assert same.get_config() == vocab.get_config()
    # a single string is one text; a generator works too
    assert Vocabulary("char").fit("cbcadab").get_vocabulary() == vocab.get_vocabulary()
    assert Vocabulary("char").fit(text for text in ["cbca", "dab"]).get_vocabulary() == vocab.get_vocabulary()


def test_max_tokens_and_min_count():
    texts = ["a a a a b b b c c d"]
    full = Vocabulary("word").fit(texts)
    assert full.get_vocabulary()[2:] == ["a", "b", "c", "d"]
    capped = Vocabulary("word", max_tokens=4).fit(texts)  # max_tokens counts the 2 reserved ids
    assert capped.get_vocabulary() == ["", "[UNK]", "a", "b"] and len(capped) == 4
    assert capped.encode("c a").tolist() == [OOV_ID, 2]
    assert Vocabulary("word", min_count=2).fit(texts).get_vocabulary()[2:] == ["a", "b", "c"]
    assert len(Vocabulary("word", max_tokens=2).fit(texts)) == 2  # only the reserved ids
    refit = capped.fit(["z"])  # refitting replaces
    assert refit is capped and capped.get_vocabulary()[2:] == ["z"]


def test_config_json_round_trip():
    vocab = Vocabulary("word", max_tokens=50, min_count=1, oov_token="<unk>").fit(SENTENCES)
    config = json.loads(json.dumps(vocab.get_config()))
    restored = Vocabulary.from_config(config)
    assert restored.get_config() == vocab.get_config()
    assert restored.get_vocabulary() == vocab.get_vocabulary() and restored.get_vocabulary()[1] == "<unk>"
    np.testing.assert_array_equal(restored.encode(SENTENCES, pad=True), vocab.encode(SENTENCES, pad=True))
    chars = Vocabulary("char", standardize="lower").fit(["AbC"])
    again = Vocabulary.from_config(json.loads(json.dumps(chars.get_config())))
    assert again.level == "char" and again.standardize == "lower" and again.encode("abc").tolist() == [2, 3, 4]
    unfitted = Vocabulary.from_config(Vocabulary("word").get_config())
    assert not unfitted.fitted and unfitted.standardize == "lower_and_strip_punctuation"
    assert Vocabulary("word", vocabulary=["x", "y"]).encode("y x q").tolist() == [3, 2, 1]


def test_bad_input():
    with pytest.raises(ValueError, match="level must be 'char' or 'word', got 'byte'"):
        Vocabulary("byte")
    with pytest.raises(ValueError, match="max_tokens must be None or an int >= 2"):
        Vocabulary(max_tokens=1)
    with pytest.raises(ValueError, match="min_count must be an int >= 1"):
        Vocabulary(min_count=0)
    with pytest.raises(ValueError, match="standardize must be 'auto' or one of"):
        Vocabulary(standardize="upper")
    with pytest.raises(NotFittedError, match="not fitted yet"):
        Vocabulary().encode("abc")
    vocab = Vocabulary("char").fit(["abc"])
    with pytest.raises(ValueError, match="texts must be strings, got int 3 at position 1"):
        vocab.encode(["ab", 3])
    with pytest.raises(ValueError, match="must be a string or an iterable of strings, got bytes"):
        vocab.fit(b"abc")
    with pytest.raises(ValueError, match=r"ids must be in \[0, 4\] for this vocabulary of size 5, got values in \[0, 9\]"):
        vocab.decode([0, 9])
    with pytest.raises(ValueError, match="ids must be integers"):
        vocab.decode(np.array([1.5, 2.0]))
    with pytest.raises(ValueError, match="unique, got duplicates"):
        Vocabulary("word", vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="single characters"):
        Vocabulary("char", vocabulary=["ab"])
    with pytest.raises(ValueError, match="unknown Vocabulary config keys"):
        Vocabulary.from_config({"level": "char", "lowercase": True})
