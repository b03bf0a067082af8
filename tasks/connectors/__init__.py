"""Clients of outside APIs: one HTTP base (`http`), then a module per provider (`bridge`, ...)."""
