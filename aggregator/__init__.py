"""aggregator: a topical feed aggregator.

Many sources (RSS, Atom, JSON Feed, news pages) in; merged topical feeds
(RSS 2.0, Atom 1.0, JSON Feed 1.1) out.
"""

from __future__ import annotations

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/aggregator-project/aggregator"
USER_AGENT = f"aggregator/{__version__} (+{PROJECT_URL})"
