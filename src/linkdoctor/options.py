"""Every check option, declared once: its name, type, default, help, command-line flag, configuration-file key,
the contexts it applies to, whether it names an environment variable holding a secret, and its validator.

The faces are built from this table or checked against it (``tests/unit/test_option_schema.py``):

* ``linkdoctor check``'s click options are generated from it (:mod:`linkdoctor.cli.flags`);
* the configuration file's keys and their validators (:mod:`linkdoctor.config_file`), and so its error
  messages and ``linkdoctor config show``, come from :data:`OPTIONS`' ``key`` and ``validator``;
* the worker wire format (:class:`~linkdoctor.distributed.wire.FetchSpec`) takes its fields and defaults from
  the options marked :attr:`Context.WORKER`;
* a monitored site's options (``SiteOptions``, the API's ``SiteOptionsIn``, ``linkdoctor sites add``) are the
  options marked :attr:`Context.SITE`, under their ``site_field`` and ``site_flag``.

The ``DEFAULT_*`` constants are the library's defaults (:class:`~linkdoctor.config.CheckConfig` uses them), so
the command line's help and the library agree.

>>> option("max_concurrency").default == DEFAULT_MAX_CONCURRENCY
True
>>> option("max_concurrency").flags, option("max_concurrency").key
(('--max-concurrency',), 'max_concurrency')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

from linkdoctor._version import __version__
from linkdoctor.config_values import (
    Converter,
    Invalid,
    ValueContext,
    boolean,
    choice,
    duration,
    env_name,
    file_path,
    format_spec,
    header,
    header_list,
    input_ref,
    integer,
    list_of,
    nameserver,
    one_or_list,
    regex,
    seconds,
    statuses,
    string,
    string_table,
    tuple_of,
    url_list,
)

TOOL_NAME: Final = "linkdoctor"
PROJECT_URL: Final = "https://github.com/linkdoctor/linkdoctor"
DEFAULT_USER_AGENT: Final = f"linkdoctor/{__version__} (+{PROJECT_URL})"
DEFAULT_MAX_CONCURRENCY: Final = 128
DEFAULT_MAX_PER_HOST: Final = 32
DEFAULT_HOST_INTERVAL: Final = 0.0
DEFAULT_TIMEOUT: Final = 20.0
DEFAULT_CONNECT_TIMEOUT: Final = 10.0
DEFAULT_RETRIES: Final = 2
DEFAULT_RETRY_BACKOFF: Final = 0.5
DEFAULT_MAX_RETRY_AFTER: Final = 60.0
DEFAULT_MAX_REDIRECTS: Final = 10
# Pages past 5 MiB are rare (the Python docs' biggest is 2.5 MB); a hostile server's endless or bomb bodies
# are cut here, and each cut page is reported (http.body-truncated).
DEFAULT_MAX_BODY: Final = 5 * 1024 * 1024
DEFAULT_MAX_URL_LENGTH: Final = 2048
DEFAULT_MAX_PAGES: Final = 100_000
DEFAULT_MAX_URLS: Final = 1_000_000
DEFAULT_MAX_SITEMAP_URLS: Final = 10_000
DEFAULT_MAX_QUERIES: Final = 1_000
DEFAULT_MAX_PATH_DEPTH: Final = 32
DEFAULT_TRAP_DEPTH: Final = 30
DEFAULT_TRAP_IDS: Final = 10
DEFAULT_MAX_LINKS_PER_PAGE: Final = 50_000
DEFAULT_METHOD: Final = "auto"
METHODS: Final = ("auto", "head", "get")
DEFAULT_CACHE_FILE: Final = Path(".linkdoctor") / "cache.sqlite"
DEFAULT_MAX_CACHE_AGE: Final = "1d"
DEFAULT_ARCHIVE_ENDPOINT: Final = "https://archive.org/wayback/available"
FIX_FORMATS: Final = ("diff", "json")
ARCHIVE_MODES: Final = ("rewrite", "note")


ValueType = type[object]


class Context(StrEnum):
    """Where an option applies."""

    CHECK = "check"  # a run of `linkdoctor check` (and the library's CheckConfig)
    HOST = "host"  # a per-host setting: a [[hosts]] table (HostSettings)
    CLIENT_CERT = "client-cert"  # a client certificate: a [[tls.client]] table (ClientCert)
    SITE = "site"  # a monitored site's options (SiteOptions, the API, `sites add`)
    WORKER = "worker"  # sent to the distributed workers (FetchSpec)
    FIX = "fix"  # `linkdoctor fix`'s own flags, and the config file's [fix] table (FixSettings)


@dataclass(frozen=True, slots=True)
class Option:
    """One option. ``name`` is the ``check`` command's parameter (``fmt`` for ``--format``); options that live
    only in a configuration-file section are named by their dotted key (``hosts.cacert``).

    ``field`` is what it sets: a :class:`~linkdoctor.config.CheckConfig` field, or for the ``hosts.*`` and
    ``tls.client.*`` keys a ``HostSettings`` or ``ClientCert`` field (None: a run setting such as the report
    format, not part of the configuration). ``negated``: the flag is the opposite of the field
    (``--ignore-robots`` clears ``respect_robots``). ``flags`` are click's declarations (empty: no flag);
    ``key`` the configuration-file key (None: none). ``secret_env``: the value (or its last part) names an
    environment variable holding a secret, never the secret itself. ``site_field``, ``site_flag`` and
    ``site_help``: the monitored site's field, its ``sites add`` flag and that flag's help.
    """

    name: str
    type: ValueType
    default: object = None
    help: str | None = None
    field: str | None = None
    negated: bool = False
    flags: tuple[str, ...] = ()
    key: str | None = None
    contexts: frozenset[Context] = frozenset({Context.CHECK})
    secret_env: bool = False
    validator: Converter | None = None
    multiple: bool = False
    parts: tuple[ValueType, ...] = ()
    metavar: str | None = None
    choices: tuple[str, ...] = ()
    bounds: tuple[int, int | None] | None = None
    must_exist: bool = False
    site_field: str | None = None
    site_flag: str | None = None
    site_help: str | None = None

    @property
    def is_switch(self) -> bool:
        """A boolean flag pair (``--x/--no-x``)."""
        return self.type is bool and any("/" in f for f in self.flags)

    @property
    def is_flag(self) -> bool:
        """A boolean flag without a negative form (``--insecure``)."""
        return self.type is bool and bool(self.flags) and not self.is_switch


_C = frozenset({Context.CHECK})
_CW = frozenset({Context.CHECK, Context.WORKER})
_CS = frozenset({Context.CHECK, Context.SITE})
_CSW = frozenset({Context.CHECK, Context.SITE, Context.WORKER})
_CERT = frozenset({Context.CHECK, Context.CLIENT_CERT, Context.SITE, Context.WORKER})
_HOST = frozenset({Context.HOST, Context.WORKER})
_FIX = frozenset({Context.FIX})

# In the configuration file's order: `config show` prints the keys in this order, and `check --help` lists
# the flags in it (after --config and --no-config).
OPTIONS: Final[tuple[Option, ...]] = (
    # --- which file ---
    Option("config", Path, help="Read settings from this TOML file (default: the nearest linkdoctor.toml or "
           "pyproject.toml).", flags=("--config",)),
    Option("no_config", bool, False, "Ignore configuration files.", flags=("--no-config",)),
    # --- what to check ---
    Option("inputs", str, (), key="inputs", multiple=True, validator=list_of(input_ref)),
    Option("base_url", str, None, "Site URL that local files stand for; links under it are checked on disk.",
           field="base_url", flags=("--base-url",), key="base_url", validator=string),
    Option("urls_from", str, (), "Check the URLs listed in FILE (- for stdin).", flags=("--urls-from",),
           key="urls_from", multiple=True, metavar="FILE", validator=list_of(url_list)),
    Option("depth", int, None, "Crawl at most this many links deep from the start (default: no limit).",
           field="depth", flags=("--depth",), key="depth", contexts=_CS, validator=integer(0),
           site_field="depth"),
    Option("max_pages", int, DEFAULT_MAX_PAGES, "Stop crawling after this many pages.", field="max_pages",
           flags=("--max-pages",), key="max_pages", contexts=_CS, validator=integer(1), site_field="max_pages"),
    Option("max_urls", int, DEFAULT_MAX_URLS, "Take at most this many distinct URLs; further ones are counted "
           "as left out (crawl.url-budget).", field="max_urls", flags=("--max-urls",), key="max_urls",
           validator=integer(1)),
    Option("max_sitemap_urls", int, DEFAULT_MAX_SITEMAP_URLS, "Take at most this many URLs from sitemaps "
           "(robots.txt's, and the sitemaps they list) in all; the rest are counted as left out "
           "(crawl.url-budget; 0: no cap).", field="max_sitemap_urls", flags=("--max-sitemap-urls",),
           key="max_sitemap_urls", validator=integer(0)),
    Option("max_time", float, None, "Start no check after this many seconds; what is left is counted "
           "(crawl.time-budget). Default: no limit.", field="max_time", flags=("--max-time",), key="max_time",
           metavar="SECONDS", validator=seconds(positive=True)),
    Option("max_queries", int, DEFAULT_MAX_QUERIES, "Distinct query strings checked per path (0: no cap; "
           "crawl.query-cap).", field="max_queries", flags=("--max-queries",), key="max_queries",
           validator=integer(0)),
    Option("max_path_depth", int, DEFAULT_MAX_PATH_DEPTH, "Crawl no page whose path has more segments (0: no "
           "limit; crawl.path-too-deep).", field="max_path_depth", flags=("--max-path-depth",),
           key="max_path_depth", validator=integer(0)),
    Option("trap_depth", int, DEFAULT_TRAP_DEPTH, "Stop crawling a path shape with two numbers or more, like a date "
           "(digits and ids set aside), found "
           "this many links deeper than its first page, or repeating a block of segments (0: off; "
           "crawl.trap-suspected).", field="trap_depth",
           flags=("--trap-depth",), key="trap_depth", validator=integer(0)),
    Option("trap_ids", int, DEFAULT_TRAP_IDS, "Session-like ids crawled per path (0: no cap; "
           "crawl.trap-suspected).", field="trap_ids", flags=("--trap-ids",), key="trap_ids",
           validator=integer(0)),
    Option("max_links_per_page", int, DEFAULT_MAX_LINKS_PER_PAGE, "Links read per page (0: no cap; "
           "crawl.link-cap).", field="max_links_per_page", flags=("--max-links-per-page",),
           key="max_links_per_page", validator=integer(0)),
    Option("include", str, (), "Only check URLs matching one of these.", field="include",
           flags=("--include",), key="include", contexts=_CS, multiple=True, metavar="REGEX",
           validator=list_of(regex), site_field="include", site_flag="--include",
           site_help="Regex: check only matching URLs (repeatable)."),
    Option("exclude", str, (), "Never check URLs matching one of these.", field="exclude",
           flags=("--exclude",), key="exclude", contexts=_CS, multiple=True, metavar="REGEX",
           validator=list_of(regex), site_field="exclude", site_flag="--exclude",
           site_help="Regex: skip matching URLs (repeatable)."),
    Option("scope", str, (), "Also crawl URLs matching this (widens the scope).", field="scope",
           flags=("--scope",), key="scope", contexts=_CS, multiple=True, metavar="REGEX",
           validator=list_of(regex), site_field="scope", site_flag="--scope",
           site_help="Regex of extra URLs to crawl (repeatable)."),
    Option("recursive", bool, True, "Crawl pages in scope.", field="recursive",
           flags=("--recursive/--no-recursive",), key="recursive", validator=boolean),
    Option("ignore_robots", bool, False, "Do not obey robots.txt.", field="respect_robots", negated=True,
           flags=("--ignore-robots",), key="ignore_robots", contexts=_CS, validator=boolean,
           site_field="respect_robots"),
    Option("fragments", bool, True, "Check #fragments against ids.", field="check_fragments",
           flags=("--fragments/--no-fragments",), key="fragments", contexts=_CS, validator=boolean,
           site_field="check_fragments"),
    Option("soft_404", bool, True, "Find soft 404s: probe each host once with a path that cannot exist and, "
           "when it answers 200, report fetched pages that look like its not-found page (http.soft-404).",
           field="soft_404", flags=("--soft-404/--no-soft-404",), key="soft_404", validator=boolean),
    Option("all_referrers", bool, False, "List every referrer of ok links too (by default an ok link keeps "
           "only their count, so memory does not grow with every link on every page).",
           field="all_referrers", flags=("--all-referrers",), key="all_referrers", validator=boolean),
    # --- how to fetch ---
    Option("method", str, DEFAULT_METHOD, "auto: HEAD, then GET when HEAD fails.", field="method",
           flags=("--method",), key="method", contexts=_CW, choices=METHODS, validator=choice(*METHODS)),
    Option("max_concurrency", int, DEFAULT_MAX_CONCURRENCY, field="max_concurrency",
           flags=("--max-concurrency",), key="max_concurrency", contexts=_CW, validator=integer(1)),
    Option("max_per_host", int, DEFAULT_MAX_PER_HOST, field="max_per_host", flags=("--max-per-host",),
           key="max_per_host", contexts=_CW, validator=integer(1)),
    Option("host_interval", float, DEFAULT_HOST_INTERVAL, "Seconds between requests to one host.",
           field="host_interval", flags=("--host-interval",), key="host_interval", contexts=_CW,
           validator=seconds(positive=False)),
    Option("timeout", float, DEFAULT_TIMEOUT, "Total seconds per request attempt.", field="timeout",
           flags=("--timeout",), key="timeout", contexts=_CW, validator=seconds(positive=True)),
    Option("connect_timeout", float, DEFAULT_CONNECT_TIMEOUT, field="connect_timeout",
           flags=("--connect-timeout",), key="connect_timeout", contexts=_CW, validator=seconds(positive=True)),
    Option("retries", int, DEFAULT_RETRIES, field="retries", flags=("--retries",), key="retries",
           contexts=_CW, bounds=(0, 20), validator=integer(0, 20)),
    Option("retry_backoff", float, DEFAULT_RETRY_BACKOFF, field="retry_backoff", contexts=_CW),
    Option("max_retry_after", float, DEFAULT_MAX_RETRY_AFTER, field="max_retry_after", contexts=_CW),
    Option("max_redirects", int, DEFAULT_MAX_REDIRECTS, field="max_redirects", flags=("--max-redirects",),
           key="max_redirects", contexts=_CW, bounds=(0, 100), validator=integer(0, 100)),
    Option("max_body", int, DEFAULT_MAX_BODY, "Bytes read per page at most.", field="max_body",
           flags=("--max-body",), key="max_body", contexts=_CW, validator=integer(1)),
    Option("max_url_length", int, DEFAULT_MAX_URL_LENGTH, field="max_url_length", flags=("--max-url-length",),
           key="max_url_length", validator=integer(1)),
    Option("user_agent", str, DEFAULT_USER_AGENT, field="user_agent", flags=("--user-agent",),
           key="user_agent", contexts=_CW, validator=string),
    Option("header", str, (), "Send this header to every host.", field="headers", flags=("--header", "-H"),
           key="header", contexts=_CW, multiple=True, metavar="'NAME: VALUE'", validator=header_list),
    Option("host_header", str, (), "A header for one host (*.example.org works).", field="host_settings",
           flags=("--host-header",), key="host_header", contexts=_CW, multiple=True, parts=(str, str),
           metavar="HOST 'NAME: VALUE'",
           validator=list_of(tuple_of(string, header, names="HOST, 'Name: value'"))),
    Option("basic_auth", str, (), "Basic auth for HOST; the password is read from the environment variable "
           "PASSWORD_ENV.", field="host_settings", flags=("--basic-auth",), key="basic_auth", contexts=_CW,
           secret_env=True,
           multiple=True, parts=(str, str, str), metavar="HOST USER PASSWORD_ENV",
           validator=list_of(tuple_of(string, string, env_name, names="HOST, USER, ENV_VAR"))),
    Option("cookie_jar", Path, None, "A Netscape cookies.txt file.", field="cookie_jar",
           flags=("--cookie-jar",), key="cookie_jar", contexts=_CW, must_exist=True,
           validator=file_path(must_exist=True)),
    Option("dns_server", str, None, "Ask this DNS server (IP or IP:PORT) instead of the system's resolver, "
           "e.g. behind split DNS.", field="dns_server", flags=("--dns-server",), key="dns_server",
           metavar="HOST:PORT", validator=nameserver),
    Option("accept", str, (), "Statuses that count as ok, e.g. 200..299,429,496.", field="accept",
           flags=("--accept",), key="accept", contexts=_CSW, multiple=True, metavar="STATUSES",
           validator=list_of(statuses), site_field="accept"),
    # --- TLS ---
    Option("cert", Path, None, "Client certificate (PEM or DER; intermediates after it in the same PEM file).",
           field="client_certs", flags=("--cert",), key="cert", contexts=_CERT,
           validator=file_path(must_exist=True), site_field="cert_path", site_flag="--cert",
           site_help="Client certificate (PEM) path for mutual TLS."),
    Option("key", Path, None, "Private key of --cert (when not in the same file).", field="client_certs",
           flags=("--key",), key="key", contexts=_CERT, validator=file_path(must_exist=True),
           site_field="key_path", site_flag="--key", site_help="Client key (PEM) path."),
    Option("pkcs12", Path, None, "Client certificate and key as PKCS#12.", field="client_certs",
           flags=("--pkcs12",), key="pkcs12", contexts=_CERT, validator=file_path(must_exist=True),
           site_field="pkcs12_path", site_flag="--pkcs12",
           site_help="Client certificate and key as PKCS#12 path."),
    Option("key_password_env", str, None, "Read the key (or PKCS#12) password from this environment variable.",
           field="client_certs", flags=("--key-password-env",), key="key_password_env", contexts=_CERT,
           secret_env=True, metavar="VAR", validator=env_name, site_field="password_env",
           site_flag="--password-env", site_help="Environment variable holding the key's password."),
    Option("cert_host", str, (), "Only send the client certificate to these hosts (default: all).",
           field="client_certs", flags=("--cert-host",), key="cert_host", contexts=_CERT, multiple=True,
           metavar="HOST", validator=list_of(string), site_field="cert_hosts"),
    Option("cacert", Path, None, "Trust this CA bundle instead of the system store.", field="cacert",
           flags=("--cacert",), key="cacert", contexts=_CSW, validator=file_path(must_exist=True),
           site_field="cacert_path", site_flag="--cacert",
           site_help="CA bundle that verifies the site's server certificate."),
    Option("insecure", bool, False, "Do not verify server certificates (reported as a warning).",
           field="insecure", flags=("--insecure",), key="insecure", contexts=_CW, validator=boolean),
    # --- reports ---
    Option("fmt", str, (), "Report format ({formats}) on stdout, or NAME:FILE to write a file (repeatable). "
           "Default: console.", flags=("--format",), key="format", multiple=True, metavar="NAME[:FILE]",
           validator=one_or_list(format_spec)),
    Option("output", Path, (), "Write a report to FILE, in the format its extension names (.json .jsonl .csv "
           ".xml .md .sarif .html .txt); repeatable. Files are replaced atomically.", flags=("-o", "--output"),
           key="output", multiple=True, validator=one_or_list(file_path(must_exist=False))),
    Option("progress", bool, True, "Live progress bar (only on a terminal).",
           flags=("--progress/--no-progress",), key="progress", validator=boolean),
    Option("verbose", bool, False, "List every referring place of every problem (the console shows the "
           "first few and '+N more').", flags=("-v", "--verbose"), key="verbose", validator=boolean),
    Option("group_by", str, "problem", "Console report: one entry per problem, or per referring page.",
           flags=("--group-by",), key="group_by", choices=("problem", "page"),
           validator=choice("problem", "page")),
    Option("diagnose", bool, False, "Run the TLS doctor once per failing host and certificate.",
           field="diagnose", flags=("--diagnose",), key="diagnose", validator=boolean),
    Option("broker", str, None, "Spread the crawl over linkdoctor workers through this Redis broker, e.g. "
           "redis://redis:6379/0.", flags=("--broker",), key="broker", metavar="URL", validator=string),
    Option("resume", str, None, "With --broker: run the interrupted scan SCAN again (the key a distributed "
           "check prints when it starts), replaying the pages its workers stored instead of fetching them.",
           flags=("--resume",), metavar="SCAN"),
    Option("cache", bool, False, "Reuse ok results of earlier runs.", flags=("--cache/--no-cache",),
           key="cache", validator=boolean),
    Option("cache_file", Path, DEFAULT_CACHE_FILE, "Where --cache keeps results (relative to the working "
           "directory).", flags=("--cache-file",), key="cache_file", validator=file_path(must_exist=False)),
    Option("max_cache_age", str, DEFAULT_MAX_CACHE_AGE, "Reuse cached results younger than this: seconds, or "
           "30m, 12h, 1d.", flags=("--max-cache-age",), key="max_cache_age", metavar="AGE", validator=duration),
    # --- set by the library's callers, not by a flag or key ---
    Option("remap", str, (), "URL rewrites, regex -> replacement (the [remap] table).", field="remap",
           key="remap"),
    Option("max_checks", int, None, "Stop issuing new checks after this many (a monitored site's budget).",
           field="max_checks", contexts=_CS),
    # --- per host: the [[hosts]] tables ---
    Option("hosts.match", str, (), "The hosts this applies to, e.g. *.example.org.", field="hosts",
           key="hosts.match", contexts=_HOST, multiple=True, validator=list_of(string)),
    Option("hosts.headers", str, (), "Headers sent to these hosts.", field="headers", key="hosts.headers",
           contexts=_HOST, validator=lambda v, c: string_table(v, c, string)),
    Option("hosts.headers_env", str, (), "Headers whose values are read from environment variables.",
           field="headers", key="hosts.headers_env", contexts=frozenset({Context.HOST, Context.SITE}),
           secret_env=True, validator=lambda v, c: string_table(v, c, env_name), site_field="headers_env"),
    Option("hosts.user", str, None, "Basic-auth user.", field="basic_auth", key="hosts.user", contexts=_HOST,
           validator=string),
    Option("hosts.password_env", str, None, "Basic-auth password, from this environment variable.",
           field="basic_auth", key="hosts.password_env", contexts=_HOST, secret_env=True, validator=env_name),
    Option("hosts.cacert", Path, None, "CA bundle for these hosts.", field="cacert", key="hosts.cacert",
           contexts=_HOST, validator=file_path(must_exist=True)),
    Option("hosts.max_concurrency", int, None, "Requests in flight to these hosts.", field="max_concurrency",
           key="hosts.max_concurrency", contexts=_HOST, validator=integer(1)),
    Option("hosts.interval", float, None, "Seconds between requests to these hosts.", field="interval",
           key="hosts.interval", contexts=_HOST, validator=seconds(positive=False)),
    # --- client certificates: the [[tls.client]] tables ---
    Option("tls.client.hosts", str, (), "The hosts it is sent to (default: all).", field="hosts",
           key="tls.client.hosts", contexts=_CERT, multiple=True, validator=list_of(string)),
    Option("tls.client.cert", Path, None, "Client certificate.", field="cert", key="tls.client.cert",
           contexts=_CERT, validator=file_path(must_exist=True)),
    Option("tls.client.key", Path, None, "Its private key.", field="key", key="tls.client.key",
           contexts=_CERT, validator=file_path(must_exist=True)),
    Option("tls.client.pkcs12", Path, None, "Certificate and key as PKCS#12.", field="pkcs12",
           key="tls.client.pkcs12", contexts=_CERT, validator=file_path(must_exist=True)),
    Option("tls.client.password_env", str, None, "Key password, from this environment variable.",
           field="password_env", key="tls.client.password_env", contexts=_CERT, secret_env=True,
           validator=env_name),
    # --- a monitored site only ---
    Option("cert_warning_days", int, None, "Warn when a server certificate expires within this many days.",
           contexts=frozenset({Context.SITE}), bounds=(0, 366), site_field="cert_warning_days",
           site_flag="--cert-warning-days",
           site_help="Warn when a server certificate expires within this many days [default: 14]."),
    # --- `linkdoctor fix`: its flags, and the [fix] table (field: the FixSettings field) ---
    Option("fix_redirects", bool, True, "Rewrite permanent redirects (301, 308) to their ok target.",
           field="redirects", flags=("--redirects/--no-redirects",), key="fix.redirects", contexts=_FIX,
           validator=boolean),
    Option("fix_https_upgrades", bool, True, "Rewrite http:// to https:// when the https URL answers ok with "
           "the same content type.", field="https_upgrades", flags=("--https-upgrades/--no-https-upgrades",),
           key="fix.https_upgrades", contexts=_FIX, validator=boolean),
    Option("fix_moved_anchors", bool, True, "Rewrite a missing #fragment to the one id of the same heading.",
           field="moved_anchors", flags=("--moved-anchors/--no-moved-anchors",), key="fix.moved_anchors",
           contexts=_FIX, validator=boolean),
    Option("fix_moved_files", bool, True, "Rewrite a link to a missing local file to the one file of the same "
           "name (and content, in a git repository) elsewhere in the tree.", field="moved_files",
           flags=("--moved-files/--no-moved-files",), key="fix.moved_files", contexts=_FIX, validator=boolean),
    Option("fix_allow_host", str, (), "Only rewrite links to these hosts (*.example.org works; repeatable).",
           field="allow_hosts", flags=("--allow-host",), key="fix.allow_host", contexts=_FIX, multiple=True,
           metavar="HOST", validator=list_of(string)),
    Option("fix_deny_host", str, (), "Never rewrite links to these hosts (repeatable).", field="deny_hosts",
           flags=("--deny-host",), key="fix.deny_host", contexts=_FIX, multiple=True, metavar="HOST",
           validator=list_of(string)),
    Option("fix_archive", bool, False, "Write the archived copy of each dead external link (with --apply); "
           "without it they are only suggested.", field="archive", flags=("--archive",), key="fix.archive",
           contexts=_FIX, validator=boolean),
    Option("fix_archive_endpoint", str, DEFAULT_ARCHIVE_ENDPOINT, "The web archive's availability API "
           "(answers like Wayback's /wayback/available?url=).", field="archive_endpoint",
           flags=("--archive-endpoint",), key="fix.archive_endpoint", contexts=_FIX, metavar="URL",
           validator=string),
    Option("fix_archive_mode", str, "rewrite", "Write an archived copy over the dead URL, or as a note after "
           "the link.", field="archive_mode", flags=("--archive-mode",), key="fix.archive_mode", contexts=_FIX,
           choices=ARCHIVE_MODES, validator=choice(*ARCHIVE_MODES)),
    Option("fix_apply", bool, False, "Write the edits (default: show them as a unified diff).",
           flags=("--apply",), contexts=_FIX),
    Option("fix_check", bool, False, "Exit 2 when there is something to fix (pre-commit hooks, CI).",
           flags=("--check",), contexts=_FIX),
    Option("fix_format", str, "diff", "diff: a unified diff; json: each edit's file, line, old, new and reason.",
           flags=("--format",), contexts=_FIX, choices=FIX_FORMATS),
    Option("fix_from", Path, None, "Plan from this saved JSON report (check --all-referrers --format "
           "json:FILE) instead of checking again.", flags=("--from",), contexts=_FIX, metavar="REPORT",
           must_exist=True),
)  # fmt: skip

_BY_NAME: Final[Mapping[str, Option]] = {o.name: o for o in OPTIONS}
SECTIONS: Final = ("hosts", "tls", "remap", "fix")
"""The configuration file's structured sections (tables rather than values)."""


def option(name: str) -> Option:
    """The option called ``name`` (the ``check`` parameter, or a dotted key such as ``hosts.cacert``)."""
    return _BY_NAME[name]


def file_keys(prefix: str = "") -> dict[str, Option]:
    """The configuration-file keys directly under ``prefix`` (``""``: the top level; ``"hosts."``,
    ``"tls.client."``: a section's tables), in the schema's order, without the sections themselves.

    >>> list(file_keys("tls.client."))
    ['hosts', 'cert', 'key', 'pkcs12', 'password_env']
    """
    keys = {}
    for o in OPTIONS:
        if o.key is None or o.key in SECTIONS or not o.key.startswith(prefix):
            continue
        rest = o.key[len(prefix) :]
        if "." not in rest:
            keys[rest] = o
    return keys


def number_problem(o: Option, value: object) -> str | None:
    """Why ``value`` is out of range for the numeric option ``o`` (None: it is fine, or ``o`` is not a number
    with a validator; an unset optional number, None, is fine). The command line, the configuration file and
    :class:`~linkdoctor.config.CheckConfig` all refuse through this one table.

    >>> number_problem(option("timeout"), -5.0)
    'must be a positive number of seconds, got -5.0'
    >>> number_problem(option("depth"), None) is None
    True
    """
    if o.type not in (int, float) or o.validator is None or value is None:
        return None
    try:
        o.validator(value, ValueContext(Path(".")))
    except Invalid as exc:
        return exc.reason
    return None


def in_context(context: Context) -> tuple[Option, ...]:
    """The options that apply in ``context``, in the schema's order."""
    return tuple(o for o in OPTIONS if context in o.contexts)


def cli_options() -> tuple[Option, ...]:
    """The options ``linkdoctor check`` takes as flags, in the order ``--help`` lists them."""
    return tuple(o for o in OPTIONS if o.flags and Context.FIX not in o.contexts)


def fix_flags() -> tuple[Option, ...]:
    """``linkdoctor fix``'s own flags (it also takes the check's), in the order ``--help`` lists them."""
    return tuple(o for o in OPTIONS if o.flags and Context.FIX in o.contexts)


def site_flags() -> tuple[Option, ...]:
    """The options ``linkdoctor sites add`` takes as flags (``site_flag``), in the order ``--help`` lists them."""
    return tuple(o for o in OPTIONS if o.site_flag is not None)
