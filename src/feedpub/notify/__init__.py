"""Telling the world: WebSub publish pings, weblogUpdates pings, the built-in hub's content
distribution, all through a durable outbox in the state store.

``plan``      pure: which notifications a change needs, when to retry, what an answer means
``send``      one publisher's ping over HTTP (requests), returning an :class:`Outcome`
``fanout``    the hub's deliveries, on an event loop of their own, connections reused (aiohttp)
``guard``     which addresses the hub may call, checked on every connection
``notifier``  the loop that sends what is due, bounded in concurrency, and records every attempt
``hub``       the built-in WebSub hub's ``/hub`` endpoint: subscriptions and verification
"""
