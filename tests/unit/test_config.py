"""config: where each option takes its value from (--set > environment > config file > default)."""

from __future__ import annotations

import os

import pytest

from clockify_proxy import config
from clockify_proxy.config import ConfigError, config_file, load_file


SCALAR = config.SPECS["clockify_timezone"]
LIST = config.SPECS["clockify_hosts"]
FILE = "cfg.toml"


def resolved(value, source):
    return (value, source)


def resolve(spec, set_value, environ, file_values, file_name):
    """(value, source) of config.resolve, which also names the option."""
    got = config.resolve(spec, set_value, environ, file_values, file_name)
    assert got.name == spec.name
    return (got.value, got.source)


def test_options_are_named_and_typed():
    assert config.OPTIONS
    for spec in config.OPTIONS:
        assert spec.name.startswith("clockify_")
        assert spec.env == spec.name.upper()
        assert spec.help
        assert config.SPECS[spec.name] is spec
    assert SCALAR.is_list is False and LIST.is_list is True
    assert SCALAR.env == "CLOCKIFY_TIMEZONE"


# -- resolve: scalar options ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "set_value, environ, file_values, expected",
    [
        ("Europe/Brussels", {"CLOCKIFY_TIMEZONE": "Asia/Tokyo"}, {"clockify_timezone": "UTC"},
         resolved("Europe/Brussels", "--set")),
        ("", {"CLOCKIFY_TIMEZONE": "Asia/Tokyo"}, {"clockify_timezone": "UTC"}, resolved("Asia/Tokyo", "env CLOCKIFY_TIMEZONE")),
        (None, {"CLOCKIFY_TIMEZONE": "Asia/Tokyo"}, {"clockify_timezone": "UTC"}, resolved("Asia/Tokyo", "env CLOCKIFY_TIMEZONE")),
        ("  ", {"CLOCKIFY_TIMEZONE": " \t"}, {"clockify_timezone": "UTC"}, resolved("UTC", f"config file {FILE}")),
        ("", {}, {"clockify_timezone": "UTC"}, resolved("UTC", f"config file {FILE}")),
        ("", {"CLOCKIFY_TIMEZONE": ""}, {}, resolved(None, "default")),
        ("", {}, {}, resolved(None, "default")),
        (" Europe/Brussels ", {}, {}, resolved("Europe/Brussels", "--set")),
        ("", {"CLOCKIFY_TIMEZONE": " Asia/Tokyo\n"}, {}, resolved("Asia/Tokyo", "env CLOCKIFY_TIMEZONE")),
        ("", {}, {"clockify_timezone": " UTC "}, resolved("UTC", f"config file {FILE}")),
        # Other options' variables and file keys do not leak in.
        ("", {"CLOCKIFY_UPSTREAM": "http://x", "clockify_timezone": "UTC"}, {"clockify_upstream": "http://y"},
         resolved(None, "default")),
    ],
)
def test_scalar_precedence(set_value, environ, file_values, expected):
    assert resolve(SCALAR, set_value, environ, file_values, FILE) == expected


@pytest.mark.parametrize("empty", ["", "   ", "\t\n"])
def test_scalar_empty_file_value_counts_as_unset(empty):
    # `clockify_timezone = ""` in the file: not set, so the default (the host's zone) applies.
    assert resolve(SCALAR, "", {}, {"clockify_timezone": empty}, FILE) == resolved(None, "default")


# -- resolve: list options -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "set_value, environ, file_values, expected",
    [
        (["a.example,b.example", " c.example "], {"CLOCKIFY_HOSTS": "e.example"}, {"clockify_hosts": ["f.example"]},
         resolved(("a.example", "b.example", "c.example"), "--set")),
        ([], {"CLOCKIFY_HOSTS": "x.example, y.example,,"}, {"clockify_hosts": ["f.example"]},
         resolved(("x.example", "y.example"), "env CLOCKIFY_HOSTS")),
        (None, {"CLOCKIFY_HOSTS": "x.example"}, {}, resolved(("x.example",), "env CLOCKIFY_HOSTS")),
        ([], {"CLOCKIFY_HOSTS": "  "}, {"clockify_hosts": ["f1.example", "f2.example,f3.example"]},
         resolved(("f1.example", "f2.example", "f3.example"), f"config file {FILE}")),
        ([], {}, {"clockify_hosts": "f1.example, f2.example"}, resolved(("f1.example", "f2.example"), f"config file {FILE}")),
        ([], {}, {}, resolved((), "default")),
        ((), {"CLOCKIFY_HOSTS": ""}, {}, resolved((), "default")),
    ],
)
def test_list_precedence(set_value, environ, file_values, expected):
    assert resolve(LIST, set_value, environ, file_values, FILE) == expected


@pytest.mark.parametrize("empty", [[""], ["  "]])
def test_list_set_to_empty_counts_as_unset(empty):
    # `--set clockify_hosts=` gives mitmproxy's Sequence[str] option the value [""].
    assert resolve(LIST, empty, {"CLOCKIFY_HOSTS": "x.example"}, {}, FILE) == resolved(("x.example",), "env CLOCKIFY_HOSTS")
    assert resolve(LIST, empty, {}, {"clockify_hosts": ["f.example"]}, FILE) == resolved(("f.example",), f"config file {FILE}")


@pytest.mark.parametrize("empty", ["", [], [""]])
def test_list_empty_file_value_counts_as_unset(empty):
    assert resolve(LIST, [], {}, {"clockify_hosts": empty}, FILE) == resolved((), "default")


# -- load_file ---------------------------------------------------------------------------------------


def write(tmp_path, content: str | bytes, name: str = "clockify-proxy.toml") -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def test_load_file_reads_known_options(tmp_path):
    path = write(tmp_path, '# comment\nclockify_timezone = "Europe/Brussels"\nclockify_hosts = ["a.example", "b.example"]\n'
                           'clockify_upstream = "http://127.0.0.1:9000"\n')
    assert load_file(path) == {
        "clockify_timezone": "Europe/Brussels",
        "clockify_hosts": ["a.example", "b.example"],
        "clockify_upstream": "http://127.0.0.1:9000",
    }


def test_load_file_list_option_as_string_and_empty_file(tmp_path):
    assert load_file(write(tmp_path, 'clockify_hosts = "a.example,b.example"\n')) == {"clockify_hosts": "a.example,b.example"}
    assert load_file(write(tmp_path, "", "empty.toml")) == {}


def test_load_file_then_resolve(tmp_path):
    path = write(tmp_path, 'clockify_timezone = "Asia/Kathmandu"\nclockify_hosts = "a.example, b.example"\n')
    values = load_file(path)
    assert resolve(SCALAR, "", {}, values, path) == resolved("Asia/Kathmandu", f"config file {path}")
    assert resolve(LIST, [], {}, values, path) == resolved(("a.example", "b.example"), f"config file {path}")


def test_load_file_unknown_key(tmp_path):
    path = write(tmp_path, 'clockify_timezone = "UTC"\nclockify_timzone = "UTC"\n')
    with pytest.raises(ConfigError) as raised:
        load_file(path)
    assert "'clockify_timzone'" in str(raised.value) and path in str(raised.value)


def test_load_file_refuses_clockify_config(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load_file(write(tmp_path, 'clockify_config = "other.toml"\n'))
    assert "clockify_config" in str(raised.value)


@pytest.mark.parametrize(
    "content, option",
    [
        ("clockify_timezone = 5\n", "clockify_timezone"),
        ("clockify_timezone = true\n", "clockify_timezone"),
        ('clockify_timezone = ["UTC"]\n', "clockify_timezone"),
        ("clockify_timezone = 2024-05-01T10:00:00Z\n", "clockify_timezone"),
        ('[clockify_timezone]\nname = "UTC"\n', "clockify_timezone"),
        ("clockify_hosts = 5\n", "clockify_hosts"),
        ("clockify_hosts = [1]\n", "clockify_hosts"),
        ('clockify_hosts = ["a.example", 2]\n', "clockify_hosts"),
        ('clockify_hosts = [["a.example"]]\n', "clockify_hosts"),
        ('clockify_hosts = { a = "b" }\n', "clockify_hosts"),
    ],
)
def test_load_file_wrong_type(tmp_path, content, option):
    with pytest.raises(ConfigError) as raised:
        load_file(write(tmp_path, content))
    assert option in str(raised.value) and "must be" in str(raised.value)


@pytest.mark.parametrize(
    "content",
    [
        "clockify_timezone = \n",
        'clockify_timezone = "UTC"\nclockify_timezone = "UTC"\n',  # duplicate key
        "clockify_timezone = 'unterminated\n",
        "[[\n",
        "clockify_timezone: UTC\n",  # YAML, not TOML
        b"clockify_timezone = \"Europe/Z\xfcrich\"\n",  # Latin-1, not UTF-8
        b"\xff\xfe\x00\x00",
    ],
)
def test_load_file_bad_toml(tmp_path, content):
    path = write(tmp_path, content)
    with pytest.raises(ConfigError) as raised:
        load_file(path)
    assert path in str(raised.value)


def test_load_file_missing_or_unreadable(tmp_path):
    missing = str(tmp_path / "nope.toml")
    with pytest.raises(ConfigError) as raised:
        load_file(missing)
    assert missing in str(raised.value) and "No such file" in str(raised.value)
    with pytest.raises(ConfigError):
        load_file(str(tmp_path))  # a directory


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


# -- config_file ---------------------------------------------------------------------------------------


def test_config_file_precedence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert config_file("", {}) == (None, "default")
    assert config_file("  ", {"CLOCKIFY_CONFIG": " "}) == (None, "default")
    assert config_file(" set.toml ", {"CLOCKIFY_CONFIG": "env.toml"}) == ("set.toml", "--set")
    assert config_file("", {"CLOCKIFY_CONFIG": " env.toml "}) == ("env.toml", "env CLOCKIFY_CONFIG")
    # The default file counts only when it exists in the current directory.
    os.makedirs(os.path.dirname(config.DEFAULT_CONFIG_FILE))
    with open(config.DEFAULT_CONFIG_FILE, "w", encoding="utf-8") as f:
        f.write('clockify_timezone = "UTC"\n')
    assert config_file("", {}) == (config.DEFAULT_CONFIG_FILE, "default")
    assert config_file("", {"CLOCKIFY_CONFIG": "env.toml"}) == ("env.toml", "env CLOCKIFY_CONFIG")
    assert config_file("set.toml", {}) == ("set.toml", "--set")
    assert load_file(config_file("", {})[0]) == {"clockify_timezone": "UTC"}


def test_default_config_file_must_be_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.makedirs(config.DEFAULT_CONFIG_FILE)  # a directory of that name is not a config file
    assert config_file("", {}) == (None, "default")


def test_the_example_config_file_shows_every_option_a_file_may_set_and_loads_uncommented(tmp_path):
    example = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "config", "clockify-proxy.toml")
    with open(example, encoding="utf-8") as f:
        lines = f.read().splitlines()
    settings = [line[2:] for line in lines if line.startswith("# clockify_")]
    shown = [line.split("=", 1)[0].strip() for line in settings]
    allowed = [s.name for s in config.OPTIONS if not s.secret and s.name != "clockify_config"]
    assert sorted(shown) == sorted(allowed)
    values = load_file(write(tmp_path, "\n".join(settings)))
    assert sorted(values) == sorted(allowed)
