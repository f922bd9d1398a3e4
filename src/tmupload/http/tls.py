"""The TLS configuration of every connection: verification always on."""

from __future__ import annotations

import os
import ssl

import certifi

from tmupload.errors import ConfigError
from tmupload.settings import Settings

__all__ = ["tls_context"]


def tls_context(settings: Settings) -> ssl.SSLContext | bool:
    """Verification is always on: the default trust store, or ``--tm-ca-bundle``'s; plus the
    client certificate for mutual TLS."""
    if settings.ca_bundle is None and settings.client_cert is None:
        return True  # httpx's default: certifi, or SSL_CERT_FILE / SSL_CERT_DIR
    cafile = settings.ca_bundle or os.environ.get("SSL_CERT_FILE") or certifi.where()
    try:
        context = ssl.create_default_context(cafile=str(cafile))
        if settings.client_cert is not None:
            context.load_cert_chain(str(settings.client_cert))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot use the TLS files ({settings.flag('ca_bundle')} "
            f"{settings.ca_bundle}, {settings.flag('client_cert')} "
            f"{settings.client_cert}): {exc}; they must be PEM files"
        ) from None
    return context
