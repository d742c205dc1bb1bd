"""Manage staff console accounts from a terminal.

    python -m bot.staff.cli create --email sam@clinic.example --name Sam [--role coordinator|admin]
    python -m bot.staff.cli disable --email sam@clinic.example
    python -m bot.staff.cli enable --email sam@clinic.example
    python -m bot.staff.cli totp --email ada@clinic.example [--remove]
    python -m bot.staff.cli list

`create` reads the password from `STAFF_PASSWORD` if set, else asks for it twice. `disable` ends
the account's sessions; its open consoles close at once when `REDIS_URL` reaches the servers,
else within `STAFF_SOCKET_CHECK_SECONDS`. `totp` gives the account a new one-time-code secret and
prints the `otpauth://` URI to add to an authenticator app (`--remove` stops asking for codes).
Every command is written to the audit log (no staff id; `detail` says `via: cli` and the
operating-system user). The database tables are created or upgraded first. Errors print a
message and exit with status 2.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from typing import List, Optional

from sqlalchemy.exc import SQLAlchemyError

from bot.settings import get_settings
from bot.staff import totp
from bot.staff.accounts import (
    MIN_PASSWORD_LENGTH,
    ROLES,
    StaffError,
    create_staff,
    enroll_totp,
    find_staff,
    list_staff,
    remove_totp,
    set_active,
)
from bot.store import audit
from bot.store.db import session_scope
from bot.store.migrate import upgrade_database


def _parser() -> argparse.ArgumentParser:
    """The command line: one sub-command per action."""
    parser = argparse.ArgumentParser(prog="python -m bot.staff.cli", description="Manage staff accounts.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create an account (password from STAFF_PASSWORD or a prompt)")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True, help="first name, shown to visitors")
    create.add_argument("--role", choices=ROLES, default="coordinator")
    for name, text in (("disable", "stop an account from logging in"), ("enable", "let an account log in again")):
        commands.add_parser(name, help=text).add_argument("--email", required=True)
    codes = commands.add_parser("totp", help="ask an account for one-time codes (prints the otpauth:// URI)")
    codes.add_argument("--email", required=True)
    codes.add_argument("--remove", action="store_true", help="stop asking this account for codes")
    commands.add_parser("list", help="list every account")
    return parser


def _password() -> str:
    """The new account's password: `STAFF_PASSWORD`, else typed twice."""
    from_env = get_settings().staff_password
    if from_env is not None:
        return from_env.get_secret_value()
    password = getpass.getpass(f"Password (at least {MIN_PASSWORD_LENGTH} characters): ")
    if getpass.getpass("Password again: ") != password:
        raise StaffError("The two passwords differ; nothing was changed.")
    return password


def _active(args: argparse.Namespace) -> None:
    """`disable` or `enable`, then close the disabled account's consoles on every server that can be told."""
    from bot.staff.session_end import announce_from_command_line  # the hub lives with the channels

    enable = args.command == "enable"
    with session_scope() as s:
        user = set_active(s, args.email, enable)
        audit.record(s, None, "staff_enable" if enable else "staff_disable", user.email,
                     audit.cli_detail(staff_id=user.id))
        staff_id = user.id
    print(f"{user.email} is now {'enabled' if enable else 'disabled'}.")
    if not enable:
        if announce_from_command_line("disabled", staff_id):
            print("Its open consoles were told to close (through Redis).")
        else:
            print("Its open consoles close at their next session check (STAFF_SOCKET_CHECK_SECONDS).")


def _totp(args: argparse.Namespace) -> None:
    """Enrol an account for one-time codes, or stop asking it for them."""
    with session_scope() as s:
        if args.remove:
            user = remove_totp(s, args.email)
            audit.record(s, None, "totp_remove", user.email, audit.cli_detail(staff_id=user.id))
            print(f"{user.email} no longer needs a one-time code to sign in.")
            return
        user = find_staff(s, args.email)
        secret = enroll_totp(s, user.email)
        audit.record(s, None, "totp_enroll", user.email, audit.cli_detail(staff_id=user.id))
        email = user.email
    print("Add this to the authenticator app (or make a QR code of it); keep it secret:")
    print(f"  {totp.provisioning_uri(secret, email)}")
    print(f"Secret (to type in by hand): {secret}")


def _list() -> None:
    """Every account, with its state, last sign-in and failures since."""
    with session_scope() as s:
        users = list_staff(s)
        audit.record(s, None, "staff_list", None, audit.cli_detail(accounts=len(users)))
        if not users:
            print("No staff accounts yet: add one with `make staff-user EMAIL=... NAME=...`.")
        for user in users:
            last_login = user.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if user.last_login_at else "never"
            state = "active" if user.active else "disabled"
            codes = "codes" if user.totp_secret else "no codes"
            print(f"{user.id:>4}  {user.email:<32} {user.first_name:<16} {user.role:<12} {state:<9} {codes:<9} "
                  f"last login {last_login}, {user.failed_logins} failed since")


def _run(args: argparse.Namespace) -> None:
    """Carry out one sub-command."""
    if args.command == "create":
        password = _password()
        with session_scope() as s:
            user = create_staff(s, email=args.email, first_name=args.name, role=args.role, password=password)
            audit.record(s, None, "staff_create", user.email, audit.cli_detail(staff_id=user.id, role=user.role))
            print(f"Created {user.role} {user.first_name} <{user.email}>.")
    elif args.command in ("disable", "enable"):
        _active(args)
    elif args.command == "totp":
        _totp(args)
    else:
        _list()


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line; 0 on success, 2 with a message on stderr on any error."""
    args = _parser().parse_args(argv)
    try:
        upgrade_database()
        _run(args)
    except StaffError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except SQLAlchemyError as error:
        print(f"error: the database could not be used ({error.__class__.__name__}: {error}). "
              "Check DATABASE_URL.", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, EOFError):
        print("\nCancelled; nothing was changed.", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
