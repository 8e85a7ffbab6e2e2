"""Telling the world: WebSub publish pings, weblogUpdates pings, the built-in hub's content
distribution, all through a durable outbox in the state store.

``plan``      pure: which notifications a change needs, when to retry, what an answer means
``send``      one attempt of each kind over HTTP (requests), returning an :class:`Outcome`
``notifier``  the loop that sends what is due, bounded in concurrency, and records every attempt
``hub``       the built-in WebSub hub's ``/hub`` endpoint: subscriptions and verification
"""
