"""The Kubernetes CEL library as plumbob evaluates it, on the examples of the Kubernetes
documentation (https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-cel-libraries)
and of the library's Go doc comments (k8s.io/apiserver/pkg/cel/library: quantity.go, regex.go,
lists.go)."""

from __future__ import annotations

from typing import Any

import pytest

from plumbob.cel import CelCompileError, compile_expression


def value(expression: str, **data: Any) -> Any:
    outcome = compile_expression(expression).evaluate(data)
    assert outcome.error is None, outcome.error
    return outcome.value


def error(expression: str, **data: Any) -> str:
    outcome = compile_expression(expression).evaluate(data)
    assert outcome.error is not None, outcome.value
    return outcome.error


@pytest.mark.parametrize(
    "expression",
    [
        # the documentation's table of the Kubernetes libraries
        "\"abc 123\".find('[0-9]+') == '123'",
        "\"1, 2, 3, 4\".findAll('[0-9]+').map(x, int(x)).sum() < 100",
        "[1, 2, 3].isSorted()",
        "[1.0, 2.5].sum() == 3.5",
        "[3, 1, 2].max() == 3 && [3, 1, 2].min() == 1",
        "isQuantity('1.3Gi')",
        "!isQuantity('1.3GiB')",
        "quantity('50000000G').isInteger()",
        "quantity('50k').asInteger() == 50000",
        "quantity('50.5k').asApproximateFloat() == 50500.0",
        "quantity('200M').compareTo(quantity('0.2G')) == 0",
        "quantity('50Mi').isGreaterThan(quantity('50M'))",
        "quantity('50M').isLessThan(quantity('50Mi'))",
        "quantity('50k').add(quantity('20k')).asInteger() == 70000",
        "quantity('50k').add(20).asInteger() == 50020",
        "quantity('50k').sub(quantity('20k')).asInteger() == 30000",
        "quantity('50k').sub(20).asInteger() == 49980",
        "quantity('-50k').isLessThan(quantity('0'))",
        "quantity('100m').isInteger() == false",
        # the strings extension
        "'TacoCat'.lowerAscii() == 'tacocat'",
        "'a,b,c'.split(',') == ['a', 'b', 'c']",
        "'hello'.indexOf('l') == 2",
        "'  x '.trim() == 'x'",
        "['a', 'b'].join('-') == 'a-b'",
        "'abcd'.substring(1, 3) == 'bc'",
        "'nvcr.io/nvidia/pytorch:24.05'.replace(':', '@') == 'nvcr.io/nvidia/pytorch@24.05'",
        # optional fields, as policies read an object that may lack one
        "object.?spec.?foo.orValue('none') == 'none'",
    ],
)
def test_documented_examples_hold(expression: str) -> None:
    assert value(expression, object={"spec": {}}) is True


@pytest.mark.parametrize(
    ("expression", "said"),
    [
        ("quantity('1.5').asInteger()", "cannot convert value to integer"),
        ("quantity('9223372036854775808').asInteger()", "cannot convert value to integer"),
        ("quantity('two')", "is not a quantity"),
        ("[].min()", "empty list"),
        ("object.missing == 1", "missing"),
    ],
)
def test_what_the_api_server_refuses_is_an_evaluation_error(expression: str, said: str) -> None:
    assert said in error(expression, object={})


def test_a_bad_expression_names_line_and_column() -> None:
    with pytest.raises(CelCompileError) as raised:
        compile_expression("object.spec &&\n  objec.x")
    assert raised.value.line == 2
    assert raised.value.column is not None
    assert "objec" in str(raised.value)


def test_what_the_api_server_refuses_to_compile_is_refused() -> None:
    # kube-apiserver v1.37 refuses a ValidatingAdmissionPolicy calling sign() on a quantity
    with pytest.raises(CelCompileError, match="sign"):
        compile_expression("quantity('1').sign() > 0")


def test_an_unknown_function_is_refused_when_compiled() -> None:
    with pytest.raises(CelCompileError, match="undeclared reference to 'lowerascii'"):
        compile_expression("'a'.lowerascii()")
