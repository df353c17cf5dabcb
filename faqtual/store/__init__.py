"""Storage of knowledge bases behind the :class:`~faqtual.store.base.Store` protocol."""
