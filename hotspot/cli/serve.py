"""``hotspot serve``: start the app with its default view already computed.

``streamlit run app.py`` starts answering at once, and its first visitor then
waits for the analysis stack to import and the default map to be computed
(about 3 s on a 2-core machine). This launcher does that work first
(:func:`hotspot.app.warm.warm_default_view`), in the same process, and only
then starts Streamlit's own ``streamlit run``: the server reports itself
healthy when the first visitor can be served from the cache. ``make run`` uses
it; so do the browser tests and ``benchmarks/bench_app.py``.

Usage::

    hotspot serve [--port 8501] [--address 127.0.0.1] [--no-warm]
                  [-- STREAMLIT OPTIONS...]
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from hotspot.settings import ROOT

logger = logging.getLogger(__name__)
#: Private by default: only this machine can reach the app.
DEFAULT_ADDRESS = "127.0.0.1"

APP = ROOT / "app.py"
DEFAULT_PORT = 8501


def streamlit_argv(*, port: int, address: str | None = None,
                   extra: Sequence[str] = ()) -> list[str]:
    """Return the ``streamlit run`` arguments the app is served with.

    Headless, no usage statistics, no file watcher (the code does not change
    under a running service), then ``extra`` (any ``streamlit run`` option).
    """
    argv = ["run", str(APP), "--server.headless", "true",
            "--server.port", str(port), "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none"]
    if address:
        argv += ["--server.address", address]
    return argv + list(extra)


def serve(*, port: int = DEFAULT_PORT, address: str | None = DEFAULT_ADDRESS,
          warm: bool = True, extra: Sequence[str] = ()) -> int:
    """Warm the caches (unless ``warm`` is False), then run the Streamlit server.

    Blocks until the server stops; returns its exit status.
    """
    if warm:
        from hotspot.app.warm import warm_default_view

        logger.info("computing the default view before serving…")
        warm_default_view()
    from streamlit.web import cli as streamlit_cli

    logger.info("serving %s on port %d", APP.name, port)
    try:
        streamlit_cli.main(args=streamlit_argv(port=port, address=address,
                                               extra=extra),
                           prog_name="streamlit", standalone_mode=False)
    except SystemExit as stop:  # the server's own exit
        return stop.code if isinstance(stop.code, int) else 1
    return 0


def add_parser(subparsers: Any) -> None:
    """Register the ``serve`` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser(
        "serve", help="start the map app with its default view computed first",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_arguments(p)
    p.set_defaults(func=run)


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--address", default=DEFAULT_ADDRESS,
                   help="interface to listen on (default 127.0.0.1: this machine "
                   "only; see docs/deploy.md to serve a team)")
    p.add_argument("--no-warm", dest="warm", action="store_false",
                   help="start at once; the first visitor waits for the analysis")
    p.add_argument("extra", nargs=argparse.REMAINDER,
                   help="after --: more `streamlit run` options")


def run(args: argparse.Namespace) -> int:
    """Run ``hotspot serve`` from parsed arguments."""
    extra = [a for a in args.extra if a != "--"]
    return serve(port=args.port, address=args.address, warm=args.warm, extra=extra)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hotspot.cli.serve``: the same as ``hotspot serve``."""
    parser = argparse.ArgumentParser(
        prog="python -m hotspot.cli.serve", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_arguments(parser)
    logging.basicConfig(level=logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
