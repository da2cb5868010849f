"""The video domain's SQL, as named functions, one module per concern.

Every read of a video (one object, every list, the media route, the channel policy) goes through
``visibility.visible``: change the rule there and it changes everywhere.

- ``visibility``: the one "who may see this video" rule (``visible``, ``listed``, ``unlocked``) and the
  columns and ``FROM`` every read of a video uses.
- ``reads``: one video, lists, search, related videos, an owner's quota use.
- ``writes``: the service's writes (create, edit, delete, likes, reports, moderation).
- ``uploads``: tus uploads, publishing, and the lookups those flows need.
- ``analytics``: view sessions, counted views and the owner's aggregates.
- ``processing``: the processing job (enqueue, cancel) and its results.
"""
