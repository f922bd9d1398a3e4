"""Ticket keys, whatever they come from (markers, JUnit properties, the ticket map): the
property names they travel under and what a valid key looks like."""

from __future__ import annotations

import re

from tmupload.errors import InputError

__all__ = ["TICKET_LINK_PROPERTY", "TICKET_PROPERTY", "validate_key"]

TICKET_PROPERTY = "ticket"
TICKET_LINK_PROPERTY = "ticket_external_system_link"

# Jira-style PROJ-123, Rally-style DE123, or a numeric id (TFS/Azure DevOps).
_KEY = re.compile(r"^(?:[A-Za-z][A-Za-z0-9_]*-[0-9]+|[A-Za-z]{1,4}[0-9]+|[0-9]+)$")


def validate_key(key: object, where: str) -> str:
    """Return the key, or raise InputError naming where it came from and the fix."""
    if not isinstance(key, str) or not _KEY.match(key.strip()):
        raise InputError(
            f"{where}: {key!r} is not a ticket key; use a key such as 'PAY-17' "
            "(Jira), 'DE123' (Rally) or '4711' (TFS)"
        )
    return key.strip()
