"""scratchlstm._layout: the memory layouts of the NumPy recurrence and the PyTorch conversion."""

import numpy as np
import pytest

from scratchlstm._layout import as_rows, column_major_steps, feature_major


def test_column_major_steps_gives_column_major_slabs_with_contiguous_column_blocks():
    array = column_major_steps(5, 3, 8, np.float32)
    assert array.shape == (5, 3, 8) and array.dtype == np.float32
    for t in range(5):
        assert array[t].flags.f_contiguous
        assert array[t][:, 2:4].flags.f_contiguous  # a gate block is one contiguous run


def test_feature_major_rows_are_a_view_in_time_then_batch_order():
    steps, batch, width = 4, 3, 5
    array = feature_major(steps, batch, width, np.float64)
    values = np.arange(steps * batch * width, dtype=np.float64).reshape(steps, batch, width)
    array[...] = values
    rows = as_rows(array)
    assert rows.shape == (width, steps * batch)
    assert np.shares_memory(rows, array)
    np.testing.assert_array_equal(rows, values.reshape(steps * batch, width).T)
    # a leading slice of the steps works too (hiddens[:-1])
    np.testing.assert_array_equal(as_rows(array[:-1]), values[:-1].reshape(-1, width).T)
    array[1, 2, 3] = -1.0
    assert rows[3, 1 * batch + 2] == -1.0


def test_as_rows_refuses_to_copy_silently():
    with pytest.raises(AttributeError):
        as_rows(column_major_steps(4, 3, 5, np.float64))  # (T, W, B) memory: no (W, T*B) view
