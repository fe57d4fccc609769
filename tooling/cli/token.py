"""``gospubliki token``: print a JWT that the local stack using the same state folder accepts."""

from __future__ import annotations

import argparse
from pathlib import Path

from shared.auth import Principal, Role
from tooling.local.keys import issue_token


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("token", help="print a local bearer token")
    parser.add_argument("--role", required=True, choices=[role.value for role in Role])
    parser.add_argument("--region", help="2-digit subject code (required for all roles but federal_admin)")
    parser.add_argument("--institution", help="institution id (for institution_admin)")
    parser.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")
    parser.add_argument("--sub", help="subject (default local-<role>)")
    parser.add_argument("--state", type=Path, default=Path(".local"), help="state folder of the local stack")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    claims = {"sub": args.sub or f"local-{args.role}", "role": args.role}
    if args.region:
        claims["region"] = args.region
    if args.institution:
        claims["institution"] = args.institution
    try:
        Principal.model_validate(claims)
    except ValueError as error:
        raise SystemExit(f"gospubliki token: {error}") from error
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
