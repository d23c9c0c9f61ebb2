"""``python -m deliverability check DOMAIN...``: check domains and print findings with fixes.

Exit status: 0 when every check ran and none failed (warnings allowed), 1 when
at least one check failed, 2 on a usage error, 3 when none failed but some could
not be checked (DNS did not answer: "DNS down" is not "all good"). ``--json``
prints one object, ``{"domains": [DomainReport.to_dict(), ...], "nameservers":
[...]}``: a public contract, extended only additively.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import math
import os
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from . import event_loop
from .dns import Nameserver, system_nameservers, urgently
from .domains import DKIM_SELECTOR, domain_to_check
from .findings import DkimFinding, DmarcFinding, DomainReport, Finding, Status
from .options import DOMAINS_AT_ONCE, CheckOptions, RunOptions
from .providers import FLECTRA, PROVIDERS, DkimSetup, Provider, custom, spf_include_name

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNKNOWN = 0, 1, 2, 3
EPILOG = (
    "Exit status: 0 every check ran and none failed, 1 a check failed, 2 usage error, "
    "3 none failed but some could not be checked (DNS did not answer)."
)
RESOLV_CONF = "/etc/resolv.conf"
PROGRESS_MIN_DOMAINS = 10
_COLOURS = {
    Status.PASS: "32",  # green
    Status.WARNING: "33",  # yellow
    Status.UNKNOWN: "35",  # magenta
    Status.FAIL: "31",  # red
}
_LABELS = {Status.PASS: "PASS", Status.WARNING: "WARN", Status.UNKNOWN: "UNKNOWN", Status.FAIL: "FAIL"}
_INDENT = " " * 9  # details and records, under the summary


class UsageError(Exception):
    """A bad argument: reported as one line on stderr with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m deliverability",
        description="Check the mail deliverability (SPF, DKIM, DMARC, MX) of domains.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)
    check = commands.add_parser(
        "check",
        help="check domains and print what to fix",
        description="Check domains' SPF, DKIM, DMARC and MX records and print the records to publish.",
        epilog=EPILOG,
    )
    check.add_argument("domains", nargs="+", metavar="DOMAIN", help="domain (or email address) to check")
    check.add_argument(
        "--nameserver",
        action="append",
        default=[],
        metavar="IP[:PORT]",
        help=f"DNS server to ask: IP, IP:PORT or [IPv6]:PORT, repeatable (default: the nameservers of "
        f"{RESOLV_CONF})",
    )
    sender = check.add_mutually_exclusive_group()
    sender.add_argument(
        "--provider",
        choices=sorted(PROVIDERS),
        help="sending provider whose SPF include and DKIM selectors are expected (default: flectra); "
        "own: your own SMTP server, authorized in SPF by the --ip addresses",
    )
    sender.add_argument(
        "--spf-include",
        metavar="NAME",
        help="a custom provider: the SPF include it requires (no DKIM selector of its own)",
    )
    check.add_argument(
        "--dkim-selector",
        action="append",
        default=[],
        metavar="NAME",
        help="another DKIM selector to check, repeatable",
    )
    check.add_argument(
        "--ip",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="sending IP to evaluate with SPF, repeatable",
    )
    check.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    check.add_argument(
        "--timeout",
        type=float,
        default=RunOptions.timeout,
        metavar="SECONDS",
        help=f"wait for one DNS answer (default: {RunOptions.timeout:g}); "
        "a lookup gives up after 2.5x, a domain after 15x this",
    )
    return parser


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, list[str], CheckOptions, RunOptions]:
    """Parse and validate ``argv``; raises ``UsageError`` with a readable message."""
    args = build_parser().parse_args(argv)
    try:
        domains = list(dict.fromkeys(domain_to_check(d) for d in args.domains))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        ips = tuple(dict.fromkeys(str(ipaddress.ip_address(ip.strip())) for ip in args.ip))
    except ValueError as exc:
        raise UsageError("--ip: " + str(exc).replace("does not appear to be", "is not")) from None
    for selector in args.dkim_selector:
        if not DKIM_SELECTOR.match(selector):
            raise UsageError(f"{selector!r} is not a valid DKIM selector")
    if args.spf_include is not None:
        try:
            provider = custom(spf_include_name(args.spf_include))
        except ValueError as exc:
            raise UsageError(f"--spf-include: {exc}") from None
    else:
        provider = PROVIDERS[args.provider or FLECTRA.name]
    if not (math.isfinite(args.timeout) and args.timeout > 0):
        raise UsageError(f"--timeout must be a positive number of seconds, not {args.timeout:g}")
    if args.nameserver:
        try:
            nameservers = [Nameserver.parse(text) for text in args.nameserver]
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    else:
        nameservers = system_nameservers(RESOLV_CONF)
        if not nameservers:
            raise UsageError(f"no nameserver in {RESOLV_CONF}: give one with --nameserver IP[:PORT]")
    options = CheckOptions(provider, tuple(s.lower() for s in args.dkim_selector), ips)
    run_options = RunOptions(nameservers, args.timeout, args.timeout * 2.5, domain_deadline=args.timeout * 15)
    return args, domains, options, run_options


async def check(
    domains: list[str], options: CheckOptions, run_options: RunOptions, progress: TextIO | None = None
) -> list[DomainReport]:
    """Check ``domains`` concurrently with one shared resolver, drawing progress on ``progress``.

    The SPF records of the provider's include and of the domains checked first, where the longest
    chains of questions start (``checks``), are asked before the checks are loaded; the checks
    share them."""
    resolver = run_options.resolver()
    first = (options.provider.spf_include, *domains[:DOMAINS_AT_ONCE])
    asked = [urgently(resolver.query(name, "TXT")) for name in dict.fromkeys(filter(None, first))]
    await asyncio.sleep(0)  # they go out
    from .checks import check_domains  # noqa: PLC0415 - loads while they are on the wire

    done = 0
    drawn = 0.0

    def draw() -> None:
        nonlocal drawn
        drawn = time.monotonic()
        progress.write(f"\rchecked {done}/{len(domains)} domains")
        progress.flush()

    def on_report(_report: DomainReport) -> None:
        nonlocal done
        done += 1
        if progress is not None and (time.monotonic() - drawn > 0.1 or done == len(domains)):
            draw()

    if progress is not None:
        draw()  # from the start: the first answers of a long run may take a while

    reports = await check_domains(
        domains, resolver, options, deadline=run_options.domain_deadline, on_report=on_report
    )
    for task in asked:
        task.cancel()  # nothing when done: the checks waited for them
    if asked:
        await asyncio.wait(asked)
    if progress is not None:
        progress.write("\r\033[K")
        progress.flush()
    return reports


def render(
    reports: Sequence[DomainReport],
    colour: bool = False,
    nameservers: Sequence[Nameserver] = (),
    width: int | None = None,
) -> str:
    """The reports as text for a terminal: a verdict per check, its details and the record to publish.

    Summaries and details wrap at ``width`` columns (records to publish never do); an
    unknown verdict names the ``nameservers`` asked.
    """
    paint = _painter(colour)
    asked = ", ".join(str(n) for n in nameservers)
    lines: list[str] = []
    for report in reports:
        status = report.status
        lines.append(paint(f"{report.domain}: {status.value.upper()}", "1;" + _COLOURS[status]))
        for finding in report.checks:
            tag = f"[{_LABELS[finding.status]}]"
            text = f"  {tag} {_title(finding)}: {finding.summary}"
            wrapped = _wrap(text, width, _INDENT)
            lines.append(wrapped.replace(tag, paint(tag, _COLOURS[finding.status]), 1))
            details = list(finding.details)
            if finding.status is Status.UNKNOWN and asked:
                details.append(f"nameserver asked: {asked} (another can be given with --nameserver)")
            lines.extend(
                _wrap(_INDENT + detail, width, _INDENT + " " * (_lead(detail) + 2)) for detail in details
            )
            if finding.fix:
                lines.append(paint(f"{_INDENT}publish:", "1"))
                lines.extend(f"{_INDENT}  {line}" for line in finding.fix.splitlines())
        for evaluation in report.spf_evaluations:
            explanation = f" ({evaluation.explanation})" if evaluation.explanation else ""
            line = f"  SPF check_host for {evaluation.ip}: {evaluation.result}{explanation}"
            lines.append(_wrap(line, width, _INDENT))
        lines.append("")
    counts = {s: sum(r.status is s for r in reports) for s in Status}
    tally = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
    lines.append(f"{len(reports)} domain{'s' if len(reports) != 1 else ''} checked: {tally}")
    return "\n".join(lines) + "\n"


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size().columns


def _wrap(text: str, width: int | None, indent: str) -> str:
    if not width or len(text) <= width:
        return text
    import textwrap

    return textwrap.fill(
        text, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False
    )


def _lead(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _title(finding: Finding) -> str:
    name = finding.check.value.upper()
    if isinstance(finding, DkimFinding):
        key = f", {finding.key_type or 'key'} {finding.key_bits} bits" if finding.key_bits else ""
        return f"{name} ({finding.selector}{key})"
    if isinstance(finding, DmarcFinding) and finding.policy:
        return f"{name} (p={finding.policy})"
    return name


def _painter(colour: bool):
    if not colour:
        return lambda text, _code: text
    return lambda text, code: f"\033[{code}m{text}\033[0m"


def to_json(reports: Sequence[DomainReport], nameservers: Sequence[Nameserver] = ()) -> str:
    import json

    document = {"domains": [r.to_dict() for r in reports], "nameservers": [str(n) for n in nameservers]}
    return json.dumps(document, indent=2, ensure_ascii=False)


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line ``argv``; returns the exit status."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        args, domains, options, run_options = parse_args(argv)
    except UsageError as exc:
        stderr.write(f"deliverability: error: {exc}\n")
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    if not args.json:
        stderr.write(provider_line(options.provider, args) + "\n")
    show_progress = not args.json and len(domains) >= PROGRESS_MIN_DOMAINS and _isatty(stderr)
    try:
        reports = event_loop.run(check(domains, options, run_options, stderr if show_progress else None))
    except KeyboardInterrupt:
        stderr.write("\ndeliverability: interrupted\n")
        return 130
    nameservers = run_options.nameservers
    if args.json:
        stdout.write(to_json(reports, nameservers) + "\n")
    else:
        tty = _isatty(stdout)
        width = _terminal_width() if tty else None
        stdout.write(render(reports, tty and not os.environ.get("NO_COLOR"), nameservers, width))
    return exit_status(reports)


def exit_status(reports: Sequence[DomainReport]) -> int:
    """1 when a check failed, else 3 when a check could not run, else 0."""
    statuses = {f.status for r in reports for f in r.checks}
    if Status.FAIL in statuses:
        return EXIT_FAILED
    return EXIT_UNKNOWN if Status.UNKNOWN in statuses else EXIT_OK


def provider_line(provider: Provider, args: argparse.Namespace) -> str:
    """Which provider the checks expect (with the selectors given with ``--dkim-selector``), and why."""
    given = [s.lower() for s in args.dkim_selector if s.lower() not in provider.selectors]
    dkim = ", ".join([*provider.selectors, *given]) or (
        (
            "selectors given per domain"
            if provider.dkim_setup is DkimSetup.ACCOUNT_SELECTORS
            else "no selector"
        )
        + " (add yours with --dkim-selector)"
    )
    why = (
        "given with --spf-include" if args.spf_include is not None
        else "chosen with --provider" if args.provider
        else "the default; choose yours with --provider or --spf-include"
    )  # fmt: skip
    spf = "SPF by the --ip addresses" if provider.authorized_by_ips else f"SPF include:{provider.spf_include}"
    return f"provider: {provider.label} ({spf}, DKIM {dkim}): {why}"


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
