"""Engagement services: ingestion, rollups, retention."""

from .ingest import IngestResult, Rejection, decode_body, events_ingest, is_bot

__all__ = ["IngestResult", "Rejection", "decode_body", "events_ingest", "is_bot"]
