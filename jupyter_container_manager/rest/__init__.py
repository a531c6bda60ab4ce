"""The REST routes: `/containers`, `/webcontainer`, the API docs and the OpenAPI document."""
