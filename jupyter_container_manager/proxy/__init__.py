"""The preview proxy: by path (`/containers/{id}/proxy/{port}/`) and on preview origins of
their own; its header rules, its upstream connections and their registry."""
