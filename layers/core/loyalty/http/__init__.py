"""HTTP adapters: Powertools routers per function, one app factory, the contract's error shape."""
