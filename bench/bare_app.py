"""The baseline: a bare FastAPI JSON endpoint, served the same way as the real app."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/bare")
def bare() -> dict[str, str]:
    return {"status": "ok"}
