"""Text tools: a character or word vocabulary with Keras' reserved ids, in NumPy only.

`Vocabulary(level="char")` or `Vocabulary(level="word")` learns its tokens with `fit` on
training text, turns text into integer ids with `encode` (a list of arrays, or one padded
array through `scratchlstm.utils.pad_sequences`) and back with `decode`.

Conventions (those of Keras' `TextVectorization(output_mode="int")` and of
`StringLookup(mask_token="")`):

* id 0 (`PAD_ID`) is padding, shown as `""`; feed the ids to `Embedding(mask_zero=True)`.
* id 1 (`OOV_ID`) is every token not learned by `fit`, shown as `"[UNK]"`.
* The learned tokens follow from id 2, by decreasing count. Ties are broken by first
  appearance in the training text (Keras breaks them by the tokens' reverse sort order),
  so a vocabulary depends only on its training text, deterministically.
* `max_tokens` counts the two reserved ids, as Keras' does: it is the vocabulary's size,
  the `input_dim` of the `Embedding` that follows.

Word level splits on whitespace after Keras' default standardization
`"lower_and_strip_punctuation"`: lowercase, then remove ASCII punctuation
(``!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'``). Two deliberate differences with Keras'
TensorFlow ops, for non-ASCII text only: lowercasing is Python's Unicode `str.lower`
(TensorFlow's lowers ASCII letters only, so Keras keeps "É"), and splitting is `str.split`
(any Unicode whitespace). On ASCII text the tokens are Keras' own.

Character level keeps the text as it is by default (`standardize=None`: case and
punctuation matter for names and for a language model); each Unicode code point is a token,
spaces and newlines included.

Examples:
    >>> vocab = Vocabulary(level="word").fit(["The cat sat.", "The dog!"])
    >>> vocab.get_vocabulary()
    ['', '[UNK]', 'the', 'cat', 'sat', 'dog']
    >>> vocab.encode(["the cat ran"])
    [array([2, 3, 1], dtype=int32)]
    >>> vocab.encode(["the cat ran", "dog"], maxlen=4, padding="post")
    array([[2, 3, 1, 0],
           [5, 0, 0, 0]], dtype=int32)
    >>> vocab.decode([2, 3, 1, 0])
    'the cat [UNK]'
    >>> chars = Vocabulary(level="char").fit("abracadabra")
    >>> chars.get_vocabulary()[2:], chars.encode("cab").tolist()
    (['a', 'b', 'r', 'c', 'd'], [5, 2, 3])
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any, Sequence, cast

import numpy as np

from ..utils import pad_sequences
from ._scalers import NotFittedError

__all__ = [
    "OOV_ID",
    "OOV_TOKEN",
    "PAD_ID",
    "PAD_TOKEN",
    "STANDARDIZE_MODES",
    "Vocabulary",
    "standardize_text",
]

PAD_ID = 0
OOV_ID = 1
PAD_TOKEN = ""
OOV_TOKEN = "[UNK]"
STANDARDIZE_MODES = (None, "lower", "strip_punctuation", "lower_and_strip_punctuation")
LEVELS = ("char", "word")

# The pattern of Keras' TextVectorization (keras/src/layers/preprocessing/text_vectorization.py):
# `,-\.` is the range ',' '-' '.'.
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')


def standardize_text(text: str, mode: str | None = "lower_and_strip_punctuation") -> str:
    """Standardize one string as Keras' `TextVectorization(standardize=mode)` does.

    Arguments:
        text: a string.
        mode: `None` (unchanged), `"lower"`, `"strip_punctuation"` or
            `"lower_and_strip_punctuation"` (Keras' default).

    Returns:
        The standardized string.

    Examples:
        >>> standardize_text("Hello, World! It's 9:30.")
        'hello world its 930'
    """
    if mode not in STANDARDIZE_MODES:
        raise ValueError(f"standardize must be one of {STANDARDIZE_MODES}, got {mode!r}")
    if mode in ("lower", "lower_and_strip_punctuation"):
        text = text.lower()
    if mode in ("strip_punctuation", "lower_and_strip_punctuation"):
        text = _PUNCTUATION.sub("", text)
    return text


def _as_texts(texts: Any, what: str = "texts") -> tuple[list[str], bool]:
    """`texts` as a list of str and whether a single string was given."""
    if isinstance(texts, (str, np.str_)):
        return [str(texts)], True
    if isinstance(texts, bytes) or not hasattr(texts, "__iter__"):
        raise ValueError(f"{what} must be a string or an iterable of strings, got {type(texts).__name__}")
    if isinstance(texts, np.ndarray) and texts.ndim != 1:
        raise ValueError(f"{what} must be a 1-D array of strings, got shape {texts.shape}")
    result: list[str] = []
    for index, text in enumerate(texts):
        if not isinstance(text, (str, np.str_)):
            raise ValueError(
                f"{what} must be strings, got {type(text).__name__} {text!r} at position {index}"
            )
        result.append(str(text))
    return result, False


class Vocabulary:
    """A character or word vocabulary: id 0 padding, id 1 out-of-vocabulary, then by count.

    Arguments:
        level: `"char"` (each character is a token) or `"word"` (whitespace-separated
            words).
        max_tokens: the largest vocabulary size, the two reserved ids included (so at
            least 2); the most frequent tokens are kept. `None`: no limit.
        min_count: keep only tokens seen at least this many times in `fit`'s text.
        standardize: `None`, `"lower"`, `"strip_punctuation"` or
            `"lower_and_strip_punctuation"`, applied before splitting; `"auto"` (default)
            means `"lower_and_strip_punctuation"` for words and `None` for characters.
        oov_token: how `decode` shows an out-of-vocabulary id (Keras' `"[UNK]"`).
        vocabulary: the learned tokens in id order from id 2 (no padding or OOV token),
            to build a fitted vocabulary without `fit`; `from_config` uses it.

    Attributes:
        level, max_tokens, min_count, standardize, oov_token: as given (`standardize`
            resolved).

    `len(vocab)` is the vocabulary size (the `input_dim` of an `Embedding`).
    """

    def __init__(self, level: str = "char", *, max_tokens: int | None = None, min_count: int = 1,
                 standardize: str | None = "auto", oov_token: str = OOV_TOKEN,
                 vocabulary: Sequence[str] | None = None) -> None:
        if level not in LEVELS:
            raise ValueError(f"level must be 'char' or 'word', got {level!r}")
        if max_tokens is not None and (
            isinstance(max_tokens, bool) or not isinstance(max_tokens, (int, np.integer)) or max_tokens < 2
        ):
            raise ValueError(
                f"max_tokens must be None or an int >= 2 (it counts the padding and OOV ids), got {max_tokens!r}"
            )
        if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)) or min_count < 1:
            raise ValueError(f"min_count must be an int >= 1, got {min_count!r}")
        if standardize == "auto":
            standardize = "lower_and_strip_punctuation" if level == "word" else None
        if standardize not in STANDARDIZE_MODES:
            raise ValueError(f"standardize must be 'auto' or one of {STANDARDIZE_MODES}, got {standardize!r}")
        if not isinstance(oov_token, str):
            raise ValueError(f"oov_token must be a string, got {type(oov_token).__name__}")
        self.level = level
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.min_count = int(min_count)
        self.standardize = standardize
        self.oov_token = oov_token
        self._tokens: list[str] | None = None
        self._index: dict[str, int] = {}
        if vocabulary is not None:
            self._set_tokens(vocabulary)

    # -- learning -----------------------------------------------------------------------

    def _set_tokens(self, tokens: Iterable[str]) -> None:
        tokens, _ = _as_texts(tokens, "vocabulary")
        if len(set(tokens)) != len(tokens):
            duplicates = sorted({token for token in tokens if tokens.count(token) > 1})
            raise ValueError(f"vocabulary tokens must be unique, got duplicates {duplicates}")
        if PAD_TOKEN in tokens:
            raise ValueError("vocabulary must not contain the padding token '' (id 0 is reserved for it)")
        if self.level == "char" and any(len(token) != 1 for token in tokens):
            bad = next(token for token in tokens if len(token) != 1)
            raise ValueError(f"a char vocabulary's tokens must be single characters, got {bad!r}")
        if self.max_tokens is not None and len(tokens) + 2 > self.max_tokens:
            raise ValueError(
                f"vocabulary has {len(tokens)} tokens + 2 reserved ids, more than max_tokens={self.max_tokens}"
            )
        self._tokens = tokens
        self._index = {token: index for index, token in enumerate(tokens, start=2)}

    def tokenize(self, text: str) -> list[str]:
        """The tokens of one string: standardized, then split into characters or words."""
        text = standardize_text(text, self.standardize)
        return list(text) if self.level == "char" else text.split()

    def fit(self, texts: Iterable[str]) -> Vocabulary:
        """Learn the tokens of `texts` (a string or an iterable of strings); returns `self`.

        Tokens are ordered by decreasing count, ties by first appearance; those seen
        fewer than `min_count` times are dropped, and only the `max_tokens - 2` most
        frequent are kept. Refitting replaces the vocabulary.
        """
        texts, _ = _as_texts(texts)
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(self.tokenize(text))  # a Counter keeps first-appearance order
        ranked = sorted(counts.items(), key=lambda item: -item[1])  # stable: ties keep that order
        tokens = [token for token, count in ranked if count >= self.min_count]
        if self.max_tokens is not None:
            tokens = tokens[: self.max_tokens - 2]
        self._set_tokens(tokens)
        return self

    # -- inspection ---------------------------------------------------------------------

    @property
    def fitted(self) -> bool:
        return self._tokens is not None

    def _check_fitted(self) -> None:
        if self._tokens is None:
            raise NotFittedError("this Vocabulary is not fitted yet: call fit(texts) first")

    def get_vocabulary(self) -> list[str]:
        """All tokens in id order, as Keras' `get_vocabulary()`: `["", oov_token, ...]`."""
        self._check_fitted()
        return [PAD_TOKEN, self.oov_token, *cast(list[str], self._tokens)]  # fitted: checked above

    def vocabulary_size(self) -> int:
        """The number of ids, the two reserved ones included (an `Embedding`'s `input_dim`)."""
        self._check_fitted()
        return len(cast(list[str], self._tokens)) + 2  # fitted: checked above

    def __len__(self) -> int:
        return self.vocabulary_size()

    def __repr__(self) -> str:
        size = len(self._tokens) + 2 if self._tokens is not None else "unfitted"
        return f"Vocabulary(level={self.level!r}, size={size}, standardize={self.standardize!r})"

    # -- encoding -----------------------------------------------------------------------

    def encode(self, texts: str | Iterable[str], *, pad: bool = False, maxlen: int | None = None, dtype: Any = "int32",
               padding: str = "pre", truncating: str = "pre") -> Any:
        """Text to ids: unknown tokens become `OOV_ID` (1).

        Arguments:
            texts: a string, or an iterable of strings.
            pad: return one padded array (as `pad_sequences`, padding with `PAD_ID`).
                Implied when `maxlen` is given.
            maxlen, dtype, padding, truncating: as `keras.utils.pad_sequences` (defaults
                `None`, `"int32"`, `"pre"`, `"pre"`); `dtype` also sets the unpadded arrays'.

        Returns:
            Unpadded: a list of 1-D int arrays (one array for a single string). Padded: an
            `(len(texts), maxlen)` array (`(maxlen,)` for a single string).
        """
        self._check_fitted()
        texts, single = _as_texts(texts)
        get = self._index.get
        sequences = [np.fromiter((get(token, OOV_ID) for token in self.tokenize(text)), dtype=dtype)
                     for text in texts]
        if pad or maxlen is not None:
            padded = pad_sequences(sequences, maxlen=maxlen, dtype=dtype, padding=padding,
                                   truncating=truncating, value=PAD_ID)
            return padded[0] if single else padded
        return sequences[0] if single else sequences

    def decode(self, ids: Any, *, skip_padding: bool = True) -> Any:
        """Ids to text, joined with `""` (characters) or `" "` (words).

        Arguments:
            ids: one sequence of ids (→ one string), or a 2-D array / list of sequences
                (→ a list of strings).
            skip_padding: drop the padding ids (0); otherwise they decode to `""`.

        Returns:
            A string or a list of strings; out-of-vocabulary ids show as `oov_token`.
        """
        self._check_fitted()
        vocabulary = self.get_vocabulary()
        joiner = "" if self.level == "char" else " "

        def one(sequence: Any) -> str:
            array = np.asarray(sequence)
            if array.ndim != 1:
                raise ValueError(f"each id sequence must be 1-D, got shape {array.shape}")
            if array.size and array.dtype.kind not in "iu":
                raise ValueError(f"ids must be integers, got dtype {array.dtype}")
            if array.size and (array.min() < 0 or array.max() >= len(vocabulary)):
                raise ValueError(
                    f"ids must be in [0, {len(vocabulary) - 1}] for this vocabulary of size "
                    f"{len(vocabulary)}, got values in [{array.min()}, {array.max()}]"
                )
            if skip_padding:
                array = array[array != PAD_ID]
            return joiner.join(vocabulary[index] for index in array.tolist())

        if isinstance(ids, np.ndarray):
            if ids.ndim == 1:
                return one(ids)
            if ids.ndim == 2:
                return [one(row) for row in ids]
            raise ValueError(f"ids must be 1-D or 2-D, got shape {ids.shape}")
        ids = list(ids)
        if ids and all(np.ndim(item) == 0 for item in ids):
            return one(ids)
        if not ids:
            return ""
        return [one(sequence) for sequence in ids]

    # -- serialization ------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """A JSON-serializable dict that `from_config` turns back into this vocabulary."""
        return {
            "level": self.level,
            "max_tokens": self.max_tokens,
            "min_count": self.min_count,
            "standardize": self.standardize,
            "oov_token": self.oov_token,
            "vocabulary": None if self._tokens is None else list(self._tokens),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Vocabulary:
        """The vocabulary that `get_config` described (fitted if it was)."""
        known = {"level", "max_tokens", "min_count", "standardize", "oov_token", "vocabulary"}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"unknown Vocabulary config keys {unknown}; expected some of {sorted(known)}")
        config = dict(config)
        level = config.pop("level", "char")
        return cls(level, **config)
