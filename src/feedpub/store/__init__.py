"""The state store's parts that hold no state of their own: how values are written into the
store (:mod:`feedpub.store.codec`) and the two engines behind one connection
(:mod:`feedpub.store.db`). :class:`feedpub.state.State` uses them."""
