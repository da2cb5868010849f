"""Social's SQL, as named functions, one module per concern.

Raw because the visibility rule is one SQL predicate spliced into many statements (feeds' LATERAL queries,
the fan-out's ``who_can_see``, payments' and live's reads): it must stay a single string the planner sees
whole, which the query builder cannot express. The rest goes through ``server.sql`` too, for three reasons
the builder does not cover: reads outside a transaction may be served by a read replica
(``server.replicas``), writes use ``ON CONFLICT DO NOTHING`` and its row count, and counters are set-based
``x = x + $n`` updates. Services call these functions and hold no SQL text. Values are always bind
parameters ($n).

- ``visibility``: the one spelling of "visible to the viewer" (``VISIBLE``), "blocked either way"
  (``blocked_either_way``) and "not muted" (``NOT_MUTED``), and the checks that are only those rules.
  Every other module, in social and in other domains, splices these in; none writes them again.
- ``columns``: the user columns a summary or a profile reads.
- ``post_views``: the rows a post read hydrates (the viewer's part and the shared content).
- ``feeds``: candidate post ids of every feed, newest first, below a keyset bound.
- ``graph``: profiles, follows, follow requests, blocks, mutes, last-seen.
- ``posts``: a post's writes, counters, likes, reposts, bookmarks, edits.
- ``comments``: comment pages and writes.
- ``fanout``: who a new post's events reach (set-based audiences).
- ``media``: uploads, avatars and the media files' access rule.
- ``moderation``: staff undo (the admin panel's forms).
"""
