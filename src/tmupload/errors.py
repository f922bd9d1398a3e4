"""The one exception tree of tmupload.

Only the two boundaries catch these: the plugin's ``pytest_sessionfinish`` and the
command line's ``main()``. Anything else that escapes is a bug and stays loud.

::

    TmUploadError                 base class; ``str()`` is a message a user can act on
    ├── ConfigError               a setting is missing or wrong (pytest: UsageError; CLI: exit 2)
    ├── InputError                a results file or ticket map cannot be used (exit 2)
    └── ServerError               talking to the server failed (exit 1, results stay in the outbox)
        ├── TransportError        the server could not be reached (DNS, refused, TLS, timeout)
        ├── ServerRejected        a 4xx other than 429: retrying would not help
        ├── ServerUnavailable     429 or 5xx, still failing after the retries
        ├── ServerProtocolError   the answer was not what the API documents
        └── TaskError             a server background task failed or never finished
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "InputError",
    "ServerError",
    "ServerProtocolError",
    "ServerRejected",
    "ServerUnavailable",
    "TaskError",
    "TmUploadError",
    "TransportError",
]


class TmUploadError(Exception):
    """Base class of every error tmupload reports to a user."""


class ConfigError(TmUploadError):
    """A setting is missing, malformed or contradicts another one."""


class InputError(TmUploadError):
    """A file given to tmupload (JUnit XML, ticket map) cannot be used as it is."""


class ServerError(TmUploadError):
    """Talking to the test-management server failed.

    ``status`` is the HTTP status when the server answered, ``server_message`` the
    ``Message`` of its error body when it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        server_message: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.server_message = server_message
        self.url = url


class TransportError(ServerError):
    """No usable answer: connection refused, DNS, TLS verification or a timeout."""


class ServerRejected(ServerError):
    """The server refused the request (4xx other than 429); sending it again will not help."""


class ServerUnavailable(ServerError):
    """The server kept answering 429 or 5xx until the retry budget ran out."""


class ServerProtocolError(ServerError):
    """The server answered with something the API does not document (wrong shape, origin)."""


class TaskError(ServerError):
    """A background task on the server reported an error or did not finish in time."""
