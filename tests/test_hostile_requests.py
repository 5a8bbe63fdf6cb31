"""What a careless or hostile user might type: every bad request is refused with
exit status 2, one line on stderr that says what was wrong and how to fix it, no
traceback, and no file written anywhere."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from nnsym.cli import one_line
from nnsym.commands import COMMANDS
from nnsym.errors import UsageError
from nnsym.pipeline.spec import (
    DEFAULT_MAX_PARAMS,
    MAX_LAYERS,
    MAX_NAME_LENGTH,
    count_params,
    estimated_seconds,
    format_duration,
    make_spec,
)
from tests.helpers import run_cli_in_process

# In this process; argparse's exits count as statuses.
run_cli = run_cli_in_process


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def assert_one_line_error(err: str, *fragments: str) -> str:
    """`err` is exactly one `nnsym...: error: ...` line containing each fragment."""
    assert err.endswith("\n"), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    assert re.match(r"nnsym( \w+)?: error: ", err), err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    return err


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """An empty current directory, so default outputs land where we can see them."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


HINT = "e.g. 2-2-1"

BAD_ARCHS = [
    ("", "--arch is empty", HINT),
    ("   ", "--arch is empty", HINT),
    ("2", "has one layer", HINT),
    ("17", "has one layer", HINT),
    ("2-", "layer 2 is missing (trailing '-')", HINT),
    ("2-1-", "layer 3 is missing (trailing '-')", HINT),
    ("2--1", "layer 2 is missing (doubled '-'; sizes cannot be negative)", HINT),
    ("2---1", "layer 2 is missing (doubled", HINT),
    ("-2-1", "layer sizes cannot be negative", HINT),
    ("-1", "layer sizes cannot be negative", HINT),
    ("0-1", "layer 1 has size 0", HINT),
    ("2-0-1", "layer 2 has size 0", HINT),
    ("2-000-1", "layer 2 has size 0", HINT),
    ("2-x-1", "layer 2 is 'x', not a whole number", HINT),
    ("x", "layer 1 is 'x', not a whole number", HINT),
    ("2.5-1", "layer 1 is '2.5', not a whole number", HINT),
    ("2-1.0", "layer 2 is '1.0', not a whole number", HINT),
    ("1e3-1", "layer 1 is '1e3', not a whole number", HINT),
    ("2-1E2", "layer 2 is '1E2', not a whole number", HINT),
    ("0x10-1", "layer 1 is '0x10', not a whole number", HINT),
    ("+2-1", "layer 1 is '+2', not a whole number", HINT),
    # int() accepts each of these three; the architecture parser does not.
    ("2_0-1", "layer 1 is '2_0', not a whole number", HINT),
    ("2 -1", "layer 1 is '2 ', not a whole number", HINT),
    ("2-\t1", "layer 2 is '\\t1', not a whole number", HINT),
    ("2,2,1", "layer 1 is '2,2,1', not a whole number", HINT),
    ("2-1;import os", "layer 2 is '1;import os', not a whole number", HINT),
    ('2-1"""\nimport os', "not a whole number", HINT),
    ("２-1", "contains '２' (U+FF12 FULLWIDTH DIGIT TWO)", "ASCII digits"),
    ("٣-1", "contains '٣' (U+0663 ARABIC-INDIC DIGIT THREE)", "ASCII digits"),
    ("2–1", "contains '–' (U+2013 EN DASH)", "ASCII digits"),
    ("2-1000001-1", "layer 2 has 1000001 units", "the most nnsym builds is"),
    ("2-" + "9" * 5000 + "-1", "a 5000-digit number of units", "the most nnsym"),
]


@pytest.mark.parametrize(("arch", "problem", "fix"), BAD_ARCHS)
def test_bad_architecture_is_one_line_and_writes_nothing(
    arch, problem, fix, workdir, capsys
):
    code, out, err = run_cli(["generate", f"--arch={arch}"], capsys)
    assert code == 2
    assert out == ""
    assert_one_line_error(err, problem, fix)
    assert files_under(workdir) == []


@pytest.mark.parametrize("arch", ["2-" + "9" * 5000 + "-1", "2-1\n" * 500])
def test_error_echoes_at_most_a_short_excerpt_of_the_request(arch, workdir, capsys):
    code, _, err = run_cli(["generate", f"--arch={arch}"], capsys)
    assert code == 2
    assert len(err) < 300


def test_non_ascii_digits_are_refused_though_int_accepts_them():
    assert int("２") == 2  # what Python alone would do with the request
    with pytest.raises(UsageError, match="U\\+FF12"):
        make_spec("２-1")


@pytest.mark.parametrize(
    ("arch", "sizes"),
    [(" 2-1 ", (2, 1)), ("\t3-4-4-1\n", (3, 4, 4, 1)), ("02-001", (2, 1))],
)
def test_surrounding_whitespace_and_leading_zeros_are_accepted(arch, sizes):
    spec = make_spec(arch)
    assert spec.arch == sizes
    assert spec.name == "mlp_" + "_".join(str(size) for size in sizes)


def test_value_starting_with_a_dash_gets_a_hint_from_argparse(workdir, capsys):
    code, _, err = run_cli(["generate", "--arch", "-2-1"], capsys)
    assert code == 2
    assert_one_line_error(err, "--arch", "--option=VALUE")


@pytest.mark.parametrize(
    "sizes", [(2,), (), (2, 0), (2, -1), (2, 1.5), (2, True), (2, 10**5000), "2-1x"]
)
def test_api_refuses_bad_size_tuples_with_a_usage_error(sizes):
    with pytest.raises(UsageError) as caught:
        make_spec(sizes)
    assert "\n" not in str(caught.value)


def test_too_many_parameters_is_refused_up_front_with_count_and_estimate(
    workdir, capsys
):
    arch = "2-200-200-1"
    n_params = count_params((2, 200, 200, 1))
    assert n_params == 3 * 200 + 201 * 200 + 201 > DEFAULT_MAX_PARAMS
    code, out, err = run_cli(["generate", "--arch", arch, "--form=unrolled"], capsys)
    assert code == 2
    assert_one_line_error(
        err,
        f"has {n_params} parameters",
        f"limit of {DEFAULT_MAX_PARAMS}",
        "generating it unrolled could take",
        "--form auto",
        f"--max-params {n_params}",
    )
    assert re.search(r"could take [\d.]+ (seconds|minutes|hours) or more", err)
    assert files_under(workdir) == []


# Each command that unrolls names its own work; per layer, nothing is refused.
UNROLLING = [
    (["check", "--form=unrolled"], "generating its module unrolled to check it"),
    (["formulas", "--per-parameter"], "deriving a formula per parameter"),
    (["graph", "--form=unrolled"], "building a value per scalar"),
    (["train", "--form=unrolled", "--data=xor"], "generating it unrolled"),
]


@pytest.mark.parametrize("command, task", UNROLLING)
def test_the_limit_names_the_command_at_hand(command, task, workdir, capsys):
    code, _, err = run_cli([*command, "--arch=2-200-200-1"], capsys)
    assert code == 2
    assert_one_line_error(err, "limit of", f"({task} could take")
    assert files_under(workdir) == []


def test_a_network_without_a_loop_form_says_so(capsys):
    options = ["--arch=784-128-10", "--output-activation=softmax", "--loss=mse"]
    code, _, err = run_cli(["formulas", *options], capsys)
    assert code == 2
    assert_one_line_error(err, "limit of", "has no loop form nor per-layer view")


def test_big_networks_need_no_flag(workdir, capsys):
    # 101,770 parameters: per layer, in the loop form, without --form or
    # --max-params, in every format of formulas and in the per-layer graph.
    big = ["--arch=784-128-10", "--loss=ce"]
    for fmt in ("text", "unicode", "latex", "markdown"):
        code, out, err = run_cli(["formulas", *big, f"--format={fmt}"], capsys)
        assert code == 0 and "per layer" in out, err
    code, out, _ = run_cli(["formulas", *big, "--layers", "--form=unrolled"], capsys)
    assert code == 0 and "dL/dw2[j, i]" in out
    for form in ("auto", "unrolled"):
        code, out, _ = run_cli(["graph", *big, "--per-layer", f"--form={form}"], capsys)
        assert code == 0 and "W1 (128x784)" in out
    code, _, err = run_cli(["generate", *big, "-q"], capsys)
    assert code == 0, err
    module = workdir / "generated" / "mlp_784_128_10_softmax_ce_loops.py"
    assert "--form loops" in module.read_text()


def test_max_params_raises_the_limit():
    with pytest.raises(UsageError, match="limit of 36"):
        make_spec("2-4-4-1", max_params=36)
    assert make_spec("2-4-4-1", max_params=37).n_params == 37


def test_size_estimate_grows_with_the_request_and_reads_naturally():
    assert estimated_seconds(2000) == 2 * estimated_seconds(1000) > 0
    assert format_duration(0.2) == "1 seconds"
    assert format_duration(45) == "45 seconds"
    assert format_duration(600) == "10 minutes"
    assert format_duration(9000) == "2.5 hours"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("0", "at least 1"), ("-5", "at least 1"), ("x", "'x' is not a whole number")],
)
def test_bad_max_params(value, fragment, workdir, capsys):
    code, _, err = run_cli(["generate", f"--max-params={value}"], capsys)
    assert code == 2
    assert_one_line_error(err, "--max-params", fragment)
    assert files_under(workdir) == []


BAD_NAMES = [
    ("", "not a valid module name"),
    ("1net", "not a valid module name"),
    ("my-net", "not a valid module name"),
    ("my net", "not a valid module name"),
    ("x.y", "not a valid module name"),
    ("../evil", "not a valid module name"),
    ("/tmp/evil", "not a valid module name"),
    ("réseau", "not a valid module name"),  # a Python identifier, but not ASCII
    ('x"""; import os', "not a valid module name"),
    ("x'); import os; ('", "not a valid module name"),
    ("x\nimport os", "not a valid module name"),
    ("x # comment", "not a valid module name"),
    ("class", "is a Python keyword"),
    ("None", "is a Python keyword"),
    ("random", "would shadow the standard-library module random"),
    ("math", "would shadow the standard-library module math"),
    ("a" * (MAX_NAME_LENGTH + 1), f"use at most {MAX_NAME_LENGTH}"),
]


@pytest.mark.parametrize(("name", "problem"), BAD_NAMES)
def test_bad_name_is_refused_and_nothing_is_written(name, problem, workdir, capsys):
    code, out, err = run_cli(["generate", "--arch", "2-1", f"--name={name}"], capsys)
    assert code == 2
    assert out == ""
    assert_one_line_error(err, "--name", problem)
    assert files_under(workdir) == []


@pytest.mark.parametrize("name", ["_net", "net2", "a" * MAX_NAME_LENGTH, "match"])
def test_good_names_are_accepted(name):
    assert make_spec("2-1", name=name).name == name


INJECTIONS = [
    ("--activation", 'sigmoid"\nimport os'),
    ("--activation", "tanh'); import os #"),
    ("--activation", "sigmoid\n"),
    ("--activation", "Sigmoid"),
    ("--activation", "softmax"),
    ("--output-activation", "sigmoid; import os"),
    ("--output-activation", "{{ m.title }}"),
    ("--loss", "sse\nimport os"),
    ("--loss", "__import__('os').system('true')"),
]


@pytest.mark.parametrize(("option", "value"), INJECTIONS)
def test_strings_that_would_inject_code_are_refused(option, value, workdir, capsys):
    code, out, err = run_cli(["generate", "--arch", "2-1", f"{option}={value}"], capsys)
    assert code == 2
    assert out == ""
    assert_one_line_error(err, option)
    assert files_under(workdir) == []


def test_a_valid_name_reaches_the_module_only_in_its_header_comment(workdir, capsys):
    code, _, _ = run_cli(
        ["generate", "--arch", "2-1", "--name", "zq_net", "-q"], capsys
    )
    assert code == 0
    source = (workdir / "generated" / "zq_net.py").read_text(encoding="utf-8")
    lines_with_name = [line for line in source.splitlines() if "zq_net" in line]
    assert len(lines_with_name) == 1
    assert lines_with_name[0].startswith("# Generated by nnsym")
    imported = {
        alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert imported == {"math", "random", "sys"}


ARGPARSE_ERRORS = [
    (["generate", "--bogus"], "unrecognized arguments: --bogus"),
    (["generate", "--arch"], "argument --arch: expected one argument"),
    (["generate", "--output"], "expected one argument"),
    (["generate", "--loss"], "argument --loss: expected one argument"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "the following arguments are required: COMMAND"),
    (["generate", "extra"], "unrecognized arguments: extra"),
    (["generate", "--name", "a", "line\nbreak"], "arguments: line\\nbreak"),
    # argparse reads a sample such as -1,0.5 as an option: say how to pass it.
    (["predict", "--model", "m.json", "1,0", "-1,0.5"], "goes after --"),
    (["predict", "--model", "m.json", "-1,0.5"], "goes after --"),
]


@pytest.mark.parametrize(("args", "fragment"), ARGPARSE_ERRORS)
def test_argparse_errors_are_one_line_with_status_2(args, fragment, workdir, capsys):
    code, out, err = run_cli(args, capsys)
    assert code == 2
    assert out == ""
    if "unrecognized" in fragment or "arguments: line" in fragment:
        # Under the command's usage: the error is the one line after it.
        usage, err = err.split(f"\nnnsym {args[0]}: error: ")
        assert usage.startswith(f"usage: nnsym {args[0]} ")
        err = f"nnsym {args[0]}: error: {err}"
    assert_one_line_error(err, fragment, "--help")
    assert files_under(workdir) == []


UNKNOWN_OPTIONS = [
    (["train", "--data=xor", "--epoch", "5"], "--epochs"),  # no abbreviation
    (["train", "--data=xor", "--epoch=5"], "--epochs"),
    (["train", "--data=xor", "--optimiser", "adam"], "--optimizer"),
    (["check", "--tolerence", "1"], "--tolerance"),
    (["formulas", "--layer"], "--layers"),
    (["graph", "--perlayer"], "--per-layer"),
    (["generate", "--q"], "--quiet"),
]


@pytest.mark.parametrize(("args", "suggestion"), UNKNOWN_OPTIONS)
def test_an_unknown_option_shows_the_commands_usage_and_the_nearest(
    args, suggestion, workdir, capsys
):
    code, out, err = run_cli(args, capsys)
    assert code == 2 and out == "" and files_under(workdir) == []
    command = args[0]
    assert err.startswith(f"usage: nnsym {command} "), err
    last = err.splitlines()[-1]
    assert last.startswith(f"nnsym {command}: error: unrecognized arguments: ")
    assert f"did you mean {suggestion}?" in last
    assert last.endswith(f"(see nnsym {command} --help)")


def test_nothing_near_suggests_nothing_and_commands_are_suggested_too(capsys):
    _, _, err = run_cli(["train", "--data=xor", "--bogus"], capsys)
    assert "did you mean" not in err
    code, _, err = run_cli(["genrate"], capsys)
    assert code == 2 and "did you mean generate?" in err


def test_no_parser_abbreviates():
    from nnsym.cli import build_parser

    parser = build_parser()
    assert not parser.allow_abbrev
    assert all(not sub.allow_abbrev for sub in parser.subcommands.values())
    assert set(parser.subcommands) == {
        c.__name__.split(".")[-1].rstrip("_") for c in COMMANDS
    }


@pytest.mark.parametrize(
    "args",
    [
        ["--debug", "generate", "--arch", "2"],
        ["generate", "--debug", "--arch", "2"],
    ],
)
def test_debug_adds_a_traceback_and_keeps_the_status(args, workdir, capsys):
    code, _, err = run_cli(args, capsys)
    assert code == 2
    assert "Traceback (most recent call last)" in err
    assert "UsageError" in err
    assert err.rstrip("\n").splitlines()[-1].startswith("nnsym: error: --arch '2'")


def test_internal_error_is_one_line_unless_debug(workdir, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr("nnsym.targets.python.generate", broken)
    code, _, err = run_cli(["generate", "--arch", "2-1"], capsys)
    assert code == 1
    assert_one_line_error(err, "RuntimeError: boom\\nsecond line", "--debug")
    code, _, err = run_cli(["--debug", "generate", "--arch", "2-1"], capsys)
    assert code == 1
    assert "Traceback (most recent call last)" in err
    assert files_under(workdir) == []


def test_interrupt_during_generation_writes_nothing(workdir, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("nnsym.targets.python.generate", interrupted)
    code, _, err = run_cli(["generate", "--arch", "2-1"], capsys)
    assert code == 130
    assert err.count("\n") == 1 and "interrupted" in err
    assert files_under(workdir) == []


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\nb", "a\\nb"),
        ("tab\there", "tab\\there"),
        ("é ok", "é ok"),
        ("\x1b[31m", "\\x1b[31m"),
    ],
)
def test_one_line_escapes_control_characters_only(text, shown):
    assert one_line(text) == shown


@pytest.mark.parametrize(
    "command", [module.__name__.split(".")[-1] for module in COMMANDS]
)
def test_every_command_reports_argparse_errors_in_one_line(command, workdir, capsys):
    code, out, err = run_cli([command, "--no-such-option"], capsys)
    assert code == 2
    assert out == ""
    # One error line, under the command's usage where the option is unknown
    # (a command missing a required option says that first).
    usage, _, last = err.rstrip("\n").rpartition("\n")
    assert usage == "" or usage.startswith(f"usage: nnsym {command.rstrip('_')} ")
    assert_one_line_error(last + "\n", "--help")
    assert files_under(workdir) == []


def test_the_header_command_line_reproduces_the_form_under_the_auto_default():
    # Small unrolled networks read as before auto was the default (the golden
    # files are unchanged); an unrolled network that auto would write as loops
    # says --form unrolled, and the loop form always says --form loops.
    assert "--form" not in make_spec("2-2-1").command_line()
    assert make_spec("2-2-1", form="loops").command_line().endswith("--form loops")
    big = "2-40-22-1"
    assert make_spec(big, form="auto").command_line().endswith("--form loops")
    assert make_spec(big).command_line().endswith("--form unrolled")


@pytest.mark.parametrize(
    "arch",
    [
        "-".join(["1"] * 10_000),  # 19,999 parameters: under the unrolled limit
        "2-" * 500_000 + "1",
        "-".join(["2"] * 65),
    ],
)
def test_too_deep_an_architecture_is_refused_before_any_work(arch):
    # 10,000 layers of 1 used to run for minutes (each layer's code written out
    # and formatted): the depth is refused while reading --arch.
    with pytest.raises(
        UsageError, match=f"layers; the most nnsym builds is {MAX_LAYERS}"
    ):
        make_spec(arch)
    with pytest.raises(UsageError, match="the most nnsym builds is"):
        make_spec(tuple(int(size) for size in arch.split("-")))


def test_the_deepest_architecture_allowed_is_built():
    assert make_spec("-".join(["2"] * MAX_LAYERS)).n_layers == MAX_LAYERS - 1
