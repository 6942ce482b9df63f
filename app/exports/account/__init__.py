"""The account's own copy (GET /v1/me/export): the zip (`archive`) and its route."""
