"""Credential generators and the generator spec language."""

from __future__ import annotations

import base64
import re
import string

import pytest
from cryptography.fernet import Fernet

from platxa_secrets.errors import ValidationError
from platxa_secrets.services.generators import (
    DEFAULT_SYMBOLS,
    Generator,
    generate_dns_token,
    generate_fernet_key,
    generate_hex,
    generate_password,
    generate_urlsafe,
    parse_generator,
)

LOWER = set(string.ascii_lowercase)
UPPER = set(string.ascii_uppercase)
DIGITS = set(string.digits)
SYMBOLS = set(DEFAULT_SYMBOLS)
ALL = LOWER | UPPER | DIGITS | SYMBOLS


# --- passwords -----------------------------------------------------------


def test_default_password_is_32_characters_of_the_four_classes() -> None:
    password = generate_password()

    assert len(password) == 32
    assert set(password) <= ALL


def test_default_symbols_need_no_quoting_in_a_shell_or_url() -> None:
    assert not set(DEFAULT_SYMBOLS) & set("$`\"'\\!*?&;|<>(){}[]#~ %@:/")


def test_every_class_appears_in_every_short_password() -> None:
    for _ in range(500):
        password = set(generate_password(length=4))

        assert password & LOWER
        assert password & UPPER
        assert password & DIGITS
        assert password & SYMBOLS


def test_without_require_each_a_class_may_be_missing() -> None:
    draws = [set(generate_password(length=4, require_each=False)) for _ in range(300)]

    missing = [d for d in draws if not (d & LOWER and d & UPPER and d & DIGITS)]
    assert missing


def test_required_characters_are_shuffled_into_place() -> None:
    firsts = {
        generate_password(length=4, classes=["lower", "digits"])[0] for _ in range(200)
    }

    assert firsts & LOWER
    assert firsts & DIGITS


def test_every_character_of_the_alphabet_is_reachable() -> None:
    assert set(generate_password(length=4096)) == ALL


def test_exclusions_are_never_drawn() -> None:
    excluded = "O0Il1"

    drawn = set(
        "".join(generate_password(length=64, exclude=excluded) for _ in range(200))
    )

    assert not drawn & set(excluded)
    assert drawn == ALL - set(excluded)


def test_classes_limit_the_alphabet() -> None:
    drawn = set("".join(generate_password(classes=["digits"]) for _ in range(50)))

    assert drawn == DIGITS


def test_classes_may_be_a_comma_separated_string() -> None:
    drawn = set("".join(generate_password(classes="lower, digits") for _ in range(50)))

    assert drawn == LOWER | DIGITS


def test_custom_symbols_replace_the_default_set() -> None:
    drawn = set(
        "".join(generate_password(classes=["symbols"], symbols="#!") for _ in range(50))
    )

    assert drawn == {"#", "!"}


def test_passwords_differ_between_draws() -> None:
    passwords = {generate_password() for _ in range(200)}

    assert len(passwords) == 200


@pytest.mark.parametrize("length", [1, 4096])
def test_length_limits_are_inclusive(length: int) -> None:
    password = generate_password(length=length, classes=["lower"])

    assert len(password) == length


@pytest.mark.parametrize("length", [0, -1, 4097])
def test_length_outside_limits_is_refused(length: int) -> None:
    with pytest.raises(
        ValidationError, match="password length must be 1 to 4096"
    ) as info:
        generate_password(length=length)

    assert info.value.context["field"] == "password length"


@pytest.mark.parametrize("length", [True, 3.0, "32"])
def test_length_must_be_an_integer(length: object) -> None:
    with pytest.raises(ValidationError, match="password length must be an integer"):
        generate_password(length=length)  # type: ignore[arg-type]


def test_length_below_class_count_is_refused_when_each_is_required() -> None:
    with pytest.raises(ValidationError, match="shorter than the 4 classes") as info:
        generate_password(length=3)

    assert info.value.context["field"] == "password length"
    assert len(generate_password(length=3, require_each=False)) == 3


def test_unknown_class_is_refused_and_known_ones_listed() -> None:
    with pytest.raises(
        ValidationError, match="'emoji' unknown; known classes are lower"
    ) as info:
        generate_password(classes=["lower", "emoji"])

    assert info.value.context["field"] == "password classes"


@pytest.mark.parametrize("classes", [[], "", " , "])
def test_empty_class_list_is_refused(classes: list[str] | str) -> None:
    with pytest.raises(ValidationError, match="at least one class"):
        generate_password(classes=classes)


def test_exclusion_that_empties_a_class_is_refused() -> None:
    with pytest.raises(
        ValidationError, match="leaves no character of class 'digits'"
    ) as info:
        generate_password(exclude=string.digits)

    assert info.value.context["field"] == "password exclude"


def test_symbols_must_be_punctuation() -> None:
    with pytest.raises(ValidationError, match="only ASCII punctuation") as info:
        generate_password(symbols="-a")

    assert info.value.context["field"] == "password symbols"


def test_empty_symbols_with_the_symbols_class_is_refused() -> None:
    with pytest.raises(ValidationError, match="symbols is empty"):
        generate_password(symbols="")

    assert set(generate_password(classes=["lower"], symbols="")) <= LOWER


# --- tokens --------------------------------------------------------------


@pytest.mark.parametrize("nbytes", [1, 16, 1024])
def test_hex_holds_the_requested_entropy(nbytes: int) -> None:
    token = generate_hex(nbytes)

    assert re.fullmatch(r"[0-9a-f]+", token)
    assert len(bytes.fromhex(token)) == nbytes


@pytest.mark.parametrize("nbytes", [1, 16, 1024])
def test_urlsafe_holds_the_requested_entropy(nbytes: int) -> None:
    token = generate_urlsafe(nbytes)

    assert re.fullmatch(r"[-_A-Za-z0-9]+", token)
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) == nbytes


def test_token_defaults_are_32_bytes() -> None:
    assert len(generate_hex()) == 64
    assert len(generate_urlsafe()) == 43


@pytest.mark.parametrize("generate", [generate_hex, generate_urlsafe])
@pytest.mark.parametrize("nbytes", [0, 1025, -5])
def test_token_size_outside_limits_is_refused(generate: object, nbytes: int) -> None:
    assert callable(generate)
    with pytest.raises(ValidationError, match="bytes must be 1 to 1024"):
        generate(nbytes)


def test_dns_token_is_prefix_and_lower_case_base32() -> None:
    token = generate_dns_token()

    prefix, _, value = token.partition("=")
    assert prefix == "platxa-verification"
    assert re.fullmatch(r"[a-z2-7]{32}", value)
    assert len(base64.b32decode(value.upper())) == 20


def test_dns_token_takes_prefix_and_size() -> None:
    token = generate_dns_token(prefix="_acme-check", nbytes=5)

    assert re.fullmatch(r"_acme-check=[a-z2-7]{8}", token)


@pytest.mark.parametrize(
    "prefix", ["", "Upper", "ends-", "has space", "dot.ted", "x" * 64, "a=b"]
)
def test_dns_token_prefix_must_be_a_label(prefix: str) -> None:
    with pytest.raises(ValidationError, match="prefix must be a DNS label") as info:
        generate_dns_token(prefix=prefix)

    assert info.value.context["field"] == "dns-token prefix"


def test_dns_token_must_fit_one_txt_string() -> None:
    generate_dns_token(prefix="p", nbytes=158)

    with pytest.raises(ValidationError, match="would be 257 characters; a DNS TXT"):
        generate_dns_token(prefix="p", nbytes=159)


def test_fernet_key_is_accepted_by_fernet() -> None:
    key = generate_fernet_key()

    fernet = Fernet(key)
    assert fernet.decrypt(fernet.encrypt(b"x")) == b"x"
    assert len(base64.urlsafe_b64decode(key)) == 32
    assert generate_fernet_key() != key


# --- spec language -------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "normalised"),
    [
        ("password()", "password()"),
        ("password(length=32)", "password(length=32)"),
        (
            'password(length=24, classes="lower,upper,digits", exclude="O0Il1")',
            'password(length=24, classes="lower,upper,digits", exclude="O0Il1")',
        ),
        (
            "  password ( exclude='O0' ,length = 8,require_each=false )  ",
            'password(length=8, require_each=false, exclude="O0")',
        ),
        ("password(symbols='\"#')", "password(symbols='\"#')"),
        ("password(classes=digits)", 'password(classes="digits")'),
        ("hex(bytes=32)", "hex(bytes=32)"),
        ("urlsafe(bytes=16)", "urlsafe(bytes=16)"),
        ('dns-token(prefix="x")', 'dns-token(prefix="x")'),
        ("dns-token(bytes=10, prefix=site)", 'dns-token(prefix="site", bytes=10)'),
        ("fernet-key()", "fernet-key()"),
    ],
)
def test_spec_is_normalised_and_round_trips(spec: str, normalised: str) -> None:
    generator = parse_generator(spec)

    assert generator.spec == normalised
    assert parse_generator(generator.spec) == generator


def test_two_spellings_of_one_spec_are_equal() -> None:
    assert parse_generator("hex( bytes=8 )") == parse_generator("hex(bytes=8)")
    assert parse_generator("hex(bytes=8)") != parse_generator("hex(bytes=9)")


def test_password_spec_arguments_take_effect() -> None:
    generator = parse_generator(
        'password(length=24, classes="lower,digits", exclude="0l1")'
    )

    for _ in range(100):
        value = generator.generate()
        assert len(value) == 24
        assert set(value) <= (LOWER | DIGITS) - set("0l1")
        assert set(value) & LOWER
        assert set(value) & DIGITS


def test_require_each_false_in_a_spec_allows_short_passwords() -> None:
    value = parse_generator("password(length=2, require_each=false)").generate()

    assert len(value) == 2


def test_spec_symbols_argument_takes_effect() -> None:
    value = parse_generator("password(classes=symbols, symbols='#')").generate()

    assert value == "#" * 32


@pytest.mark.parametrize(
    ("spec", "check"),
    [
        ("hex(bytes=4)", lambda v: len(bytes.fromhex(v)) == 4),
        ("hex()", lambda v: len(v) == 64),
        ("urlsafe(bytes=6)", lambda v: len(v) == 8),
        ("dns-token(prefix=x, bytes=5)", lambda v: re.fullmatch(r"x=[a-z2-7]{8}", v)),
        ("fernet-key()", lambda v: Fernet(v) is not None),
    ],
)
def test_each_generator_kind_generates(spec: str, check: object) -> None:
    generator = parse_generator(spec)

    assert callable(check)
    assert check(generator.generate())
    assert generator.generate() != generator.generate()


@pytest.mark.parametrize(
    ("spec", "rule"),
    [
        ("", "expected a call such as password"),
        ("password", "expected a call such as password"),
        ("eval(x=1)", "unknown generator 'eval'; known: password, hex"),
        ("password(len=3)", "password has no argument 'len' (arguments: length,"),
        ("fernet-key(bytes=3)", "fernet-key has no argument 'bytes' (arguments: none)"),
        ("password(length=3, length=4)", "argument length is given twice"),
        ('password(length="3")', "argument length takes an integer"),
        ("password(length=3.5)", "expected ',' or ')' at column 18"),
        ("password(require_each=yes)", "argument require_each takes true or false"),
        ("password(require_each=1)", "argument require_each takes true or false"),
        ("password(32)", "expected name=value at column 10"),
        ("password(,)", "expected name=value at column 10"),
        ("password(length=3,)", "expected name=value at column 19"),
        ("password(length=32", "expected ',' or ')' at column 19"),
        ('password(exclude="O0)', "expected name=value at column 10"),
        ("password() x", "unexpected text after ')' at column 12"),
        ("password()()", "unexpected text after ')' at column 11"),
        ("password(length=__import__('os'))", "argument length takes an integer"),
        ("password(exclude=__import__('os'))", "expected ',' or ')' at column 28"),
        ("password(length=0)", "password length must be 1 to 4096, got 0"),
        ("password(length=2)", "shorter than the 4 classes"),
        ("password(classes=emoji)", "'emoji' unknown"),
        ("password(exclude='0123456789')", "leaves no character of class 'digits'"),
        ("hex(bytes=0)", "hex bytes must be 1 to 1024, got 0"),
        ("urlsafe(bytes=1025)", "urlsafe bytes must be 1 to 1024"),
        ("dns-token(prefix=Bad)", "prefix must be a DNS label"),
        ("dns-token(bytes=500)", "a DNS TXT string holds at most 255"),
    ],
)
def test_bad_spec_names_spec_and_rule(spec: str, rule: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_generator(spec)

    assert info.value.message.startswith(f"generator {spec!r}: ")
    assert rule in info.value.message
    assert info.value.context["field"] == "generator"
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__ or info.value.__context__ is None


def test_long_bad_spec_is_cut_short_in_the_message() -> None:
    spec = "password(exclude='" + "x" * 200 + "'"

    with pytest.raises(ValidationError) as info:
        parse_generator(spec)

    assert "x" * 100 not in info.value.message


def test_generated_values_appear_in_no_repr() -> None:
    for spec in ("password()", "hex()", "urlsafe()", "dns-token()", "fernet-key()"):
        generator = parse_generator(spec)
        value = generator.generate()

        assert value not in repr(generator)
        assert value not in str(generator)
        assert isinstance(generator, Generator)
