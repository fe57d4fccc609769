"""``gospubliki token``: print a JWT that the local stack using the same state folder accepts."""

from __future__ import annotations

import argparse
from pathlib import Path

from pydantic import ValidationError

from shared.auth import Principal, Role
from shared.regions import is_region
from tooling.cli.errors import CliError
from tooling.local.keys import issue_token

MAX_TTL_SECONDS = 30 * 86400


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("token", help="print a local bearer token")
    parser.add_argument("--role", required=True, choices=[role.value for role in Role])
    parser.add_argument("--region", help="2-digit subject code (required for all roles but federal_admin)")
    parser.add_argument("--institution", help="institution id (for institution_admin)")
    parser.add_argument("--ttl", type=int, default=3600, help=f"lifetime in seconds, 1..{MAX_TTL_SECONDS} (3600)")
    parser.add_argument("--sub", help="subject (default local-<role>)")
    parser.add_argument("--state", type=Path, default=Path(".local"), help="state folder of the local stack")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.ttl <= MAX_TTL_SECONDS:
        raise CliError(f"gospubliki token: --ttl must be between 1 and {MAX_TTL_SECONDS} seconds, got {args.ttl}")
    if args.region is not None and not is_region(args.region):
        raise CliError(f"gospubliki token: --region {args.region!r} is not a subject code (GET /registry/regions)")
    claims = {"sub": args.sub or f"local-{args.role}", "role": args.role}
    if args.region:
        claims["region"] = args.region
    if args.institution:
        claims["institution"] = args.institution
    try:
        Principal.model_validate(claims)
    except ValidationError as error:
        reasons = "; ".join(str(problem["msg"]).removeprefix("Value error, ") for problem in error.errors())
        raise CliError(f"gospubliki token: {reasons}") from None
    print(
        issue_token(
            args.state,
            role=args.role,
            region=args.region,
            institution=args.institution,
            ttl_seconds=args.ttl,
            sub=args.sub,
        )
    )
    return 0
