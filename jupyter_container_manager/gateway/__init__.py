"""The `/container` WebSocket: the handler, its protocol table, one session per socket,
the rooms of joined containers, the outbox and the process relays, and its docs page."""
