"""The HTTP front end: JSON API, patient page, curator page. Build it with :func:`create_app`."""

from faqtual.web.app import create_app

__all__ = ["create_app"]
