"""The ``trialmatch`` command line: parse, extract, match, review, demo.

Every command writes UTF-8, exits 0 when the run completes (bad rows are
recorded, not fatal) and exits 2 with a one-line ``error: ...`` on unusable
arguments or an input that cannot be opened. Note text is never logged.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Optional, Sequence

from matcher.errors import UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints usage and exits; we want one line
        raise UsageError(message)


def _errors_sink(out: Optional[Path]):
    """Where rejected rows go: FILE.errors.jsonl beside --out, or stderr as JSON lines."""
    from matcher.io.text import dumps

    if out is None:
        return lambda record: print(dumps(record), file=sys.stderr)
    path = out.with_name(out.name + ".errors.jsonl")
    path.unlink(missing_ok=True)

    def write(record):
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(dumps(record) + "\n")
    return write


def cmd_parse(args) -> int:
    """Parse PROTOCOL (.txt or .jsonl) into the contract's Protocol JSON."""
    from matcher.io.protocols import read_protocols
    from matcher.io.text import AtomicWriter, dumps
    from nlp.criteria import parse_protocol
    from nlp.schema import ErrorRecord

    path = Path(args.protocol)
    rows = read_protocols(path)
    single = path.suffix.lower() == ".txt"
    out = Path(args.out) if args.out else None
    report = _errors_sink(out)
    lines: list[str] = []
    for row in rows:
        if isinstance(row, ErrorRecord):
            report(row)
            continue
        try:
            protocol = parse_protocol(row.text, row.trial_id, row.title)
        except Exception as exc:  # noqa: BLE001 - one bad protocol must not stop the others
            report(ErrorRecord(source=str(path), id=row.trial_id, reason=f"parser failure: {type(exc).__name__}"))
            continue
        lines.append(protocol.model_dump_json(indent=2) if single else dumps(protocol))
    payload = "\n".join(lines) + ("\n" if lines else "")
    if out is None:
        sys.stdout.write(payload)
    else:
        with AtomicWriter(out) as fh:
            fh.write(payload)
    return 0


def cmd_demo(args) -> int:
    """Run the main job on the bundled seed protocol and synthetic patients."""
    from matcher.demo import run_demo

    return run_demo(Path(args.out) if args.out else None)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="trialmatch", description="Clinical-trial eligibility screening.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    p = sub.add_parser("parse", help="parse eligibility criteria into structured criteria")
    p.add_argument("protocol", help="a .txt protocol or a .jsonl of protocols")
    p.add_argument("--out", help="output file (default: stdout)")
    p.set_defaults(func=cmd_parse)
    d = sub.add_parser("demo", help="run the seed demo")
    d.add_argument("--out", help="output directory (default: out/demo)")
    d.set_defaults(func=cmd_demo)
    for register in _EXTRA_COMMANDS:
        register(sub)
    return parser


# Other modules add their subcommands here (extract, match, review) to keep this file small.
_EXTRA_COMMANDS: list[Callable] = []


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``trialmatch`` console script."""
    _load_commands()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            raise UsageError("a command is required: " + ", ".join(sorted(_command_names(parser))))
        return args.func(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _command_names(parser) -> list[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def _load_commands() -> None:
    import importlib

    for module in ("matcher.commands",):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        for register in getattr(mod, "REGISTER", []):
            if register not in _EXTRA_COMMANDS:
                _EXTRA_COMMANDS.append(register)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
