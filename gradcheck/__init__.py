"""Someone else's RNN gradients held against rnnlib's exact ones, with the usual mistake named.

    import gradcheck
    result = gradcheck.check(lossFun, convention="min-char-rnn")   # or "dd2424", or a Convention
    print(result)   # a row per array (max relative and absolute error, entries that disagree), then the verdict
    result.ok       # True when the loss, the gradients and the last hidden state equal rnnlib's to rounding

    gradcheck.explain_finite_differences(1e-5, loss=109.6, relative_error=3e-6, gradient=1e-4)
                    # is the error of your own centred-difference check rounding, or a bug?

The reference is rnnlib.loss_and_gradients (the sum of the n steps' losses, unclipped), which the tests
hold to the complex step.  A mistake is named only when its loss and gradients, computed here, equal
the function's to rounding on every case; otherwise the verdict says only which arrays differ.  The
modules, in the order data flows through them:

    conventions  how a function takes the parameters and a sequence, and what it returns
                 (Convention; CONVENTIONS: min-char-rnn, dd2424)
    checking     the cases the check chooses, check, its Result, diagnose
    mistakes     the usual mistakes, each computed exactly
    rounding     explain_finite_differences, rounding_floor
    example      a right implementation and three usual mistakes: the demonstration notebook 1 shows
"""

from gradcheck.checking import Result, cases, check, diagnose
from gradcheck.conventions import CONVENTIONS, Convention, ConventionError
from gradcheck.example import demonstration
from gradcheck.rounding import ROUNDING_MARGIN, explain_finite_differences, rounding_floor

__all__ = ["CONVENTIONS", "ROUNDING_MARGIN", "Convention", "ConventionError", "Result", "cases", "check", "diagnose",
           "demonstration", "explain_finite_differences", "rounding_floor"]
