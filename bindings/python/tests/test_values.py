"""Module functions and values: no sandbox needed."""

import builtins
import os
import sysconfig

import pytest

import segur

MATRICULE = "1810163220751"  # ADRDEUX: key 40


def test_installed_wheel():
    # The package under test is the installed wheel, not bindings/python/python/segur.
    purelib = os.path.realpath(sysconfig.get_paths()["purelib"])
    assert os.path.realpath(segur.__file__).startswith(purelib), segur.__file__
    assert segur._segur.__file__.endswith(".abi3.so")
    assert isinstance(segur.__version__, str)


def test_check_matricule_computes_the_key():
    m = segur.check_matricule(MATRICULE)
    assert (m.matricule, m.number, m.key, m.key_status) == ("181016322075140", MATRICULE, "40", "computed")
    assert MATRICULE not in repr(m)


@pytest.mark.parametrize("args", [("181016322075140",), ("1 81 01 63 220 751 40",), (MATRICULE, "40")])
def test_check_matricule_valid_key(args):
    m = segur.check_matricule(*args)
    assert m.key_status == "valid" and m.key == "40"
    assert segur.Matricule.check(*args).matricule == m.matricule


def test_bad_key_is_an_ins_error_without_identity_data():
    with pytest.raises(segur.InsError) as ei:
        segur.check_matricule("181016322075141")
    e = ei.value
    assert e.code == 100 and e.retryable is False
    assert isinstance(e, ValueError) and isinstance(e, segur.SegurError)
    assert "key" in str(e)
    assert MATRICULE not in str(e) and "181016322075141" not in str(e)
    with pytest.raises(segur.InsError):
        segur.check_matricule(MATRICULE, "41")


@pytest.mark.parametrize("bad", ["", "123", "18101632207514000", "1810163X20751", "ADRDEUX", "１８１０１６３２２０７５１"])
def test_malformed_matricules(bad):
    with pytest.raises(segur.InsError) as ei:
        segur.check_matricule(bad)
    assert ei.value.code == 100
    assert not segur.is_valid_matricule(bad)


def test_is_valid_matricule():
    assert segur.is_valid_matricule("181016322075140")
    assert not segur.is_valid_matricule("181016322075141")


@pytest.mark.parametrize("fn", [segur.check_matricule, segur.is_valid_matricule, segur.normalize])
@pytest.mark.parametrize("value", [None, 181016322075140, b"1810163220751", ["x"]])
def test_non_str_is_a_type_error(fn, value):
    with pytest.raises(TypeError):
        fn(value)


@pytest.mark.parametrize("fn", [segur.check_matricule, segur.is_valid_matricule, segur.normalize])
def test_lone_surrogate_is_an_error_not_a_crash(fn):
    with pytest.raises(segur.InsError) as ei:
        fn("\udcff")
    assert ei.value.code == 100 and "\udcff" not in str(ei.value)
    with pytest.raises(segur.InsError):
        segur.check_matricule("1810163220751", "4\ud800")


def test_normalize():
    assert segur.normalize("  d'artagnan  de la   tour ") == "D'ARTAGNAN DE LA TOUR"
    assert segur.normalize("Hélène-Éloïse", field="prenom") == "HELENE-ELOISE"


def test_normalize_needs_confirmation_then_confirm():
    with pytest.raises(segur.NeedsConfirmation) as ei:
        segur.normalize("D’ÆION")
    e = ei.value
    assert e.proposal == "D'AEION" and e.code == 101
    assert isinstance(e, segur.InsError) and isinstance(e, ValueError)
    assert "D'AEION" not in str(e)  # the proposal is an attribute, not in the message
    assert segur.normalize("D’ÆION", confirm=True) == "D'AEION"
    assert segur.normalize("D’ÆION", True) == "D'AEION"


@pytest.mark.parametrize("bad", ["A1", "JEAN@", "-JEAN", "JEAN---PAUL", "   "])
def test_normalize_malformed(bad):
    with pytest.raises(segur.InsError) as ei:
        segur.normalize(bad)
    assert type(ei.value) is segur.InsError


def test_normalize_unknown_field():
    with pytest.raises(segur.InsError):
        segur.normalize("X", field="sexe")


def test_identity_status_enum():
    s = segur.IdentityStatus
    assert [x.code for x in (s.PROV, s.RECUP, s.VALI, s.QUAL)] == ["PROV", "RECUP", "VALI", "QUAL"]
    assert s.QUAL.label == "qualifiée" and str(s.QUAL) == "QUAL"
    assert s.QUAL == s.QUAL and s.QUAL != s.PROV
    assert len({s.PROV, s.PROV, s.QUAL}) == 2


def test_exception_tree():
    assert issubclass(segur.InsError, (segur.SegurError, ValueError))
    assert issubclass(segur.NeedsConfirmation, segur.InsError)
    assert issubclass(segur.NotFoundError, LookupError)
    assert issubclass(segur.TransportError, ConnectionError)
    assert issubclass(segur.TimeoutError, segur.TransportError)
    assert issubclass(segur.TimeoutError, builtins.TimeoutError)
    assert issubclass(segur.TlsError, segur.TransportError)
    assert issubclass(segur.DocumentError, segur.SegurError)
    assert issubclass(segur.DocumentError, ValueError)
    assert not issubclass(segur.DocumentError, segur.InsError)
    for cls in (segur.RnivError, segur.InsiError, segur.ConfigError, segur.JournalError,
                segur.AlreadyExistsError):
        assert issubclass(cls, segur.SegurError)
    codes = {segur.InsError: 100, segur.NeedsConfirmation: 101, segur.RnivError: 102,
             segur.NotFoundError: 103, segur.AlreadyExistsError: 104, segur.DocumentError: 105,
             segur.InsiError: 200, segur.TransportError: 300, segur.TimeoutError: 301,
             segur.TlsError: 302, segur.ConfigError: 400, segur.JournalError: 500}
    for cls, code in codes.items():
        assert cls.code == code and cls.__module__ == "segur"
    # Raisable from Python with the class defaults.
    with pytest.raises(segur.SegurError) as ei:
        raise segur.RnivError("x")
    assert ei.value.code == 102 and ei.value.retryable is False
    # `from segur import *` does not shadow the built-in TimeoutError.
    assert "TimeoutError" not in segur.__all__


def test_identity_input_types():
    with pytest.raises(TypeError):
        segur.IdentityInput(1, "A", "1981-01-01", "M")
    with pytest.raises(segur.InsError):
        segur.IdentityInput("\udcff", "A", "1981-01-01", "M")
    i = segur.IdentityInput("ADRDEUX", "LAURENT", "1981-01-01", "M", lieu_naissance="63220")
    assert i.lieu_naissance == "63220" and "ADRDEUX" not in repr(i)


def test_open_missing_config_is_a_config_error(tmp_path):
    with pytest.raises(segur.ConfigError) as ei:
        segur.Client.open(tmp_path / "nope.toml")
    assert ei.value.code == 400
    with pytest.raises(TypeError):
        segur.Client.open(42)
