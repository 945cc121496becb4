"""Article pages and feeds from the web: fetched politely, kept beside the corpus, loaded like saved files.

Nothing here runs unless a user names a URL (``qa add URL``, ``qa add --feed URL``). One module a job:
- ``fetch``: ``Fetcher.fetch(url)``, one page: user agent, timeouts, size limit, content type, redirects,
  robots.txt (``robots``), the HTTP exchange itself (``transport``) to an address checked by ``addresses``
  (loopback, private and link-local addresses refused when the policy says so: the chat's setting);
- ``feeds``: an RSS or Atom feed's items, parsed from the fetched bytes (feedparser never fetches);
- ``store``: a fetched page kept in ``fetched/`` under a name made from its URL, with its ``.meta.json``
  sidecar and a record of the fetch, so the index can be rebuilt offline from what was fetched;
- ``seen``: the feed items already handled, remembered beside the kept pages;
- ``batch``: what ``qa add`` fetches in one run (pages and feeds) up to the articles it hands the index.
"""
