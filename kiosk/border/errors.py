"""Errors of the border database layer."""

from __future__ import annotations


class BorderError(Exception):
    """The border database cannot be used for the requested operation."""


class BorderSchemaError(BorderError):
    """The border schema is missing, outdated or cannot be migrated."""


class RoleError(BorderError):
    """Role provisioning was refused (bad name, unsafe existing role, wrong backend)."""


class PublishError(BorderError):
    """Reference data or advance passenger information was rejected before writing."""
