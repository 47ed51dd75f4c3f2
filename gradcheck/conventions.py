"""How a gradient function takes the parameters and one sequence, and what it returns: the
Convention, the built-in CONVENTIONS (min-char-rnn, dd2424), and `call`, which calls a function on a
case as its convention says and reads back its loss, gradients and last hidden state in rnnlib's
layout, or says in one line (ConventionError) what does not fit.
"""

from __future__ import annotations

import contextlib
import inspect
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

import rnnlib

LETTERS = ("b", "c", "U", "W", "V")   # rnnlib's order


@dataclass(frozen=True)
class Convention:
    """How a gradient function takes the parameters and one sequence, and what it returns.

    form "globals", min-char-rnn's: function(inputs, targets, hprev), inputs and targets lists of int
    indices, hprev (m, 1); it reads the parameters from its module's globals, which the check sets
    (and restores), with vocab_size = K and hidden_size = m, and returns (loss, dU, dW, dV, db, dc,
    last hidden state), in min-char-rnn's names (loss, dWxh, dWhh, dWhy, dbh, dby, hs[n-1]).
    form "arrays", the assignment's: function(X, Y, h0, params), X and Y one-hot (K, n), h0 (m, 1),
    params a dict that is also an object (params["W"] and params.W both work).  It returns (loss,
    grads) or (grads, loss), optionally followed by the last hidden state; grads is a dict or an object
    holding the gradients under the parameters' names, or those names after "d" or "grad_".
    names: rnnlib's letter -> the function's name.  Biases are column vectors; transpose=True takes
    every array transposed instead, for code that writes x_t U + h_{t-1} W + b with row vectors:
    X, Y (n, K), h0 (1, m), b (1, m), c (1, K), U (K, m), V (m, K), and W^T in place of W.

    Any other names, e.g. row-vector code whose parameters are params["W_xh"], ...:
        mine = Convention("mine", {"b": "b_h", "c": "b_y", "U": "W_xh", "W": "W_hh", "V": "W_hy"}, transpose=True)
        gradcheck.check(my_gradients, convention=mine)
    """

    name: str
    names: Mapping[str, str]
    form: str = "arrays"
    transpose: bool = False

    @property
    def arguments(self) -> tuple[str, ...]:
        return ("inputs", "targets", "hprev") if self.form == "globals" else ("X", "Y", "h0", "params")


CONVENTIONS = {
    "min-char-rnn": Convention("min-char-rnn", {"b": "bh", "c": "by", "U": "Wxh", "W": "Whh", "V": "Why"}, "globals"),
    "dd2424": Convention("dd2424", {letter: letter for letter in LETTERS}),
}
GLOBALS_ORDER = ("U", "W", "V", "b", "c")   # min-char-rnn returns dWxh, dWhh, dWhy, dbh, dby


class ConventionError(ValueError):
    """The function cannot be checked as called: one line naming what does not fit."""


class Parameters(dict):
    """The arrays under the function's names, as params["W"] and as params.W."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    __setattr__ = dict.__setitem__


def _layout(array: np.ndarray, letter: str, transpose: bool) -> np.ndarray:
    """An rnnlib array (b (m,), U (m, K), ...) as the function takes it: biases as columns (rows if transposed)."""
    if letter in "bc":
        array = array[:, None]
    return array.T.copy() if transpose else array.copy()


def _one_hot(x, K: int, transpose: bool) -> np.ndarray:
    X = np.zeros((K, len(x)))                   # (K, n): column t is x_t
    X[x, np.arange(len(x))] = 1
    return X.T.copy() if transpose else X


def _describe(value) -> str:
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return "None" if value is None else f"a {type(value).__name__}"


def _is_number(value) -> bool:
    if isinstance(value, np.ndarray):
        return value.size == 1 and value.dtype.kind in "iuf"
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _gradient(grads, name: str):
    """The gradient of parameter `name` from a dict or an object: name, "d" + name or "grad_" + name."""
    for key in (name, "d" + name, "grad_" + name):
        if isinstance(grads, Mapping) and key in grads:
            return grads[key]
        if not isinstance(grads, Mapping) and hasattr(grads, key):
            return getattr(grads, key)
    held = list(grads) if isinstance(grads, Mapping) else [k for k in getattr(grads, "__dict__", {})]
    raise ConventionError(f"the gradients returned ({_describe(grads)}) hold no {name!r} (nor 'd{name}', "
                          f"'grad_{name}'){': they hold ' + ', '.join(map(repr, held)) if held else ''}")


def _back(value, letter: str, name: str, rnn: rnnlib.RNN, convention: Convention, transposed: dict):
    """A returned gradient in rnnlib's layout, or ConventionError.  A matrix in the transpose of its
    shape is taken transposed back, and noted in `transposed` (letter -> the shape it came in first)."""
    value = np.asarray(value)
    expected = _layout(rnn[letter], letter, convention.transpose).shape
    if value.dtype.kind not in "iuf":
        raise ConventionError(f"d{name} holds {value.dtype} values, not numbers")
    if letter in "bc":  # a vector in any form: (m,), (m, 1), (1, m)
        if value.size == max(expected) and (value.ndim <= 1 or (value.ndim == 2 and 1 in value.shape)):
            return value.astype(np.float64).reshape(-1)
    elif value.shape == expected:
        return value.astype(np.float64).T if convention.transpose else value.astype(np.float64)
    elif value.shape == expected[::-1]:
        transposed.setdefault(letter, value.shape)
        return value.astype(np.float64) if convention.transpose else value.astype(np.float64).T
    raise ConventionError(f"d{name} has shape {value.shape}; {name} is {expected} (m = {rnn.m} hidden units, "
                          f"K = {rnn.K} characters)")


@contextlib.contextmanager
def _module_globals(function, values: dict):
    """values set as globals of the function's module for the duration, then the old ones back."""
    space = getattr(function, "__globals__", None)
    if space is None:
        raise ConventionError(f"{name_of(function)} has no module globals to set (the min-char-rnn convention "
                              f"needs a Python function defined in a module)")
    saved = {key: space[key] for key in values if key in space}
    space.update(values)
    try:
        yield
    finally:
        for key in values:
            if key in saved:
                space[key] = saved[key]
            else:
                space.pop(key, None)


def name_of(function) -> str:
    return getattr(function, "__qualname__", None) or repr(function)


def check_arguments(function, convention: Convention) -> None:
    """ConventionError unless the function can take the convention's arguments (when its signature says)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return
    if not _binds(signature, convention.arguments):
        fits = [c.name for c in CONVENTIONS.values() if c.form != convention.form and _binds(signature, c.arguments)]
        raise ConventionError(f"{name_of(function)}{signature} cannot take the {convention.name} convention's "
                              f"arguments ({', '.join(convention.arguments)})"
                              + (f": is it the {fits[0]} convention?" if fits else ""))


def _binds(signature, arguments) -> bool:
    try:
        signature.bind(*arguments)
        return True
    except TypeError:
        return False


@dataclass(frozen=True)
class Output:
    """What a function gave on one case, in rnnlib's layout; h is None when it does not return one;
    dtype, the least precise of the dtypes its gradients came in."""

    loss: float
    grads: rnnlib.Params
    h: np.ndarray | None
    dtype: np.dtype = np.dtype(np.float64)


def call(function, convention: Convention, case, transposed: dict) -> Output:
    """The function's output on a case (gradcheck.checking.Case), in rnnlib's layout, or ConventionError.
    Matrices that came back transposed are noted in `transposed`."""
    rnn, t = case.rnn, convention.transpose
    arrays = {convention.names[letter]: _layout(rnn[letter], letter, t) for letter in LETTERS}
    h0 = _layout(case.h0, "b", t)
    if convention.form == "globals":
        with _module_globals(function, {**arrays, "vocab_size": rnn.K, "hidden_size": rnn.m}):
            returned = function(case.x.tolist(), case.y.tolist(), h0)
        if not isinstance(returned, (tuple, list)) or len(returned) != 7:
            named = ", ".join("d" + convention.names[letter] for letter in GLOBALS_ORDER)
            raise ConventionError(f"{name_of(function)} returned {_describe(returned)}; the {convention.name} "
                                  f"convention returns 7: loss, {named}, the last hidden state")
        loss, grads, h = returned[0], dict(zip(GLOBALS_ORDER, returned[1:6])), returned[6]
        grads = {convention.names[letter]: grads[letter] for letter in LETTERS}
    else:
        returned = function(_one_hot(case.x, rnn.K, t), _one_hot(case.y, rnn.K, t), h0, Parameters(arrays))
        if not isinstance(returned, (tuple, list)) or len(returned) not in (2, 3) or \
                _is_number(returned[0]) == _is_number(returned[1]):
            raise ConventionError(f"{name_of(function)} returned {_describe(returned)}; the {convention.name} "
                                  f"convention returns (loss, grads) or (grads, loss), then optionally the last "
                                  f"hidden state")
        loss, grads = returned[:2] if _is_number(returned[0]) else returned[1::-1]
        h = returned[2] if len(returned) == 3 else None
    if not _is_number(loss):
        raise ConventionError(f"{name_of(function)} returned {_describe(loss)} as its loss, not a number")
    theirs, dtypes = rnnlib.Params(rnn.m, rnn.K), []
    for letter in LETTERS:
        name = convention.names[letter]
        returned_gradient = _gradient(grads, name)
        dtypes.append(np.asarray(returned_gradient).dtype)
        theirs[letter][...] = _back(returned_gradient, letter, name, rnn, convention, transposed)
    if h is not None:
        h = np.asarray(h, dtype=np.float64)
        if h.size != rnn.m:
            raise ConventionError(f"the last hidden state has shape {h.shape}; h is ({rnn.m}, 1) here (m = {rnn.m})")
        h = h.reshape(-1)
    return Output(float(np.asarray(loss).item()), theirs, h, min(dtypes, key=lambda d: d.itemsize))


