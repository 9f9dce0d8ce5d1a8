"""libpq connection URIs as a border URL, multi-host ones included.

libpq lists the servers of a primary/standby pair in the authority part,
postgresql://kiosk@db1:5432,db2:5432/border?target_session_attrs=read-write,
and tries them in order until one accepts a read-write session: after a
failover the same URL reaches the promoted standby. SQLAlchemy cannot parse that
authority (it reads "5432,db2:5432" as the port) and wants the hosts as query
parameters, ?host=db1:5432&host=db2:5432; this module rewrites the first form
into the second so an operator can paste the URL psql accepts. Everything but
the host list is kept byte for byte (the password stays percent-encoded).
"""

from __future__ import annotations

import re
from urllib.parse import quote

# libpq's scheme names; both mean psycopg 3 here (the only PostgreSQL driver shipped).
_LIBPQ_SCHEMES = ("postgresql", "postgres")
DRIVER = "postgresql+psycopg"
_URI = re.compile(r"^(?P<scheme>[A-Za-z0-9+]+)://(?P<authority>[^/?#]*)(?P<rest>[/?#].*)?$", re.S)
# SQLAlchemy splits host:port at the colon, so a list holds names and IPv4 addresses.
_HOST = re.compile(r"^(?P<host>[A-Za-z0-9._%-]*)(?::(?P<port>\d{1,5}))?$")


class UrlError(ValueError):
    """The URL cannot name a border database; the message says which part."""


def normalise(url: str) -> str:
    """`url` in the form SQLAlchemy parses: postgresql:// and postgres:// become
    postgresql+psycopg://, and a comma-separated host list moves into host=
    query parameters (SQLAlchemy's multi-host form). Other URLs come back as
    they are. Raises UrlError for a host list that is not host[:port],..."""
    match = _URI.match(url.strip())
    if match is None:
        return url
    scheme = match["scheme"]
    if scheme.lower() in _LIBPQ_SCHEMES:
        scheme = DRIVER
    authority, rest = match["authority"], match["rest"] or ""
    userinfo, _, hostlist = authority.rpartition("@")
    if "," not in hostlist:
        return f"{scheme}://{authority}{rest}"
    hosts = []
    for item in hostlist.split(","):
        part = _HOST.match(item)
        if part is None or not part["host"]:
            raise UrlError(
                f"host list {hostlist!r}: {item!r} is not host[:port] (a name or an IPv4 address)"
            )
        hosts.append(item)
    path, _, query = rest.partition("?")
    if not path.startswith("/") or len(path) < 2:
        raise UrlError("a multi-host URL needs the database name after the hosts (/border)")
    if re.search(r"(^|&)(host|port|hostaddr)=", query):
        raise UrlError("hosts both in the authority and in host=/port= parameters")
    params = [f"host={quote(h, safe=':')}" for h in hosts]
    if query:
        params.append(query)
    prefix = f"{userinfo}@" if userinfo else ""
    return f"{scheme}://{prefix}{path}?{'&'.join(params)}"


def host_count(query: dict[str, str | tuple[str, ...]]) -> int:
    """How many servers an SQLAlchemy URL's query names (0: the one in its authority)."""
    hosts = query.get("host")
    if hosts is None:
        return 0
    if isinstance(hosts, tuple):
        return len(hosts)
    return len(hosts.split(","))
